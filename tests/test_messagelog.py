"""
Tests for the message journal (L{exsim.observe.messagelog}), its decoders
(L{exsim.observe.decode}) and C{get_messages}: FIX, OUCH and ITCH
sessions on a L{MemoryReactorClock}, with scripted clients.
"""

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

import exsim
from exsim.control.checker import UsersChecker
from exsim.errors import BadValue, NotFound
from exsim.fix import codec
from exsim.observe import decode, messagelog
from exsim.observe.messagelog import IN, OUT, MessageLog, fileName, parseDirectory, parseSize
from exsim.service import Simulator
from exsim.soup import itch50, ouch42, packets
from tests.fixsession_helpers import START, Client, stamp
from tests.soupfakes import Client as SoupClient
from tests.test_control import pbPair

P150 = 1500000


def nos(client, clOrdId, side="1", price="10", qty=100, text=None):
    fields = [
        (11, clOrdId), (55, "AAPL"), (54, side), (60, stamp(client.reactor.seconds())),
        (38, qty), (40, "2"), (44, price), (59, "0"),
    ]
    if text is not None:
        fields.append((58, text))
    return fields


class RingTests(unittest.TestCase):
    def test_bounded(self):
        log = MessageLog("fix1/A", "fix", 3)
        for i in range(5):
            log.append((i, IN, b"%d" % i))
        self.assertEqual([e[0] for e in log], [2, 3, 4])
        self.assertEqual(log.entries(2), [(3, IN, b"3"), (4, IN, b"4")])
        self.assertEqual(log.entries(0), [])
        log.resize(2)
        self.assertEqual([e[0] for e in log], [3, 4])
        log.resize(10)
        log.append((5, OUT, b"5"))
        self.assertEqual(log.entries(None, OUT), [(5, OUT, b"5")])
        self.assertEqual(log.size, 10)

    def test_boundedByMessages(self):
        """
        An entry of several messages (one read's, one write's) counts as
        that many: the oldest entries go while more than the size are
        held, but the newest stays whole.
        """
        log = MessageLog("ouch1/A", "ouch", 5)
        log.add((1, OUT, b"abc"), 3)
        log.add((2, OUT, b"de"), 2)
        self.assertEqual((len(log), log.held), (2, 5))
        log.append((3, IN, b"f"))
        self.assertEqual([e[0] for e in log], [2, 3])
        self.assertEqual(log.held, 3)
        log.add((4, IN, b"g" * 10), 10)
        self.assertEqual([e[0] for e in log], [4])
        self.assertEqual(log.held, 10)
        log.resize(0)
        self.assertEqual((list(log), log.held), ([], 0))
        log.add((5, IN, b"h"), 1)
        self.assertEqual(list(log), [])

    def test_adoptCounts(self):
        """
        Adopted entries keep their counts of messages.
        """
        connection = MessageLog("ouch1@h:1", "ouch", 10)
        connection.add((1, IN, b"ab"), 2)
        session = MessageLog("ouch1/A", "ouch", 3)
        session.append((0, IN, b"x"))
        session.adopt(connection)
        self.assertEqual(session.held, 3)
        session.append((2, OUT, b"y"))
        self.assertEqual([e[0] for e in session], [1, 2])

    def test_nothingKept(self):
        log = MessageLog("fix1/A", "fix", 0)
        log.append((1, IN, b"x"))
        self.assertEqual(list(log), [])

    def test_adopt(self):
        session = MessageLog("fix1/A", "fix", 10)
        session.append((1, IN, b"old"))
        connection = MessageLog("fix1@h:1", "fix", 10)
        connection.append((2, IN, b"logon"))
        session.adopt(connection)
        self.assertEqual([e[2] for e in session], [b"old", b"logon"])

    def test_fileName(self):
        self.assertEqual(fileName("fix1/CLIENT"), "fix1-CLIENT")
        self.assertEqual(fileName("ouch1/al ice#2"), "ouch1-al%20ice#2")
        self.assertEqual(fileName("fix1/../x"), "fix1-..%2Fx")
        self.assertEqual(fileName(".hidden"), "%2Ehidden")
        self.assertEqual(fileName("fix1/A\x01"), "fix1-A%01")

    def test_properties(self):
        self.assertEqual(parseSize("20"), 20)
        self.assertEqual(parseSize(0), 0)
        for bad in (-1, "x", True, messagelog.MAX_SIZE + 1, 1.5):
            self.assertRaises(BadValue, parseSize, bad)
        self.assertEqual(parseDirectory("logs/fix"), "logs/fix")
        for off in ("none", "", None, "no"):
            self.assertIsNone(parseDirectory(off))
        for bad in ("/etc", "../x", "a/../../b"):
            self.assertRaises(BadValue, parseDirectory, bad)

    def test_stamp(self):
        self.assertEqual(messagelog.stamp(START + 0.25), "20240301-12:00:00.250000")
        self.assertEqual(messagelog.stamp(START + 0.9999999), "20240301-12:00:01.000000")


class FixJournalMixin:
    """
    A simulator with a FIX endpoint fix1 (endpoint properties from
    L{properties}) and a data directory of the test's own.
    """

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(START)
        sim = self.simulator = Simulator(self.reactor)
        sim.dataDir = os.path.abspath(self.mktemp())
        os.makedirs(sim.dataDir)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_endpoint("fix1", "e1", "fix", users="CLIENT:s3cret")
        for name, value in self.properties().items():
            sim.set_protocol_property("fix1", name, value)
        sim.start_endpoint("fix1")
        self.factory = sim.endpoint("fix1").factory
        self._port = 40000

    def properties(self):
        return {}

    def client(self, logon=True):
        self._port += 1
        client = Client(self.factory, port=self._port)
        if logon:
            client.logon(extra=[(553, "CLIENT"), (554, "s3cret")])
        return client


class FixJournalTests(FixJournalMixin, unittest.TestCase):
    """
    What a FIX session's journal keeps, and C{get_messages}.
    """

    def test_inAndOut(self):
        """
        Every message in and out, oldest first, with its time, direction
        and fields named from the dictionary.
        """
        client = self.client()
        self.reactor.advance(1.5)
        client.send("D", nos(client, "c1"))
        messages = self.simulator.get_messages("fix1/CLIENT")
        self.assertEqual(
            [(m["direction"], m["msg_type"], m["name"], m["seq_num"], m["time"]) for m in messages],
            [(IN, "A", "Logon", 1, START), (OUT, "A", "Logon", 1, START),
             (IN, "D", "NewOrderSingle", 2, START + 1.5),
             (OUT, "8", "ExecutionReport", 2, START + 1.5)],
        )
        order = messages[2]
        self.assertEqual(order["protocol"], "fix")
        self.assertIn([11, "ClOrdID", "c1"], order["fields"])
        self.assertIn([44, "Price", "10"], order["fields"])
        self.assertTrue(order["raw"].startswith("8=FIX.4.4|9="))
        self.assertTrue(order["raw"].endswith("|"))
        self.assertEqual(order["raw"].replace("|", "\x01").encode(), client.build("D", nos(client, "c1"), seq=2))

    def test_passwordMasked(self):
        self.client()
        [logon] = self.simulator.get_messages("fix1/CLIENT", 1, "in")
        self.assertIn([554, "Password", decode.MASK], logon["fields"])
        self.assertNotIn("s3cret", repr(logon))
        self.assertIn("554=********|", logon["raw"])

    def test_lastAndDirection(self):
        client = self.client()
        for i in range(3):
            client.send("D", nos(client, "c%d" % i))
        sim = self.simulator
        self.assertEqual([(m["msg_type"], m["seq_num"]) for m in sim.get_messages("fix1/CLIENT", 2)],
                         [("D", 4), ("8", 4)])
        self.assertEqual([m["seq_num"] for m in sim.get_messages("fix1/CLIENT", 3, "in")], [2, 3, 4])
        self.assertEqual([m["msg_type"] for m in sim.get_messages("fix1/CLIENT", direction="out")],
                         ["A", "8", "8", "8"])
        for args in (("fix1/CLIENT", 0), ("fix1/CLIENT", "x"), ("fix1/CLIENT", 5, "sideways")):
            self.assertRaises(BadValue, sim.get_messages, *args)
        e = self.assertRaises(NotFound, sim.get_messages, "fix1/NOBODY")
        self.assertIn("unknown session 'fix1/NOBODY'", str(e))
        self.assertRaises(BadValue, sim.get_messages, None)

    def test_acrossReconnects(self):
        """
        A session's journal outlives its connections.
        """
        client = self.client()
        client.send("5", [])
        client.close()
        self.reactor.advance(1)
        client = self.client(logon=False)
        client.seq = 3
        client.logon(extra=[(553, "CLIENT"), (554, "s3cret")])
        types = [(m["direction"], m["msg_type"]) for m in self.simulator.get_messages("fix1/CLIENT")]
        self.assertEqual(types, [(IN, "A"), (OUT, "A"), (IN, "5"), (OUT, "5"), (IN, "A"), (OUT, "A")])

    def test_beforeLogon(self):
        """
        A connection not logged on yet has a journal of its own; a refused
        Logon and its Logout are in it.
        """
        client = self.client(logon=False)
        client.send("0", [])
        [listed] = [s for s in self.simulator.list_sessions() if s["state"] == "logging_on"] or [None]
        self.assertIsNone(listed)  # dropped: the first message was not a Logon
        client = self.client(logon=False)
        sessionId = [s["session"] for s in self.simulator.list_sessions()][0]
        self.assertTrue(sessionId.startswith("fix1@127.0.0.1:"))
        self.assertEqual(self.simulator.get_messages(sessionId), [])
        connection = client.protocol
        client.logon(extra=[(553, "CLIENT"), (554, "wrong")])
        types = [(e[1], decode.decodeEntry("fix", e)[0]["msg_type"]) for e in connection.journal]
        self.assertEqual(types, [(IN, "A"), (OUT, "5")])

    def test_garbled(self):
        client = self.client()
        good = client.build("D", nos(client, "c1"))
        client.sendRaw(good[:-4] + b"999\x01")
        [garbled] = self.simulator.get_messages("fix1/CLIENT", 1, "in")
        self.assertEqual(garbled["raw"], (good[:-4] + b"999\x01").decode().replace("\x01", "|"))

    def test_textEscapedNowhere(self):
        """
        The journal keeps text as it came (escaping is the web view's
        job).
        """
        client = self.client()
        client.send("D", nos(client, "c1", text="<script>alert(1)</script>"))
        [order] = self.simulator.get_messages("fix1/CLIENT", 1, "in")
        self.assertIn([58, "Text", "<script>alert(1)</script>"], order["fields"])

    def test_oneEntryPerRead(self):
        """
        The messages of one read are one entry, the replies written for
        them one more; a garbled message among them keeps its place.
        """
        client = self.client()
        journal = self.factory.sessions["CLIENT"].journal
        before = (len(journal), journal.held)
        first = client.build("D", nos(client, "c1"))
        bad = client.build("D", nos(client, "c2"))
        bad = bad[:-4] + b"999\x01"
        last = client.build("D", nos(client, "c3"))
        client.sendRaw(first + bad + last)
        self.assertEqual(len(journal), before[0] + 4)
        self.assertEqual(journal.held, before[1] + 5)
        self.assertEqual([e[2] for e in list(journal)[-4:-1]], [first, bad, last])
        # (The garbled message's MsgSeqNum is missing: c3 waits for a
        # resend.)
        messages = self.simulator.get_messages("fix1/CLIENT", 5)
        self.assertEqual(
            [(m["direction"], m["msg_type"]) for m in messages],
            [(IN, "D"), (IN, "D"), (IN, "D"), (OUT, "8"), (OUT, "2")],
        )
        self.assertEqual(
            [f[2] for m in messages for f in m["fields"] if f[0] == 11],
            ["c1", "c2", "c3", "c1"],
        )

    def test_perMessageEntries(self):
        """
        One entry per message read alone: what is captured is bytes the
        session already had, decoded only when asked.
        """
        client = self.client()
        for i in range(10):
            client.send("D", nos(client, "c%d" % i))
        journal = self.factory.sessions["CLIENT"].journal
        self.assertEqual(len(journal), 2 + 20)
        self.assertTrue(all(type(e) is tuple and len(e) == 3 and type(e[2]) is bytes for e in journal))

    def test_resendIsOneEntry(self):
        """
        A resend is written at once: one entry, split when decoded.
        """
        client = self.client()
        for i in range(3):
            client.send("D", nos(client, "c%d" % i))
        client.send("2", [(7, 2), (16, 0)])
        messages = self.simulator.get_messages("fix1/CLIENT", 3, "out")
        self.assertEqual([(m["msg_type"], m["seq_num"]) for m in messages], [("8", 2), ("8", 3), ("8", 4)])
        self.assertTrue(all([43, "PossDupFlag", "Y"] in m["fields"] for m in messages))


class FixJournalSizeTests(FixJournalMixin, unittest.TestCase):
    def properties(self):
        return {"message_log_size": "3"}

    def test_bounded(self):
        client = self.client()
        client.send("D", nos(client, "c1"))
        self.assertEqual([m["msg_type"] for m in self.simulator.get_messages("fix1/CLIENT")], ["A", "D", "8"])

    def test_resize(self):
        """
        A new size applies to every session's journal at once.
        """
        client = self.client()
        self.simulator.set_protocol_property("fix1", "message_log_size", 10)
        for i in range(5):
            client.send("D", nos(client, "c%d" % i))
        self.assertEqual(len(self.simulator.get_messages("fix1/CLIENT", 1000)), 10)
        self.simulator.set_protocol_property("fix1", "message_log_size", 0)
        self.assertEqual(self.simulator.get_messages("fix1/CLIENT"), [])
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "fix1", "message_log_size", -2)
        self.assertEqual(self.simulator.get_properties("endpoint", "fix1")["message_log_size"], 0)


class FixFileTests(FixJournalTests):
    """
    With C{message_log}: the QuickFIX layout.
    """

    def properties(self):
        return {"message_log": "logs"}

    def files(self, stem):
        directory = os.path.join(self.simulator.dataDir, "logs")
        self.reactor.advance(0)
        with open(os.path.join(directory, stem + ".messages.log"), "rb") as f:
            messages = f.read()
        with open(os.path.join(directory, stem + ".event.log"), "rb") as f:
            events = f.read()
        return messages, events

    def test_files(self):
        client = self.client()
        self.reactor.advance(0.25)
        client.send("D", nos(client, "c1"))
        messages, events = self.files("fix1-CLIENT")
        lines = messages.split(b"\n")
        self.assertEqual(lines[-1], b"")
        self.assertEqual(len(lines), 5)
        self.assertTrue(lines[0].startswith(b"20240301-12:00:00.000000 : 8=FIX.4.4\x019="), lines[0])
        self.assertIn(b"\x01554=********\x01", lines[0])
        self.assertNotIn(b"s3cret", messages)
        self.assertTrue(lines[2].startswith(b"20240301-12:00:00.250000 : 8=FIX.4.4\x01"))
        self.assertIn(b"\x0135=D\x01", lines[2])
        self.assertIn(b"\x0135=8\x01", lines[3])
        self.assertEqual(
            events.decode(),
            "20240301-12:00:00.000000 : session_logon session=fix1/CLIENT begin_string=FIX.4.4 "
            "heartbeat_interval=30 peer=127.0.0.1:40001\n",
        )

    def test_unidentified(self):
        """
        A refused Logon goes to the endpoint's unidentified files.
        """
        client = self.client(logon=False)
        client.logon(extra=[(553, "CLIENT"), (554, "wrong")])
        messages, events = self.files("fix1.unidentified")
        lines = messages.split(b"\n")[:-1]
        self.assertEqual(len(lines), 2)
        self.assertIn(b"\x0135=5\x01", lines[1])
        self.assertIn(b"session_disconnected", events)

    def test_switchedOff(self):
        client = self.client()
        self.simulator.set_protocol_property("fix1", "message_log", "none")
        client.send("D", nos(client, "c1"))
        messages, _ = self.files("fix1-CLIENT")
        self.assertEqual(len(messages.split(b"\n")), 3)
        self.simulator.set_protocol_property("fix1", "message_log", "logs")
        client.send("D", nos(client, "c2"))
        messages, _ = self.files("fix1-CLIENT")
        self.assertEqual(len(messages.split(b"\n")), 5)

    def test_badDirectory(self):
        for bad in ("/tmp/x", "../up"):
            self.assertRaises(BadValue, self.simulator.set_protocol_property, "fix1", "message_log", bad)
        with open(os.path.join(self.simulator.dataDir, "afile"), "w"):
            pass
        e = self.assertRaises(BadValue, self.simulator.set_protocol_property, "fix1", "message_log", "afile")
        self.assertIn("cannot make directory", str(e))
        self.assertEqual(self.simulator.get_properties("endpoint", "fix1")["message_log"], "logs")

    def test_closedWithEndpoint(self):
        client = self.client()
        d = self.simulator.delete_endpoint("fix1")
        self.successResultOf(d)
        messages, _ = self.files("fix1-CLIENT")
        self.assertIn(b"\x0135=5\x01", messages.split(b"\n")[-2])
        del client


class SoupJournalTests(unittest.TestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(START)
        sim = self.simulator = Simulator(self.reactor)
        sim.dataDir = os.path.abspath(self.mktemp())
        os.makedirs(sim.dataDir)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        for name, protocol in (("ouch1", "ouch"), ("itch1", "itch")):
            sim.create_endpoint(name, "e1", protocol, message_log="logs")
            sim.set_protocol_property(name, "idle_timeout", "1000")
            sim.start_endpoint(name)

    def test_ouch(self):
        client = SoupClient(self.simulator.endpoint("ouch1"), port=40001)
        client.login("alice", "pw12345", sequence=1)
        self.reactor.advance(0.5)
        client.unsequenced(ouch42.enterOrder("T1", b"B", 100, "AAPL", P150, 99999, "FRM1"))
        messages = self.simulator.get_messages("ouch1/alice")
        self.assertEqual(
            [(m["direction"], m["packet"], m["name"]) for m in messages],
            [(IN, "L", None), (OUT, "A", None), (OUT, "S", "System Event"),
             (IN, "U", "Enter Order"), (OUT, "S", "Accepted")],
        )
        login = messages[0]
        self.assertEqual(login["packet_name"], "Login Request")
        self.assertIn([None, "username", "alice"], login["fields"])
        self.assertIn([None, "password", decode.MASK], login["fields"])
        self.assertNotIn("pw12345".encode().hex(), login["raw"])
        enter = messages[3]
        self.assertEqual(enter["time"], START + 0.5)
        self.assertIn([None, "token", "T1"], enter["fields"])
        self.assertIn([None, "price", "150"], enter["fields"])
        accepted = messages[4]
        self.assertIn([None, "shares", 100], accepted["fields"])
        self.assertEqual(bytes.fromhex(accepted["raw"])[3:4], b"A")
        self.reactor.advance(0)
        path = os.path.join(self.simulator.dataDir, "logs", "ouch1-alice.messages.log")
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "20240301-12:00:00.000000 : in Login Request username=alice "
                                   "password=******** session= sequence_number=1")
        self.assertTrue(lines[3].startswith("20240301-12:00:00.500000 : in Unsequenced Data Enter Order "
                                            "token=T1 side=B shares=100 stock=AAPL price=150 "), lines[3])
        self.assertTrue(lines[4].startswith("20240301-12:00:00.500000 : out Sequenced Data Accepted "))

    def test_oneEntryPerReadAndWrite(self):
        """
        The packets of one read are one entry (their bytes as they came),
        the packets written for them one more (the bytes written); both
        are split when decoded, in the order of the wire.
        """
        client = SoupClient(self.simulator.endpoint("ouch1"), port=40001)
        client.login("alice", sequence=1)
        journal = self.simulator.endpoint("ouch1").factory.sessions["alice"].journal
        before = (len(journal), journal.held)
        client.send(b"".join(
            packets.packet(b"U", ouch42.enterOrder("T%d" % i, b"B", 100, "AAPL", P150, 99999, "FRM1"))
            for i in range(3)
        ))
        self.assertEqual((len(journal), journal.held), (before[0] + 2, before[1] + 6))
        entered, answered = journal[-2], journal[-1]
        self.assertEqual((entered[1], answered[1]), (IN, OUT))
        self.assertEqual(type(entered[2]), bytes)
        messages = self.simulator.get_messages("ouch1/alice", 6)
        self.assertEqual(
            [(m["direction"], m["name"]) for m in messages],
            [(IN, "Enter Order")] * 3 + [(OUT, "Accepted")] * 3,
        )
        self.assertEqual(
            [f[2] for m in messages for f in m["fields"] if f[1] == "token"],
            ["T0", "T1", "T2"] * 2,
        )
        self.assertEqual([m["name"] for m in self.simulator.get_messages("ouch1/alice", 2)],
                         ["Accepted", "Accepted"])
        self.reactor.advance(0)
        path = os.path.join(self.simulator.dataDir, "logs", "ouch1-alice.messages.log")
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual([line.split(" : ")[1].split()[0] for line in lines[-6:]],
                         ["in"] * 3 + ["out"] * 3)

    def test_ouchAcrossReconnects(self):
        client = SoupClient(self.simulator.endpoint("ouch1"), port=40001)
        client.login("alice")
        client.lose()
        client = SoupClient(self.simulator.endpoint("ouch1"), port=40002)
        client.login("alice", sequence=1)
        packets = [m["packet"] for m in self.simulator.get_messages("ouch1/alice")]
        self.assertEqual(packets, ["L", "A", "L", "A", "S"])

    def test_itch(self):
        client = SoupClient(self.simulator.endpoint("itch1"), port=40001)
        client.login("bob", sequence=1)
        self.simulator.create_order("h1", "AAPL", side="buy", price="10", quantity=5)
        self.simulator.submit_order("h1")
        [session] = [s["session"] for s in self.simulator.list_sessions("itch1")]
        messages = self.simulator.get_messages(session)
        names = [m["name"] for m in messages if m["packet"] == "S"]
        self.assertEqual(names[-1], "Add Order")
        self.assertIn("Stock Directory", names)
        add = messages[-1]
        self.assertIn([None, "price", "10"], add["fields"])
        self.assertIn([None, "stock", "AAPL"], add["fields"])
        self.reactor.advance(0)
        path = os.path.join(self.simulator.dataDir, "logs", fileName(session) + ".messages.log")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("out Sequenced Data Add Order stock_locate=1", text)

    def test_protocolError(self):
        client = SoupClient(self.simulator.endpoint("ouch1"), port=40001)
        [session] = [s["session"] for s in self.simulator.list_sessions("ouch1")]
        client.send(b"\x00\x00junk")
        connection = client.protocol
        [garbage, debug] = [m for e in connection.journal for m in decode.decodeEntry("ouch", e)]
        self.assertEqual((garbage["direction"], garbage["packet"], garbage["raw"]),
                         (IN, None, b"\x00\x00junk".hex()))
        self.assertEqual(debug["packet_name"], "Debug")
        del session


class DecoderPropertyTests(unittest.TestCase):
    """
    The decoders never raise, whatever the bytes.
    """

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=300))
    def test_fixGarbage(self, data):
        for message in decode.splitFix(data):
            decoded = decode.decodeFix(message)
            self.assertIsInstance(decoded["fields"], list)
        self.assertIsInstance(decode.fileLines("fix", IN, data), list)
        self.assertEqual(b"".join(decode.splitFix(data)), data)

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=300), st.sampled_from(["ouch", "itch"]))
    def test_soupGarbage(self, data, protocol):
        for packetType, payload in decode.splitSoup(data):
            decoded = decode.decodeSoup(protocol, packetType, payload)
            self.assertIsInstance(decoded["raw"], str)
        for line in decode.fileLines(protocol, OUT, data):
            self.assertNotIn(b"\n", line)

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from([b"U", b"S", b"L", b"A", b"+", b"H"]),
                              st.binary(max_size=60)), max_size=5))
    def test_soupRoundTrip(self, items):
        data = b"".join(packets.packet(kind, payload) for kind, payload in items)
        self.assertEqual(decode.splitSoup(data), list(items))

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(["D", "8", "0", "A"]),
                              st.text(alphabet="abcXYZ09 <>&", min_size=1, max_size=20)),
                    min_size=1, max_size=4))
    def test_fixRoundTrip(self, items):
        raw = [codec.encode("FIX.4.2", msgType, [(49, "A"), (56, "B"), (34, 1)], [(58, text)])
               for msgType, text in items]
        messages = decode.splitFix(b"".join(raw))
        self.assertEqual(messages, raw)
        for message, (msgType, text) in zip(messages, items):
            decoded = decode.decodeFix(message)
            self.assertEqual(decoded["msg_type"], msgType)
            self.assertIn([58, "Text", text], decoded["fields"])

    def test_knownOuchAndItch(self):
        for payload in (ouch42.systemEvent(5, b"S"), ouch42.canceled(5, "T1", 10, b"U")):
            decoded = decode.decodeSoup("ouch", b"S", payload)
            self.assertTrue(decoded["name"])
            self.assertTrue(decoded["fields"])
        decoded = decode.decodeSoup("itch", b"S", itch50.orderDelete(1, 2, 3, 4))
        self.assertEqual(decoded["name"], "Order Delete")
        self.assertEqual(decoded["fields"][-1], [None, "order_reference", 4])
        self.assertEqual(decode.decodeSoup("ouch", b"U", b"Q")["name"], None)


class ManagementServiceTests(unittest.TestCase):
    def test_getMessages(self):
        """
        C{get_messages} through PB (one JSON text), as the client calls it.
        """
        clock = MemoryReactorClock()
        clock.advance(START)
        sim = Simulator(clock)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1")
        sim.create_endpoint("fix1", "e1", "fix")
        sim.start_endpoint("fix1")
        client = Client(sim.endpoint("fix1").factory)
        client.logon()
        factory, pump = pbPair(sim, UsersChecker({"admin": "secret"}))
        d = exsim.client.login(factory, "admin", "secret")
        pump.flush()
        control = self.successResultOf(d)
        d = control.get_messages("fix1/CLIENT", 10, "out")
        pump.flush()
        [logon] = self.successResultOf(d)
        self.assertEqual((logon["msg_type"], logon["name"], logon["direction"]), ("A", "Logon", "out"))
        self.assertEqual(logon["fields"][0], [8, "BeginString", "FIX.4.4"])
        d = control.get_messages("fix1/NOBODY")
        pump.flush()
        self.assertIsInstance(self.failureResultOf(d).value, NotFound)
