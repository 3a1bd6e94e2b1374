# -*- test-case-name: tests.test_instruments -*-
"""
Tests for L{exsim.instruments}: reference data files, the book properties
that carry reference data, and what the engines make of them (tick tables
and lot sizes).
"""

import json
import os

from hypothesis import given, settings, strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from exsim import config, instruments
from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.errors import BadValue, ConfigError
from exsim.control.queue import formatPrice
from exsim.model import Instrument, Order, Side
from exsim.service import Simulator

CSV = """\
symbol,tick_table,lot_size,price_decimals,reference_price,currency,security_id,security_id_source,name
AAPL,0:0.0001;1:0.01,100,4,150.25,usd,US0378331005,isin,Apple Inc.
MSFT,,,2,300,USD,US5949181045,4,Microsoft
"""

JSON_TEXT = """[
  {"symbol": "VOD", "tick_size": 0.05, "currency": "GBP",
   "security_id": "GB00BH4HKS39", "security_id_source": "isin"},
  {"symbol": "X", "tick_table": [[0, 0.001], [10, 0.01]], "lot_size": 10}
]
"""


class InstrumentModelTests(SynchronousTestCase):
    """
    L{Instrument}'s tick table and lot size.
    """

    def test_tickTable(self):
        i = Instrument("X")
        i.setTickTable([(0, 1), (10000, 100), (1000000, 500)])
        self.assertEqual(i.tickSize, 1)
        self.assertFalse(i.plain)
        self.assertEqual([i.tickAt(p) for p in (0, 9999, 10000, 999999, 1000000, 10**9)],
                         [1, 1, 100, 100, 500, 500])
        self.assertTrue(i.onTick(5001))
        self.assertFalse(i.onTick(10001))
        self.assertTrue(i.onTick(10100))
        self.assertFalse(i.onTick(1000100))
        self.assertTrue(i.onTick(1000500))
        i.setTickTable(None)
        self.assertTrue(i.plain)
        self.assertIsNone(i.tickTable)

    def test_badTables(self):
        i = Instrument("X")
        for bad in ([], [(1, 1)], [(0, 1), (0, 2)], [(0, 1), (5, 0)], [(0, 2), (10, 1), (5, 3)]):
            self.assertRaises(BadValue, i.setTickTable, bad)
        self.assertIsNone(i.tickTable)
        self.assertEqual(i.tickSize, 100)

    def test_lotSize(self):
        i = Instrument("X")
        i.setLotSize(100)
        self.assertFalse(i.plain)
        self.assertIsNone(i.lotProblem(300))
        self.assertIn("lot size 100", i.lotProblem(150))
        for bad in (0, -1, "10", 1.5):
            self.assertRaises(BadValue, i.setLotSize, bad)
        i.setLotSize(1)
        self.assertTrue(i.plain)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 1000)), max_size=5),
           st.integers(1, 1000), st.integers(0, 10**7))
    def test_onTickIsBandGrid(self, bands, first, price):
        """
        A price is on the grid when it is a multiple of its band's tick.
        """
        table = sorted(dict([(0, first)] + bands).items())
        i = Instrument("X")
        i.setTickTable(table)
        band = [tick for low, tick in table if low <= price][-1]
        self.assertEqual(i.onTick(price), price % band == 0)

    def test_priceDecimals(self):
        i = Instrument("X")
        self.assertEqual(formatPrice(i, 1502500), "150.25")
        self.assertEqual(formatPrice(i, 1500000), "150.00")
        i.priceDecimals = 4
        self.assertEqual(formatPrice(i, 1500000), "150.0000")
        i.priceDecimals = 0
        self.assertEqual(formatPrice(i, 1500000), "150.00")


class PropertyTests(SynchronousTestCase):
    """
    The reference-data book properties, through C{set_book_property}.
    """

    def setUp(self):
        self.sim = Simulator(Clock())
        self.sim.create_engine("e1")
        self.sim.create_book("AAPL", "e1")
        self.instrument = self.sim.book("AAPL")[1].instrument

    def test_values(self):
        s = self.sim
        s.set_book_property("AAPL", "lot_size", "100")
        s.set_book_property("AAPL", "tick_table", "0:0.0001; 1:0.01")
        s.set_book_property("AAPL", "price_decimals", 4)
        s.set_book_property("AAPL", "currency", "usd")
        s.set_book_property("AAPL", "security_id", "US0378331005")
        s.set_book_property("AAPL", "security_id_source", "ISIN")
        s.set_book_property("AAPL", "instrument_name", "Apple Inc.")
        self.assertEqual(
            instruments.describe(self.instrument),
            {
                "symbol": "AAPL", "tick_size": "0.0001",
                "tick_table": [("0", "0.0001"), ("1", "0.01")], "lot_size": 100,
                "price_decimals": 4, "currency": "USD", "security_id": "US0378331005",
                "security_id_source": "4", "name": "Apple Inc.",
            },
        )
        s.set_book_property("AAPL", "tick_table", "none")
        self.assertIsNone(self.instrument.tickTable)
        s.set_book_property("AAPL", "security_id", "")
        self.assertIsNone(self.instrument.securityId)

    def test_badValues(self):
        s = self.sim
        for name, value in [
            ("lot_size", "0"), ("lot_size", "x"), ("tick_table", "0.01"),
            ("tick_table", "1:0.01"), ("tick_table", "0:0.00001"), ("price_decimals", "5"),
            ("price_decimals", "-1"), ("currency", "US"), ("currency", "U$D"),
            ("security_id", "a|b"), ("security_id", "x" * 65), ("security_id_source", "nonsense"),
            ("instrument_name", "a\x01b"),
        ]:
            self.assertRaises(BadValue, s.set_book_property, "AAPL", name, value)
        self.assertEqual(instruments.describe(self.instrument)["lot_size"], 1)
        self.assertIsNone(self.instrument.tickTable)

    def test_decimalsAgainstTick(self):
        """
        price_decimals cannot be fewer than the tick has.
        """
        self.sim.set_book_property("AAPL", "price_decimals", 2)
        self.assertRaises(BadValue, self.sim.set_book_property, "AAPL", "tick_table", "0:0.001")
        self.assertIsNone(self.instrument.tickTable)
        self.assertRaises(BadValue, self.sim.set_book_property, "AAPL", "price_decimals", 1)
        self.assertEqual(self.instrument.priceDecimals, 2)


class EngineRulesMixin:
    """
    Lot sizes and tick tables, in an engine: checked on every new order and
    replace, including orders whose terms took the fast path before.
    """

    engineClass = None

    def setUp(self):
        self.engine = self.engineClass("e1", Clock())
        self.book = self.engine.addBook(Instrument("AAPL"))
        self.events = []
        self.engine.subscribe(self)
        self.serial = 0

    def engineEvents(self, events):
        self.events.extend(events)

    def new(self, quantity, price):
        self.serial += 1
        self.events = []
        order = Order("o", str(self.serial), "AAPL", Side.BUY, quantity, price)
        self.engine.submitNew(order)
        return [e for e in self.events if e.type == "rejected"]

    def test_lotSize(self):
        self.assertEqual(self.new(150, 1000000), [])
        self.assertEqual(self.new(150, 1000000), [])
        self.engine.setBookProperty("AAPL", "lot_size", "100")
        [reject] = self.new(150, 1000000)
        self.assertIn("not a multiple of the lot size 100", reject.text)
        self.assertEqual(self.new(200, 1000000), [])
        order = self.engine.liveOrders()[-1]
        self.events = []
        self.engine.submitReplace("o", "r1", orderId=order.orderId, quantity=250)
        self.assertEqual([e.type for e in self.events], ["cancel_rejected"])
        self.engine.submitReplace("o", "r2", orderId=order.orderId, quantity=300)
        self.assertEqual(order.quantity, 300)

    def test_tickTable(self):
        self.engine.setBookProperty("AAPL", "tick_table", "0:0.0001; 1:0.01")
        self.assertEqual(self.new(100, 5001), [])
        [reject] = self.new(100, 10001)
        self.assertEqual(reject.text, "price is not on the tick grid")
        self.assertEqual(self.new(100, 10100), [])
        order = self.engine.liveOrders()[-1]
        self.events = []
        self.engine.submitReplace("o", "r1", orderId=order.orderId, price=10101)
        self.assertEqual([e.type for e in self.events], ["cancel_rejected"])


class MatchingEngineRulesTests(EngineRulesMixin, SynchronousTestCase):
    engineClass = MatchingEngine


class ReferenceEngineRulesTests(EngineRulesMixin, SynchronousTestCase):
    engineClass = ReferenceEngine


class LoadTests(SynchronousTestCase):
    """
    C{load_instruments}.
    """

    def setUp(self):
        self.dir = os.path.abspath(self.mktemp())
        os.makedirs(self.dir)
        self.sim = self.simulator()
        self.sim.create_engine("e1")

    def simulator(self):
        """
        A simulator whose data directory is the test's.
        """
        sim = Simulator(Clock())
        sim.dataDir = self.dir
        return sim

    def write(self, name, text):
        """
        Write a file in the data directory; return its name there.
        """
        with open(os.path.join(self.dir, name), "w", encoding="utf-8") as f:
            f.write(text)
        return name

    def assertFails(self, text, name, *parts):
        """
        Loading C{text} as C{name} fails with a message containing every
        one of C{parts}, and changes nothing.
        """
        path = self.write(name, text)
        before = {n: dict(self.sim.book(n)[1].properties) for n in self.sim.bookEngines}
        e = self.assertRaises(BadValue, self.sim.load_instruments, "e1", path)
        for part in parts:
            self.assertIn(part, str(e))
        after = {n: dict(self.sim.book(n)[1].properties) for n in self.sim.bookEngines}
        self.assertEqual(before, after)
        return str(e)

    def test_csv(self):
        path = self.write("i.csv", CSV)
        self.assertEqual(self.sim.load_instruments("e1", path), {"created": 2, "updated": 0})
        _, aapl = self.sim.book("AAPL")
        self.assertEqual(aapl.instrument.tickTable, ((0, 1), (10000, 100)))
        self.assertEqual(aapl.instrument.lotSize, 100)
        self.assertEqual(aapl.referencePrice, 1502500)
        self.assertEqual(aapl.instrument.securityIdSource, "4")
        _, msft = self.sim.book("MSFT")
        # price_decimals alone gives a new instrument its tick.
        self.assertEqual(msft.instrument.tickSize, 100)
        self.assertEqual(self.sim.get_book("MSFT")["symbol"], "MSFT")
        engine = self.sim.engines["e1"]
        self.assertEqual(instruments.findSecurity(engine, "US5949181045"), "MSFT")
        self.assertEqual(instruments.findSecurity(engine, "US5949181045", "4"), "MSFT")
        self.assertIsNone(instruments.findSecurity(engine, "US5949181045", "1"))
        self.assertIsNone(instruments.findSecurity(engine, "nothing"))

    def test_json(self):
        path = self.write("i.json", JSON_TEXT)
        self.assertEqual(self.sim.load_instruments("e1", path), {"created": 2, "updated": 0})
        vod = self.sim.book("VOD")[1].instrument
        self.assertEqual((vod.tickSize, vod.currency), (500, "GBP"))
        x = self.sim.book("X")[1].instrument
        self.assertEqual((x.tickTable, x.lotSize), (((0, 10), (100000, 100)), 10))

    def test_updates(self):
        """
        A row for a symbol the engine has a book for updates that book
        (whatever its name); columns not given stay as they were.
        """
        self.sim.create_book("apple", "e1", "AAPL")
        self.sim.set_book_property("apple", "currency", "EUR")
        self.sim.set_book_property("apple", "lot_size", 10)
        path = self.write("i.csv", "symbol,lot_size\nAAPL,100\n")
        self.assertEqual(self.sim.load_instruments("e1", path), {"created": 0, "updated": 1})
        instrument = self.sim.book("apple")[1].instrument
        self.assertEqual((instrument.lotSize, instrument.currency), (100, "EUR"))
        self.assertNotIn("AAPL", self.sim.bookEngines)

    def test_tickSizeReplacesTable(self):
        self.sim.create_book("AAPL", "e1")
        self.sim.set_book_property("AAPL", "tick_table", "0:0.0001;1:0.01")
        self.sim.load_instruments("e1", self.write("i.csv", "symbol,tick_size\nAAPL,0.05\n"))
        instrument = self.sim.book("AAPL")[1].instrument
        self.assertEqual((instrument.tickTable, instrument.tickSize), (None, 500))

    def test_nothingChangesOnError(self):
        """
        A bad row anywhere: no book is created, none is changed.
        """
        self.sim.create_book("AAPL", "e1")
        text = "symbol,lot_size,currency\nAAPL,100,EUR\nNEW,10,USD\nBAD,0,USD\n"
        message = self.assertFails(text, "i.csv", "i.csv, line 4, column lot_size", "lot_size")
        self.assertIn("between 1 and", message)
        self.assertEqual(sorted(self.sim.bookEngines), ["AAPL"])
        self.assertEqual(self.sim.book("AAPL")[1].instrument.lotSize, 1)

    def test_errors(self):
        cases = [
            ("symbol,bogus\nA,1\n", "i.csv", ["line 1, column bogus", "unknown column"]),
            ("tick_size\n0.01\n", "i.csv", ["no symbol column"]),
            ("symbol,tick_size\nA,0.00001\n", "i.csv", ["line 2, column tick_size"]),
            ("symbol,tick_size\nA,abc\n", "i.csv", ["line 2, column tick_size"]),
            ("symbol,tick_size,tick_table\nA,0.01,0:0.01\n", "i.csv", ["not both"]),
            ("symbol\nA\nB\nA\n", "i.csv", ["line 4, column symbol", "given twice (also on line 2)"]),
            ("symbol,currency\nA,EURO\n", "i.csv", ["line 2, column currency"]),
            ("symbol,lot_size\nA,1,2\n", "i.csv", ["line 2, column 3"]),
            ("symbol,symbol\nA,B\n", "i.csv", ["column symbol", "twice"]),
            ("symbol\n\x01A\n", "i.csv", ["line 2, column symbol", "printable"]),
            ("", "i.csv", ["no header row"]),
            ('[{"symbol": "A"},\n {"symbol": "B", "lot_size": 0}]', "i.json", ["line 2, column lot_size"]),
            ('[{"symbol": "A",\n  "colour": "red"}]', "i.json", ["line 2, column colour", "unknown column"]),
            ('[{"symbol": "A"}', "i.json", ["expected ',' or ']'"]),
            ('[{"symbol": "A",]', "i.json", ["not valid JSON"]),
            ('{"symbol": "A"}', "i.json", ["an array of objects"]),
            ('[1]', "i.json", ["must be a JSON object"]),
            ('[{"symbol": "A"}] x', "i.json", ["after the JSON array"]),
            ('[{"symbol": "A", "currency": {"a": 1}}]', "i.json", ["column currency"]),
            ("hello world\n", "i.dat", ["unknown instruments file format"]),
        ]
        for text, name, parts in cases:
            self.assertFails(text, name, *parts)
        self.assertEqual(self.sim.bookEngines, {})

    def test_notUtf8(self):
        with open(os.path.join(self.dir, "i.csv"), "wb") as f:
            f.write(b"symbol\nA\n\xff\xfe\n")
        e = self.assertRaises(BadValue, self.sim.load_instruments, "e1", "i.csv")
        self.assertIn("i.csv, line 3", str(e))

    def test_missingFile(self):
        e = self.assertRaises(BadValue, self.sim.load_instruments, "e1", "nope.csv")
        self.assertEqual(str(e).split(":")[0], "cannot read instruments file nope.csv")

    def test_dataDirectory(self):
        """
        Through the management API a file is named under the data
        directory: an absolute path or one leaving it is refused.
        """
        outside = os.path.join(os.path.dirname(self.dir), "outside.csv")
        with open(outside, "w") as f:
            f.write("symbol\nA\n")
        for name in (outside, "../outside.csv", "sub/../../outside.csv"):
            e = self.assertRaises(BadValue, self.sim.load_instruments, "e1", name)
            self.assertIn("data directory", str(e))
        self.assertEqual(self.sim.bookEngines, {})
        os.makedirs(os.path.join(self.dir, "sub"))
        self.write(os.path.join("sub", "in.csv"), "symbol\nA\n")
        self.assertEqual(self.sim.load_instruments("e1", "sub/in.csv"), {"created": 1, "updated": 0})

    def test_otherEngine(self):
        """
        A symbol whose book (by name) is another engine's is an error.
        """
        self.sim.create_engine("e2")
        self.sim.create_book("AAPL", "e2")
        self.assertFails("symbol\nAAPL\n", "i.csv", "exists on engine 'e2'")

    def test_configSection(self):
        """
        C{[instruments]} loads a file relative to the configuration file.
        """
        self.write("i.csv", CSV)
        ini = self.write(
            "sim.ini", "[engine:e2]\n[instruments]\nengine = e2\nfile = i.csv\n"
        )
        sim = Simulator(Clock())
        config.apply(config.load(os.path.join(self.dir, ini)), sim)
        self.assertEqual(sorted(sim.bookEngines.items()), [("AAPL", "e2"), ("MSFT", "e2")])

    def test_configErrors(self):
        self.write("bad.csv", "symbol,lot_size\nA,x\n")
        for text, where in [
            ("[engine:e2]\n[instruments]\nengine = e2\nfile = bad.csv\n", ":4:"),
            ("[engine:e2]\n[instruments]\nengine = e2\nfile = i.csv\ncolour = red\n", ":5:"),
            ("[engine:e2]\n[instruments]\nfile = i.csv\n", ":2:"),
        ]:
            ini = os.path.join(self.dir, self.write("sim.ini", text))
            e = self.assertRaises(ConfigError, config.apply, config.load(ini), Simulator(Clock()))
            self.assertIn(where, str(e))

    @settings(max_examples=50, deadline=None)
    @given(st.text(max_size=200))
    def test_arbitraryCsv(self, text):
        """
        Any text is loaded or refused with a BadValue; nothing else.
        """
        path = self.write("fuzz.csv", text)
        sim = self.simulator()
        sim.create_engine("e1")
        try:
            sim.load_instruments("e1", path)
        except BadValue:
            self.assertEqual(sim.bookEngines, {})

    @settings(max_examples=50, deadline=None)
    @given(st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(
            st.sampled_from(instruments.COLUMNS + ("x",)), children, max_size=4),
        max_leaves=10,
    ))
    def test_arbitraryJson(self, value):
        path = self.write("fuzz.json", json.dumps(value))
        sim = self.simulator()
        sim.create_engine("e1")
        try:
            sim.load_instruments("e1", path)
        except BadValue:
            self.assertEqual(sim.bookEngines, {})
