"""
Tests for the FIX session layer (L{exsim.fix.session}, L{exsim.fix.factory},
L{exsim.fix.settings}), driven deterministically over a StringTransport
with a MemoryReactorClock.
"""

from twisted.trial import unittest
from zope.interface.verify import verifyObject

from exsim.errors import BadValue
from exsim.fix import codec, settings
from exsim.fix.session import FixSession
from exsim.interfaces import IFixApplication, IFixSession

from tests.fixsession_helpers import Application, Client, makeFactory, stamp


def order(client, clOrdId="o1", side="1", extra=()):
    """
    The body of a valid FIX.4.4 NewOrderSingle.
    """
    return [
        (11, clOrdId),
        (21, "1"),
        (55, "AAPL"),
        (54, side),
        (60, stamp(client.reactor.seconds())),
        (38, 100),
        (40, "2"),
        (44, "10.5"),
    ] + list(extra)


def types(messages):
    return [m.msgType for m in messages]


class SessionTestMixin:
    def connect(self, application=None, compId="CLIENT", beginString="FIX.4.4", **properties):
        self.factory = makeFactory(application, **properties)
        self.app = self.factory.application
        self.endpoint = self.factory.endpoint
        self.reactor = self.factory.reactor
        return Client(self.factory, compId=compId, beginString=beginString)

    def loggedOn(self, **kw):
        client = self.connect(**kw)
        reply = client.logon()
        self.assertEqual(types(reply), ["A"])
        return client

    def assertReject(self, messages, reason, tag=None, refSeqNum=None):
        self.assertEqual(types(messages), ["3"], messages)
        reject = messages[0]
        self.assertEqual(reject.get(373), str(reason), reject)
        if tag is not None:
            self.assertEqual(reject.get(371), str(tag), reject)
        if refSeqNum is not None:
            self.assertEqual(reject.get(45), str(refSeqNum))
        self.assertTrue(reject.get(58))
        return reject

    def assertLogoutAndDisconnect(self, messages, textPart):
        self.assertEqual(types(messages)[-1], "5", messages)
        self.assertIn(textPart, messages[-1].get(58))
        return messages[-1]


class InterfaceTests(SessionTestMixin, unittest.TestCase):
    def test_sessionProvidesIFixSession(self):
        client = self.loggedOn()
        session = self.factory.sessions["CLIENT"]
        self.assertTrue(verifyObject(IFixSession, session))
        self.assertEqual(session.key, "fix1/CLIENT")
        self.assertEqual(session.beginString, "FIX.4.4")
        self.assertIsNone(session.applVerId)
        self.assertEqual(session.senderCompId, "EXSIM")
        self.assertEqual(session.targetCompId, "CLIENT")
        self.assertIs(session.endpoint, self.endpoint)
        self.assertTrue(session.loggedOn)
        client.close()
        self.assertFalse(session.loggedOn)

    def test_fakeApplicationProvidesIFixApplication(self):
        self.assertTrue(verifyObject(IFixApplication, Application()))


class LogonTests(SessionTestMixin, unittest.TestCase):
    def test_logon(self):
        client = self.connect()
        [reply] = client.logon(heartBtInt=30)
        self.assertEqual(reply.beginString, "FIX.4.4")
        self.assertEqual(reply.get(49), "EXSIM")
        self.assertEqual(reply.get(56), "CLIENT")
        self.assertEqual(reply.seqNum, 1)
        self.assertEqual(reply.get(98), "0")
        self.assertEqual(reply.get(108), "30")
        self.assertIsNone(reply.get(141))
        self.assertEqual(reply.get(52), "20240301-12:00:00.000")
        self.assertEqual(len(self.app.loggedOn), 1)
        [event] = self.endpoint.reported("session_logon")
        self.assertEqual(event["session"], "fix1/CLIENT")
        self.assertEqual(event["begin_string"], "FIX.4.4")

    def test_logonFIXT(self):
        client = self.connect(beginString="FIXT.1.1")
        [reply] = client.logon()
        self.assertEqual(reply.beginString, "FIXT.1.1")
        self.assertEqual(reply.get(1137), "9")
        session = self.factory.sessions["CLIENT"]
        self.assertEqual(session.applVerId, "9")
        self.assertEqual(session.dictionary.beginString, "FIXT.1.1")
        # An application message of FIX.5.0SP2 is accepted.
        self.assertEqual(client.send("D", order(client)), [])
        self.assertEqual(types(self.app.messages), ["D"])

    def test_applVerIdOfMessage(self):
        """
        FIXT.1.1: an application message naming another ApplVerID (1128)
        gets a Reject with reason 18.
        """
        client = self.connect(beginString="FIXT.1.1")
        client.logon()
        now = stamp(self.reactor.seconds())
        header = [(49, "CLIENT"), (56, "EXSIM"), (34, 2), (52, now), (1128, "7")]
        self.assertReject(client.sendRaw(client.build("D", order(client), header=header)), 18, 1128)
        header = [(49, "CLIENT"), (56, "EXSIM"), (34, 3), (52, now), (1128, "9")]
        self.assertEqual(client.sendRaw(client.build("D", order(client), header=header)), [])
        self.assertEqual(len(self.app.messages), 1)

    def test_logonFIXTWrongApplVerId(self):
        client = self.connect(beginString="FIXT.1.1", default_appl_ver_id="9")
        reply = client.logon(extra=[(1137, "7")])
        self.assertLogoutAndDisconnect(reply, "DefaultApplVerID 7")
        self.assertTrue(client.disconnected)

    def test_firstMessageNotLogon(self):
        client = self.connect()
        self.assertEqual(client.send("D", order(client)), [])
        self.assertTrue(client.disconnected)
        self.assertEqual(self.app.messages, [])

    def test_beginStringNotAccepted(self):
        client = self.connect(begin_string=("FIX.4.2",))
        reply = client.logon()
        self.assertLogoutAndDisconnect(reply, "BeginString FIX.4.4 is not accepted")
        self.assertEqual(reply[0].beginString, "FIX.4.4")
        self.assertTrue(client.disconnected)
        self.assertEqual(self.app.loggedOn, [])

    def test_wrongTargetCompId(self):
        client = self.connect()
        client.venue = "OTHER"
        reply = client.logon()
        self.assertLogoutAndDisconnect(reply, "TargetCompID OTHER is unknown")
        self.assertTrue(client.disconnected)

    def test_anyTargetCompId(self):
        client = self.connect(sender_comp_id="*")
        client.venue = "WHATEVER"
        [reply] = client.logon()
        self.assertEqual(reply.get(49), "WHATEVER")
        self.assertEqual(client.send("D", order(client)), [])
        self.assertEqual(len(self.app.messages), 1)

    def test_counterpartyNotAllowed(self):
        client = self.connect(target_comp_id=("ALPHA", "BETA"))
        reply = client.logon()
        self.assertLogoutAndDisconnect(reply, "SenderCompID CLIENT is not allowed")
        other = Client(self.factory, compId="BETA")
        self.assertEqual(types(other.logon()), ["A"])

    def test_credentials(self):
        client = self.connect(users={"alice": "secret"}, compId="alice")
        reply = client.logon()
        self.assertLogoutAndDisconnect(reply, "invalid Username (553) or Password (554)")
        client = Client(self.factory, compId="alice")
        reply = client.logon(extra=[(553, "alice"), (554, "wrong")])
        self.assertLogoutAndDisconnect(reply, "invalid Username")
        client = Client(self.factory, compId="alice")
        self.assertEqual(types(client.logon(extra=[(553, "alice"), (554, "secret")])), ["A"])

    def test_credentialsFIX42(self):
        """
        Username and Password are accepted on Logon before FIX 4.3 too.
        """
        client = self.connect(beginString="FIX.4.2", users={"alice": "secret"}, compId="alice")
        self.assertEqual(types(client.logon(extra=[(553, "alice"), (554, "secret")])), ["A"])

    def test_credentialsTiedToCompIds(self):
        """
        A user logs on only as the CompIDs configured for it
        (C{name:password:COMPID}), else as its own name: bob's credentials
        do not let anyone log on as ALICE (issue 11, defect 3).
        """
        from exsim.endpoint import parseUsers

        users = parseUsers("alice:pa:ALICE,alice:pa:ALICE2,bob:pb", compIds=True)
        client = self.connect(users=users, compId="ALICE")
        reply = client.logon(extra=[(553, "bob"), (554, "pb")])
        self.assertLogoutAndDisconnect(reply, "user bob may not log on as SenderCompID ALICE")
        client = Client(self.factory, compId="alice")
        reply = client.logon(extra=[(553, "alice"), (554, "pa")])
        self.assertLogoutAndDisconnect(reply, "user alice may not log on as SenderCompID alice")
        for compId, user, password in [("ALICE", "alice", "pa"), ("ALICE2", "alice", "pa"),
                                       ("bob", "bob", "pb")]:
            client = Client(self.factory, compId=compId)
            self.assertEqual(types(client.logon(extra=[(553, user), (554, password)])), ["A"])

    def test_heartbeatBounds(self):
        client = self.connect(min_heartbeat_interval=5, max_heartbeat_interval=60)
        reply = client.logon(heartBtInt=1)
        self.assertLogoutAndDisconnect(reply, "HeartBtInt 1 is out of bounds (5 to 60)")
        client = Client(self.factory)
        self.assertLogoutAndDisconnect(client.logon(heartBtInt=61), "out of bounds")
        client = Client(self.factory)
        self.assertEqual(types(client.logon(heartBtInt=60)), ["A"])

    def test_encryptMethod(self):
        client = self.connect()
        reply = client.send("A", [(98, 1), (108, 30)])
        self.assertLogoutAndDisconnect(reply, "EncryptMethod")

    def test_invalidLogon(self):
        client = self.connect()
        reply = client.send("A", [(98, 0)])
        self.assertLogoutAndDisconnect(reply, "HeartBtInt (108)")
        self.assertTrue(client.disconnected)

    def test_secondLogonRefused(self):
        first = self.loggedOn()
        second = Client(self.factory)
        reply = second.logon()
        self.assertLogoutAndDisconnect(reply, "already logged on")
        self.assertTrue(second.disconnected)
        self.assertFalse(first.disconnected)
        # The refusal did not disturb the live session's sequence numbers.
        self.assertEqual(first.send("D", order(first)), [])
        first.send("1", [(112, "ping")])
        self.assertEqual(first.inbox[-1].seqNum, 2)

    def test_logonAfterDisconnectContinuesSequence(self):
        client = self.loggedOn()
        client.send("D", order(client))
        client.close()
        again = Client(self.factory)
        again.seq = 3
        [reply] = again.logon()
        self.assertEqual(reply.seqNum, 2)
        self.assertEqual(len(self.app.loggedOn), 2)
        self.assertEqual(len(self.app.loggedOut), 1)

    def test_resetSeqNumFlag(self):
        client = self.loggedOn()
        client.send("D", order(client))
        client.close()
        again = Client(self.factory)
        [reply] = again.logon(extra=[(141, "Y")])
        self.assertEqual(reply.seqNum, 1)
        self.assertEqual(reply.get(141), "Y")
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 2)

    def test_resetOnLogon(self):
        client = self.loggedOn(reset_on_logon=True)
        client.send("D", order(client))
        client.close()
        again = Client(self.factory)
        [reply] = again.logon()
        self.assertEqual(reply.seqNum, 1)
        self.assertEqual(reply.get(141), "Y")

    def test_logonSeqTooLow(self):
        client = self.loggedOn()
        client.send("D", order(client))
        client.close()
        again = Client(self.factory)
        reply = again.logon()
        self.assertLogoutAndDisconnect(reply, "MsgSeqNum too low, expecting 3 but received 1")
        self.assertTrue(again.disconnected)

    def test_logonSeqTooHigh(self):
        client = self.connect()
        client.seq = 5
        reply = client.logon()
        self.assertEqual(types(reply), ["A", "2"])
        self.assertEqual(reply[1].get(7), "1")
        self.assertEqual(reply[1].get(16), "0")

    def test_logonSeqTooHighThenGapFilled(self):
        """
        The counterparty answers our ResendRequest by gap-filling up to and
        including its Logon; the session then goes on in sequence.
        """
        client = self.connect()
        client.seq = 5
        client.logon()
        now = stamp(self.reactor.seconds())
        gap = client.build(
            "4", [(123, "Y"), (36, 6)], seq=1,
            header=[(49, "CLIENT"), (56, "EXSIM"), (34, 1), (43, "Y"), (52, now), (122, now)],
        )
        self.assertEqual(client.sendRaw(gap), [])
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 6)
        self.assertEqual(client.send("D", order(client)), [])
        self.assertEqual(len(self.app.messages), 1)

    def test_fix40(self):
        client = self.connect(beginString="FIX.4.0")
        client.seq = 3
        reply = client.logon()
        self.assertEqual(types(reply), ["A", "2"])
        self.assertEqual(reply[1].get(16), "999999")
        # Whole seconds before FIX 4.2.
        self.assertEqual(reply[0].get(52), "20240301-12:00:00")

    def test_logonTimeout(self):
        client = self.connect(logon_timeout=5)
        self.reactor.advance(4)
        self.assertFalse(client.disconnected)
        self.reactor.advance(1)
        self.assertTrue(client.disconnected)

    def test_logonSendingTimeOff(self):
        client = self.connect()
        reply = client.logon(sendingTime=stamp(self.reactor.seconds() - 600))
        self.assertLogoutAndDisconnect(reply, "SendingTime")


class HeartbeatTests(SessionTestMixin, unittest.TestCase):
    def test_heartbeatWhenQuiet(self):
        client = self.connect()
        client.logon(heartBtInt=10)
        self.reactor.advance(9)
        self.assertEqual(client.received(), [])
        client.send("0")
        self.reactor.advance(1)
        [hb] = client.received()
        self.assertEqual(hb.msgType, "0")
        self.assertIsNone(hb.get(112))

    def test_testRequestAndTimeout(self):
        client = self.connect()
        client.logon(heartBtInt=10)
        for _ in range(11):
            self.reactor.advance(1)
        sent = client.received()
        self.assertEqual(types(sent), ["0"])
        self.reactor.advance(1)  # 12 s of silence: HeartBtInt + 20 %
        [testRequest] = client.received()
        self.assertEqual(testRequest.msgType, "1")
        self.assertTrue(testRequest.get(112))
        # Unanswered: disconnected one HeartBtInt later (Heartbeats
        # meanwhile are fine).
        for _ in range(9):
            self.reactor.advance(1)
        self.assertFalse(client.disconnected)
        self.reactor.advance(1)
        self.assertTrue(client.disconnected)
        self.assertIn("heartbeat timeout", client.received()[-1].get(58))

    def test_testRequestAnswered(self):
        client = self.connect()
        client.logon(heartBtInt=10)
        for _ in range(12):
            self.reactor.advance(1)
        testRequest = [m for m in client.received() if m.msgType == "1"][0]
        client.send("0", [(112, testRequest.get(112))])
        for _ in range(12):
            self.reactor.advance(1)
        self.assertFalse(client.disconnected)

    def test_answerTestRequest(self):
        client = self.loggedOn()
        [hb] = client.send("1", [(112, "ping-1")])
        self.assertEqual(hb.msgType, "0")
        self.assertEqual(hb.get(112), "ping-1")

    def test_batchedReplyCountsAsSent(self):
        """
        What is written while received data is handled goes out at once,
        at the end; it counts as sent then: no Heartbeat is due until
        HeartBtInt after it.
        """
        client = self.connect()
        client.logon(heartBtInt=10)
        self.reactor.advance(5)
        [hb] = client.send("1", [(112, "ping-1")])
        self.assertEqual(hb.get(112), "ping-1")
        for _ in range(9):
            self.reactor.advance(1)
        self.assertEqual(client.received(), [])
        self.reactor.advance(1)
        self.assertEqual(types(client.received()), ["0"])

    def test_noHeartbeatsWhenZero(self):
        client = self.connect()
        client.logon(heartBtInt=0)
        for _ in range(100):
            self.reactor.advance(1)
        self.assertEqual(client.received(), [])
        self.assertFalse(client.disconnected)


class SequenceTests(SessionTestMixin, unittest.TestCase):
    def test_tooHighQueuesAndRequestsResend(self):
        client = self.loggedOn()
        client.seq = 4
        reply = client.send("D", order(client, "o4"))
        self.assertEqual(types(reply), ["2"])
        self.assertEqual((reply[0].get(7), reply[0].get(16)), ("2", "0"))
        self.assertEqual(self.app.messages, [])
        # Another one while the resend is outstanding: no second request.
        self.assertEqual(client.send("D", order(client, "o5")), [])
        # The counterparty resends 2 and gap-fills 3.
        client.send("D", order(client, "o2"), seq=2, header=None)
        self.assertEqual([m.get(11) for m in self.app.messages], ["o2"])
        gap = client.build(
            "4",
            [(123, "Y"), (36, 4)],
            header=[(49, "CLIENT"), (56, "EXSIM"), (34, 3), (43, "Y"),
                    (52, stamp(self.reactor.seconds())), (122, stamp(self.reactor.seconds()))],
        )
        self.assertEqual(client.sendRaw(gap), [])
        self.assertEqual([m.get(11) for m in self.app.messages], ["o2", "o4", "o5"])
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 6)

    def test_queueBounded(self):
        from exsim.fix import session as sessionModule

        self.patch(sessionModule, "MAX_QUEUED", 3)
        client = self.loggedOn()
        client.seq = 10
        for i in range(3):
            client.send("0")
        self.assertFalse(client.disconnected)
        reply = client.send("0")
        self.assertLogoutAndDisconnect(reply, "more than 3 messages out of sequence")

    def test_tooLow(self):
        client = self.loggedOn()
        reply = client.send("D", order(client), seq=1)
        self.assertLogoutAndDisconnect(reply, "MsgSeqNum too low, expecting 2 but received 1")
        self.assertTrue(client.disconnected)

    def test_possDupIgnored(self):
        client = self.loggedOn()
        client.send("D", order(client))
        now = stamp(self.reactor.seconds())
        dup = client.build(
            "D", order(client),
            header=[(49, "CLIENT"), (56, "EXSIM"), (34, 2), (43, "Y"), (52, now), (122, now)],
        )
        self.assertEqual(client.sendRaw(dup), [])
        self.assertEqual(len(self.app.messages), 1)
        self.assertFalse(client.disconnected)

    def test_possDupWithoutOrigSendingTime(self):
        client = self.loggedOn()
        now = stamp(self.reactor.seconds())
        msg = client.build(
            "D", order(client), header=[(49, "CLIENT"), (56, "EXSIM"), (34, 2), (43, "Y"), (52, now)]
        )
        self.assertReject(client.sendRaw(msg), 1, 122, 2)
        self.assertEqual(self.app.messages, [])

    def test_origSendingTimeAfterSendingTime(self):
        client = self.loggedOn()
        now = self.reactor.seconds()
        msg = client.build(
            "D", order(client),
            header=[(49, "CLIENT"), (56, "EXSIM"), (34, 2), (43, "Y"), (52, stamp(now)), (122, stamp(now + 5))],
        )
        self.assertReject(client.sendRaw(msg), 10, 122)

    def test_sequenceResetReset(self):
        client = self.loggedOn()
        self.assertEqual(client.send("4", [(36, 10)], seq=99), [])
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 10)
        client.seq = 10
        client.send("D", order(client))
        self.assertEqual(len(self.app.messages), 1)

    def test_sequenceResetResetLower(self):
        client = self.loggedOn()
        client.seq = 5
        client.send("4", [(36, 10)])
        self.assertReject(client.send("4", [(36, 3)]), 5, 36)
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 10)

    def test_gapFill(self):
        client = self.loggedOn()
        self.assertEqual(client.send("4", [(123, "Y"), (36, 7)]), [])
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 7)

    def test_gapFillLowering(self):
        client = self.loggedOn()
        self.assertReject(client.send("4", [(123, "Y"), (36, 2)]), 5, 36)
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 3)

    def test_missingMsgSeqNum(self):
        client = self.loggedOn()
        msg = client.build("0", header=[(49, "CLIENT"), (56, "EXSIM"), (52, stamp(self.reactor.seconds()))])
        reply = client.sendRaw(msg)
        self.assertLogoutAndDisconnect(reply, "MsgSeqNum (34) missing")

    def test_resendRequestServed(self):
        client = self.loggedOn()
        session = self.factory.sessions["CLIENT"]
        session.sendApp("8", [(37, "1"), (17, "x1"), (150, "0"), (39, "0"), (55, "AAPL"),
                              (54, "1"), (151, 100), (14, 0), (6, 0)])
        client.send("1", [(112, "t")])  # heartbeat 3 answers
        self.reactor.advance(2)
        session.sendApp("8", [(37, "2"), (17, "x2")])
        original = client.received()
        self.assertEqual([m.seqNum for m in original], [4])
        resent = client.send("2", [(7, 1), (16, 0)])
        self.assertEqual(
            [(m.msgType, m.seqNum) for m in resent], [("4", 1), ("8", 2), ("4", 3), ("8", 4)]
        )
        self.assertEqual(resent[0].get(36), "2")
        self.assertEqual(resent[0].get(123), "Y")
        self.assertEqual(resent[2].get(36), "4")
        for m in resent:
            self.assertEqual(m.get(43), "Y")
            self.assertTrue(m.get(122))
        self.assertEqual(resent[1].get(17), "x1")
        self.assertEqual(resent[1].get(122), "20240301-12:00:00.000")
        self.assertEqual(resent[3].get(122), "20240301-12:00:02.000")
        self.assertEqual(resent[3].get(52), "20240301-12:00:02.000")
        # Resending does not use new sequence numbers.
        self.assertEqual(session.store.nextSenderSeq, 5)

    def test_resendRequestRange(self):
        client = self.loggedOn()
        session = self.factory.sessions["CLIENT"]
        for i in range(5):
            session.sendApp("8", [(17, "x%d" % (i,))])
        client.received()
        resent = client.send("2", [(7, 3), (16, 4)])
        self.assertEqual([(m.msgType, m.seqNum) for m in resent], [("8", 3), ("8", 4)])

    def test_sendWhileDisconnected(self):
        client = self.loggedOn()
        client.close()
        session = self.factory.sessions["CLIENT"]
        session.sendApp("8", [(17, "late")])
        self.assertEqual(session.store.nextSenderSeq, 3)
        again = Client(self.factory)
        again.seq = 2
        [logon] = again.logon()
        self.assertEqual(logon.seqNum, 3)
        resent = again.send("2", [(7, 2), (16, 0)])
        # 3 was our Logon: gap-filled.
        self.assertEqual(
            [(m.msgType, m.seqNum, m.get(17)) for m in resent],
            [("8", 2, "late"), ("4", 3, None)],
        )
        self.assertEqual(resent[1].get(36), "4")

    def test_resendRequestWhileTooHigh(self):
        """
        A ResendRequest with too high a MsgSeqNum is served at once, then
        our own ResendRequest follows.
        """
        client = self.loggedOn()
        self.factory.sessions["CLIENT"].sendApp("8", [(17, "x")])
        client.received()
        client.seq = 5
        reply = client.send("2", [(7, 2), (16, 2)])
        self.assertEqual(types(reply), ["8", "2"])


class RejectTests(SessionTestMixin, unittest.TestCase):
    def test_invalidTagNumber(self):
        client = self.loggedOn()
        self.assertReject(client.send("D", order(client, extra=[(4999, "x")])), 0, 4999, 2)

    def test_userDefinedFields(self):
        client = self.loggedOn()
        self.assertReject(client.send("D", order(client, extra=[(6001, "x")])), 0, 6001)
        client = self.loggedOn(validate_user_defined_fields=False)
        self.assertEqual(client.send("D", order(client, extra=[(6001, "x")])), [])
        self.assertEqual(len(self.app.messages), 1)

    def test_requiredTagMissing(self):
        client = self.loggedOn()
        body = [f for f in order(client) if f[0] != 54]
        self.assertReject(client.send("D", body), 1, 54)
        self.assertEqual(self.app.messages, [])
        # The rejected message counted: the next is in sequence.
        self.assertEqual(client.send("D", order(client)), [])

    def test_requiredHeaderTagMissing(self):
        client = self.loggedOn()
        msg = client.build("0", header=[(49, "CLIENT"), (56, "EXSIM"), (34, 2)])
        self.assertReject(client.sendRaw(msg), 1, 52)

    def test_tagNotDefinedForMessage(self):
        client = self.loggedOn()
        self.assertReject(client.send("D", order(client, extra=[(45, 1)])), 2, 45)

    def test_tagWithoutValue(self):
        client = self.loggedOn()
        self.assertReject(client.send("D", order(client, extra=[(58, "")])), 4, 58)

    def test_emptyValuesAllowed(self):
        client = self.loggedOn(check_fields_have_values=False)
        self.assertEqual(client.send("D", order(client, extra=[(58, "")])), [])

    def test_valueOutOfRange(self):
        client = self.loggedOn()
        self.assertReject(client.send("D", order(client, side="Z")), 5, 54)

    def test_incorrectDataFormat(self):
        client = self.loggedOn()
        body = [(t, "abc" if t == 38 else v) for t, v in order(client)]
        self.assertReject(client.send("D", body), 6, 38)

    def test_tagAppearsTwice(self):
        client = self.loggedOn()
        self.assertReject(client.send("D", order(client, extra=[(55, "MSFT")])), 13, 55)

    def test_headerFieldAfterBody(self):
        client = self.loggedOn()
        self.assertReject(client.send("D", order(client, extra=[(115, "X")])), 14, 115)

    def test_fieldOrderNotChecked(self):
        client = self.loggedOn(check_field_order=False)
        self.assertEqual(client.send("D", order(client, extra=[(115, "X")])), [])

    def test_groupCount(self):
        client = self.loggedOn()
        parties = [(453, 2), (448, "P1"), (447, "D"), (452, 1)]
        self.assertReject(client.send("D", order(client, extra=parties)), 16, 453)
        parties = [(453, 1), (448, "P1"), (447, "D"), (452, 1)]
        self.assertEqual(client.send("D", order(client, extra=parties)), [])

    def test_groupOutOfOrder(self):
        client = self.loggedOn()
        parties = [(453, 1), (447, "D"), (448, "P1")]
        self.assertReject(client.send("D", order(client, extra=parties)), 15, 447)

    def test_invalidMsgType(self):
        client = self.loggedOn()
        self.assertReject(client.send("ZZ", []), 11, 35)

    def test_unsupportedMessageType(self):
        client = self.loggedOn()
        [reply] = client.send("R", [(131, "q1"), (146, 1), (55, "AAPL")])
        self.assertEqual(reply.msgType, "j")
        self.assertEqual(reply.get(45), "2")
        self.assertEqual(reply.get(372), "R")
        self.assertEqual(reply.get(380), "3")

    def test_unsupportedMessageTypeFIX41(self):
        """
        FIX 4.1 has no BusinessMessageReject: a session Reject says it.
        """
        client = self.connect(beginString="FIX.4.1")
        client.logon()
        [reply] = client.send("R", [(131, "q1"), (55, "AAPL")])
        self.assertEqual(reply.msgType, "3")
        self.assertIsNone(reply.get(373))
        self.assertIn("Unsupported Message Type", reply.get(58))

    def test_applicationFailure(self):
        client = self.loggedOn()
        self.app.fail = True
        [reply] = client.send("D", order(client))
        self.assertEqual(reply.msgType, "j")
        self.assertEqual(reply.get(380), "0")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.app.fail = False
        self.assertEqual(client.send("D", order(client, "o2")), [])

    def test_compIdProblem(self):
        client = self.loggedOn()
        msg = client.build(
            "0", header=[(49, "INTRUDER"), (56, "EXSIM"), (34, 2), (52, stamp(self.reactor.seconds()))]
        )
        reply = client.sendRaw(msg)
        self.assertEqual(types(reply), ["3", "5"])
        self.assertEqual(reply[0].get(373), "9")
        self.assertTrue(client.disconnected)

    def test_sendingTimeAccuracy(self):
        client = self.loggedOn(sending_time_tolerance=30)
        reply = client.send("0", sendingTime=stamp(self.reactor.seconds() - 31))
        self.assertEqual(types(reply), ["3", "5"])
        self.assertEqual(reply[0].get(373), "10")
        self.assertTrue(client.disconnected)

    def test_missingTargetCompId(self):
        """
        A missing CompID is a missing required field, not a CompID problem.
        """
        client = self.loggedOn()
        msg = client.build("0", header=[(49, "CLIENT"), (34, 2), (52, stamp(self.reactor.seconds()))])
        self.assertReject(client.sendRaw(msg), 1, 56)
        self.assertFalse(client.disconnected)

    def test_malformedSendingTime(self):
        client = self.loggedOn()
        self.assertReject(client.send("0", sendingTime="20240301 12:00:00"), 6, 52)
        self.assertFalse(client.disconnected)

    def test_trailerFieldBeforeEnd(self):
        client = self.loggedOn()
        body = order(client)
        body.insert(2, (93, 1))
        body.insert(3, (89, "x"))
        self.assertReject(client.send("D", body), 14, 93)

    def test_sendingTimeToleranceOff(self):
        client = self.loggedOn(sending_time_tolerance=0)
        self.assertEqual(client.send("0", sendingTime=stamp(self.reactor.seconds() - 3600)), [])

    def test_rejectReceived(self):
        client = self.loggedOn()
        client.send("3", [(45, 1), (58, "bad")])
        [event] = self.endpoint.reported("reject_received")
        self.assertEqual(event["ref_seq_num"], 1)
        self.assertEqual(event["text"], "bad")

    def test_rejectReportedAsSent(self):
        client = self.loggedOn()
        client.send("D", order(client, side="Z"))
        [event] = self.endpoint.reported("reject_sent")
        self.assertEqual(event["reason"], 5)
        self.assertEqual(event["ref_tag_id"], 54)

    def test_rejectFieldsOfFIX42(self):
        """
        FIX 4.2 has RefTagID, RefMsgType and SessionRejectReason 0-11
        only: reason 13 is left out, the text explains.
        """
        client = self.connect(beginString="FIX.4.2")
        client.logon()
        body = [(11, "o1"), (21, "1"), (55, "AAPL"), (54, "1"), (60, stamp(self.reactor.seconds())),
                (38, 100), (40, "2"), (44, "1"), (55, "X")]
        [reply] = client.send("D", body)
        self.assertEqual(reply.msgType, "3")
        self.assertIsNone(reply.get(373))
        self.assertEqual(reply.get(371), "55")
        self.assertIn("more than once", reply.get(58))

    def test_secondLogonOnSameConnection(self):
        client = self.loggedOn()
        reply = client.logon()
        self.assertEqual(types(reply), ["3"])
        self.assertFalse(client.disconnected)

    def test_logonResetDuringSession(self):
        client = self.loggedOn()
        client.send("D", order(client))
        client.seq = 1
        [reply] = client.logon(extra=[(141, "Y")])
        self.assertEqual((reply.msgType, reply.seqNum, reply.get(141)), ("A", 1, "Y"))
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 2)


class ExpectedShapeTests(SessionTestMixin, unittest.TestCase):
    """
    Messages with the fields of the ones before are checked as they are
    cut from the stream (L{codec.Shape}); whatever their values, the
    session answers as it does to the same message on its own.
    """

    #: (tag, value) changes to a valid order that keep its fields.
    CHANGES = [
        [],
        [(54, "Z")],
        [(54, "")],
        [(54, "11")],
        [(38, "abc")],
        [(38, "-5")],
        [(38, "1.5")],
        [(38, "")],
        [(44, "1e5")],
        [(44, ".5")],
        [(44, "-")],
        [(40, "Q")],
        [(40, "P")],
        [(11, "")],
        [(21, "9")],
        [(60, "20240230-12:00:00")],
        [(60, "20240301-24:00:00")],
        [(60, "20240301-12:00:00.1234567890")],
        [(60, "20240301-12:00:00.")],
        [(55, "A\xe9")],
    ]

    def answer(self, client, body, primed):
        """
        What the venue answers to a NewOrderSingle with C{body}, sent
        after two valid orders with the same fields if C{primed}.
        """
        if primed:
            valid = order(client, "p1")
            data = client.build("D", valid) + client.build("D", order(client, "p2"))
            self.assertEqual(client.sendRaw(data), [])
        # RefSeqNum (45) as if the two were not sent.
        return [
            (
                m.msgType, int(m.get(45, 0)) - 2 * primed, m.get(371), m.get(373), m.get(58),
                m.get(372),
            )
            for m in client.send("D", body)
        ]

    def test_sameAnswers(self):
        for changes in self.CHANGES:
            replaced = dict(changes)
            alone = self.loggedOn()
            body = [(t, replaced.get(t, v)) for t, v in order(alone)]
            expected = self.answer(alone, body, False)
            primed = self.loggedOn()
            self.assertEqual(
                self.answer(primed, body, True), expected, (changes, expected)
            )
            self.assertEqual(primed.seq, alone.seq + 2)

    def test_checkedAsCut(self):
        """
        A valid message with the fields expected is not validated again.
        """
        from exsim.fix import dictionary

        client = self.loggedOn()
        client.sendRaw(client.build("D", order(client, "p1")) + client.build("D", order(client, "p2")))
        calls = []
        validate = dictionary.Dictionary.validate
        self.patch(
            dictionary.Dictionary,
            "validate",
            lambda *a, **kw: calls.append(a) or validate(*a, **kw),
        )
        self.assertEqual(client.send("D", order(client, "o3")), [])
        self.assertEqual(calls, [])
        self.assertEqual(self.app.messages[-1].get(11), "o3")
        self.assertIs(self.app.messages[-1].validatedBy, dictionary.forVersion("FIX.4.4"))
        # Invalid values: validated the detailed way.
        self.assertEqual(types(client.send("D", order(client, "o4", side="Z"))), ["3"])
        self.assertEqual(len(calls), 1)


class FramingTests(SessionTestMixin, unittest.TestCase):
    def test_garbledDiscardedWithoutAdvancing(self):
        client = self.loggedOn()
        raw = client.build("D", order(client))
        bad = raw[:-4] + b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256,)
        self.assertEqual(client.sendRaw(bad), [])
        self.assertEqual(self.app.messages, [])
        self.assertEqual(client.sendRaw(raw), [])
        self.assertEqual(len(self.app.messages), 1)

    def test_zeroPaddedBodyLengthAndSplitReads(self):
        client = self.connect()
        raw = client.build("A", [(98, 0), (108, 30)])
        head, _, rest = raw.partition(b"\x0135=")
        length = int(head.split(b"9=")[1])
        body = b"35=" + rest[: -len(b"10=000\x01")]
        padded = b"8=FIX.4.4\x019=%04d\x01" % (length,) + body
        padded += codec.checksum(padded)
        for i in range(len(padded)):
            client.protocol.dataReceived(padded[i : i + 1])
        self.assertEqual(types(client.received()), ["A"])

    def test_coalesced(self):
        client = self.loggedOn()
        data = b"".join(client.build("D", order(client, "o%d" % i)) for i in range(5))
        client.sendRaw(data)
        self.assertEqual([m.get(11) for m in self.app.messages], ["o0", "o1", "o2", "o3", "o4"])

    def test_oneWritePerRead(self):
        """
        What the venue answers to one read goes out in one transport write.
        """
        client = self.loggedOn()
        writes = []
        original = client.transport.write
        client.transport.write = lambda data: (writes.append(data), original(data))
        data = b"".join(client.build("1", [(112, "t%d" % i)]) for i in range(3))
        replies = client.sendRaw(data)
        self.assertEqual([m.get(112) for m in replies], ["t0", "t1", "t2"])
        self.assertEqual(len(writes), 1)

    def test_oversized(self):
        client = self.loggedOn(max_message_size=256)
        reply = client.send("D", order(client, extra=[(58, "x" * 300)]))
        self.assertLogoutAndDisconnect(reply, "max_message_size")
        self.assertTrue(client.disconnected)

    def test_msgTypeNotThird(self):
        client = self.loggedOn()
        body = b"49=CLIENT\x0135=0\x0156=EXSIM\x0134=2\x0152=" + stamp(self.reactor.seconds()).encode() + b"\x01"
        self.assertEqual(client.sendRaw(codec.frame("FIX.4.4", body)), [])
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextTargetSeq, 2)

    def test_incorrectBeginString(self):
        client = self.loggedOn()
        reply = client.send("0", begin="FIX.4.2")
        self.assertLogoutAndDisconnect(reply, "Incorrect BeginString")


class LogoutTests(SessionTestMixin, unittest.TestCase):
    def test_counterpartyLogout(self):
        client = self.loggedOn()
        [reply] = client.send("5", [(58, "bye")])
        self.assertEqual(reply.msgType, "5")
        self.assertTrue(client.disconnected)
        [event] = self.endpoint.reported("session_logout")
        self.assertEqual(event["text"], "bye")
        client.close()
        self.assertEqual(len(self.app.loggedOut), 1)
        [event] = self.endpoint.reported("session_disconnected")
        self.assertEqual(event["session"], "fix1/CLIENT")

    def test_venueLogout(self):
        client = self.loggedOn()
        client.protocol.logout("end of day")
        [logout] = client.received()
        self.assertEqual(logout.get(58), "end of day")
        self.assertFalse(client.disconnected)
        client.send("5")
        self.assertTrue(client.disconnected)

    def test_venueLogoutUnanswered(self):
        client = self.loggedOn(logout_timeout=2)
        client.protocol.logout()
        self.reactor.advance(1)
        self.assertFalse(client.disconnected)
        self.reactor.advance(1)
        self.assertTrue(client.disconnected)

    def test_sessionFreeOnceDropped(self):
        """
        When the venue drops a connection the session is over at once: the
        application hears it, and the client can log on again at once.
        """
        client = self.loggedOn()
        client.send("D", order(client), seq=1)  # too low: logout, dropped
        self.assertTrue(client.disconnected)
        self.assertEqual(len(self.app.loggedOut), 1)
        again = Client(self.factory)
        again.seq = 2
        self.assertEqual(types(again.logon()), ["A"])
        client.close()  # the old connection's loss changes nothing
        self.assertEqual(len(self.app.loggedOut), 1)
        self.assertTrue(self.factory.sessions["CLIENT"].loggedOn)

    def test_resetOnLogout(self):
        client = self.loggedOn(reset_on_logout=True)
        client.send("5")
        self.assertEqual(self.factory.sessions["CLIENT"].store.nextSenderSeq, 1)

    def test_sequenceKeptOverLogoutByDefault(self):
        client = self.loggedOn()
        client.send("5")
        store = self.factory.sessions["CLIENT"].store
        self.assertEqual((store.nextSenderSeq, store.nextTargetSeq), (3, 3))

    def test_resetOnDisconnect(self):
        client = self.loggedOn(reset_on_disconnect=True)
        client.send("D", order(client))
        client.close()
        store = self.factory.sessions["CLIENT"].store
        self.assertEqual((store.nextSenderSeq, store.nextTargetSeq), (1, 1))

    def test_shutdown(self):
        client = self.loggedOn()
        self.factory.shutdown()
        [logout] = client.received()
        self.assertEqual(logout.msgType, "5")
        self.assertIn("closing", logout.get(58))
        self.assertTrue(client.disconnected)

    def test_malformedLogoutStillLogsOut(self):
        client = self.loggedOn()
        reply = client.send("5", [(58, "")])
        self.assertEqual(types(reply), ["3", "5"])
        self.assertTrue(client.disconnected)


class SettingsTests(unittest.TestCase):
    def test_defaults(self):
        self.assertEqual(set(settings.DEFAULTS), set(settings.PROPERTIES))
        for name, value in settings.DEFAULTS.items():
            self.assertEqual(settings.PROPERTIES[name](value), value, name)

    def test_parsers(self):
        P = settings.PROPERTIES
        self.assertEqual(P["target_comp_id"]("A, B"), ("A", "B"))
        self.assertEqual(P["target_comp_id"]("*"), "*")
        self.assertEqual(P["begin_string"]("FIX.4.2,FIXT.1.1"), ("FIX.4.2", "FIXT.1.1"))
        self.assertEqual(P["default_appl_ver_id"]("FIX.5.0SP2"), "9")
        self.assertEqual(P["reset_on_logon"]("yes"), True)
        self.assertEqual(P["sending_time_tolerance"]("2.5"), 2.5)
        self.assertEqual(P["max_message_size"]("4096"), 4096)

    def test_badValues(self):
        P = settings.PROPERTIES
        for name, value in [
            ("begin_string", "FIX.4.9"),
            ("begin_string", ""),
            ("target_comp_id", ""),
            ("sender_comp_id", "A=B"),
            ("default_appl_ver_id", "6"),
            ("reset_on_logon", "maybe"),
            ("sending_time_tolerance", "-1"),
            ("max_message_size", "12"),
            ("max_message_size", "big"),
            ("min_heartbeat_interval", "1.5"),
            ("store", " "),
        ]:
            e = self.assertRaises(BadValue, P[name], value)
            self.assertIn(name, str(e))


class SessionObjectTests(SessionTestMixin, unittest.TestCase):
    def test_sessionsOutliveConnections(self):
        client = self.loggedOn()
        session = self.factory.sessions["CLIENT"]
        client.close()
        again = Client(self.factory)
        again.seq = 2
        again.logon()
        self.assertIs(self.factory.sessions["CLIENT"], session)
        self.assertIsInstance(session, FixSession)

    def test_encodedSendingTime(self):
        """
        A pre-encoded application message goes out with the reactor's time
        as SendingTime: milliseconds from FIX 4.2, whole seconds before,
        the next millisecond's once the clock moves on.
        """
        for beginString, first, later in (
            ("FIX.4.4", "20240301-12:00:00.000", "20240301-12:00:01.250"),
            ("FIX.4.0", "20240301-12:00:00", "20240301-12:00:01"),
        ):
            client = self.connect(beginString=beginString)
            client.logon()
            session = self.factory.sessions["CLIENT"]
            session.sendEncoded(b"8", b"17=x\x01")
            self.reactor.advance(1.25)
            session.sendEncoded(b"8", b"17=y\x01")
            self.assertEqual([m.get(52) for m in client.received()], [first, later])
            self.assertEqual(
                [t for _, _, t, _ in session.store.getMessages(1, 10)],
                [first.encode(), later.encode()],
            )

    def test_encodedHeaderOrder(self):
        client = self.loggedOn()
        self.factory.sessions["CLIENT"].sendApp("8", [(17, "x")])
        [m] = client.received()
        self.assertEqual([t for t, _ in m.pairs][:7], [8, 9, 35, 49, 56, 34, 52])


class ConformanceTests(SessionTestMixin, unittest.TestCase):
    """
    Session rules found by running public session-level acceptance
    scripts (QuickFIX's) against exsim.
    """

    def header(self, client, seq, extra=()):
        return [(49, "CLIENT"), (56, "EXSIM"), (34, seq), (52, stamp(self.reactor.seconds()))] + list(extra)

    def test_tooLowResendRequestAnswered(self):
        """
        A ResendRequest with too low a MsgSeqNum is still answered, and
        no Logout follows.
        """
        client = self.loggedOn()
        client.send("D", order(client))
        reply = client.sendRaw(client.build("2", [(7, 1), (16, 0)], header=self.header(client, 1)))
        self.assertNotIn("5", types(reply))
        self.assertFalse(client.disconnected)
        self.assertEqual(reply[0].msgType, "4")
        self.assertEqual(reply[0].get(123), "Y")
        # The session goes on with the expected number.
        self.assertEqual(client.send("0"), [])
        self.assertFalse(client.disconnected)

    def test_tooLowLogoutActedOn(self):
        client = self.loggedOn()
        client.send("0")
        [logout] = client.sendRaw(client.build("5", [(58, "bye")], header=self.header(client, 1)))
        self.assertEqual(logout.msgType, "5")
        self.assertNotIn("too low", logout.get(58) or "")
        self.assertTrue(client.disconnected)
        [event] = self.endpoint.reported("session_logout")
        self.assertEqual(event["text"], "bye")

    def test_tooHighResendRequestAnsweredFirst(self):
        client = self.loggedOn()
        reply = client.sendRaw(client.build("2", [(7, 1), (16, 0)], header=self.header(client, 5)))
        self.assertEqual(types(reply), ["4", "2"])
        self.assertEqual(reply[1].get(7), "2")

    def test_reverseRouteOnReject(self):
        client = self.loggedOn()
        for tags, expected in (
            ([(115, "JCD")], {128: "JCD"}),
            ([(128, "JCD")], {115: "JCD"}),
            ([(115, "A"), (116, "B"), (144, "C")], {128: "A", 129: "B", 145: "C"}),
            ([(128, "X"), (129, "Y"), (145, "Z")], {115: "X", 116: "Y", 144: "Z"}),
        ):
            header = self.header(client, client.seq, tags)
            client.seq += 1
            body = [(t, v) for t, v in order(client) if t != 40] + [(40, "w")]
            [reject] = client.sendRaw(client.build("D", body, header=header))
            self.assertEqual(reject.msgType, "3")
            self.assertEqual(reject.get(373), "5")
            for tag, value in expected.items():
                self.assertEqual(reject.get(tag), value, (tags, reject))
            for tag in (115, 116, 144, 128, 129, 145):
                if tag not in expected:
                    self.assertIsNone(reject.get(tag))

    def test_emptyRoutingFieldNotCopied(self):
        client = self.loggedOn()
        header = self.header(client, client.seq, [(115, "")])
        client.seq += 1
        [reject] = client.sendRaw(client.build("D", order(client), header=header))
        self.assertEqual((reject.get(373), reject.get(371)), ("4", "115"))
        self.assertIsNone(reject.get(128))

    def test_reverseRouteOnLogoutHeartbeatAndBusinessReject(self):
        client = self.loggedOn()
        [hb] = client.sendRaw(client.build("1", [(112, "t")], header=self.header(client, 2, [(115, "JCD")])))
        self.assertEqual((hb.msgType, hb.get(128)), ("0", "JCD"))
        [bmr] = client.sendRaw(client.build("R", [(131, "q1"), (146, 1), (55, "AAPL")], header=self.header(client, 3, [(128, "DEST")])))
        self.assertEqual((bmr.msgType, bmr.get(115)), ("j", "DEST"))
        # Nothing routed on what is not a reply.
        self.reactor.advance(31)
        [beat] = client.received()
        self.assertIsNone(beat.get(128))
        [logout] = client.sendRaw(client.build("5", [], header=self.header(client, 4, [(115, "JCD"), (116, "DESK")])))
        self.assertEqual((logout.msgType, logout.get(128), logout.get(129)), ("5", "JCD", "DESK"))

    def test_reverseRouteOnRefusedLogon(self):
        client = self.connect(target_comp_id=("OTHER",))
        [logout] = client.sendRaw(
            client.build("A", [(98, 0), (108, 30)], header=self.header(client, 1, [(115, "JCD")]))
        )
        self.assertEqual((logout.msgType, logout.get(128)), ("5", "JCD"))

    def test_emptyCompIdIsTagWithoutValue(self):
        client = self.loggedOn()
        header = [(49, "CLIENT"), (56, ""), (34, 2), (52, stamp(self.reactor.seconds()))]
        [reject] = client.sendRaw(client.build("D", order(client), header=header))
        self.assertEqual((reject.msgType, reject.get(373), reject.get(371)), ("3", "4", "56"))
        self.assertFalse(client.disconnected)
        # MsgSeqNum 2 was taken.
        client.seq = 3
        self.assertEqual(client.send("0"), [])

    def test_emptyCompIdUnchecked(self):
        client = self.loggedOn(check_fields_have_values=False)
        header = [(49, "CLIENT"), (56, ""), (34, 2), (52, stamp(self.reactor.seconds()))]
        reply = client.sendRaw(client.build("D", order(client), header=header))
        self.assertEqual(types(reply), ["3", "5"])
        self.assertEqual(reply[0].get(373), "9")

    def test_emptyCompIdOnLogon(self):
        client = self.connect()
        header = [(49, "CLIENT"), (56, ""), (34, 1), (52, stamp(self.reactor.seconds()))]
        [logout] = client.sendRaw(client.build("A", [(98, 0), (108, 30)], header=header))
        self.assertEqual(logout.msgType, "5")
        self.assertIn("Tag specified without a value: TargetCompID (56)", logout.get(58))

    def test_headerFieldAfterBody(self):
        client = self.loggedOn()
        header = [(49, "CLIENT"), (56, "EXSIM"), (34, 2)]
        body = order(client) + [(52, stamp(self.reactor.seconds()))]
        [reject] = client.sendRaw(client.build("D", body, header=header))
        self.assertEqual((reject.get(373), reject.get(371)), ("14", "52"))
        self.assertIn("out of required order", reject.get(58))

    def test_headerFieldAfterBodyFIX42(self):
        """
        FIX 4.2 has no reason 14: the Reject says it in its Text.
        """
        client = self.loggedOn(beginString="FIX.4.2")
        header = [(49, "CLIENT"), (56, "EXSIM"), (34, 2)]
        body = order(client) + [(52, stamp(self.reactor.seconds()))]
        [reject] = client.sendRaw(client.build("D", body, header=header))
        self.assertIsNone(reject.get(373))
        self.assertIn("out of required order", reject.get(58))

    def test_headerFieldAfterBodyUnchecked(self):
        client = self.loggedOn(check_field_order=False)
        header = [(49, "CLIENT"), (56, "EXSIM"), (34, 2)]
        body = order(client) + [(52, stamp(self.reactor.seconds()))]
        self.assertEqual(client.sendRaw(client.build("D", body, header=header)), [])
        self.assertEqual(types(self.app.messages), ["D"])

    def test_fixtResetLogonCarriesDefaultApplVerId(self):
        client = self.connect(beginString="FIXT.1.1")
        [reply] = client.logon(extra=[(141, "Y")])
        self.assertEqual((reply.get(141), reply.get(1137)), ("Y", "9"))
        client.seq = 1
        [again] = client.send("A", [(98, 0), (108, 30), (141, "Y"), (1137, "9")])
        self.assertEqual((again.msgType, again.get(141), again.get(1137)), ("A", "Y", "9"))
