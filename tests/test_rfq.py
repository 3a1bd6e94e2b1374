"""
The protocol-neutral RFQ desk (exsim.rfq.desk), the rfq engine class, the
RFQ book properties and the management operations quote_rfq and
decline_rfq, on a clock, on every engine class.
"""

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from exsim import config, registry
from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.errors import BadValue, ConfigError
from exsim.interfaces import IBehaviour, IEngine, IRfqListener
from exsim.model import Instrument, OrdStatus, Side
from exsim.rfq import desk as deskModule
from exsim.rfq.desk import RfqRefused, deskFor, existingDesk
from exsim.rfq.engine import RfqEngine, RfqOnly
from exsim.service import Simulator
from tests.helpers import P, Recorder, limit


@implementer(IRfqListener)
class Listener:
    """
    An RFQ listener recording what it is told; a dealer endpoint
    stand-in forwarding to C{dealers}.
    """

    def __init__(self, dealers=()):
        self.dealers = list(dealers)
        self.told = []

    def rfqRequested(self, request):
        self.told.append(("requested", request.requestId))
        return self.dealers

    def rfqQuoted(self, quote):
        self.told.append(("quoted", quote.quoteId))

    def rfqRejected(self, request, code, text):
        self.told.append(("rejected", request.requestId, code))

    def rfqQuoteEnded(self, quote, status):
        self.told.append((status, quote.quoteId))


class DeskTests(TestCase):
    """
    The desk on an engine and a clock, without any protocol.
    (L{ReferenceDeskTests}: on the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.engine = self.engineClass("e1", self.clock)
        self.book = self.engine.addBook(Instrument("AAPL", tickSize=100))
        self.engine.setBookProperty("AAPL", "rfq", "yes")
        self.recorder = Recorder()
        self.engine.subscribe(self.recorder)
        self.events = []
        self.desk = deskFor(self.engine, lambda eventType, **fields: self.events.append((eventType, fields)))
        self.listener = Listener(["dealer/D1", "dealer/D2"])
        self.desk.subscribe(self.listener)
        self.addCleanup(self.desk.stop)

    def types(self):
        return [t for t, _ in self.events]

    def test_verify(self):
        self.assertTrue(verifyObject(IRfqListener, self.listener))
        self.assertIs(existingDesk(self.engine), self.desk)
        self.assertIs(deskFor(self.engine), self.desk)

    def test_requestQuoteAccept(self):
        """
        A request goes to the listeners; a quote to the requester; the
        accept crosses a requester order with a dealer order off the book.
        """
        request = self.desk.request("fix1/C", "c1", "AAPL", Side.BUY, 100)
        self.assertEqual((request.requestId, request.dealers, request.deadline),
                         ("R1", ["dealer/D1", "dealer/D2"], 1010.0))
        quote = self.desk.quote("R1", "dealer/D1", None, None, P("10.01"), 100, dealerQuoteId="dq")
        self.assertEqual(self.listener.told, [("requested", "R1"), ("quoted", "Q1")])
        self.assertEqual(quote.validUntil, 1030.0)
        tradeId = self.desk.accept("Q1", "fix1/C", "o1", Side.BUY, 40)
        fills = self.recorder.of("filled")
        self.assertEqual(sorted((str(f.order.owner), f.order.clOrdId, f.quantity, f.price) for f in fills),
                         [("dealer/D1", "dq", 40, P("10.01")), ("fix1/C", "o1", 40, P("10.01"))])
        self.assertEqual(self.recorder.of("trade")[0].tradeId, tradeId)
        self.assertEqual(self.types(), ["rfq_request", "rfq_quote", "rfq_trade"])
        self.assertEqual(self.events[-1][1]["price"], "10.01")
        self.assertEqual(quote.state, "accepted")
        self.assertRaises(RfqRefused, self.desk.accept, "Q1", "fix1/C", "o2", Side.BUY, 1)

    def test_acceptRejectedByEngine(self):
        """
        If the engine rejects the cross (a client order id used already),
        the quote stays live and no trade is reported.
        """
        self.engine.submitNew(limit("fix1/C", "o1", "buy", 1, "1"))
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        quote = self.desk.quote("R1", "d", P("9.99"), 100, P("10.01"), 100)
        self.assertIsNone(self.desk.accept("Q1", "fix1/C", "o1", Side.SELL, 10))
        self.assertEqual(quote.state, "live")
        self.assertEqual([r.order.status for r in self.recorder.of("rejected")],
                         [OrdStatus.REJECTED, OrdStatus.REJECTED])
        self.assertNotIn("rfq_trade", self.types())
        self.assertIsNotNone(self.desk.accept("Q1", "fix1/C", "o2", Side.SELL, 10))

    def test_deadline(self):
        self.desk.request("fix1/C", "c1", "AAPL", None, 100, deadline=1002.0)
        self.clock.advance(1.9)
        self.assertEqual(self.listener.told, [("requested", "R1")])
        self.clock.advance(0.1)
        self.assertEqual(self.listener.told[-1], ("rejected", "R1", "no_quotes"))
        self.assertRaises(RfqRefused, self.desk.quote, "R1", "d", None, None, P("10"), 1)

    def test_quotedRequestClosesAtDeadline(self):
        """
        After the deadline a quoted request takes no more quotes, but its
        quotes stay tradable until they expire.
        """
        self.desk.request("fix1/C", "c1", "AAPL", None, 100, deadline=1002.0)
        self.desk.quote("R1", "d", P("9.99"), 100, None, None, validUntil=1005.0)
        self.clock.advance(2)
        self.assertEqual(self.desk.requests["R1"].state, "closed")
        self.assertRaises(RfqRefused, self.desk.quote, "R1", "d", P("9.98"), 1, None, None)
        self.desk.accept("Q1", "fix1/C", "o1", Side.SELL, 100)
        self.clock.advance(3)
        self.assertNotIn(("expired", "Q1"), self.listener.told)

    def test_expiry(self):
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.desk.quote("R1", "d", P("9.99"), 100, None, None, validUntil=1001.5)
        self.clock.advance(1.5)
        self.assertEqual(self.listener.told[-1], ("expired", "Q1"))
        e = self.assertRaises(RfqRefused, self.desk.accept, "Q1", "fix1/C", "o1", Side.SELL, 1)
        self.assertEqual((e.code, str(e)), ("expired", "quote Q1 expired"))
        self.assertEqual(self.recorder.of("filled"), [])

    def test_passQuote(self):
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.desk.quote("R1", "d", P("9.99"), 100, None, None)
        self.assertRaises(RfqRefused, self.desk.passQuote, "Q1", "fix1/OTHER")
        self.desk.passQuote("Q1", "fix1/C")
        self.assertEqual(self.listener.told[-1], ("passed", "Q1"))
        self.assertRaises(RfqRefused, self.desk.accept, "Q1", "fix1/C", "o1", Side.SELL, 1)

    def test_otherRequesterCannotAccept(self):
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.desk.quote("R1", "d", P("9.99"), 100, None, None)
        e = self.assertRaises(RfqRefused, self.desk.accept, "Q1", "fix1/X", "o1", Side.SELL, 1)
        self.assertEqual(str(e), "unknown quote 'Q1'")

    def test_declines(self):
        """
        Every dealer asked declines: rejected at once.
        """
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.desk.decline("R1", "dealer/D1", "no")
        self.assertEqual(self.desk.requests["R1"].state, "open")
        self.desk.decline("R1", "dealer/D2")
        self.assertEqual(self.listener.told[-1], ("rejected", "R1", "declined"))
        self.assertRaises(RfqRefused, self.desk.decline, "R1", "dealer/D2")

    def test_noDealers(self):
        self.listener.dealers = []
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.assertEqual(self.listener.told[-1], ("rejected", "R1", "no_dealers"))

    def test_managedWaitsForTest(self):
        """
        In managed mode a request with no dealer waits for the test.
        """
        self.listener.dealers = []
        self.engine.setProperty("mode", "managed")
        request = self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.assertEqual(request.state, "open")
        self.desk.quote("R1", "test", P("9.99"), 10, P("10.01"), 10)
        self.desk.accept("Q1", "fix1/C", "o1", Side.BUY, 10)
        self.assertEqual(self.engine.pendingRequests(), {})

    def test_badRequests(self):
        """
        Refused before anything is made: no event, no request.
        """
        self.engine.addBook(Instrument("MSFT"))
        for args, code in [
            (("NOPE", None, 1), "unknown_symbol"),
            (("MSFT", None, 1), "not_rfq"),
            (("AAPL", None, 0), "bad_request"),
            (("AAPL", "buy", 1), "bad_request"),
        ]:
            e = self.assertRaises(RfqRefused, self.desk.request, "fix1/C", "c", *args)
            self.assertEqual(e.code, code)
        e = self.assertRaises(RfqRefused, self.desk.request, "fix1/C", "c", "AAPL", None, 1, 999.0)
        self.assertEqual(e.code, "too_late")
        self.assertEqual((self.events, self.desk.requests), ([], {}))

    def test_badQuotes(self):
        """
        A bid above the offer, an unknown request, a side without a size,
        a price off the grid, the wrong side: refused, nothing changes.
        """
        self.desk.request("fix1/C", "c1", "AAPL", Side.SELL, 100)
        for args, code in [
            (("R1", "d", P("10.02"), 1, P("10.01"), 1), "crossed"),
            (("R1", "d", P("10.01"), 1, P("10.01"), 1), "crossed"),
            (("R9", "d", P("10"), 1, None, None), "unknown_request"),
            (("R1", "d", P("10"), None, None, None), "bad_quote"),
            (("R1", "d", P("10.001"), 1, None, None), "bad_quote"),
            (("R1", "d", None, None, P("10"), 1), "side"),
            (("R1", "d"), "bad_quote"),
            (("R1", "", P("10"), 1), "bad_quote"),
        ]:
            e = self.assertRaises(RfqRefused, self.desk.quote, *args)
            self.assertEqual(e.code, code, args)
            self.assertIsInstance(e, BadValue)
        self.assertEqual(self.desk.quotes, {})
        self.assertEqual(self.types(), ["rfq_request"])

    def test_acceptChecks(self):
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.desk.quote("R1", "d", P("9.99"), 50, P("10.01"), 60)
        for args, code in [
            (("Q1", "fix1/C", "o", Side.BUY, 61), "quantity"),
            (("Q1", "fix1/C", "o", Side.BUY, 0), "quantity"),
            (("Q1", "fix1/C", "o", Side.BUY, 1, P("10")), "price"),
            (("Q1", "fix1/C", "o", Side.SELL, 1, P("10")), "price"),
            (("Q1", "fix1/C", "o", "buy", 1), "side"),
            (("Q9", "fix1/C", "o", Side.BUY, 1), "unknown_quote"),
        ]:
            e = self.assertRaises(RfqRefused, self.desk.accept, *args)
            self.assertEqual(e.code, code, args)
        self.assertEqual(self.recorder.events, [])

    def test_forgetsOldRequests(self):
        """
        Beyond MAX_REQUESTS, the oldest finished requests and their quotes
        are forgotten; open ones and those with a live quote stay.
        """
        self.patch(deskModule, "MAX_REQUESTS", 3)
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.desk.quote("R1", "d", P("9.99"), 100, None, None)
        self.desk.request("fix1/C", "c2", "AAPL", None, 100, deadline=1001.0)
        self.desk.request("fix1/C", "c3", "AAPL", None, 100, deadline=1001.0)
        self.clock.advance(1)
        self.desk.request("fix1/C", "c4", "AAPL", None, 100)
        self.assertEqual(sorted(self.desk.requests), ["R1", "R3", "R4"])
        self.assertIn("Q1", self.desk.quotes)

    def test_listenerFailureLogged(self):
        class Broken(Listener):
            def rfqRequested(self, request):
                raise RuntimeError("broken")

        self.desk.subscribe(Broken())
        self.desk.request("fix1/C", "c1", "AAPL", None, 100)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(self.listener.told, [("requested", "R1")])


class ReferenceDeskTests(DeskTests):
    engineClass = ReferenceEngine


class EngineClassTests(TestCase):
    """
    The rfq engine class and the rfq_only behaviour.
    """

    def test_registered(self):
        self.assertIs(registry.lookup("engine", "rfq"), RfqEngine)
        self.assertIs(registry.lookup("behaviour", "rfq_only"), RfqOnly)
        engine = RfqEngine("e1", Clock())
        self.assertTrue(verifyObject(IEngine, engine))
        self.assertTrue(verifyObject(IBehaviour, RfqOnly()))

    def test_booksTakeRequests(self):
        sim = Simulator(MemoryReactorClock())
        sim.create_engine("e1", "rfq")
        sim.create_book("AAPL", "e1")
        book = sim.engines["e1"].getBook("AAPL")
        self.assertTrue(book.rfq.enabled)
        self.assertEqual(book.behaviour.name, "rfq_only")
        e = self.assertRaises(BadValue, sim.set_book_property, "AAPL", "rfq", "no")
        self.assertIn("rfq cannot be no", str(e))
        self.assertTrue(book.rfq.enabled)
        self.assertEqual(sim.get_properties("book", "AAPL")["rfq"], True)

    def test_rfqOnlyRejects(self):
        engine = RfqEngine("e1", Clock())
        engine.addBook(Instrument("AAPL"))
        recorder = Recorder()
        engine.subscribe(recorder)
        order = engine.submitNew(limit("c", "o1", "buy", 1, "1"))
        self.assertEqual(order.status, OrdStatus.REJECTED)
        self.assertIn("request for quote only", recorder.of("rejected")[0].text)


class BookPropertyTests(TestCase):
    """
    The RFQ book properties: parsed, defaults shown, bad values refused.
    """

    def setUp(self):
        self.sim = Simulator(MemoryReactorClock())
        self.sim.create_engine("e1")
        self.sim.create_book("AAPL", "e1")

    def test_defaults(self):
        properties = self.sim.get_properties("book", "AAPL")
        self.assertEqual(
            {k: properties[k] for k in properties if k.startswith("rfq")},
            {"rfq": False, "rfq_dealers": 0, "rfq_spread_ticks": 2, "rfq_response_delay": 0.5,
             "rfq_decline_rate": 0.0, "rfq_request_timeout": 10.0, "rfq_quote_valid_for": 30.0},
        )

    def test_set(self):
        for name, value, parsed in [
            ("rfq", "yes", True), ("rfq_dealers", "3", 3), ("rfq_spread_ticks", 5, 5),
            ("rfq_response_delay", "0", 0.0), ("rfq_decline_rate", "0.25", 0.25),
            ("rfq_request_timeout", "2.5", 2.5), ("rfq_quote_valid_for", 60, 60.0),
        ]:
            self.sim.set_book_property("AAPL", name, value)
            self.assertEqual(self.sim.get_properties("book", "AAPL")[name], parsed)

    def test_badValues(self):
        for name, value in [
            ("rfq", "maybe"), ("rfq_dealers", "-1"), ("rfq_dealers", "51"), ("rfq_dealers", "x"),
            ("rfq_spread_ticks", "0"), ("rfq_response_delay", "-1"), ("rfq_decline_rate", "1.5"),
            ("rfq_request_timeout", "0"), ("rfq_quote_valid_for", "nan"), ("rfq_quote_valid_for", "1e9"),
        ]:
            self.assertRaises(BadValue, self.sim.set_book_property, "AAPL", name, value)
        properties = self.sim.get_properties("book", "AAPL")
        self.assertEqual((properties["rfq"], properties["rfq_dealers"]), (False, 0))

    def test_config(self):
        sim = Simulator(MemoryReactorClock())
        config.apply(config.parse(
            "[engine:e1]\nclass = rfq\n[book:AAPL]\nengine = e1\nrfq_dealers = 2\nrfq_decline_rate = 0.5\n"
        ), sim)
        book = sim.engines["e1"].getBook("AAPL")
        self.assertEqual((book.rfq.rfq_dealers, book.rfq.rfq_decline_rate), (2, 0.5))
        e = self.assertRaises(ConfigError, config.apply, config.parse(
            "[engine:e2]\n[book:X]\nengine = e2\nrfq_dealers = lots\n", "sim.ini"), Simulator(MemoryReactorClock()))
        self.assertIn("sim.ini:4: rfq_dealers must be a whole number", str(e))


class OperationsTests(TestCase):
    """
    quote_rfq and decline_rfq on a simulator with two engines.
    """

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.sim = Simulator(self.reactor)
        self.desks = {}
        for name in ("e1", "e2"):
            self.sim.create_engine(name)
            self.sim.set_engine_property(name, "mode", "managed")
            self.sim.create_book("B" + name, name, "AAPL")
            self.sim.set_book_property("B" + name, "rfq", "yes")
            self.sim.set_book_property("B" + name, "tick_size", "0.01")
            self.desks[name] = deskFor(self.sim.engines[name])

    def test_quote(self):
        self.desks["e1"].request("fix1/C", "c1", "AAPL", None, 100)
        quoteId = self.sim.quote_rfq("R1", "bank", bid_price="9.99", bid_size="10", valid_for="5")
        quote = self.desks["e1"].quotes[quoteId]
        self.assertEqual((quote.bidPrice, quote.bidSize, quote.offerPrice), (P("9.99"), 10, None))
        self.assertEqual(quote.validUntil, self.reactor.seconds() + 5)
        events = self.sim.get_events()
        self.assertEqual([e["type"] for e in events], ["rfq_quote"])
        self.assertEqual((events[0]["engine"], events[0]["bid_price"]), ("e1", "9.99"))

    def test_ambiguousRequest(self):
        """
        A request id open on two engines needs the engine named.
        """
        for desk in self.desks.values():
            desk.request("fix1/C", "c1", "AAPL", None, 100)
        e = self.assertRaises(BadValue, self.sim.quote_rfq, "R1", "bank", "9.99", 1)
        self.assertIn("name the engine", str(e))
        self.sim.quote_rfq("R1", "bank", "9.99", 1, engine="e2")
        self.assertEqual((len(self.desks["e1"].quotes), len(self.desks["e2"].quotes)), (0, 1))
        self.sim.decline_rfq("R1", "bank", "no", engine="e1")
        self.assertEqual(self.desks["e1"].requests["R1"].declined, {"bank": "no"})

    def test_badValues(self):
        self.desks["e1"].request("fix1/C", "c1", "AAPL", None, 100)
        for args in [
            ("R1", "bank", "9.999", 1),
            ("R1", "bank", "-1", 1),
            ("R1", "bank", "9.99", "x"),
            ("R1", "bank", "9.99", 1, "9.98", 1),
            ("R1", "bank", "9.99", 1, None, None, "0"),
            ("R1", "bank", "9.99", 1, None, None, "x"),
        ]:
            self.assertRaises(BadValue, self.sim.quote_rfq, *args)
        self.assertEqual(self.desks["e1"].quotes, {})

    def test_deleteEngineStopsTimers(self):
        self.desks["e1"].request("fix1/C", "c1", "AAPL", None, 100)
        self.assertTrue(self.reactor.getDelayedCalls())
        self.sim.delete_engine("e1")
        self.sim.delete_engine("e2")
        self.assertEqual(self.reactor.getDelayedCalls(), [])
