# -*- test-case-name: tests.test_fix_feed -*-
"""
Tests for L{exsim.fix.feed}: live FIX market data mirrored into books.

In memory: a source simulator's FIX endpoint and a mirror simulator's feed
on one MemoryReactorClock, connected by iosim.  On real sockets: a second
exsim process publishing FIX market data, mirrored by a first.
"""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase, TestCase

from exsim import config
from exsim.errors import BadValue, ConfigError, DuplicateName, UnknownName, WrongState
from exsim.fix import codec
from exsim.fix.feed import parseProperties
from exsim.service import Simulator
from exsim.testing.simulator import startServer

START = 1700000000.0


class Network:
    """
    Two simulators on one MemoryReactorClock: C{source} (engine C{src},
    book AAPL and MSFT, a FIX endpoint publishing market data) and
    C{mirror} (engine C{dst}, books AAPL and MSFT).
    """

    engineClass = "matching"

    def setUpNetwork(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(START)
        self.source = Simulator(self.reactor)
        self.source.create_engine("src", self.engineClass)
        self.mirror = Simulator(self.reactor)
        self.mirror.create_engine("dst", self.engineClass)
        for sim, engine in ((self.source, "src"), (self.mirror, "dst")):
            for symbol in ("AAPL", "MSFT"):
                sim.create_book(symbol, engine)
        self.source.create_endpoint(
            "fix1", "src", "fix", listen="tcp:9878:interface=127.0.0.1", sender_comp_id="EXSIM",
        )
        self.serverFactory = self.reactor.tcpServers[-1][1]
        self.pumps = []

    def order(self, name, side, price, quantity, book="AAPL", sim=None):
        sim = sim or self.source
        sim.create_order(name, book, side=side, price=price, quantity=quantity, time_in_force="gtc")
        sim.submit_order(name)

    def connect(self):
        """
        Connect the feed's newest connection attempt to the source's
        endpoint; return the pump.
        """
        host, port, clientFactory, _, _ = self.reactor.tcpClients.pop()
        self.assertEqual((host, port), ("127.0.0.1", 9878))
        client = clientFactory.buildProtocol(IPv4Address("TCP", host, port))
        server = self.serverFactory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
        clientTransport = iosim.FakeTransport(client, isServer=False)
        serverTransport = iosim.FakeTransport(server, isServer=True)
        pump = iosim.connect(server, serverTransport, client, clientTransport, greet=False)
        pump.flush()
        self.pumps.append((pump, serverTransport, clientTransport))
        return pump

    def flush(self):
        for pump, _, _ in self.pumps:
            pump.flush()

    def books(self, symbol="AAPL"):
        """
        The (price, quantity) levels of C{symbol} on the source and on the
        mirror (which has one order a level).
        """

        def side(sim, isBuy):
            return [(p, q) for p, q, _ in sim.book(symbol)[1].depth(isBuy, 100)]

        return (
            (side(self.source, True), side(self.source, False)),
            (side(self.mirror, True), side(self.mirror, False)),
        )

    def assertMirrored(self, symbol="AAPL"):
        source, mirror = self.books(symbol)
        self.assertEqual(mirror, source)

    def feedEvents(self):
        return [
            (e["state"], e["text"]) for e in self.mirror.get_events() if e["type"] == "feed_state"
        ]


class FeedMixin(Network):
    """
    (Run on both engine classes.)
    """

    def setUp(self):
        self.setUpNetwork()

    def createFeed(self, **properties):
        options = dict(
            connect="tcp:127.0.0.1:9878", symbols="AAPL,MSFT", sender_comp_id="MIRROR",
            target_comp_id="EXSIM", begin_string="FIX.4.4",
        )
        options.update(properties)
        self.mirror.create_feed("live", "dst", **options)

    def test_mirrorsSnapshotAndUpdates(self):
        self.order("b1", "buy", "149.99", 300)
        self.order("b2", "buy", "149.98", 200)
        self.order("a1", "sell", "150.01", 100)
        self.order("m1", "sell", "300.00", 50, book="MSFT")
        self.createFeed()
        self.connect()
        self.assertMirrored()
        self.assertMirrored("MSFT")
        self.assertEqual(
            self.feedEvents(), [("connecting", None), ("logging_on", None), ("subscribed", None)]
        )
        # Updates: a new level, a level growing, a level going, a trade.
        self.order("b3", "buy", "149.99", 100)
        self.order("a2", "sell", "150.02", 400)
        self.source.delete_order("b2")
        self.order("t1", "sell", "149.99", 150)
        self.flush()
        self.assertMirrored()
        described = self.mirror.get_feed("live")
        self.assertEqual(described["state"], "subscribed")
        self.assertEqual(described["snapshots"], 2)
        self.assertGreater(described["updates"], 3)
        mirrored = self.mirror.book("AAPL")[1]
        self.assertEqual(mirrored.lastPrice, 1499900)
        self.assertEqual({o.owner for o in mirrored.orders()}, {"feed/live"})
        # The mirror's own events stay out of its control queue.
        self.assertEqual([e["type"] for e in self.mirror.get_events()], [])

    def test_clientTradesWithMirroredLiquidity(self):
        """
        A client order on the mirror trades with mirrored liquidity; what
        it took stays taken when the source updates the level.
        """
        self.order("a1", "sell", "150.01", 300)
        self.createFeed()
        self.connect()
        self.order("mine", "buy", "150.01", 100, sim=self.mirror)
        _, mirror = self.books()
        self.assertEqual(mirror, ([], [(1500100, 200)]))
        # The source's level grows to 500: the mirror shows 500 - 100.
        self.order("a2", "sell", "150.01", 200)
        self.flush()
        _, mirror = self.books()
        self.assertEqual(mirror, ([], [(1500100, 400)]))
        self.assertEqual(self.mirror.get_feed("live")["conflicts"], 1)
        # The level goes at the source: it goes here, and comes back whole.
        self.source.delete_order("a1")
        self.source.delete_order("a2")
        self.flush()
        self.assertEqual(self.books()[1], ([], []))
        self.order("a3", "sell", "150.01", 300)
        self.flush()
        self.assertMirrored()

    def test_reconnectsWithBackoff(self):
        """
        When the source drops, the mirrored orders go, and the feed tries
        again after 1, 2, 4... seconds (up to max_reconnect_delay); once
        subscribed again, the book is back.
        """
        self.order("a1", "sell", "150.01", 300)
        self.createFeed(reconnect_delay=1, max_reconnect_delay=3)
        self.connect()
        self.assertMirrored()
        pump, serverTransport, _ = self.pumps.pop()
        serverTransport.loseConnection()
        pump.flush()
        self.assertEqual(self.books()[1], ([], []))
        self.assertEqual(self.mirror.get_feed("live")["state"], "disconnected")
        self.assertEqual(self.reactor.tcpClients, [])
        self.reactor.advance(0.99)
        self.assertEqual(self.reactor.tcpClients, [])
        self.reactor.advance(0.01)
        self.assertEqual(len(self.reactor.tcpClients), 1)
        # Refused twice: the delays double, up to the maximum.
        delays = []
        for attempt in range(3):
            host, port, factory, _, _ = self.reactor.tcpClients.pop()
            factory.clientConnectionFailed(None, _refused())
            waited = 0.0
            while not self.reactor.tcpClients:
                self.reactor.advance(0.5)
                waited += 0.5
            delays.append(waited)
        self.assertEqual(delays, [2.0, 3.0, 3.0])
        self.order("a2", "sell", "150.02", 100)
        self.connect()
        self.assertMirrored()
        states = [s for s, _ in self.feedEvents()]
        self.assertEqual(states.count("subscribed"), 2)
        self.assertIn("disconnected", states)

    def test_gapAsksForSnapshot(self):
        """
        A lost message (a MsgSeqNum gap) makes the feed ask for a new
        snapshot, which puts the mirror right.
        """
        self.createFeed()
        pump = self.connect()
        _, serverTransport, clientTransport = self.pumps[-1]
        # Lose one market data message on the way.
        self.order("a1", "sell", "150.01", 300)
        serverTransport.stream = []
        self.order("a2", "sell", "150.02", 100)
        pump.flush()
        self.assertMirrored()
        self.assertEqual(self.mirror.get_feed("live")["gaps"], 1)

    def test_deleteFeed(self):
        self.order("a1", "sell", "150.01", 300)
        self.createFeed()
        self.connect()
        self.assertRaises(BadValue, self.mirror.delete_book, "AAPL")
        self.mirror.delete_feed("live")
        self.flush()
        self.reactor.advance(5)
        self.flush()
        self.assertEqual(self.books()[1], ([], []))
        self.assertEqual(self.reactor.tcpClients, [])
        self.assertRaises(UnknownName, self.mirror.get_feed, "live")
        self.assertEqual(self.feedEvents()[-1], ("stopped", None))
        self.mirror.delete_book("AAPL")

    def test_heartbeatsAndSilence(self):
        """
        A silent source is sent a TestRequest, then dropped.
        """
        self.createFeed(heartbeat_interval=5)
        self.connect()
        _, serverTransport, clientTransport = self.pumps[-1]
        # From now on nothing reaches the feed; what it sends is kept.
        serverTransport.write = lambda data: None
        sent = []
        write = clientTransport.write
        clientTransport.write = lambda data: sent.append(data) or write(data)
        for _ in range(30):
            self.reactor.advance(1)
            self.flush()
        self.assertIn(b"\x0135=1\x01", b"".join(sent))
        [(state, text)] = [e for e in self.feedEvents() if e[0] == "disconnected"]
        self.assertIn("the source is silent", text)

    def test_logonRefused(self):
        """
        A source that refuses the Logon: the feed says why, and retries.
        """
        self.source.set_protocol_property("fix1", "target_comp_id", "SOMEONE")
        self.createFeed()
        self.connect()
        self.flush()
        described = self.mirror.get_feed("live")
        self.assertEqual(described["state"], "disconnected")
        self.assertIn("logged out", described["text"])


def _refused():
    from twisted.internet.error import ConnectionRefusedError
    from twisted.python.failure import Failure

    return Failure(ConnectionRefusedError())


class MatchingFeedTests(FeedMixin, SynchronousTestCase):
    engineClass = "matching"


class ReferenceFeedTests(FeedMixin, SynchronousTestCase):
    engineClass = "reference"


class OperationTests(Network, SynchronousTestCase):
    """
    create_feed's checks, and the C{[feed:NAME]} section.
    """

    def setUp(self):
        self.setUpNetwork()

    def test_properties(self):
        values = parseProperties({"connect": "tcp:127.0.0.1:1", "symbols": "A, B,A"})
        self.assertEqual(values["symbols"], ("A", "B"))
        self.assertEqual((values["begin_string"], values["heartbeat_interval"]), ("FIX.4.4", 30.0))
        for bad in [
            {"symbols": "A"}, {"connect": "tcp:x:1"}, {"connect": "tcp:x:1", "symbols": ""},
            {"connect": "tcp:x:1", "symbols": "A", "begin_string": "FIX.9"},
            {"connect": "tcp:x:1", "symbols": "A", "colour": "red"},
            {"connect": "tcp:x:1", "symbols": "A", "sender_comp_id": "a|b"},
            {"connect": "tcp:x:1", "symbols": "A", "heartbeat_interval": "0"},
            {"connect": "tcp:x:1", "symbols": "A", "reconnect_delay": "5", "max_reconnect_delay": "1"},
            {"connect": "tcp:x:1", "symbols": "A", "depth": "-1"},
        ]:
            self.assertRaises(BadValue, parseProperties, bad)

    def test_errors(self):
        m = self.mirror
        self.assertRaises(UnknownName, m.create_feed, "f", "nope", connect="tcp:127.0.0.1:1", symbols="AAPL")
        self.assertRaises(UnknownName, m.create_feed, "f", "dst", connect="tcp:127.0.0.1:1", symbols="IBM")
        self.assertRaises(BadValue, m.create_feed, "f", "dst", connect="nonsense:1", symbols="AAPL")
        m.create_feed("f", "dst", connect="tcp:127.0.0.1:1", symbols="AAPL")
        self.assertRaises(DuplicateName, m.create_feed, "f", "dst", connect="tcp:127.0.0.1:1", symbols="MSFT")
        self.assertRaises(WrongState, m.create_feed, "g", "dst", connect="tcp:127.0.0.1:1", symbols="AAPL")
        self.assertEqual(list(m.feeds), ["f"])

    def test_section(self):
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[feed:live]\nengine = dst\nconnect = tcp:127.0.0.1:9878\nsymbols = AAPL\n"
                    "sender_comp_id = MIRROR\ntarget_comp_id = EXSIM\n")
        config.apply(config.load(path), self.mirror)
        self.order("a1", "sell", "150.01", 300)
        self.connect()
        source, mirror = self.books()
        self.assertEqual(mirror, source)
        for text, where in [
            ("[feed:x]\nengine = dst\nconnect = tcp:127.0.0.1:1\nsymbols = MSFT\ncolour = red\n", ":5:"),
            ("[feed:x]\nengine = dst\nconnect = tcp:127.0.0.1:1\nsymbols = MSFT\nheartbeat_interval = 0\n", ":5:"),
            ("[feed:x]\nengine = nope\nconnect = tcp:127.0.0.1:1\nsymbols = MSFT\n", ":2:"),
        ]:
            with open(path, "w") as f:
                f.write(text)
            e = self.assertRaises(ConfigError, config.apply, config.load(path), self.mirror)
            self.assertIn(where, str(e))


def marketData(msgType, body, symbol=None):
    """
    A parsed market-data message (W with C{symbol}, or X) of C{body}.
    """
    if symbol is not None:
        body = [(55, symbol)] + body
    raw = codec.encode(
        "FIX.4.4", msgType, [(49, "EXSIM"), (56, "MIRROR"), (34, "2"), (52, "20240102-09:30:00")], body
    )
    return codec.Message.fromBytes(raw)


#: Prices (in ticks of 0.01) of the property tests: bids below 100.00, asks
#: above, so that a source's book is never crossed.
_bidTicks = st.integers(9950, 9999)
_askTicks = st.integers(10001, 10050)
_level = st.one_of(
    st.tuples(st.just(True), _bidTicks, st.integers(0, 5000)),
    st.tuples(st.just(False), _askTicks, st.integers(0, 5000)),
)
_message = st.one_of(
    st.tuples(st.just("W"), st.lists(_level, max_size=8)),
    st.tuples(
        st.just("X"),
        st.lists(st.tuples(st.sampled_from("012"), _level), min_size=1, max_size=8),
    ),
)
#: Values of the fuzz test: well formed, or not.
_junkValue = st.one_of(
    st.sampled_from(["", "0", "-1", "1e400", "nan", "inf", "150.001", "99.99", "100.01",
                     "abc", "9" * 30, "1.5", "AAPL", "MSFT", "IBM"]),
    st.text(alphabet="0123456789.-eE", max_size=12),
)


class MirrorPropertyTests(SynchronousTestCase):
    """
    Whatever market data arrives, the mirror follows it: the source's book
    as the messages say (levels set, changed, removed; a snapshot replaces
    everything), one order a level; junk is counted, never a crash.
    """

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(START)
        self.sim = Simulator(self.reactor)
        self.sim.create_engine("dst", "matching")
        self.sim.create_book("AAPL", "dst")
        self.sim.create_book("MSFT", "dst")
        self.sim.create_feed(
            "live", "dst", connect="tcp:127.0.0.1:9878", symbols="AAPL,MSFT",
            sender_comp_id="MIRROR", target_comp_id="EXSIM",
        )
        self.feed = self.sim.feeds["live"]

    def levels(self, symbol="AAPL"):
        book = self.sim.book(symbol)[1]
        result = {}
        for isBuy in (True, False):
            for price, quantity, count in book.depth(isBuy, 1000):
                self.assertEqual(count, 1)
                result[isBuy, price] = quantity
        return result

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(_message, max_size=12))
    def test_followsTheSource(self, messages):
        """
        After every message the mirrored book is the model's: a snapshot
        replaces every level, an incremental entry sets its level (action
        0 or 1) or removes it (2), the last entry of a level winning.
        """
        self.setUp()
        model = {}
        for msgType, items in messages:
            if msgType == "W":
                model = {}
                body = [(268, str(len(items)))]
                for isBuy, tick, size in items:
                    body += [(269, "0" if isBuy else "1"), (270, "%.2f" % (tick / 100.0)), (271, str(size))]
                    if size:
                        model[isBuy, tick] = size
                    else:
                        model.pop((isBuy, tick), None)
                self.feed.marketData(marketData("W", body, "AAPL"))
            else:
                body = [(268, str(len(items)))]
                for action, (isBuy, tick, size) in items:
                    body += [
                        (279, action), (269, "0" if isBuy else "1"), (55, "AAPL"),
                        (270, "%.2f" % (tick / 100.0)), (271, str(size)),
                    ]
                    if action == "2" or not size:
                        model.pop((isBuy, tick), None)
                    else:
                        model[isBuy, tick] = size
                self.feed.marketData(marketData("X", body))
            self.assertEqual(self.levels(), {(b, t * 100): q for (b, t), q in model.items()})
            self.assertEqual(self.feed.describe()["live_orders"], len(model))
        self.assertEqual(self.levels("MSFT"), {})
        self.sim.engines["dst"].books["AAPL"].validateInternalState()

    def test_badSizes(self):
        """
        A size that is not a whole number of shares (a fraction, infinite,
        not a number, negative, absurdly large) is counted as rejected; the
        entries around it are mirrored.
        """
        body = [(268, "7")]
        for size in ("1e400", "1.5", "nan", "-5", "1" + "0" * 20, "200", "inf"):
            body += [(269, "1"), (270, "150.01" if size == "200" else "150.02"), (271, size)]
        self.feed.marketData(marketData("W", body, "AAPL"))
        self.assertEqual(self.levels(), {(False, 1500100): 200})
        self.assertEqual(self.feed.describe()["rejected"], 6)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(
        st.tuples(
            st.sampled_from("WX"),
            st.one_of(st.none(), _junkValue),
            st.lists(st.lists(st.tuples(st.sampled_from([279, 269, 55, 270, 271, 290, 58]), _junkValue),
                              max_size=6), max_size=6),
        ),
        max_size=6,
    ))
    def test_junk(self, messages):
        """
        Market data with any values (missing, not numbers, out of range,
        off the tick grid, unknown symbols, crossed) is mirrored where it
        makes sense and counted as rejected where not, never an error.
        """
        self.setUp()
        for msgType, symbol, entries in messages:
            body = [(268, str(len(entries)))]
            for fields in entries:
                body += [(279 if msgType == "X" else 269, "0")] + list(fields)
            self.feed.marketData(marketData(msgType, body, symbol if msgType == "W" else None))
            for name in ("AAPL", "MSFT"):
                self.sim.engines["dst"].books[name].validateInternalState()
        described = self.feed.describe()
        self.assertEqual(described["messages"], len(messages))


class ProcessTests(TestCase):
    """
    A feed from a second exsim process: both simulators are real
    processes, the feed a real FIX connection between them.
    """

    timeout = 120

    def waitFor(self, predicate, what, seconds=30.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        self.fail("timed out waiting for %s" % (what,))

    def test_mirrorFromAnotherProcess(self):
        source = startServer(self)
        source.create_engine("src")
        source.create_book("AAPL", "src")
        source.create_endpoint("md", "src", "fix", listen="tcp:0:interface=127.0.0.1", sender_comp_id="EXSIM")
        host, port = source.get_endpoint_address("md")
        for name, side, price, quantity in [
            ("b1", "buy", "149.99", 300), ("b2", "buy", "149.98", 200), ("a1", "sell", "150.01", 100),
        ]:
            source.create_order(name, "AAPL", side=side, price=price, quantity=quantity)
            source.submit_order(name)
        mirror = startServer(self)
        mirror.create_engine("dst")
        mirror.create_book("AAPL", "dst")
        mirror.create_feed(
            "live", "dst", connect="tcp:%s:%d" % (host, port), symbols="AAPL",
            sender_comp_id="MIRROR", target_comp_id="EXSIM", reconnect_delay="0.2",
        )

        def same():
            a, b = source.get_book("AAPL", 100), mirror.get_book("AAPL", 100)
            return (a["bids"], a["asks"]) == (b["bids"], b["asks"]) and a["bids"]

        self.waitFor(same, "the mirrored book")
        source.create_order("a2", "AAPL", side="sell", price="150.02", quantity=400)
        source.submit_order("a2")
        source.delete_order("b2")
        self.waitFor(lambda: same() and mirror.get_book("AAPL")["asks"][-1:] == [("150.02", 400, 1)], "updates")
        # A client order on the mirror takes mirrored liquidity.
        mirror.create_order("mine", "AAPL", side="buy", price="150.01", quantity=60)
        mirror.submit_order("mine")
        self.assertEqual(mirror.get_book("AAPL")["asks"][0], ("150.01", 40, 1))
        self.assertEqual(mirror.get_feed("live")["state"], "subscribed")
        states = [e["state"] for e in mirror.get_events() if e["type"] == "feed_state"]
        self.assertEqual(states[-1], "subscribed")
        # The source goes away: the mirror says so and empties the book.
        source.delete()
        self.waitFor(lambda: mirror.get_feed("live")["state"] in ("disconnected", "connecting"), "the drop")
        self.waitFor(lambda: mirror.get_book("AAPL")["asks"] == [], "the mirrored orders to go")
        mirror.delete_feed("live")
