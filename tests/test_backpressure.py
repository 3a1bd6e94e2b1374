"""
Tests for L{exsim.backpressure}: a connection whose client stops reading is
dropped as a slow consumer once more than C{max_pending_output} is unsent,
on FIX and SoupBinTCP endpoints; stored messages stay resendable.
"""

import socket

from twisted.internet import reactor as globalReactor, task
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IPushProducer
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim import backpressure
from exsim.backpressure import OutputGuard, parseMaxPendingOutput
from exsim.errors import BadValue
from exsim.fix import codec
from exsim.fix.factory import FixFactory
from exsim.soup import packets
from tests.fixsession_helpers import Application, Client, Endpoint, makeFactory, stamp
from tests.soupfakes import makeEndpoint
from tests.test_soup_session import EchoFamily


class StuckTransport(StringTransport):
    """
    A transport whose peer never reads: nothing it is given is ever sent.
    Like Twisted's TCP transports, it pauses its streaming producer on
    every write while it holds more than C{bufferSize} bytes.
    """

    bufferSize = 4096

    def write(self, data):
        StringTransport.write(self, data)
        if self.producer is not None and self.streaming and len(self.value()) > self.bufferSize:
            self.producer.pauseProducing()

    def drain(self):
        """
        The peer read everything: resume the producer.
        """
        self.clear()
        if self.producer is not None:
            self.producer.resumeProducing()


class ParseTests(TestCase):
    def test_parse(self):
        self.assertEqual(parseMaxPendingOutput("2048"), 2048)
        self.assertEqual(parseMaxPendingOutput(1 << 20), 1 << 20)
        for bad in ("", "x", "100", 0, -5, True, "1.5"):
            self.assertRaises(BadValue, parseMaxPendingOutput, bad)

    def test_endpointProperty(self):
        """
        Every endpoint takes C{max_pending_output}; a bad value is refused.
        """
        endpoint = makeEndpoint(EchoFamily(), max_pending_output="65536")
        self.assertEqual(endpoint.properties["max_pending_output"], 65536)
        self.assertEqual(backpressure.maxPendingOutput(endpoint), 65536)
        self.assertRaises(BadValue, endpoint.setProperty, "max_pending_output", "lots")
        self.assertEqual(
            backpressure.maxPendingOutput(makeEndpoint(EchoFamily())),
            backpressure.DEFAULT_MAX_PENDING_OUTPUT,
        )


class GuardTests(TestCase):
    def setUp(self):
        self.transport = StringTransport()
        self.overflows = []
        self.guard = OutputGuard(self.transport, 1000, self.overflows.append)

    def test_interface(self):
        verifyObject(IPushProducer, self.guard)
        self.assertIs(self.transport.producer, self.guard)
        self.assertTrue(self.transport.streaming)

    def test_overflowOnceWhilePaused(self):
        self.guard.pauseProducing()
        self.guard.wrote(600)
        self.guard.pauseProducing()  # again, as Twisted does: no reset
        self.assertEqual(self.overflows, [])
        self.guard.wrote(600)
        self.assertEqual(self.overflows, [1200])
        self.guard.wrote(600)
        self.assertEqual(self.overflows, [1200])

    def test_resumeResets(self):
        self.guard.pauseProducing()
        self.guard.wrote(900)
        self.guard.resumeProducing()
        self.assertFalse(self.guard.paused)
        self.guard.pauseProducing()
        self.guard.wrote(900)
        self.assertEqual(self.overflows, [])

    def test_exactUnsent(self):
        """
        Where the transport tells what it holds (TCP), a count beyond the
        limit is checked against it: output partly sent meanwhile is no
        overflow.
        """
        self.transport.dataBuffer = b"x" * 300
        self.transport.offset = 100
        self.transport._tempDataLen = 50
        self.guard.pauseProducing()
        self.guard.wrote(1500)
        self.assertEqual(self.overflows, [])
        self.assertEqual(self.guard.pending, 250)
        self.transport._tempDataLen = 2000
        self.guard.wrote(1000)
        self.assertEqual(self.overflows, [2200])

    def test_inputPausedWithOutput(self):
        """
        While the output is paused the transport reads no input; it reads
        again once the output drains, unless the connection was dropped.
        """
        self.assertEqual(self.transport.producerState, "producing")
        self.guard.pauseProducing()
        self.assertEqual(self.transport.producerState, "paused")
        self.guard.pauseProducing()
        self.guard.resumeProducing()
        self.assertEqual(self.transport.producerState, "producing")
        self.guard.pauseProducing()
        self.guard.wrote(5000)
        self.assertEqual(self.overflows, [5000])
        self.guard.resumeProducing()
        self.assertEqual(self.transport.producerState, "paused")

    def test_otherProducer(self):
        """
        A transport with a producer already gives no signal: no error.
        """
        transport = StringTransport()
        transport.registerProducer(object(), True)
        guard = OutputGuard(transport, 1000, self.overflows.append)
        self.assertFalse(guard.paused)


class FixSlowConsumerTests(TestCase):
    def connect(self, factory, transport):
        client = Client(factory)
        client.transport = transport
        client.protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40001))
        client.protocol.makeConnection(transport)
        return client

    def test_dropped(self):
        """
        A FIX client that stops reading is dropped once more than
        C{max_pending_output} is unsent, with a C{session_disconnected}
        event (reason C{slow consumer}); what was sent is stored, and a
        new connection gets it on ResendRequest.
        """
        factory = makeFactory(max_pending_output=8192)
        transport = StuckTransport()
        client = self.connect(factory, transport)
        client.logon()
        session = client.protocol.session
        self.assertIsNotNone(session)
        sent = 0
        while not transport.disconnecting and sent < 1000:
            session.sendApp("B", [(148, "x" * 200)])
            sent += 1
        self.assertTrue(transport.disconnecting)
        self.assertTrue(transport.disconnected)  # aborted, not waiting to flush
        # The bound is passed by at most one message beyond buffer + limit.
        self.assertLess(len(transport.value()), 4096 + 8192 + 400)
        [event] = factory.endpoint.reported("session_disconnected")
        self.assertEqual(event["reason"], "slow consumer")
        self.assertEqual(len(self.flushLoggedErrors()), 0)
        # Everything numbered is stored and resendable.
        last = session.store.nextSenderSeq - 1
        self.assertEqual(len(session.store.getMessages(2, last)), sent)
        again = Client(factory, port=40002)
        again.seq = client.seq
        again.logon()
        replies = again.send("2", [(7, 2), (16, 0)])
        resent = [m for m in replies if m.msgType == "B"]
        self.assertEqual(len(resent), sent)

    def test_drainingKept(self):
        """
        A client that reads (the transport resumes us) is kept, however
        much it is sent in all.
        """
        factory = makeFactory(max_pending_output=8192)
        transport = StuckTransport()
        client = self.connect(factory, transport)
        client.logon()
        session = client.protocol.session
        for i in range(500):
            session.sendApp("B", [(148, "x" * 200)])
            if i % 10 == 0:
                transport.drain()
        self.assertFalse(transport.disconnecting)
        self.assertEqual(factory.endpoint.reported("session_disconnected"), [])


class SoupSlowConsumerTests(TestCase):
    def test_dropped(self):
        """
        A SoupBinTCP client that stops reading is dropped as a slow
        consumer; the stream keeps its messages for a later login.
        """
        endpoint = makeEndpoint(EchoFamily(), max_pending_output=8192)
        transport = StuckTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
        protocol = endpoint.factory.buildProtocol(None)
        protocol.makeConnection(transport)
        protocol.dataReceived(packets.loginRequest("alice", "", "", 1))
        stream = endpoint.factory.stream
        sent = 0
        while not transport.disconnecting and sent < 1000:
            stream.append(b"y" * 200)
            sent += 1
        self.assertTrue(transport.disconnected)
        self.assertLess(len(transport.value()), 4096 + 8192 + 400)
        protocol.connectionLost(None)
        [event] = [e for e in endpoint.simulator.events if e["type"] == "session_disconnected"]
        self.assertEqual(event["reason"], "slow consumer")
        self.assertEqual(len(list(stream.messages(1))), sent)


class RealSocketTests(TestCase):
    """
    A FIX client on a real socket that never reads: the server's unsent
    output stays bounded and the connection is dropped.  One that sends
    faster than it reads is slowed down by TCP instead.
    """

    def setUp(self):
        self.endpoint = Endpoint(globalReactor, max_pending_output=256 * 1024)
        self.factory = FixFactory(self.endpoint, Application())
        self.port = globalReactor.listenTCP(0, self.factory, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.addCleanup(self.sock.close)

    def test_neverReads(self):
        self.sock.setblocking(False)
        try:
            self.sock.connect(("127.0.0.1", self.port.getHost().port))
        except BlockingIOError:
            pass
        logon = codec.encode(
            "FIX.4.4", "A",
            [(49, "SLOW"), (56, "EXSIM"), (34, 1), (52, stamp(globalReactor.seconds()))],
            [(98, 0), (108, 30)],
        )
        state = {"sent": False, "maxUnsent": 0, "messages": 0}

        def step():
            if not state["sent"]:
                try:
                    self.sock.send(logon)
                    state["sent"] = True
                except BlockingIOError:
                    return
            session = self.factory.sessions.get("SLOW")
            if self.endpoint.reported("session_disconnected"):
                loop.stop()
                return
            if session is None or session.connection is None:
                return
            transport = session.connection.transport
            for _ in range(100):
                session.sendApp("B", [(148, "z" * 400)])
                state["messages"] += 1
                unsent = backpressure.unsent(transport)
                state["maxUnsent"] = max(state["maxUnsent"], unsent or 0)
            if state["messages"] > 200000:
                loop.stop()

        loop = task.LoopingCall(step)
        d = loop.start(0.001)

        def check(_):
            [event] = self.endpoint.reported("session_disconnected")
            self.assertEqual(event["reason"], "slow consumer")
            # Bounded: the limit, Twisted's 64 kB buffer, one batch.
            self.assertLess(state["maxUnsent"], 256 * 1024 + 65536 + 100 * 500)
            self.assertGreater(state["messages"], 500)
            self.assertEqual(len(self.factory.sessions["SLOW"].store.getMessages(1, 10 ** 6)),
                             state["messages"])

        return d.addCallback(check)


    def test_pipeliningClientSlowedNotDropped(self):
        """
        A client that writes requests without reading their answers is
        slowed down by TCP flow control (the server stops reading while
        its output is paused): its answers never pile up past Twisted's
        buffer and one read's worth, it is not dropped, and once it reads
        it gets every answer.
        """
        self.sock.setblocking(False)
        try:
            self.sock.connect(("127.0.0.1", self.port.getHost().port))
        except BlockingIOError:
            pass
        clock = globalReactor.seconds

        def message(seq, msgType, body):
            return codec.encode(
                "FIX.4.4", msgType,
                [(49, "PIPE"), (56, "EXSIM"), (34, seq), (52, stamp(clock()))], body,
            )

        state = {"seq": 1, "out": b"", "maxUnsent": 0, "blocked": 0, "stalls": 0,
                 "reading": False, "received": b""}
        total = 5000
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

        def send():
            while True:
                if not state["out"]:
                    if state["seq"] == 1:
                        state["out"] = message(1, "A", [(98, 0), (108, 30)])
                    elif state["seq"] <= total + 1:
                        body = [(112, "%05d" % state["seq"] + "t" * 400)]
                        state["out"] = message(state["seq"], "1", body)
                    else:
                        # Everything sent: read the answers.
                        state["reading"] = True
                        return
                    state["seq"] += 1
                try:
                    sent = self.sock.send(state["out"])
                except BlockingIOError:
                    state["blocked"] += 1
                    return
                state["out"] = state["out"][sent:]
                state["blocked"] = 0

        def step():
            session = self.factory.sessions.get("PIPE")
            if session is not None and session.connection is not None:
                handle = session.connection.transport.getHandle()
                if handle.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) > 16384:
                    # Small kernel buffers: Twisted's own fills quickly.
                    handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
                unsent = backpressure.unsent(session.connection.transport) or 0
                state["maxUnsent"] = max(state["maxUnsent"], unsent)
            if state["blocked"] > 50:
                # TCP stopped us for 50 ms: from now on read as well.
                state["stalls"] += 1
                state["reading"] = True
            if state["reading"]:
                try:
                    while True:
                        data = self.sock.recv(65536)
                        if not data:
                            loop.stop()
                            return
                        state["received"] += data
                except BlockingIOError:
                    pass
                if state["received"].count(b"\x01112=") >= total:
                    loop.stop()
                    return
            send()

        loop = task.LoopingCall(step)
        d = loop.start(0.001)

        def check(_):
            self.assertEqual(self.endpoint.reported("session_disconnected"), [])
            self.assertGreater(state["stalls"], 0)
            # Never more than Twisted's buffer and what a few reads produced.
            self.assertLess(state["maxUnsent"], 65536 * 4)
            self.assertEqual(state["received"].count(b"\x01112="), total)

        return d.addCallback(check)
