"""
Tests for L{exsim.soup.packets} and L{exsim.soup.session}: framing, login,
replay, heartbeats and timeouts, with a MemoryReactorClock.
"""

import struct

from hypothesis import given, settings, strategies as st
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from exsim.interfaces import IProtocolFamily
from exsim.soup import packets
from exsim.soup.packets import PacketReader, SoupProtocolError, parseLoginRequest
from exsim.soup.session import SoupServerFactory, SoupStream
from tests.helpers import fuzzExamples
from tests.soupfakes import Client, makeEndpoint


class EchoFactory(SoupServerFactory):
    """
    A stream shared by every user; each unsequenced message comes back as
    a sequenced one.  A payload starting with C{!} is malformed.
    """

    def __init__(self, endpoint):
        SoupServerFactory.__init__(self, endpoint)
        self.stream = SoupStream("ECHO")

    def login(self, connection, request):
        reason = self.checkCredentials(request)
        if reason is not None:
            return reason
        if request.session and request.session != self.stream.name:
            return packets.SESSION_NOT_AVAILABLE
        return self.stream, None

    def unsequencedData(self, connection, payload):
        if payload.startswith(b"!"):
            raise SoupProtocolError("bad message")
        self.stream.append(payload)


@implementer(IProtocolFamily)
class EchoFamily:
    name = "echo"

    def propertyNames(self):
        return ("heartbeat_interval", "idle_timeout")

    def parseProperty(self, name, value):
        return float(value)

    def buildFactory(self, endpoint):
        return EchoFactory(endpoint)


class PacketTests(TestCase):
    """
    Byte layouts of the session packets (SoupBinTCP 4.0).
    """

    def test_loginRequestLayout(self):
        data = packets.loginRequest("bob", "pw", "S1", 12)
        self.assertEqual(len(data), 49)
        self.assertEqual(data[:3], b"\x00\x2fL")
        self.assertEqual(data[3:9], b"bob   ")
        self.assertEqual(data[9:19], b"pw        ")
        self.assertEqual(data[19:29], b"        S1")
        self.assertEqual(data[29:49], b" " * 18 + b"12")

    def test_loginAcceptedLayout(self):
        data = packets.loginAccepted("S1", 7)
        self.assertEqual(data, b"\x00\x1fA" + b"        S1" + b" " * 19 + b"7")

    def test_loginRejectedAndAdmin(self):
        self.assertEqual(packets.loginRejected(b"A"), b"\x00\x02JA")
        self.assertEqual(packets.SERVER_HEARTBEAT_PACKET, b"\x00\x01H")
        self.assertEqual(packets.END_OF_SESSION_PACKET, b"\x00\x01Z")
        self.assertEqual(packets.sequenced(b"xyz"), b"\x00\x04Sxyz")
        self.assertEqual(packets.debug("hi"), b"\x00\x03+hi")

    def test_parseLoginLenient(self):
        """
        Fields may be padded on either side: left-justified sequence
        numbers (nasdaq-protocols does that) parse like right-justified ones.
        """
        payload = b"bob   " + b"pw        " + b"S1        " + b"12".ljust(20)
        request = parseLoginRequest(payload)
        self.assertEqual(
            (request.username, request.password, request.session, request.sequenceNumber),
            ("bob", "pw", "S1", 12),
        )
        request = parseLoginRequest(b"  bob" + b" " * 11 + b" " * 10 + b"5".rjust(20))
        self.assertEqual((request.username, request.session, request.sequenceNumber), ("bob", "", 5))
        self.assertEqual(parseLoginRequest(b" " * 46).sequenceNumber, 0)

    def test_parseLoginBad(self):
        self.assertRaises(SoupProtocolError, parseLoginRequest, b" " * 45)
        self.assertRaises(SoupProtocolError, parseLoginRequest, b" " * 26 + b"12x".rjust(20))
        self.assertRaises(SoupProtocolError, parseLoginRequest, b"\xff" * 6 + b" " * 40)

    def test_readerSplitsAndJoins(self):
        reader = PacketReader()
        data = packets.packet(b"U", b"abc") + packets.packet(b"R") + packets.packet(b"U", b"z")
        self.assertEqual(reader.feed(data[:4]), [])
        self.assertEqual(reader.feed(data[4:7]), [(b"U", b"abc")])
        self.assertEqual(reader.feed(data[7:]), [(b"R", b""), (b"U", b"z")])
        self.assertEqual(reader.pending, 0)

    def test_readerRejectsBadLengths(self):
        self.assertRaises(SoupProtocolError, PacketReader().feed, b"\x00\x00")
        self.assertRaises(SoupProtocolError, PacketReader(100).feed, b"\x00\x65U")

    @settings(max_examples=fuzzExamples(200), deadline=None)
    @given(st.lists(st.binary(max_size=40), max_size=20))
    def test_readerArbitraryBytes(self, chunks):
        """
        Arbitrary bytes give packets or a L{SoupProtocolError}, never
        anything else; packets never exceed the limit.
        """
        reader = PacketReader(64)
        for chunk in chunks:
            try:
                for kind, payload in reader.feed(chunk):
                    self.assertEqual(len(kind), 1)
                    self.assertLessEqual(len(payload), 63)
            except SoupProtocolError:
                return


class SessionTests(TestCase):
    """
    The session rules, on an echo application.
    """

    def setUp(self):
        self.endpoint = makeEndpoint(EchoFamily(), users="alice:secret,bob:pw")
        self.factory = self.endpoint.factory
        self.reactor = self.endpoint.reactor

    def login(self, username="alice", password="secret", session="", sequence=0):
        client = Client(self.endpoint)
        return client, client.login(username, password, session, sequence)

    def test_loginAccepted(self):
        client, reply = self.login(sequence=1)
        self.assertEqual(reply, [(b"A", b"      ECHO" + b"1".rjust(20))])
        self.assertEqual(self.endpoint.simulator.types(), ["session_logon"])
        [event] = self.endpoint.simulator.events
        self.assertEqual(
            (event["session"], event["username"], event["session_name"], event["sequence"]),
            ("ep1/alice", "alice", "ECHO", 1),
        )
        self.assertFalse(client.closed)

    def test_badPassword(self):
        client, reply = self.login(password="wrong")
        self.assertEqual(reply, [(b"J", b"A")])
        self.assertTrue(client.closed)
        self.assertEqual(self.endpoint.simulator.events[0]["type"], "login_rejected")
        self.assertEqual(self.endpoint.simulator.events[0]["reason"], "A")

    def test_unknownUser(self):
        client, reply = self.login(username="eve", password="secret")
        self.assertEqual(reply, [(b"J", b"A")])
        self.assertTrue(client.closed)

    def test_unknownSession(self):
        client, reply = self.login(session="OTHER")
        self.assertEqual(reply, [(b"J", b"S")])
        self.assertTrue(client.closed)

    def test_namedSession(self):
        client, reply = self.login(session="ECHO")
        self.assertEqual(reply[0][0], b"A")

    def test_replayFromSequence(self):
        """
        A client logging in again with a sequence number gets the replay
        from there, then live data; 0 means from now on.
        """
        client, _ = self.login(sequence=1)
        for i in range(5):
            client.unsequenced(b"m%d" % i)
        self.assertEqual(client.sequenced(), [b"m0", b"m1", b"m2", b"m3", b"m4"])
        client.lose()
        again, reply = self.login(sequence=3)
        self.assertEqual(reply[0], (b"A", b"      ECHO" + b"3".rjust(20)))
        self.assertEqual([p for k, p in reply[1:]], [b"m2", b"m3", b"m4"])
        again.unsequenced(b"live")
        self.assertEqual(again.sequenced(), [b"live"])
        late, reply = self.login(sequence=0)
        self.assertEqual(reply, [(b"A", b"      ECHO" + b"7".rjust(20))])
        beyond, reply = self.login(sequence=99)
        self.assertEqual(reply, [(b"A", b"      ECHO" + b"7".rjust(20))])

    def test_leftJustifiedSequence(self):
        client = Client(self.endpoint)
        client.unsequenced  # not logged in yet
        self.factory.stream.append(b"x")
        self.factory.stream.append(b"y")
        payload = b"alice " + b"secret    " + b" " * 10 + b"2".ljust(20)
        client.send(packets.packet(b"L", payload))
        reply = client.read()
        self.assertEqual(reply, [(b"A", b"      ECHO" + b"2".rjust(20)), (b"S", b"y")])

    def test_serverHeartbeat(self):
        """
        After 1 s without sending anything, the server sends a heartbeat.
        """
        client, _ = self.login()
        self.reactor.advance(0.5)
        self.assertEqual(client.read(), [])
        self.reactor.advance(0.5)
        self.assertEqual(client.read(), [(b"H", b"")])
        self.reactor.advance(0.75)
        client.unsequenced(b"data")
        self.assertEqual(client.read(), [(b"S", b"data")])
        self.reactor.advance(0.75)
        self.assertEqual(client.read(), [])
        self.reactor.advance(0.25)
        self.assertEqual(client.read(), [(b"H", b"")])

    def test_idleTimeout(self):
        """
        A client that sends nothing for 15 s is dropped; heartbeats keep it.
        """
        client, _ = self.login()
        for i in range(20):
            self.reactor.advance(1)
            client.send(packets.CLIENT_HEARTBEAT_PACKET)
        self.assertFalse(client.closed)
        self.reactor.advance(14.9)
        self.assertFalse(client.closed)
        self.reactor.advance(0.1)
        self.assertTrue(client.closed)
        self.assertIn("timeout", self.endpoint.simulator.types())

    def test_loginTimeout(self):
        client = Client(self.endpoint)
        self.reactor.advance(15)
        self.assertTrue(client.closed)

    def test_configuredTimers(self):
        self.endpoint.setProperty("heartbeat_interval", "0.25")
        self.endpoint.setProperty("idle_timeout", "2")
        client, _ = self.login()
        self.reactor.advance(0.25)
        self.assertEqual(client.read(), [(b"H", b"")])
        self.reactor.advance(1.75)
        self.assertTrue(client.closed)

    def test_logout(self):
        client, _ = self.login()
        client.send(packets.LOGOUT_REQUEST_PACKET)
        self.assertTrue(client.closed)
        client.lose()
        self.assertEqual(
            self.endpoint.simulator.types(), ["session_logon", "session_logout", "session_disconnected"]
        )
        self.assertEqual(self.endpoint.simulator.events[-1]["reason"], "logged out")

    def test_disconnectReported(self):
        client, _ = self.login()
        client.lose()
        self.assertEqual(self.endpoint.simulator.types(), ["session_logon", "session_disconnected"])
        self.assertEqual(self.endpoint.simulator.events[-1]["reason"], "connection lost")
        self.assertEqual(self.factory.stream.listeners, [])
        self.assertEqual(self.factory.connections, [])

    def test_debugIgnored(self):
        client = Client(self.endpoint)
        client.send(packets.debug("hello"))
        self.assertFalse(client.closed)
        client.login("alice", "secret")
        client.send(packets.debug("again"))
        client.unsequenced(b"x")
        self.assertEqual(client.sequenced(), [b"x"])

    def test_dataBeforeLogin(self):
        client = Client(self.endpoint)
        client.unsequenced(b"x")
        self.assertTrue(client.closed)
        reply = client.read()
        self.assertEqual(reply[0][0], b"+")
        self.assertIn(b"before login", reply[0][1])
        self.assertEqual(self.factory.stream.packets, [])

    def test_secondLogin(self):
        client, _ = self.login()
        client.send(packets.loginRequest("alice", "secret"))
        self.assertTrue(client.closed)

    def test_unknownPacketType(self):
        client, _ = self.login()
        client.send(packets.packet(b"Q", b"zz"))
        self.assertTrue(client.closed)
        self.assertIn("protocol_error", self.endpoint.simulator.types())

    def test_malformedApplicationMessage(self):
        client, _ = self.login()
        client.unsequenced(b"!oops")
        self.assertTrue(client.closed)

    def test_oversizedPacket(self):
        client, _ = self.login()
        client.send(struct.pack(">H", 5000) + b"U" + b"x" * 100)
        self.assertTrue(client.closed)

    def test_endOfSession(self):
        client, _ = self.login()
        self.factory.shutdown()
        self.assertEqual(client.read(), [(b"Z", b"")])
        self.assertTrue(client.closed)

    def test_liveToSeveral(self):
        one, _ = self.login()
        two, _ = self.login("bob", "pw")
        one.unsequenced(b"hello")
        self.assertEqual(one.sequenced(), [b"hello"])
        self.assertEqual(two.sequenced(), [b"hello"])

    def test_noUsersAcceptsAnyone(self):
        endpoint = makeEndpoint(EchoFamily())
        client = Client(endpoint)
        self.assertEqual(client.login("who", "ever")[0][0], b"A")

    @settings(max_examples=fuzzExamples(150), deadline=None)
    @given(st.lists(st.binary(max_size=60), max_size=10), st.booleans())
    def test_arbitraryBytesNeverCrash(self, chunks, loggedIn):
        """
        Whatever a client sends, the server answers or drops it; another
        session keeps working.
        """
        other, _ = self.login("bob", "pw")
        client = Client(self.endpoint)
        if loggedIn:
            client.login("alice", "secret")
        for chunk in chunks:
            client.send(chunk)
        other.unsequenced(b"still")
        self.assertIn(b"still", other.sequenced())
        self.assertEqual(self.flushLoggedErrors(), [])
        client.lose()
        other.lose()


class VenueClockTests(TestCase):
    """
    OUCH and ITCH timestamps: nanoseconds since midnight in the venue's
    time zone (Eastern by default), daylight saving included.
    """

    def test_eastern(self):
        from twisted.internet.task import Clock

        from exsim.soup.ouch import VenueClock

        clock = Clock()
        venue = VenueClock(clock)
        # 2024-01-02 14:30 UTC is 09:30 in New York (EST, UTC-5).
        clock.advance(1704205800)
        self.assertEqual(venue.nanos(), 34200 * 10**9)
        # 2024-07-01 13:30 UTC is 09:30 in New York (EDT, UTC-4).
        clock.advance(1719840600 - 1704205800)
        self.assertEqual(venue.nanos(), 34200 * 10**9)
        # Past local midnight the count starts again.
        clock.advance(15 * 3600)
        self.assertEqual(venue.nanos(), 30 * 60 * 10**9)

    def test_utc(self):
        from twisted.internet.task import Clock

        from exsim.soup.ouch import VenueClock

        clock = Clock()
        clock.advance(86400 * 3 + 34200.5)
        self.assertEqual(VenueClock(clock, "UTC").nanos(), 34200500000000)

    def test_property(self):
        from exsim.errors import BadValue
        from exsim.soup.ouch import family

        self.assertEqual(family.parseProperty("timezone", "Europe/London"), "Europe/London")
        self.assertEqual(family.parseProperty("timezone", "utc"), "UTC")
        self.assertRaises(BadValue, family.parseProperty, "timezone", "Mars/Olympus")
