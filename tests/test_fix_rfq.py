"""
Request for quote over FIX (exsim.fix.rfq), in memory on a clock: a
requester, two dealer sessions, simulated dealers, the test answering in
managed mode, expiry and a late accept, in FIX.4.2, FIX.4.4 and
FIX.5.0SP2, every message checked against the version's dictionary.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim.errors import BadValue
from exsim.fix import dictionary
from exsim.interfaces import IRfqListener
from exsim.rfq.desk import existingDesk
from exsim.service import Simulator
from tests import fixsession_helpers
from tests.fixsession_helpers import stamp


class RfqHarness:
    """
    A simulator on a MemoryReactorClock: engine e1 (C{engineClass}) with
    book AAPL (tick 0.01, reference price 150, C{rfq = yes} unless the
    engine is an rfq engine), an order-entry endpoint fix1 with a
    requester CLIENT, a dealer endpoint dealers with BANK1 and BANK2, and
    a drop copy dc1 with DC; every session speaks C{beginString}.
    """

    def __init__(self, test, beginString="FIX.4.4", applVerId=None, engineClass="matching",
                 dealers=("BANK1", "BANK2"), bookProperties=()):
        self.test = test
        self.reactor = reactor = MemoryReactorClock()
        reactor.advance(fixsession_helpers.START)
        self.sim = sim = Simulator(reactor)
        sim.create_engine("e1", engineClass)
        sim.create_book("AAPL", "e1")
        sim.set_book_property("AAPL", "tick_size", "0.01")
        sim.set_book_property("AAPL", "reference_price", "150")
        if engineClass != "rfq":
            sim.set_book_property("AAPL", "rfq", "yes")
        for name, value in bookProperties:
            sim.set_book_property("AAPL", name, value)
        self.beginString = beginString
        self.dictionary = dictionary.forVersion(beginString, applVerId)
        sim.create_endpoint("fix1", "e1", "fix", sender_comp_id="EXSIM", target_comp_id="*")
        sim.create_endpoint("dealers", "e1", "fix", sender_comp_id="EXSIM", target_comp_id="*",
                            role="dealer")
        sim.create_endpoint("dc1", "e1", "fix", sender_comp_id="EXSIM", target_comp_id="*",
                            role="drop_copy")
        for name in ("fix1", "dealers", "dc1"):
            sim.start_endpoint(name)
        self.requester = self.client("fix1", "CLIENT")
        self.dealers = {name: self.client("dealers", name, 40010 + i) for i, name in enumerate(dealers)}
        self.dropCopy = self.client("dc1", "DC", 40020)
        self.engine = sim.engines["e1"]
        sim.get_events()

    def client(self, endpoint, compId, port=40000):
        client = fixsession_helpers.Client(
            self.sim.endpoints[endpoint].factory, compId=compId, beginString=self.beginString,
            port=port,
        )
        [logon] = client.logon()
        self.test.assertEqual(logon.msgType, "A")
        return client

    def now(self, offset=0):
        return stamp(self.reactor.seconds() + offset)

    def send(self, client, msgType, fields):
        """
        Send an application message; return what every client received
        meanwhile, each checked against the version's dictionary.
        """
        client.protocol.dataReceived(client.build(msgType, fields))
        return self.received()

    def received(self):
        """
        {CompID: [messages]} received since the last call (application
        messages only), each valid for the version.
        """
        result = {}
        clients = dict(self.dealers, CLIENT=self.requester, DC=self.dropCopy)
        for name, client in clients.items():
            messages = [m for m in client.received() if m.msgType not in ("0", "1")]
            for message in messages:
                self.checkValid(message)
            result[name] = messages
        return result

    def checkValid(self, message):
        fields = [(tag, value) for tag, value in message.pairs if tag not in _HEADER_AND_TRAILER]
        problems = dictionary.validateOutgoing(self.dictionary, message.msgType, fields)
        self.test.assertEqual(problems, [], (self.beginString, message.msgType, fields))

    def request(self, clientId="rq1", quantity=100, side="1", symbol="AAPL", expire=None):
        entry = [(55, symbol)]
        if side is not None:
            entry.append((54, side))
        entry.append((38, quantity))
        if expire is not None:
            entry.append((126, expire))
        return self.send(self.requester, "R", [(131, clientId), (146, 1)] + entry)

    def dealerQuote(self, dealer, requestId, quoteId, bid=None, bidSize=None, offer=None,
                    offerSize=None, validUntil=None):
        fields = [(131, requestId), (117, quoteId), (55, "AAPL")]
        for tag, value in ((132, bid), (133, offer), (134, bidSize), (135, offerSize), (62, validUntil)):
            if value is not None:
                fields.append((tag, value))
        return self.send(self.dealers[dealer], "S", fields)

    def accept(self, clOrdId, quoteId, side="1", quantity=100, price=None):
        fields = [(11, clOrdId), (21, "1"), (55, "AAPL"), (54, side), (38, quantity), (40, "D"),
                  (117, quoteId), (60, self.now())]
        if price is not None:
            fields.append((44, price))
        return self.send(self.requester, "D", fields)

    def events(self, eventType=None):
        events = self.sim.get_events()
        return [e for e in events if eventType is None or e["type"] == eventType]


_HEADER_AND_TRAILER = frozenset([8, 9, 35, 49, 56, 34, 52, 43, 97, 122, 115, 128, 1128, 10])


def _types(messages):
    return [m.msgType for m in messages]


class DealerSessionsTests(TestCase):
    """
    The whole flow with two FIX dealer sessions, in FIX.4.4
    (L{Fix42DealerSessionsTests}, L{Fix50DealerSessionsTests}: the other
    versions).
    """

    beginString, applVerId = "FIX.4.4", None

    def setUp(self):
        self.h = RfqHarness(self, self.beginString, self.applVerId)

    def forwarded(self):
        """
        A request for 100 to buy, forwarded to both dealers; the venue's
        QuoteReqID.
        """
        got = self.h.request()
        self.assertEqual(got["CLIENT"], [])
        requestIds = set()
        for name in ("BANK1", "BANK2"):
            [request] = got[name]
            self.assertEqual(request.msgType, "R")
            self.assertEqual((request.get(55), request.get(54), request.get(38), request.get(146)),
                             ("AAPL", "1", "100", "1"))
            self.assertIsNotNone(request.get(126))
            requestIds.add(request.get(131))
        [requestId] = requestIds
        [event] = self.h.events("rfq_request")
        self.assertEqual((event["request_id"], event["requester"], event["client_request_id"]),
                         (requestId, "fix1/CLIENT", "rq1"))
        return requestId

    def quoted(self):
        """
        Both dealers quote; the requester gets each quote as it arrives,
        with its own QuoteReqID and the venue's QuoteIDs.
        """
        requestId = self.forwarded()
        got = self.h.dealerQuote("BANK1", requestId, "b1q1", bid="149.90", bidSize=100, offer="150.10",
                                 offerSize=100)
        [quote1] = got["CLIENT"]
        self.assertEqual(quote1.msgType, "S")
        self.assertEqual([quote1.get(t) for t in (131, 55, 132, 133, 134, 135)],
                         ["rq1", "AAPL", "149.9", "150.1", "100", "100"])
        self.assertEqual(got["BANK1"] + got["BANK2"], [])
        got = self.h.dealerQuote("BANK2", requestId, "b2q1", offer="150.05", offerSize=60)
        [quote2] = got["CLIENT"]
        self.assertEqual((quote2.get(133), quote2.get(135), quote2.get(132)), ("150.05", "60", None))
        self.assertNotEqual(quote1.get(117), quote2.get(117))
        return requestId, quote1.get(117), quote2.get(117)

    def test_tradeOnBestQuote(self):
        """
        The requester lifts BANK2's offer with OrdType D and QuoteID: both
        sides get ExecutionReports (the dealer's order named by its
        QuoteID), the drop copy gets all four, the book is untouched, and
        the control events tell the trade.
        """
        requestId, q1, q2 = self.quoted()
        self.h.events()
        got = self.h.accept("buy1", q2, quantity=60)
        self.assertEqual([(m.get(150), m.get(39), m.get(11)) for m in got["CLIENT"]],
                         [("0", "0", "buy1"), ("F" if self.h.beginString != "FIX.4.2" else "2", "2", "buy1")])
        fill = got["CLIENT"][-1]
        self.assertEqual((fill.get(32), fill.get(31), fill.get(54)), ("60", "150.05", "1"))
        dealerReports = got["BANK2"]
        self.assertEqual([(m.get(39), m.get(11), m.get(54)) for m in dealerReports],
                         [("0", "b2q1", "2"), ("2", "b2q1", "2")])
        self.assertEqual(got["BANK1"], [])
        self.assertEqual(len(got["DC"]), 4)
        self.assertEqual(self.h.sim.get_book("AAPL")["bids"], [])
        self.assertEqual(self.h.sim.get_book("AAPL")["last"], "150.05")
        [trade] = self.h.events("rfq_trade")
        self.assertEqual(
            {k: trade[k] for k in ("request_id", "quote_id", "dealer", "requester", "side", "quantity", "price")},
            {"request_id": requestId, "quote_id": q2, "dealer": "dealers/BANK2",
             "requester": "fix1/CLIENT", "side": "buy", "quantity": 60, "price": "150.05"},
        )
        # A quote is traded once.
        got = self.h.accept("buy2", q2, quantity=10)
        [reject] = got["CLIENT"]
        self.assertEqual((reject.get(39), reject.get(11)), ("8", "buy2"))
        self.assertIn("was accepted already", reject.get(58))

    def test_sellOnBid(self):
        requestId, q1, q2 = self.quoted()
        got = self.h.accept("sell1", q1, side="2", quantity=100)
        self.assertEqual([m.get(39) for m in got["CLIENT"]], ["0", "2"])
        self.assertEqual(got["CLIENT"][-1].get(31), "149.9")
        self.assertEqual([m.get(54) for m in got["BANK1"]], ["1", "1"])

    def test_acceptRefusals(self):
        """
        Accepting an unknown quote, a side not quoted, more than the size,
        or with a limit the quote does not meet is rejected with the
        reason; nothing trades.
        """
        requestId, q1, q2 = self.quoted()
        for clOrdId, quoteId, side, quantity, price, text in [
            ("x1", "Q999", "1", 10, None, "unknown quote 'Q999'"),
            ("x2", q2, "2", 10, None, "has no bid to sell"),
            ("x3", q2, "1", 61, None, "quantity 61 exceeds the quote's size 60"),
            ("x4", q2, "1", 10, "150.00", "does not meet the limit"),
        ]:
            [reject] = self.h.accept(clOrdId, quoteId, side, quantity, price)["CLIENT"]
            self.assertEqual((reject.get(39), reject.get(11)), ("8", clOrdId))
            self.assertIn(text, reject.get(58))
        got = self.h.send(self.h.requester, "D", [(11, "x5"), (21, "1"), (55, "AAPL"), (54, "1"), (38, 1),
                                                  (40, "D"), (60, self.h.now())])
        self.assertIn("QuoteID (117) is required", got["CLIENT"][0].get(58))
        self.assertEqual(self.h.events("rfq_trade"), [])

    def test_expiryAndLateAccept(self):
        """
        A quote expires at its ValidUntilTime: the requester and the dealer
        are told; accepting it later is rejected as expired.
        """
        requestId = self.forwarded()
        self.h.dealerQuote("BANK1", requestId, "b1q1", offer="150.10", offerSize=100,
                           validUntil=self.h.now(5))
        self.h.received()
        [event] = self.h.events("rfq_quote")
        quoteId = event["quote_id"]
        self.h.reactor.advance(4.9)
        self.assertEqual(self.h.received()["CLIENT"], [])
        self.h.reactor.advance(0.1)
        got = self.h.received()
        [status] = got["CLIENT"]
        [dealerStatus] = got["BANK1"]
        if self.h.beginString == "FIX.4.2":
            self.assertEqual((status.msgType, status.get(117), status.get(298)), ("Z", quoteId, "1"))
            self.assertEqual((dealerStatus.msgType, dealerStatus.get(117)), ("Z", "b1q1"))
        else:
            self.assertEqual((status.msgType, status.get(117), status.get(297), status.get(131)),
                             ("AI", quoteId, "7", "rq1"))
            self.assertEqual((dealerStatus.msgType, dealerStatus.get(117), dealerStatus.get(297)),
                             ("AI", "b1q1", "7"))
        [reject] = self.h.accept("late", quoteId)["CLIENT"]
        self.assertEqual(reject.get(39), "8")
        self.assertIn("quote %s expired" % (quoteId,), reject.get(58))
        self.assertEqual(len(self.h.events("rfq_quote_expired")), 1)

    def test_noQuoteBeforeDeadline(self):
        """
        A request no dealer quoted before its ExpireTime is rejected; a
        quote after the deadline is refused.
        """
        got = self.h.request(expire=self.h.now(3))
        requestId = got["BANK1"][0].get(131)
        self.h.reactor.advance(3)
        got = self.h.received()
        [reject] = got["CLIENT"]
        if self.h.beginString == "FIX.4.2":
            self.assertEqual((reject.msgType, reject.get(297), reject.get(131)), ("b", "5", "rq1"))
        else:
            self.assertEqual((reject.msgType, reject.get(658), reject.get(131)), ("AG", "7", "rq1"))
        self.assertIn("no dealer quoted before the deadline", reject.get(58))
        got = self.h.dealerQuote("BANK1", requestId, "late", offer="150.10", offerSize=100)
        [refusal] = got["BANK1"]
        self.assertEqual(refusal.get(297), "5")
        self.assertIn("takes no more quotes", refusal.get(58))
        self.assertEqual(got["CLIENT"], [])

    def test_everyDealerDeclines(self):
        """
        When both dealers decline (AG; FIX.4.2: QuoteAcknowledgement of
        status rejected), the request is rejected at once.
        """
        requestId = self.forwarded()
        for name in ("BANK1", "BANK2"):
            if self.h.beginString == "FIX.4.2":
                got = self.h.send(self.h.dealers[name], "b", [(131, requestId), (297, "5"), (58, "no axe")])
            else:
                got = self.h.send(self.h.dealers[name], "AG", [(131, requestId), (658, "10"), (146, 1),
                                                               (55, "AAPL"), (58, "no axe")])
        [reject] = got["CLIENT"]
        self.assertIn("every dealer declined", reject.get(58))
        self.assertEqual([e["dealer"] for e in self.h.events("rfq_declined")],
                         ["dealers/BANK1", "dealers/BANK2"])

    def test_badQuotes(self):
        """
        A dealer's quote with a bid above the offer, for an unknown
        request, off the tick grid or without the side asked is refused
        with a reason; the requester hears nothing.
        """
        requestId = self.forwarded()
        for args, text in [
            ((requestId, "q1", "150.20", 100, "150.10", 100), "bid 150.20 is not below offer 150.10"),
            (("R999", "q2", None, None, "150.10", 100), "unknown RFQ request 'R999'"),
            ((requestId, "q3", None, None, "150.105", 100), "not on the tick grid"),
            ((requestId, "q4", "149.90", 100, None, None), "the request is to buy: quote an offer"),
        ]:
            got = self.h.dealerQuote("BANK1", *args)
            [refusal] = got["BANK1"]
            self.assertEqual((refusal.get(297), refusal.get(117)), ("5", args[1]))
            self.assertIn(text, refusal.get(58))
            self.assertEqual(got["CLIENT"], [])
        self.assertEqual(self.h.events("rfq_quote"), [])

    def test_requestRefused(self):
        """
        A request for an unknown symbol, or a book without RFQ, is refused
        with a reason.
        """
        self.h.sim.create_book("MSFT", "e1")
        for symbol, text in (("NOPE", "unknown symbol 'NOPE'"), ("MSFT", "does not take requests for quote")):
            got = self.h.request(clientId="r-" + symbol, symbol=symbol)
            [reject] = got["CLIENT"]
            self.assertEqual(reject.get(131), "r-" + symbol)
            self.assertIn(text, reject.get(58))
            self.assertEqual(got["BANK1"], [])
        self.assertEqual(self.h.events("rfq_request"), [])

    def test_verify(self):
        """
        The RFQ part of every FIX order-entry application is an
        L{IRfqListener} of the engine's desk.
        """
        for name in ("fix1", "dealers"):
            rfq = self.h.sim.endpoints[name].factory.application.rfq
            self.assertTrue(verifyObject(IRfqListener, rfq))
            self.assertIn(rfq, rfq.desk._listeners)
        self.assertEqual([self.h.sim.endpoints[n].factory.application.rfq.isDealer for n in ("fix1", "dealers")],
                         [False, True])

    def test_onlyDealersQuote(self):
        """
        A session of an order-entry endpoint may not quote.
        """
        requestId = self.forwarded()
        got = self.h.send(self.h.requester, "S", [(131, requestId), (117, "mine"), (55, "AAPL"), (133, "1"),
                                                  (135, 1)])
        [refusal] = got["CLIENT"]
        self.assertIn("only sessions of a dealer endpoint may quote", refusal.get(58))


class Fix42DealerSessionsTests(DealerSessionsTests):
    beginString, applVerId = "FIX.4.2", None


class Fix50DealerSessionsTests(DealerSessionsTests):
    beginString, applVerId = "FIXT.1.1", "9"

    def test_quoteResponse(self):
        """
        QuoteResponse (AJ) of type 1 trades like OrdType D (ClOrdID, else
        QuoteRespID); of type 6 it passes (the dealer is told); a bad one
        is refused.
        """
        requestId, q1, q2 = self.quoted()
        got = self.h.send(self.h.requester, "AJ", [(693, "resp1"), (117, q1), (694, "1"), (54, "2"),
                                                   (38, 40), (55, "AAPL")])
        self.assertEqual([(m.get(39), m.get(11)) for m in got["CLIENT"]], [("0", "resp1"), ("2", "resp1")])
        got = self.h.send(self.h.requester, "AJ", [(693, "resp2"), (117, q2), (694, "6")])
        self.assertEqual(got["CLIENT"], [])
        [passed] = got["BANK2"]
        self.assertEqual((passed.msgType, passed.get(117), passed.get(297)), ("AI", "b2q1", "11"))
        got = self.h.send(self.h.requester, "AJ", [(693, "resp3"), (117, q2), (694, "6")])
        [refusal] = got["CLIENT"]
        self.assertEqual((refusal.msgType, refusal.get(297), refusal.get(693)), ("AI", "5", "resp3"))
        self.assertIn("was passed already", refusal.get(58))
        got = self.h.send(self.h.requester, "AJ", [(693, "resp4"), (117, q2), (694, "2")])
        self.assertIn("not supported", got["CLIENT"][0].get(58))


class SimulatedDealersTests(TestCase):
    """
    Simulated dealers (book properties rfq_dealers, rfq_spread_ticks,
    rfq_response_delay, rfq_decline_rate), seeded, on an rfq engine.
    """

    def harness(self, **properties):
        settings = dict(rfq_dealers="3", rfq_spread_ticks="2", rfq_response_delay="0.5")
        settings.update(properties)
        return RfqHarness(self, engineClass="rfq", dealers=(), bookProperties=sorted(settings.items()))

    def quotes(self, h, side="1"):
        h.request(side=side)
        h.reactor.advance(0.49)
        self.assertEqual(h.received()["CLIENT"], [])
        h.reactor.advance(0.01)
        return h.received()["CLIENT"]

    def test_quoteAfterDelay(self):
        """
        Each simulated dealer offers around the reference price, at 2 to
        4 ticks, after the response delay; the requester lifts one.
        """
        h = self.harness()
        quotes = self.quotes(h)
        self.assertEqual(_types(quotes), ["S", "S", "S"])
        offers = [float(q.get(133)) for q in quotes]
        for offer in offers:
            self.assertIn(round(offer - 150, 2), (0.02, 0.03, 0.04))
        self.assertEqual([q.get(132) for q in quotes], [None] * 3)
        best = min(quotes, key=lambda q: float(q.get(133)))
        got = h.accept("b1", best.get(117))
        self.assertEqual([m.get(39) for m in got["CLIENT"]], ["0", "2"])
        [trade] = h.events("rfq_trade")
        self.assertIn(trade["dealer"], ("sim1", "sim2", "sim3"))

    def test_seeded(self):
        """
        The same seed gives the same quotes; another seed other ones.
        """
        def prices(seed):
            h = self.harness(seed=seed)
            return [q.get(133) for q in self.quotes(h)] + [q.get(133) for q in self.quotes(h)]

        self.assertEqual(prices("7"), prices("7"))
        self.assertNotEqual(prices("7"), prices("8"))

    def test_twoSided(self):
        h = self.harness(rfq_dealers="1")
        [quote] = self.quotes(h, side=None)
        self.assertLess(float(quote.get(132)), 150)
        self.assertGreater(float(quote.get(133)), 150)

    def test_everyoneDeclines(self):
        """
        With rfq_decline_rate 1 every simulated dealer declines, and the
        request is rejected at once.
        """
        h = self.harness(rfq_decline_rate="1")
        [reject] = self.quotes(h)
        self.assertEqual(reject.msgType, "AG")
        self.assertIn("every dealer declined", reject.get(58))
        self.assertEqual(len(h.events("rfq_declined")), 3)

    def test_withDealerSessions(self):
        """
        One request to two dealer sessions and two simulated dealers: the
        requester gets the four quotes as they arrive (the sessions' at
        once, the simulated dealers' after the delay) and trades on a
        simulated dealer's.
        """
        h = RfqHarness(self, bookProperties=[("rfq_dealers", "2"), ("rfq_response_delay", "1")])
        got = h.request()
        requestId = got["BANK1"][0].get(131)
        self.assertEqual(got["BANK2"][0].get(131), requestId)
        [event] = h.events("rfq_request")
        self.assertEqual(event["request_id"], requestId)
        quotes = h.dealerQuote("BANK1", requestId, "b1", offer="150.20", offerSize=100)["CLIENT"]
        quotes += h.dealerQuote("BANK2", requestId, "b2", offer="150.30", offerSize=100)["CLIENT"]
        self.assertEqual([q.get(133) for q in quotes], ["150.2", "150.3"])
        h.reactor.advance(1)
        quotes += h.received()["CLIENT"]
        self.assertEqual(_types(quotes), ["S"] * 4)
        self.assertEqual([e["dealer"] for e in h.events("rfq_quote")],
                         ["dealers/BANK1", "dealers/BANK2", "sim1", "sim2"])
        best = min(quotes, key=lambda q: float(q.get(133)))
        self.assertLess(float(best.get(133)), 150.2)
        got = h.accept("b1", best.get(117))
        self.assertEqual([m.get(39) for m in got["CLIENT"]], ["0", "2"])
        self.assertEqual(got["BANK1"] + got["BANK2"], [])
        [trade] = h.events("rfq_trade")
        self.assertIn(trade["dealer"], ("sim1", "sim2"))
        self.assertEqual(len(got["DC"]), 4)

    def test_noDealers(self):
        """
        A request with no dealer to ask (no dealer session, no simulated
        dealer, not managed) is rejected at once.
        """
        h = RfqHarness(self, dealers=())
        [reject] = h.request()["CLIENT"]
        self.assertEqual((reject.msgType, reject.get(658)), ("AG", "8"))
        self.assertIn("no dealer", reject.get(58))

    def test_plainOrdersRefused(self):
        """
        An rfq engine trades on quotes only: a limit order is rejected.
        """
        h = self.harness()
        got = h.send(h.requester, "D", [(11, "o1"), (21, "1"), (55, "AAPL"), (54, "1"), (38, 10), (40, "2"),
                                         (44, "150"), (60, h.now())])
        [reject] = got["CLIENT"]
        self.assertEqual(reject.get(39), "8")
        self.assertIn("trades by request for quote only", reject.get(58))


class ManagedRfqTests(TestCase):
    """
    In managed mode the test answers requests (quote_rfq, decline_rfq).
    (L{ReferenceManagedRfqTests}: on the reference engine.)
    """

    engineClass = "matching"

    def setUp(self):
        self.h = RfqHarness(self, dealers=(), engineClass=self.engineClass)
        self.h.sim.set_engine_property("e1", "mode", "managed")

    def test_answeredByTest(self):
        self.h.request(side=None)
        [request] = self.h.events("rfq_request")
        quoteId = self.h.sim.quote_rfq(request["request_id"], "bankA", "149.95", 100, "150.05", 100, 10)
        [quote] = self.h.received()["CLIENT"]
        self.assertEqual((quote.get(117), quote.get(132), quote.get(133)), (quoteId, "149.95", "150.05"))
        got = self.h.accept("b1", quoteId, quantity=30)
        self.assertEqual([m.get(39) for m in got["CLIENT"]], ["0", "2"])
        fills = [e for e in self.h.events("filled")]
        self.assertEqual(sorted(str(e["owner"]) for e in fills), ["bankA", "fix1/CLIENT"])
        self.assertEqual(self.h.events("order_request"), [])

    def test_declinedByTest(self):
        """
        In managed mode a decline leaves the request open for the test
        until its deadline, when it is rejected.
        """
        self.h.request(expire=self.h.now(2))
        [request] = self.h.events("rfq_request")
        self.h.sim.decline_rfq(request["request_id"], "bankA", "no axe")
        self.assertEqual(self.h.received()["CLIENT"], [])
        self.h.reactor.advance(2)
        [reject] = self.h.received()["CLIENT"]
        self.assertIn("no dealer quoted before the deadline", reject.get(58))

    def test_badQuotes(self):
        """
        quote_rfq with an unknown request, a bid above the offer, a size
        without a price or a bad validity: a clear BadValue, nothing sent.
        """
        self.h.request(side=None)
        [request] = self.h.events("rfq_request")
        requestId = request["request_id"]
        for args, text in [
            (("R77", "d", "1", 1, "2", 1), "unknown RFQ request 'R77'"),
            ((requestId, "d", "150.10", 10, "150.00", 10), "bid 150.10 is not below offer 150.00"),
            ((requestId, "d", None, 10), "bid_size needs a bid_price"),
            ((requestId, "d", "150", None), "bid_price needs a bid_size"),
            ((requestId, "d", "150", 10, None, None, -1), "valid_for must be a number of seconds"),
            ((requestId, "", "150", 10), "dealer must be a printable name"),
            ((requestId, "d"), "a quote needs a bid or an offer"),
        ]:
            e = self.assertRaises(BadValue, self.h.sim.quote_rfq, *args)
            self.assertIn(text, str(e))
        self.assertRaises(BadValue, self.h.sim.decline_rfq, "R77", "d")
        self.assertEqual(self.h.received()["CLIENT"], [])
        self.assertEqual(self.h.events("rfq_quote"), [])


class ReferenceManagedRfqTests(ManagedRfqTests):
    engineClass = "reference"


_VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "2", "6", "D", "-1", "1.5", "abc", "150.05", "99999999999999999999",
                     "AAPL", "NOPE", "R1", "R2", "Q1", "Q2", "20240301-12:00:05", "2024", "\u00e9"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=6),
)
_FIELDS = st.lists(
    st.tuples(st.sampled_from([11, 38, 40, 44, 54, 55, 59, 62, 117, 126, 131, 132, 133, 134, 135, 146,
                               297, 658, 693, 694]), _VALUES),
    max_size=10,
)


class FuzzTests(TestCase):
    """
    Random RFQ messages (any fields, any values) from the requester and a
    dealer never break the endpoint: every answer is valid for the
    version, and the desk stays consistent.
    """

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.sampled_from(["requester", "dealer"]),
                              st.sampled_from(["R", "S", "AG", "AJ", "D", "b"]), _FIELDS),
                    min_size=1, max_size=8),
           st.sampled_from([("FIX.4.2", None), ("FIX.4.4", None), ("FIXT.1.1", "9")]))
    def test_randomMessages(self, messages, version):
        h = RfqHarness(self, *version, dealers=("BANK1",))
        # One open request and one live quote, for the random messages to hit.
        requestId = h.request()["BANK1"][0].get(131)
        h.dealerQuote("BANK1", requestId, "b1q1", offer="150.10", offerSize=100)
        for sender, msgType, fields in messages:
            client = h.requester if sender == "requester" else h.dealers["BANK1"]
            if h.beginString == "FIX.4.2" and msgType in ("AG", "AJ"):
                continue
            h.send(client, msgType, fields)
            h.reactor.advance(1)
        for quote in existingDesk(h.engine).quotes.values():
            self.assertIn(quote.state, ("live", "expired", "accepted", "passed"))
        self.assertEqual(self.flushLoggedErrors(), [])
