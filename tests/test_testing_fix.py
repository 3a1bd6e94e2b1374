"""
The FIX clients of L{exsim.testing}: the session state without I/O
(deterministic), the blocking L{FixClient} against a simulator process and
against QuickFIX's acceptor (so the client is not only tested against
exsim), and L{AsyncFixClient} against a simulator on the reactor.
"""

import os
import shutil
import tempfile

import simplefix
from twisted.internet import defer, reactor
from twisted.trial.unittest import SynchronousTestCase, TestCase

from exsim.service import Simulator
from exsim.testing import (
    AsyncFixClient,
    ConnectionClosed,
    FixClient,
    WaitTimeout,
    connectFix,
    startServer,
)
from exsim.testing.fix import FixMessage, FixSessionState

try:
    import quickfix as fix
except ImportError:  # pragma: no cover
    fix = None

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def venueMessage(msgType, seq, fields=(), header=()):
    """
    What a venue would send, encoded by simplefix.
    """
    message = simplefix.FixMessage()
    message.append_pair(8, "FIX.4.4", header=True)
    message.append_pair(35, msgType, header=True)
    message.append_pair(49, "EXSIM", header=True)
    message.append_pair(56, "CLIENT", header=True)
    message.append_pair(34, seq, header=True)
    for tag, value in header:
        message.append_pair(tag, value, header=True)
    message.append_pair(52, "20240301-12:00:00.000", header=True)
    for tag, value in fields:
        message.append_pair(tag, value)
    return message.encode()


def decode(data):
    parser = simplefix.FixParser()
    parser.append_buffer(data)
    out = []
    while True:
        message = parser.get_message()
        if message is None:
            return out
        out.append(FixMessage.fromSimplefix(message))


class FixSessionStateTests(SynchronousTestCase):
    """
    The session layer, fed bytes and a clock by hand.
    """

    def setUp(self):
        self.state = FixSessionState("CLIENT", "EXSIM", "FIX.4.4", 30, "u1", "p1")

    def logon(self):
        logon = decode(self.state.logon(reset_seq_num=True, now=0.0))[0]
        messages, replies = self.state.feed(venueMessage("A", 1, [(98, 0), (108, 30)]), 0.0)
        self.assertEqual(replies, b"")
        return logon

    def test_logon(self):
        """
        The Logon carries the heartbeat interval, reset flag and
        credentials; the answer logs the session on.
        """
        logon = self.logon()
        self.assertEqual(
            [(t, logon.get(t)) for t in (35, 34, 98, 108, 141, 553, 554)],
            [(35, "A"), (34, "1"), (98, "0"), (108, "30"), (141, "Y"), (553, "u1"), (554, "p1")],
        )
        self.assertTrue(self.state.logged_on)
        self.assertEqual((self.state.next_out_seq, self.state.next_in_seq), (2, 2))

    def test_testRequest(self):
        """
        A TestRequest is answered by a Heartbeat with its TestReqID.
        """
        self.logon()
        _, replies = self.state.feed(venueMessage("1", 2, [(112, "hello")]), 1.0)
        [heartbeat] = decode(replies)
        self.assertEqual((heartbeat.msg_type, heartbeat[34], heartbeat[112]), ("0", "2", "hello"))

    def test_resendRequestGapFill(self):
        """
        A ResendRequest is answered with a GapFill to our next number,
        marked PossDupFlag.
        """
        self.logon()
        self.state.encode("D", [(11, "x")])
        self.state.encode("D", [(11, "y")])
        _, replies = self.state.feed(venueMessage("2", 2, [(7, 2), (16, 0)]), 1.0)
        [gapFill] = decode(replies)
        self.assertEqual(
            [gapFill.get(t) for t in (35, 34, 43, 123, 36)], ["4", "2", "Y", "Y", "4"]
        )
        self.assertEqual(self.state.next_out_seq, 4)

    def test_gapRequestsResend(self):
        """
        A message numbered beyond the next expected one makes the client
        ask for the gap.
        """
        self.logon()
        _, replies = self.state.feed(venueMessage("0", 5), 1.0)
        [resend] = decode(replies)
        self.assertEqual((resend.msg_type, resend[7], resend[16]), ("2", "2", "0"))
        self.assertEqual(self.state.next_in_seq, 6)

    def test_venueLogout(self):
        """
        A Logout from the venue is answered, and the session is over.
        """
        self.logon()
        _, replies = self.state.feed(venueMessage("5", 2, [(58, "bye")]), 1.0)
        [answer] = decode(replies)
        self.assertEqual(answer.msg_type, "5")
        self.assertFalse(self.state.logged_on)
        self.assertEqual(self.state.logout_received[58], "bye")

    def test_heartbeats(self):
        """
        Idle for HeartBtInt, the client sends a Heartbeat; with the venue
        silent for 1.5 intervals, a TestRequest (once).
        """
        self.logon()
        self.assertEqual(self.state.tick(29.0), b"")
        [heartbeat] = decode(self.state.tick(30.0))
        self.assertEqual(heartbeat.msg_type, "0")
        [testRequest] = decode(self.state.tick(45.0))
        self.assertEqual((testRequest.msg_type, testRequest[112]), ("1", "T45"))
        [heartbeat] = decode(self.state.tick(75.0))
        self.assertEqual(heartbeat.msg_type, "0")

    def test_ordersRemembered(self):
        """
        A cancel, replace and status request name only the order: the
        rest comes from the order sent; HandlInst is added before FIX 4.3.
        """
        clOrdId, fields = self.state.newOrder("AAPL", "buy", 100, "10.5")
        self.assertEqual(clOrdId, "CLIENT-1")
        self.assertEqual([t for t, _ in fields], [11, 55, 54, 60, 38, 40, 44, 59])
        newId, fields = self.state.replace(clOrdId, price="10.6")
        self.assertEqual(dict(fields)[41], clOrdId)
        self.assertEqual((dict(fields)[44], dict(fields)[38], dict(fields)[54]), ("10.6", 100, "1"))
        _, fields = self.state.cancel(newId)
        self.assertEqual((dict(fields)[41], dict(fields)[55]), (newId, "AAPL"))
        old = FixSessionState("C", "E", "FIX.4.2", 30)
        _, fields = old.newOrder("AAPL", "sell", 5, None)
        self.assertEqual((fields[0], dict(fields)[40], 44 in dict(fields)), ((21, "1"), "1", False))
        self.assertRaises(KeyError, self.state.cancel, "unknown")


def _venue(server, begin="FIX.4.4", engineClass="matching", **properties):
    server.create_engine("e1", engineClass)
    server.create_book("AAPL", "e1", "AAPL")
    server.create_endpoint("fix1", "e1", "fix")
    server.set_protocol_property("fix1", "sender_comp_id", "EXSIM")
    server.set_protocol_property("fix1", "begin_string", begin)
    for name, value in properties.items():
        server.set_protocol_property("fix1", name, value)
    server.start_endpoint("fix1")
    return server.get_endpoint_address("fix1")


class FixClientTests(TestCase):
    """
    The blocking client against a simulator in a child process (on the
    fast engine; L{ReferenceFixClientTests}: the reference engine).
    """

    engineClass = "matching"

    def setUp(self):
        self.server = startServer(self)
        self.address = _venue(self.server, engineClass=self.engineClass)

    def client(self, sender="CLIENT", **options):
        client = FixClient(*self.address, sender_comp_id=sender, **options)
        self.addCleanup(client.close)
        return client

    def test_orderLifecycle(self):
        """
        Logon, an order acknowledged, replaced, asked about, filled in
        part by another session, cancelled; logout.  Every message is kept.
        """
        a = self.client("A")
        b = self.client("B")
        self.assertEqual(a.logon()[35], "A")
        b.logon()
        a.new_order("AAPL", "sell", 300, "10.00", cl_ord_id="a1")
        ack = a.wait_for(a.report("a1", "0"))
        self.assertEqual((ack[39], ack[151]), ("0", "300"))
        a.replace("a1", quantity=250, price="10.01", cl_ord_id="a2")
        replaced = a.wait_for(a.report("a2", "5"))
        self.assertEqual((replaced[41], replaced[151], replaced[44]), ("a1", "250", "10.01"))
        a.status("a2")
        self.assertEqual(a.wait_for(a.report("a2", "I"))[39], "0")
        b.new_order("AAPL", "buy", 100, "10.01", cl_ord_id="b1", time_in_force="ioc")
        fill = b.wait_for(b.report("b1", "F"))
        self.assertEqual((fill[39], fill[32], fill[31]), ("2", "100", "10.01"))
        partial = a.wait_for("8", tag_11="a2", tag_150="F")
        self.assertEqual((partial[39], partial[151]), ("1", "150"))
        a.cancel("a2", cl_ord_id="a3")
        cancelled = a.wait_for(a.report("a3", "4"))
        self.assertEqual(cancelled[41], "a2")
        self.assertEqual(self.server.get_book("AAPL")["asks"], [])
        logout = a.logout()
        self.assertEqual(logout.msg_type, "5")
        self.assertTrue(a.closed)
        self.assertEqual([m.msg_type for m in a.sent], ["A", "D", "G", "H", "F", "5"])
        self.assertEqual(a.messages[0].msg_type, "A")
        self.assertEqual([m.seq_num for m in a.messages], list(range(1, len(a.messages) + 1)))

    def test_waitTimeout(self):
        """
        wait_for gives up after its timeout with a WaitTimeout naming what
        was awaited and what was last received.
        """
        client = self.client()
        client.logon()
        e = self.assertRaises(WaitTimeout, client.wait_for, "8", 0.2, tag_11="nothing")
        self.assertIn("11='nothing'", str(e))
        self.assertIn("35=A", str(e))

    def test_logonRefused(self):
        """
        A refused Logon raises ConnectionClosed with the venue's reason.
        """
        client = self.client(target_comp_id="ELSEWHERE")
        e = self.assertRaises(ConnectionClosed, client.logon)
        self.assertIn("TargetCompID ELSEWHERE is unknown", str(e))


class ReferenceFixClientTests(FixClientTests):
    engineClass = "reference"


class AsyncFixClientTests(TestCase):
    """
    The Twisted client against a simulator on the reactor.
    """

    @defer.inlineCallbacks
    def setUp(self):
        sim = self.simulator = Simulator(reactor)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_endpoint("fix1", "e1", "fix")
        yield sim.start_endpoint("fix1")
        self.addCleanup(sim.delete_endpoint, "fix1")
        self.port = sim.get_endpoint_address("fix1")[1]

    @defer.inlineCallbacks
    def test_orderAndLogout(self):
        """
        connectFix logs on; an order is acknowledged and cancelled; logout
        waits for the venue's Logout and closes the connection.
        """
        client = yield connectFix(reactor, "tcp:127.0.0.1:%d" % (self.port,),
                                  sender_comp_id="ASYNC", begin_string="FIX.4.2")
        self.assertTrue(client.logged_on)
        client.new_order("AAPL", "buy", 10, "5.00", cl_ord_id="x1")
        ack = yield client.wait_for(client.report("x1", "0"))
        self.assertEqual(ack[39], "0")
        client.cancel("x1")
        cancelled = yield client.wait_for(client.report(exec_type="4"))
        self.assertEqual(cancelled[41], "x1")
        logout = yield client.logout()
        self.assertEqual(logout.msg_type, "5")
        self.assertTrue(client.closed)

    @defer.inlineCallbacks
    def test_timeoutAndRefusal(self):
        """
        wait_for fails with WaitTimeout; a refused logon with
        ConnectionClosed naming the reason.
        """
        client = yield connectFix(reactor, "tcp:127.0.0.1:%d" % (self.port,))
        self.addCleanup(client.logout)
        yield self.assertFailure(client.wait_for("8", 0.1), WaitTimeout)
        d = connectFix(reactor, "tcp:127.0.0.1:%d" % (self.port,), target_comp_id="NOBODY")
        e = yield self.assertFailure(d, ConnectionClosed)
        self.assertIn("TargetCompID NOBODY", str(e))

    def test_protocolWithoutConnection(self):
        """
        The protocol can be built alone (for iosim or a custom endpoint).
        """
        client = AsyncFixClient(reactor, "S", "T", "FIX.4.4")
        self.assertEqual((client.state.sender_comp_id, client.messages), ("S", []))


class QuickFixAcceptorTests(TestCase):
    """
    The blocking client against QuickFIX's acceptor (in a process of its
    own, L{tests.quickfix_acceptor}), with its FIX.4.4 dictionary
    validation on: it must find nothing to reject.
    """

    if fix is None:  # pragma: no cover
        skip = "quickfix is not installed"

    def setUp(self):
        import socket
        import subprocess
        import sys

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.tmp = tempfile.mkdtemp(prefix="exsim-qfa-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        path = os.path.join(self.tmp, "acceptor.cfg")
        with open(path, "w") as f:
            f.write(
                "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptHost=127.0.0.1\n"
                "SocketAcceptPort=%d\nStartTime=00:00:00\nEndTime=00:00:00\n"
                "UseDataDictionary=Y\nValidateUserDefinedFields=Y\nValidateFieldsOutOfOrder=Y\n"
                "ValidateFieldsHaveValues=Y\nFileStorePath=%s\n"
                "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=VENUE\nTargetCompID=CLIENT\n"
                "DataDictionary=%s\n"
                % (self.port, os.path.join(self.tmp, "store"), os.path.join(DATA, "FIX44.xml"))
            )
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quickfix_acceptor.py")
        self.process = subprocess.Popen(
            [sys.executable, script, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(self._stop)
        self.assertEqual(self.process.stdout.readline().strip(), "ready")

    def _stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except Exception:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()

    def events(self):
        """
        Stop the acceptor; every line it printed after C{ready}.
        """
        self.process.stdin.close()
        self.process.wait(10)
        return self.process.stdout.read().splitlines()

    def test_logonOrderLogout(self):
        """
        The client logs on, sends an order, a cancel and a status request
        that QuickFIX accepts as valid FIX.4.4, receives QuickFIX's
        ExecutionReport, and logs out cleanly.
        """
        client = FixClient("127.0.0.1", self.port, "CLIENT", "VENUE", "FIX.4.4")
        self.addCleanup(client.close)
        self.assertEqual(client.logon()[49], "VENUE")
        client.new_order("IBM", "buy", 100, "120.5", cl_ord_id="q1")
        report = client.wait_for(client.report("q1", "0"))
        self.assertEqual((report[37], report[151], report[49]), ("O1", "100", "VENUE"))
        client.status("q1")
        client.cancel("q1", cl_ord_id="q2")
        logout = client.logout()
        self.assertEqual(logout.msg_type, "5")
        events = self.events()
        self.assertEqual([e.split()[0] for e in events], ["logon", "app", "app", "app", "logout"])
        self.assertIn("|35=D|", events[1])
        self.assertIn("|11=q1|", events[1])
        self.assertIn("|35=H|", events[2])
        self.assertIn("|35=F|", events[3])
        self.assertEqual([m.msg_type for m in client.messages if m.msg_type == "3"], [])
