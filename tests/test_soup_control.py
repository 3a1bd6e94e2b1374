"""
Session control of SoupBinTCP sessions (L{exsim.soup.control}): OUCH and
ITCH endpoints of a L{Simulator} on a L{MemoryReactorClock}, in-memory
clients, the management operations.
"""

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim.errors import BadValue, WrongState
from exsim.interfaces import IControlledSession
from exsim.service import Simulator
from exsim.soup import ouch42, packets
from exsim.soup.control import SoupSessionHandle
from tests.soupfakes import Client

P150 = 1500000


def decoded(payloads):
    return [ouch42.decodeOutbound(p) for p in payloads]


class SoupSimulatorMixin:
    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(1709294400)
        sim = self.simulator = Simulator(self.reactor)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_endpoint("ouch1", "e1", "ouch")
        sim.set_protocol_property("ouch1", "idle_timeout", "1000")
        sim.set_protocol_property("ouch1", "heartbeat_interval", "1")
        for name, value in self.properties().items():
            sim.set_protocol_property("ouch1", name, value)
        sim.start_endpoint("ouch1")
        sim.create_endpoint("itch1", "e1", "itch")
        sim.set_protocol_property("itch1", "idle_timeout", "1000")
        sim.start_endpoint("itch1")
        self.ouch = sim.endpoint("ouch1")
        self.itch = sim.endpoint("itch1")
        self._port = 40000

    def properties(self):
        return {}

    def connect(self, endpoint=None, username="alice", sequence=1, login=True):
        self._port += 1
        client = Client(endpoint or self.ouch, port=self._port)
        if login:
            reply = client.login(username, sequence=sequence)
            self.assertEqual(reply[0][0], b"A", reply)
            #: The sequenced payloads replayed at login.
            client.replayed = [payload for kind, payload in reply[1:] if kind == b"S"]
        return client

    def enter(self, client, token, side=b"B", shares=100, price=P150):
        client.unsequenced(ouch42.enterOrder(token, side, shares, "AAPL", price, 99999, "FRM1"))
        return decoded(client.sequenced())

    def events(self, eventType):
        return [e for e in self.simulator.get_events() if e["type"] == eventType]


class ListTests(SoupSimulatorMixin, TestCase):
    def test_handles(self):
        self.connect()
        for endpoint in (self.ouch, self.itch):
            for handle in endpoint.factory.controlledSessions():
                self.assertTrue(verifyObject(IControlledSession, handle))
        self.assertIsInstance(self.ouch.factory.controlledSessions()[0], SoupSessionHandle)

    def test_list(self):
        alice = self.connect()
        self.connect(self.itch, "feed", sequence=1)
        self.connect(self.itch, "feed", sequence=0)
        self.connect(login=False)
        listed = {d["session"]: d for d in self.simulator.list_sessions()}
        self.assertEqual(
            sorted(listed),
            ["itch1/feed", "itch1/feed#2", "ouch1/alice", "ouch1@127.0.0.1:40004"],
        )
        a = listed["ouch1/alice"]
        self.assertEqual(
            {k: a[k] for k in ("endpoint", "protocol", "peer", "state", "username", "session_name", "next_seq")},
            {"endpoint": "ouch1", "protocol": "ouch", "peer": "127.0.0.1:40001", "state": "active",
             "username": "alice", "session_name": "1", "next_seq": 2},
        )
        self.assertEqual(listed["itch1/feed"]["protocol"], "itch")
        self.assertEqual(listed["ouch1@127.0.0.1:40004"]["state"], "logging_on")
        alice.lose()
        [a] = self.simulator.list_sessions("ouch1")[:1]
        self.assertEqual((a["session"], a["state"], a["peer"]), ("ouch1/alice", "disconnected", None))

    def test_events(self):
        client = self.connect()
        client.send(packets.LOGOUT_REQUEST_PACKET)
        client.lose()
        events = [e for e in self.simulator.get_events() if e["type"].startswith("session_")]
        self.assertEqual(
            [(e["type"], e["session"]) for e in events],
            [("session_logon", "ouch1/alice"), ("session_logout", "ouch1/alice"),
             ("session_disconnected", "ouch1/alice")],
        )
        self.assertEqual(events[0]["session_name"], "1")
        self.assertEqual(events[-1]["reason"], "logged out")


class OperationTests(SoupSimulatorMixin, TestCase):
    def test_disconnect(self):
        client = self.connect()
        self.simulator.disconnect_session("ouch1/alice")
        self.assertTrue(client.closed)
        self.assertEqual(client.read(), [])
        client.lose()
        [event] = self.events("session_disconnected")
        self.assertEqual(event["reason"], "disconnect_session")
        self.assertRaises(WrongState, self.simulator.disconnect_session, "ouch1/alice")

    def test_logout(self):
        client = self.connect()
        self.simulator.logout_session("ouch1/alice", "closing time")
        self.assertEqual(client.read(), [(b"+", b"closing time"), (b"Z", b"")])
        self.assertTrue(client.closed)
        client.lose()
        types = [e["type"] for e in self.simulator.get_events() if e["type"].startswith("session_")]
        self.assertEqual(types, ["session_logon", "session_logout", "session_disconnected"])

    def test_sendRaw(self):
        client = self.connect()
        self.simulator.send_raw("ouch1/alice", b"\x00\x01H")
        self.assertEqual(client.transport.value(), b"\x00\x01H")
        client.transport.clear()
        self.simulator.send_raw("ouch1/alice", "a|b")
        self.assertEqual(client.transport.value(), b"a|b")

    def test_fixOnlyFaultsAndProperties(self):
        self.connect()
        for fault in ("gap", "garble", "resend_request"):
            e = self.assertRaises(BadValue, self.simulator.inject_fault, "ouch1/alice", fault)
            self.assertIn("FIX", str(e))
        for name in ("next_in_seq", "next_out_seq"):
            self.assertRaises(BadValue, self.simulator.set_session_property, "ouch1/alice", name, 3)
        self.assertEqual(self.events("session_fault"), [])

    def test_dropAndRecover(self):
        """
        Dropped packets are not sent; a login asking for their sequence
        number gets them.
        """
        client = self.connect()
        self.simulator.inject_fault("ouch1/alice", "drop", 2)
        [fault] = self.events("session_fault")
        self.assertEqual((fault["fault"], fault["count"]), ("drop", 2))
        self.assertEqual(self.enter(client, "T1"), [])
        self.assertEqual(self.enter(client, "T2"), [])
        [accepted] = self.enter(client, "T3")
        self.assertEqual(accepted[2].strip(), b"T3")
        self.assertIsNone(self.ouch.factory.sessions["alice"].control)
        client.send(packets.LOGOUT_REQUEST_PACKET)
        client.lose()
        again = self.connect(sequence=2)
        tokens = [m[2].strip() for m in decoded(again.replayed)]
        self.assertEqual(tokens, [b"T1", b"T2", b"T3"])

    def test_duplicate(self):
        client = self.connect()
        self.enter(client, "T1")
        self.simulator.inject_fault("ouch1/alice", "duplicate", 2)
        again = decoded(client.sequenced())
        self.assertEqual([m[0] for m in again], [b"S", b"A"])
        self.assertRaises(BadValue, self.simulator.inject_fault, "ouch1/alice", "duplicate", 3)

    def test_itchDrop(self):
        feed = self.connect(self.itch, "feed", sequence=1)
        start = len(feed.replayed)
        self.simulator.inject_fault("itch1/feed", "drop", 1)
        trader = self.connect()
        self.enter(trader, "T1")
        self.assertEqual(feed.sequenced(), [])
        self.enter(trader, "T2")
        [add] = feed.sequenced()
        self.assertEqual(add[:1], b"A")
        replay = self.connect(self.itch, "feed2", sequence=start + 1)
        self.assertEqual([p[:1] for p in replay.replayed], [b"A", b"A"])

    def test_hold(self):
        client = self.connect()
        self.simulator.set_session_property("ouch1/alice", "hold", "yes")
        self.assertEqual(self.enter(client, "T1"), [])
        self.assertEqual(self.simulator.list_sessions("ouch1")[0]["queued_out"], 1)
        # Not numbered while held: a new login does not get it either.
        self.assertEqual(self.ouch.factory.sessions["alice"].stream.nextSequence, 2)
        self.simulator.set_session_property("ouch1/alice", "hold", "no")
        [accepted] = decoded(client.sequenced())
        self.assertEqual(accepted[2].strip(), b"T1")
        self.assertIsNone(self.ouch.factory.sessions["alice"].control)

    def test_heartbeats(self):
        client = self.connect()
        self.simulator.set_session_property("ouch1/alice", "heartbeats", "no")
        self.reactor.advance(1)
        self.reactor.advance(1)
        self.assertEqual(client.read(), [])
        self.simulator.set_session_property("ouch1/alice", "heartbeats", "yes")
        self.reactor.advance(1)
        self.assertEqual(client.read(), [(b"H", b"")])

    def test_propertiesOfDisconnectedOuchSession(self):
        client = self.connect()
        client.lose()
        self.simulator.set_session_property("ouch1/alice", "latency", "0.5")
        again = self.connect(sequence=0)
        self.assertEqual(self.enter(again, "T1"), [])
        self.reactor.advance(0.5)
        self.assertEqual(len(again.sequenced()), 1)

    def test_itchLatency(self):
        feed = self.connect(self.itch, "feed", sequence=0)
        self.simulator.set_session_property("itch1/feed", "latency", "0.25")
        trader = self.connect()
        self.enter(trader, "T1")
        self.assertEqual(feed.sequenced(), [])
        self.reactor.advance(0.25)
        self.assertEqual([p[:1] for p in feed.sequenced()], [b"A"])


class EndpointPropertyTests(SoupSimulatorMixin, TestCase):
    def test_latency(self):
        self.simulator.set_protocol_property("ouch1", "latency", "0.002")
        client = self.connect()
        self.assertEqual(self.enter(client, "T1"), [])
        self.reactor.advance(0.002)
        self.assertEqual(len(client.sequenced()), 1)

    def test_itchProperties(self):
        self.simulator.set_protocol_property("itch1", "latency", "uniform:0.001:0.002")
        self.simulator.set_protocol_property("itch1", "seed", "3")
        self.simulator.set_protocol_property("itch1", "accept_logons", "no")
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "itch1", "throttle", "1/1")

    def test_acceptLogons(self):
        alice = self.connect()
        self.simulator.set_protocol_property("ouch1", "accept_logons", "no")
        bob = self.connect(login=False)
        self.assertEqual(bob.login("bob"), [(b"J", b"S")])
        self.assertTrue(bob.closed)
        [event] = self.events("login_rejected")
        self.assertIn("accept_logons", event["text"])
        self.assertEqual(len(self.enter(alice, "T1")), 1)

    def test_throttleReject(self):
        self.simulator.set_protocol_property("ouch1", "throttle", "2/1")
        client = self.connect()
        self.enter(client, "T1")
        self.enter(client, "T2")
        [rejected] = self.enter(client, "T3")
        self.assertEqual((rejected[0], rejected[2].strip(), rejected[3]), (b"J", b"T3", ouch42.REJECT_OTHER))
        client.unsequenced(ouch42.cancelOrder("T1"))
        [reject] = decoded(client.sequenced())
        self.assertEqual((reject[0], reject[2].strip()), (b"I", b"T1"))
        [event] = self.events("throttled")[:1]
        self.assertEqual((event["session"], event["msg_type"], event["action"]), ("ouch1/alice", "O", "reject"))
        self.reactor.advance(1)
        self.assertEqual(self.enter(client, "T4")[0][0], b"A")

    def test_throttleDisconnect(self):
        self.simulator.set_protocol_property("ouch1", "throttle", "1/1")
        self.simulator.set_protocol_property("ouch1", "throttle_action", "disconnect")
        client = self.connect()
        self.enter(client, "T1")
        client.unsequenced(ouch42.enterOrder("T2", b"B", 100, "AAPL", P150, 99999, "FRM1"))
        read = client.read()
        self.assertEqual(read[-1], (b"Z", b""))
        self.assertIn(b"throttle", read[-2][1])
        self.assertTrue(client.closed)

    def test_throttleQueue(self):
        self.simulator.set_protocol_property("ouch1", "throttle", "1/1")
        self.simulator.set_protocol_property("ouch1", "throttle_action", "queue")
        client = self.connect()
        for token in ("T1", "T2", "T3"):
            client.unsequenced(ouch42.enterOrder(token, b"B", 100, "AAPL", P150, 99999, "FRM1"))
        self.assertEqual([m[2].strip() for m in decoded(client.sequenced())], [b"T1"])
        self.reactor.advance(1)
        self.assertEqual([m[2].strip() for m in decoded(client.sequenced())], [b"T2"])
        self.reactor.advance(1)
        self.assertEqual([m[2].strip() for m in decoded(client.sequenced())], [b"T3"])
