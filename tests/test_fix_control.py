"""
Session control of FIX sessions (L{exsim.fix.control}) through the
management operations of a L{Simulator} on a L{MemoryReactorClock}, with
scripted FIX clients on L{StringTransport}s: list_sessions, the session
events, disconnect_session, logout_session, send_raw, every fault, every
session property, and the endpoint properties latency, seed, throttle,
throttle_action and accept_logons.
"""

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim.errors import BadValue, UnknownName, WrongState
from exsim.fix import codec
from exsim.fix.control import FixSessionHandle, garbled
from exsim.interfaces import IControlledSession
from exsim.service import Simulator
from tests.fixsession_helpers import START, Client, stamp


def types(messages):
    return [m.msgType for m in messages]


def nos(client, clOrdId, side="1", price="10", qty=100):
    return [
        (11, clOrdId), (55, "AAPL"), (54, side), (60, stamp(client.reactor.seconds())),
        (38, qty), (40, "2"), (44, price), (59, "0"),
    ]


class FixSimulatorMixin:
    """
    A simulator with engine e1, book AAPL and FIX endpoint fix1 listening
    on a MemoryReactorClock at L{START}.
    """

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(START)
        sim = self.simulator = Simulator(self.reactor)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_endpoint("fix1", "e1", "fix")
        for name, value in self.properties().items():
            sim.set_protocol_property("fix1", name, value)
        sim.start_endpoint("fix1")
        self.factory = sim.endpoint("fix1").factory
        self._port = 40000

    def properties(self):
        return {}

    def client(self, compId="CLIENT", logon=True, heartBtInt=30):
        self._port += 1
        client = Client(self.factory, compId=compId, port=self._port)
        if logon:
            self.assertEqual(types(client.logon(heartBtInt=heartBtInt)), ["A"])
        return client

    def events(self, eventType):
        return [e for e in self.simulator.get_events() if e["type"] == eventType]

    def session(self, compId="CLIENT"):
        return self.factory.sessions[compId]


class ListSessionsTests(FixSimulatorMixin, TestCase):
    def test_handleProvidesInterface(self):
        self.client()
        handle = FixSessionHandle(self.factory, session=self.session())
        self.assertTrue(verifyObject(IControlledSession, handle))

    def test_loggedOnSession(self):
        self.client(heartBtInt=20)
        [listed] = self.simulator.list_sessions()
        self.assertEqual(
            listed,
            {
                "session": "fix1/CLIENT",
                "endpoint": "fix1",
                "protocol": "fix",
                "peer": "127.0.0.1:40001",
                "state": "active",
                "begin_string": "FIX.4.4",
                "sender_comp_id": "CLIENT",
                "target_comp_id": "EXSIM",
                "next_in_seq": 2,
                "next_out_seq": 2,
                "heartbeat_interval": 20,
                "hold": False,
                "heartbeats": True,
                "latency": None,
                "queued_out": 0,
                "queued_in": 0,
                "pending_drop": 0,
                "pending_garble": 0,
            },
        )

    def test_statesAndFilter(self):
        a = self.client("A")
        self.client("B", logon=False)
        self.simulator.create_endpoint("fix2", "e1", "fix")
        self.simulator.start_endpoint("fix2")
        Client(self.simulator.endpoint("fix2").factory, compId="C", port=41000).logon()
        states = {d["session"]: d["state"] for d in self.simulator.list_sessions()}
        self.assertEqual(
            states,
            {"fix1/A": "active", "fix1@127.0.0.1:40002": "logging_on", "fix2/C": "active"},
        )
        self.assertEqual(
            [d["session"] for d in self.simulator.list_sessions("fix2")], ["fix2/C"]
        )
        self.assertRaises(UnknownName, self.simulator.list_sessions, "nope")
        a.protocol.logout("bye")
        self.assertEqual(self.simulator.list_sessions("fix1")[0]["state"], "logging_out")
        a.close()
        [gone] = [d for d in self.simulator.list_sessions("fix1") if d["session"] == "fix1/A"]
        # Remembered (its store) while disconnected.
        self.assertEqual((gone["state"], gone["peer"], gone["next_out_seq"]), ("disconnected", None, 3))

    def test_events(self):
        client = self.client()
        [logon] = self.events("session_logon")
        self.assertEqual(
            (logon["session"], logon["endpoint"], logon["peer"], logon["begin_string"]),
            ("fix1/CLIENT", "fix1", "127.0.0.1:40001", "FIX.4.4"),
        )
        client.send("5", [(58, "done")])
        client.close()
        events = self.simulator.get_events()
        self.assertEqual([e["type"] for e in events], ["session_logout", "session_disconnected"])
        logout, gone = events
        self.assertEqual((logout["session"], logout["text"]), ("fix1/CLIENT", "done"))
        self.assertEqual((gone["session"], gone["reason"]), ("fix1/CLIENT", "counterparty logged out"))


class OperationTests(FixSimulatorMixin, TestCase):
    def test_disconnectSession(self):
        client = self.client()
        self.simulator.get_events()
        self.simulator.disconnect_session("fix1/CLIENT")
        self.assertTrue(client.disconnected)
        self.assertEqual(client.received(), [])
        [event] = self.events("session_disconnected")
        self.assertEqual(event["reason"], "disconnect_session")
        self.assertEqual(self.simulator.list_sessions()[0]["state"], "disconnected")
        self.assertRaises(WrongState, self.simulator.disconnect_session, "fix1/CLIENT")

    def test_disconnectPendingConnection(self):
        client = self.client(logon=False)
        self.simulator.disconnect_session("fix1@127.0.0.1:40001")
        self.assertTrue(client.disconnected)
        self.assertEqual(self.simulator.list_sessions(), [])

    def test_unknownSession(self):
        for bad in ("fix1/NOPE", "", None, 3, "fix9/CLIENT"):
            e = self.assertRaises(BadValue, self.simulator.disconnect_session, bad)
            self.assertIsInstance(e, UnknownName)
        self.assertRaises(BadValue, self.simulator.inject_fault, "fix1/NOPE", "gap")
        self.assertRaises(BadValue, self.simulator.set_session_property, "x", "hold", "yes")

    def test_logoutSession(self):
        client = self.client()
        self.simulator.logout_session("fix1/CLIENT", "end of test")
        [logout] = client.received()
        self.assertEqual((logout.msgType, logout.get(58)), ("5", "end of test"))
        self.assertFalse(client.disconnected)
        self.assertEqual(self.simulator.list_sessions()[0]["state"], "logging_out")
        self.assertRaises(WrongState, self.simulator.logout_session, "fix1/CLIENT")
        client.send("5")
        self.assertTrue(client.disconnected)

    def test_logoutSessionTimeout(self):
        client = self.client()
        self.simulator.logout_session("fix1/CLIENT")
        [logout] = client.received()
        self.assertIsNone(logout.get(58))
        self.reactor.advance(3)
        self.assertTrue(client.disconnected)

    def test_logoutBadText(self):
        client = self.client()
        self.assertRaises(BadValue, self.simulator.logout_session, "fix1/CLIENT", "a\x01b")
        self.assertRaises(BadValue, self.simulator.logout_session, "fix1/CLIENT", 5)
        self.assertEqual(client.received(), [])

    def test_sendRaw(self):
        client = self.client()
        self.simulator.send_raw("fix1/CLIENT", "8=FIX.4.4|9=5|35=0|10=000|")
        self.assertEqual(client.transport.value(), b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01")
        client.transport.clear()
        self.simulator.send_raw("fix1/CLIENT", b"\x00\xff|")
        self.assertEqual(client.transport.value(), b"\x00\xff|")
        client.transport.clear()
        for bad in ("", b"", "\u20ac", 5, None):
            self.assertRaises(BadValue, self.simulator.send_raw, "fix1/CLIENT", bad)
        self.assertEqual(client.transport.value(), b"")
        client.close()
        self.assertRaises(WrongState, self.simulator.send_raw, "fix1/CLIENT", "x")


class FaultTests(FixSimulatorMixin, TestCase):
    def order(self, client, clOrdId):
        """
        Enter an order; return what the venue sent.
        """
        return client.send("D", nos(client, clOrdId))

    def test_gap(self):
        client = self.client()
        self.simulator.get_events()
        self.simulator.inject_fault("fix1/CLIENT", "gap", 3)
        [fault] = self.events("session_fault")
        self.assertEqual((fault["session"], fault["fault"], fault["count"]), ("fix1/CLIENT", "gap", 3))
        [er] = self.order(client, "o1")
        self.assertEqual(er.seqNum, 5)
        # The client asks for 2..4: never messages, so one gap fill.
        [fill] = client.send("2", [(7, 2), (16, 4)])
        self.assertEqual((fill.msgType, fill.seqNum, fill.get(123), fill.get(36)), ("4", 2, "Y", "5"))

    def test_drop(self):
        client = self.client()
        self.simulator.inject_fault("fix1/CLIENT", "drop", 2)
        self.assertEqual(self.simulator.list_sessions()[0]["pending_drop"], 2)
        self.assertEqual(self.order(client, "o1"), [])
        self.assertEqual(self.order(client, "o2"), [])
        [er] = self.order(client, "o3")
        self.assertEqual((er.seqNum, er.get(11)), (4, "o3"))
        # No control is left on the session: back to the plain path.
        self.assertIsNone(self.session().control)
        resent = client.send("2", [(7, 2), (16, 3)])
        self.assertEqual([(m.seqNum, m.get(11), m.get(43)) for m in resent], [(2, "o1", "Y"), (3, "o2", "Y")])
        self.assertTrue(all(m.get(122) for m in resent))

    def test_duplicate(self):
        client = self.client()
        self.order(client, "o1")
        [er2] = self.order(client, "o2")
        self.simulator.inject_fault("fix1/CLIENT", "duplicate", 2)
        dups = client.received()
        self.assertEqual([(m.seqNum, m.get(11), m.get(43)) for m in dups], [(2, "o1", "Y"), (3, "o2", "Y")])
        self.assertEqual(dups[1].get(122), er2.get(52))
        self.assertEqual(self.session().store.nextSenderSeq, 4)

    def test_duplicateTooMany(self):
        client = self.client()
        self.order(client, "o1")
        self.simulator.get_events()
        e = self.assertRaises(BadValue, self.simulator.inject_fault, "fix1/CLIENT", "duplicate", 2)
        self.assertIn("only 1", str(e))
        self.assertEqual(client.received(), [])
        self.assertEqual(self.events("session_fault"), [])

    def test_garble(self):
        client = self.client()
        self.simulator.inject_fault("fix1/CLIENT", "garble")
        client.protocol.dataReceived(client.build("D", nos(client, "o1")))
        raw = client.transport.value()
        good = self.session()._frame(b"8", 2, b"x", b"")  # (shape only)
        self.assertTrue(good)
        # The CheckSum does not add up: the client's framer discards it.
        body, checksum = raw[:-7], raw[-7:]
        self.assertEqual(checksum[:3], b"10=")
        self.assertNotEqual(int(checksum[3:6]), sum(body) % 256)
        self.assertEqual(client.received(), [])
        # Stored correctly: a resend recovers it.
        [er] = client.send("2", [(7, 2), (16, 0)])
        self.assertEqual((er.seqNum, er.get(11), er.get(43)), (2, "o1", "Y"))
        [er2] = self.order(client, "o2")
        self.assertEqual(er2.seqNum, 3)

    def test_garbledFunction(self):
        data = codec.frame("FIX.4.4", b"35=0\x01")
        bad = garbled(data)
        self.assertEqual(len(bad), len(data))
        self.assertNotEqual(bad, data)
        self.assertEqual(bad[:-4], data[:-4])

    def test_resendRequest(self):
        client = self.client()
        for i in range(3):
            self.order(client, "o%d" % i)
        self.simulator.inject_fault("fix1/CLIENT", "resend_request", 2)
        [request] = client.received()
        self.assertEqual((request.msgType, request.get(7), request.get(16)), ("2", "3", "4"))
        # The client resends them as PossDup: ignored, nothing breaks.
        for seq, clOrdId in ((3, "o1"), (4, "o2")):
            header = [(49, "CLIENT"), (56, "EXSIM"), (34, seq), (43, "Y"),
                      (52, stamp(self.reactor.seconds())), (122, stamp(self.reactor.seconds()))]
            self.assertEqual(client.sendRaw(client.build("D", nos(client, clOrdId), header=header)), [])
        [er] = self.order(client, "o3")
        self.assertEqual(er.get(11), "o3")
        e = self.assertRaises(BadValue, self.simulator.inject_fault, "fix1/CLIENT", "resend_request", 9)
        self.assertIn("received 5", str(e))

    def test_badFaults(self):
        client = self.client()
        self.simulator.get_events()
        before = (self.session().store.nextSenderSeq, self.session().store.nextTargetSeq)
        for fault, count in (("nope", 1), ("gap", 0), ("gap", -1), ("gap", "x"), ("gap", True),
                             ("gap", 10**9), (None, 1), ("drop", 1.5)):
            self.assertRaises(BadValue, self.simulator.inject_fault, "fix1/CLIENT", fault, count)
        self.assertEqual((self.session().store.nextSenderSeq, self.session().store.nextTargetSeq), before)
        self.assertIsNone(self.session().control)
        self.assertEqual(self.events("session_fault"), [])
        self.assertEqual(client.received(), [])

    def test_faultNeedsActiveSession(self):
        client = self.client()
        client.close()
        for fault in ("gap", "drop", "duplicate", "garble", "resend_request"):
            self.assertRaises(WrongState, self.simulator.inject_fault, "fix1/CLIENT", fault)

    def test_countAsText(self):
        client = self.client()
        self.simulator.inject_fault("fix1/CLIENT", " GAP ", "2")
        [er] = self.order(client, "o1")
        self.assertEqual(er.seqNum, 4)


class SessionPropertyTests(FixSimulatorMixin, TestCase):
    def test_nextInSeq(self):
        client = self.client()
        self.simulator.set_session_property("fix1/CLIENT", "next_in_seq", "5")
        self.assertEqual(self.session().store.nextTargetSeq, 5)
        # The client's next (2) is now too low: Logout.
        reply = client.send("0")
        self.assertEqual(types(reply), ["5"])
        self.assertIn("too low", reply[0].get(58))

    def test_nextInSeqHigherAsksResend(self):
        client = self.client()
        self.simulator.set_session_property("fix1/CLIENT", "next_in_seq", 1)
        [request] = client.send("0")
        self.assertEqual((request.msgType, request.get(7)), ("2", "1"))

    def test_nextOutSeq(self):
        client = self.client()
        self.simulator.set_session_property("fix1/CLIENT", "next_out_seq", 10)
        [hb] = client.send("1", [(112, "t")])
        self.assertEqual(hb.seqNum, 10)
        self.assertEqual(self.simulator.list_sessions()[0]["next_out_seq"], 11)

    def test_stpGroup(self):
        """
        The session property stp_group puts the session's orders in a
        self-trade prevention group (over the endpoint's); none: back to
        the endpoint's.
        """
        self.client()
        self.client("OTHER")
        engine = self.simulator.engines["e1"]
        self.simulator.set_protocol_property("fix1", "stp_group", "desk")
        self.assertEqual(engine._stpGroups, {"fix1/CLIENT": "desk", "fix1/OTHER": "desk"})
        self.simulator.set_session_property("fix1/CLIENT", "stp_group", " mine ")
        self.assertEqual(engine._stpGroups["fix1/CLIENT"], "mine")
        self.simulator.set_protocol_property("fix1", "stp_group", "other")
        self.assertEqual(engine._stpGroups, {"fix1/CLIENT": "mine", "fix1/OTHER": "other"})
        self.simulator.set_session_property("fix1/CLIENT", "stp_group", "none")
        self.assertEqual(engine._stpGroups["fix1/CLIENT"], "other")
        self.assertRaises(BadValue, self.simulator.set_session_property, "fix1/CLIENT", "stp_group", "\x01")

    def test_badValues(self):
        client = self.client()
        for name, value in (("next_in_seq", 0), ("next_in_seq", "x"), ("next_out_seq", -3),
                            ("next_out_seq", 2**31), ("hold", "maybe"), ("heartbeats", 2),
                            ("latency", "-1"), ("latency", "uniform:2:1"), ("nope", 1)):
            self.assertRaises(BadValue, self.simulator.set_session_property, "fix1/CLIENT", name, value)
        self.assertEqual(self.simulator.list_sessions()[0]["next_in_seq"], 2)
        self.assertEqual(self.simulator.list_sessions()[0]["next_out_seq"], 2)
        self.assertIsNone(self.session().control)
        self.assertEqual(client.received(), [])

    def test_hold(self):
        client = self.client()
        self.simulator.set_session_property("fix1/CLIENT", "hold", "yes")
        self.assertEqual(client.send("D", nos(client, "o1")), [])
        self.assertEqual(client.send("D", nos(client, "o2")), [])
        [listed] = self.simulator.list_sessions()
        self.assertEqual((listed["hold"], listed["queued_out"]), (True, 2))
        # Administrative messages still flow, numbered before the held ones.
        [hb] = client.send("1", [(112, "t")])
        self.assertEqual((hb.msgType, hb.seqNum), ("0", 2))
        for _ in range(60):
            self.reactor.advance(1)
        self.assertEqual(set(types(client.received())), {"0", "1"})
        self.simulator.set_session_property("fix1/CLIENT", "hold", "no")
        released = client.received()
        self.assertEqual([(m.get(11), m.seqNum) for m in released], [("o1", 5), ("o2", 6)])
        self.assertIsNone(self.session().control)

    def test_heldAcrossDisconnect(self):
        """
        Held messages are numbered and stored when released, even if the
        client is gone; it gets them by resend when it logs on again.
        """
        client = self.client()
        self.simulator.set_session_property("fix1/CLIENT", "hold", True)
        client.send("D", nos(client, "o1"))
        client.close()
        self.simulator.set_session_property("fix1/CLIENT", "hold", False)
        self.assertEqual(self.session().store.nextSenderSeq, 3)
        again = Client(self.factory, port=45000)
        again.seq = client.seq
        reply = again.logon()
        self.assertEqual(types(reply), ["A"])
        [er] = again.send("2", [(7, 2), (16, 2)])
        self.assertEqual((er.get(11), er.get(43)), ("o1", "Y"))

    def test_heartbeats(self):
        client = self.client(heartBtInt=5)
        self.simulator.set_session_property("fix1/CLIENT", "heartbeats", "no")
        self.assertEqual(client.send("1", [(112, "ping")]), [])
        self.reactor.advance(6)
        # No Heartbeat; the venue's own TestRequest after the silence.
        self.assertNotIn("0", types(client.received()))
        self.simulator.set_session_property("fix1/CLIENT", "heartbeats", "yes")
        [hb] = client.send("1", [(112, "ping2")])
        self.assertEqual((hb.msgType, hb.get(112)), ("0", "ping2"))
        self.assertIsNone(self.session().control)

    def test_sessionLatency(self):
        client = self.client()
        self.simulator.set_session_property("fix1/CLIENT", "latency", "0.5")
        self.assertEqual(self.simulator.list_sessions()[0]["latency"], "0.5")
        self.assertEqual(client.send("D", nos(client, "o1")), [])
        self.reactor.advance(0.4)
        self.assertEqual(client.received(), [])
        self.reactor.advance(0.1)
        [er] = client.received()
        self.assertEqual(er.get(11), "o1")
        self.simulator.set_session_property("fix1/CLIENT", "latency", "0")
        self.assertIsNone(self.session().control)
        [er] = client.send("D", nos(client, "o2"))
        self.assertEqual(er.get(11), "o2")


class EndpointLatencyTests(FixSimulatorMixin, TestCase):
    def properties(self):
        return {"latency": "0.001"}

    def test_delayed(self):
        client = self.client()
        self.assertEqual(client.send("D", nos(client, "o1")), [])
        self.reactor.advance(0.001)
        [er] = client.received()
        self.assertEqual((er.get(11), er.seqNum), ("o1", 2))

    def test_sessionOverride(self):
        client = self.client()
        self.simulator.set_session_property("fix1/CLIENT", "latency", "none")
        [er] = client.send("D", nos(client, "o1"))
        self.assertEqual(er.get(11), "o1")

    def test_endpointChange(self):
        client = self.client()
        self.simulator.set_protocol_property("fix1", "latency", "0")
        self.assertIsNone(self.session().control)
        [er] = client.send("D", nos(client, "o1"))
        self.assertEqual(er.get(11), "o1")
        self.simulator.set_protocol_property("fix1", "latency", "uniform:0.001:0.002")
        self.assertEqual(client.send("D", nos(client, "o2")), [])
        self.reactor.advance(0.002)
        self.assertEqual([m.get(11) for m in client.received()], ["o2"])

    def test_orderAndSeed(self):
        """
        Drawn latencies, seeded: the same seed gives the same schedule;
        messages keep their order whatever their draws.
        """

        def run():
            self.setUp()
            self.simulator.set_protocol_property("fix1", "latency", "normal:0.002:0.002")
            self.simulator.set_protocol_property("fix1", "seed", "7")
            client = self.client()
            schedule = []
            for i in range(20):
                client.protocol.dataReceived(client.build("D", nos(client, "o%d" % i, side="1", price="9")))
                self.reactor.advance(0.0005)
                schedule.append([m.get(11) for m in client.received()])
            self.reactor.advance(1)
            schedule.append([m.get(11) for m in client.received()])
            return schedule

        first = run()
        self.assertEqual(first, run())
        flat = [c for step in first for c in step]
        self.assertEqual(flat, ["o%d" % i for i in range(20)])
        self.assertTrue(any(len(step) > 1 for step in first) or first[-1])

    def test_disconnectWhileWaiting(self):
        client = self.client()
        client.send("D", nos(client, "o1"))
        client.close()
        self.reactor.advance(0.001)
        self.assertEqual(self.session().store.nextSenderSeq, 3)
        [(seq, msgType, _, body)] = self.session().store.getMessages(2, 2)
        self.assertIn(b"11=o1\x01", body)


class ThrottleTests(FixSimulatorMixin, TestCase):
    def properties(self):
        return {"throttle": "2/1"}

    def test_rejectOrder(self):
        client = self.client()
        client.send("D", nos(client, "o1", price="9"))
        client.send("D", nos(client, "o2", price="9"))
        self.simulator.get_events()
        [er] = client.send("D", nos(client, "o3", price="9"))
        self.assertEqual((er.msgType, er.get(11), er.get(150), er.get(39)), ("8", "o3", "8", "8"))
        self.assertIn("at most 2 messages per 1 seconds", er.get(58))
        [event] = self.events("throttled")
        self.assertEqual(
            (event["session"], event["msg_type"], event["action"], event["throttle"]),
            ("fix1/CLIENT", "D", "reject", "2/1"),
        )
        self.assertEqual(len(self.simulator.get_book("AAPL")["bids"][0:1]), 1)
        self.assertEqual(self.simulator.get_book("AAPL")["bids"][0][1], 200)
        # The window slides: a second later orders go in again.
        self.reactor.advance(1)
        [er] = client.send("D", nos(client, "o4", price="9"))
        self.assertEqual(er.get(150), "0")

    def test_rejectCancelAndOther(self):
        client = self.client()
        client.send("D", nos(client, "o1", price="9"))
        client.send("D", nos(client, "o2", price="9"))
        [reject] = client.send("F", [(41, "o1"), (11, "c1"), (55, "AAPL"), (54, "1"),
                                     (60, stamp(self.reactor.seconds()))])
        self.assertEqual((reject.msgType, reject.get(11), reject.get(41), reject.get(434)), ("9", "c1", "o1", "1"))
        self.assertIn("throttle", reject.get(58))
        [reject] = client.send("G", [(41, "o1"), (11, "r1"), (55, "AAPL"), (54, "1"), (40, "2"),
                                     (38, 50), (44, "9"), (60, stamp(self.reactor.seconds()))])
        self.assertEqual((reject.msgType, reject.get(434)), ("9", "2"))
        [bmr] = client.send("H", [(11, "o1"), (55, "AAPL"), (54, "1")])
        self.assertEqual((bmr.msgType, bmr.get(372), bmr.get(380)), ("j", "H", "0"))
        self.assertIn("throttle", bmr.get(58))
        # Administrative messages are not counted.
        [hb] = client.send("1", [(112, "t")])
        self.assertEqual(hb.msgType, "0")

    def test_disconnect(self):
        self.simulator.set_protocol_property("fix1", "throttle_action", "disconnect")
        client = self.client()
        client.send("D", nos(client, "o1", price="9"))
        client.send("D", nos(client, "o2", price="9"))
        [logout] = client.send("D", nos(client, "o3", price="9"))
        self.assertEqual(logout.msgType, "5")
        self.assertIn("throttle", logout.get(58))
        self.assertTrue(client.disconnected)
        self.assertEqual(self.events("throttled")[0]["action"], "disconnect")

    def test_queue(self):
        self.simulator.set_protocol_property("fix1", "throttle_action", "queue")
        client = self.client()
        for i in range(5):
            client.protocol.dataReceived(client.build("D", nos(client, "o%d" % i, price="9")))
        self.assertEqual([m.get(11) for m in client.received()], ["o0", "o1"])
        self.assertEqual(self.simulator.list_sessions()[0]["queued_in"], 3)
        self.reactor.advance(1)
        self.assertEqual([m.get(11) for m in client.received()], ["o2", "o3"])
        self.reactor.advance(1)
        self.assertEqual([m.get(11) for m in client.received()], ["o4"])
        self.assertEqual(len(self.events("throttled")), 3)

    def test_throttleRemoved(self):
        self.simulator.set_protocol_property("fix1", "throttle_action", "queue")
        client = self.client()
        for i in range(4):
            client.protocol.dataReceived(client.build("D", nos(client, "o%d" % i, price="9")))
        client.received()
        self.simulator.set_protocol_property("fix1", "throttle", "none")
        self.assertEqual([m.get(11) for m in client.received()], ["o2", "o3"])
        self.assertIsNone(self.session().control)

    def test_badThrottle(self):
        for value in ("x", "0/1", "1/0", "1"):
            self.assertRaises(BadValue, self.simulator.set_protocol_property, "fix1", "throttle", value)
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "fix1", "throttle_action", "drop")
        self.assertEqual(self.simulator.endpoint("fix1").properties["throttle"].messages, 2)


class AcceptLogonsTests(FixSimulatorMixin, TestCase):
    def test_refused(self):
        a = self.client("A")
        self.simulator.set_protocol_property("fix1", "accept_logons", "no")
        b = self.client("B", logon=False)
        [logout] = b.logon()
        self.assertEqual(logout.msgType, "5")
        self.assertIn("accept_logons", logout.get(58))
        self.assertTrue(b.disconnected)
        # A stays.
        self.assertEqual(types(a.send("1", [(112, "t")])), ["0"])
        self.simulator.set_protocol_property("fix1", "accept_logons", "yes")
        self.client("C")
