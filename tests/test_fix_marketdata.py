"""
Tests for L{exsim.fix.marketdata}.
"""

from hypothesis import given, settings, strategies as st
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix.marketdata import MarketData
from exsim.fix.orders import OrderEntry
from exsim.interfaces import IEngineListener, IFixApplication

from tests.fixfakes import FakeEndpoint, FakeMessage, FakeSession, makeEngine, nos


def mdr(mdReqId, requestType="1", depth="0", types=("0", "1", "2"), symbols=("AAPL",), extra=()):
    pairs = [(262, mdReqId), (263, requestType), (264, depth)]
    pairs.extend(extra)
    pairs.append((267, str(len(types))))
    pairs.extend((269, t) for t in types)
    pairs.append((146, str(len(symbols))))
    pairs.extend((55, s) for s in symbols)
    return FakeMessage("V", pairs)


def entries(fields):
    """
    The repeating group of a W or X as a list of {tag: value}.
    """
    start = 279 if any(tag == 279 for tag, _ in fields) else 269
    result = []
    for tag, value in fields:
        if tag == start:
            result.append({})
        if result:
            result[-1][tag] = value
    return result


class MarketDataTests(SynchronousTestCase):
    """
    (On the fast engine; L{ReferenceMarketDataTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.engine, self.clock = makeEngine(engineClass=self.engineClass)
        self.endpoint = FakeEndpoint(self.engine, self.clock)
        self.md = MarketData(self.endpoint)
        self.app = OrderEntry(self.endpoint, self.md)
        self.trader = FakeSession(self.endpoint, "T", "FIX.4.4")
        self.viewer = FakeSession(self.endpoint, "V", "FIX.4.4")
        self.app.sessionLoggedOn(self.trader)
        self.app.sessionLoggedOn(self.viewer)

    def order(self, clOrdId, side, qty, price):
        self.app.fromApp(self.trader, nos(clOrdId, side=side, qty=qty, price=price))
        self.trader.take()

    def test_provides(self):
        self.assertTrue(verifyObject(IFixApplication, self.md))
        self.assertTrue(verifyObject(IEngineListener, self.md))

    def test_snapshot(self):
        self.order("b1", "1", "100", "10.00")
        self.order("b2", "1", "50", "10.00")
        self.order("b3", "1", "70", "9.99")
        self.order("s1", "2", "30", "10.05")
        self.assertTrue(self.app.fromApp(self.viewer, mdr("m1", "0")))
        [(msgType, fields)] = self.viewer.sent
        self.assertEqual(msgType, "W")
        f = dict(fields)
        self.assertEqual((f[262], f[55], f[268]), ("m1", "AAPL", "3"))
        got = entries(fields)
        self.assertEqual(
            [(e[269], e[270], e[271], e[346]) for e in got],
            [("0", "10", "150", "2"), ("0", "9.99", "70", "1"), ("1", "10.05", "30", "1")],
        )
        # A snapshot only: no updates follow.
        self.viewer.take()
        self.order("b4", "1", "1", "9.00")
        self.assertEqual(self.viewer.sent, [])

    def test_depthAndTrades(self):
        self.order("b1", "1", "100", "10.00")
        self.order("b2", "1", "70", "9.99")
        self.order("s1", "2", "30", "10.05")
        self.order("s2", "2", "10", "10.00")
        self.app.fromApp(self.viewer, mdr("m1", "0", depth="1"))
        got = entries(self.viewer.takeRaw()[0][1])
        self.assertEqual(
            [(e[269], e[270], e.get(271)) for e in got],
            [("0", "10", "90"), ("1", "10.05", "30"), ("2", "10", "10")],
        )

    def test_incremental(self):
        self.order("b1", "1", "100", "10.00")
        self.app.fromApp(self.viewer, mdr("m1"))
        self.assertEqual(self.viewer.take()[0][0], "W")
        self.order("b2", "1", "50", "9.99")
        [(msgType, fields)] = self.viewer.takeRaw()
        self.assertEqual(msgType, "X")
        self.assertEqual(dict(fields)[262], "m1")
        self.assertEqual(
            [(e[279], e[269], e[55], e[270], e[271], e[346]) for e in entries(fields)],
            [("0", "0", "AAPL", "9.99", "50", "1")],
        )
        # A sell that trades with b1 partly: change of the 10.00 bid, a trade.
        self.order("s1", "2", "40", "10.00")
        got = entries(self.viewer.takeRaw()[0][1])
        self.assertEqual(
            [(e[279], e[269], e[270], e.get(271)) for e in got],
            [("1", "0", "10", "60"), ("0", "2", "10", "40")],
        )
        # Cancel the rest of the level: delete.
        self.app.fromApp(self.trader, FakeMessage("F", [(41, "b1"), (11, "x1"), (55, "AAPL"), (54, "1")]))
        got = entries(self.viewer.takeRaw()[0][1])
        self.assertEqual([(e[279], e[269], e[270]) for e in got], [("2", "0", "10")])

    def test_topOfBookIncremental(self):
        self.order("b1", "1", "100", "10.00")
        self.order("b2", "1", "50", "9.99")
        self.app.fromApp(self.viewer, mdr("m1", depth="1", types=("0",)))
        self.viewer.take()
        # A level below the top changes nothing for this subscriber.
        self.order("b3", "1", "5", "9.98")
        self.assertEqual(self.viewer.sent, [])
        # The best level goes: 9.99 enters the top.
        self.app.fromApp(self.trader, FakeMessage("F", [(41, "b1"), (11, "x1"), (55, "AAPL"), (54, "1")]))
        got = entries(self.viewer.takeRaw()[0][1])
        self.assertEqual([(e[279], e[270]) for e in got], [("2", "10"), ("0", "9.99")])

    def test_fullRefreshUpdates(self):
        self.app.fromApp(self.viewer, mdr("m1", extra=[(265, "0")]))
        self.viewer.take()
        self.order("b1", "1", "100", "10.00")
        [(msgType, fields)] = self.viewer.take()
        self.assertEqual(msgType, "W")
        self.assertEqual(dict(fields)[268], "1")

    def test_unsubscribe(self):
        self.app.fromApp(self.viewer, mdr("m1"))
        self.viewer.take()
        self.app.fromApp(self.viewer, mdr("m1", "2"))
        self.order("b1", "1", "100", "10.00")
        self.assertEqual(self.viewer.sent, [])
        # The MDReqID may be used again.
        self.app.fromApp(self.viewer, mdr("m1"))
        self.assertEqual(self.viewer.take()[0][0], "W")

    def test_followsEngineWhileSubscribed(self):
        """
        Market data follows the engine's events only while a subscription
        is live: not before one, not for a snapshot, not once the last one
        ends (by unsubscribing or logging out); a later subscription gets
        its updates again.
        """
        listening = lambda: self.md in self.engine._listeners  # noqa: E731
        self.assertFalse(listening())
        self.app.fromApp(self.viewer, mdr("m0", "0"))
        self.assertFalse(listening())
        self.app.fromApp(self.viewer, mdr("m1"))
        self.app.fromApp(self.viewer, mdr("m2"))
        self.assertTrue(listening())
        self.app.fromApp(self.viewer, mdr("m1", "2"))
        self.assertTrue(listening())
        self.app.fromApp(self.viewer, mdr("m2", "2"))
        self.assertFalse(listening())
        self.viewer.take()
        self.app.fromApp(self.viewer, mdr("m3"))
        self.assertEqual(self.viewer.take()[0][0], "W")
        self.order("b1", "1", "100", "10.00")
        self.assertEqual([msgType for msgType, _ in self.viewer.take()], ["X"])
        self.app.sessionLoggedOut(self.viewer)
        self.assertFalse(listening())

    def test_logoutEndsSubscriptions(self):
        self.app.fromApp(self.viewer, mdr("m1"))
        self.viewer.take()
        self.app.sessionLoggedOut(self.viewer)
        self.order("b1", "1", "100", "10.00")
        self.assertEqual(self.viewer.sent, [])

    def _rejected(self, message, reason):
        self.assertTrue(self.app.fromApp(self.viewer, message))
        [(msgType, fields)] = self.viewer.take()
        self.assertEqual(msgType, "Y")
        f = dict(fields)
        self.assertEqual(f[281], reason)
        self.assertTrue(f[58])
        return f

    def test_rejects(self):
        self._rejected(mdr("m1", symbols=("NOPE",)), "0")
        self._rejected(mdr("m2", types=("0", "7")), "8")
        self._rejected(mdr("m3", requestType="9"), "4")
        self._rejected(mdr("m4", depth="-1"), "5")
        self._rejected(mdr("m5", extra=[(266, "N")]), "7")
        self._rejected(mdr("m6", extra=[(265, "5")]), "6")
        self.app.fromApp(self.viewer, mdr("m7"))
        self.viewer.take()
        self._rejected(mdr("m7"), "1")

    def test_fix50sp2Snapshot(self):
        session = FakeSession(self.endpoint, "N", "FIXT.1.1", "9")
        self.app.sessionLoggedOn(session)
        self.app.fromApp(session, mdr("m1", "0"))
        f = dict(session.take()[0][1])
        self.assertEqual(f[779], "20231114-22:13:20.000")
        self.assertEqual(f[268], "0")

    def test_notBeforeFix42(self):
        session = FakeSession(self.endpoint, "O", "FIX.4.1")
        self.assertFalse(self.app.fromApp(session, mdr("m1")))

    def test_orderEntryWithoutMarketData(self):
        app = OrderEntry(FakeEndpoint(self.engine, self.clock, "fix2"))
        self.assertFalse(app.fromApp(self.viewer, mdr("m1")))


    def test_onlyDisplayed(self):
        """
        Issue 13: market data shows what a real feed shows: an iceberg's
        slice and not its reserve, no hidden order, no midpoint peg; trades
        print whether they were against displayed quantity or not.
        """
        send = self.app.fromApp
        send(self.trader, nos("i1", side="2", qty="100", price="10.05", extra=[(111, "10")]))
        send(self.trader, nos("h1", side="2", qty="50", price="10.04", extra=[(111, "0")]))
        self.order("b1", "1", "20", "10.00")
        send(self.trader, nos("p1", qty="10", ordType="P", price=None, extra=[(18, "M")]))
        self.trader.take()
        self.app.fromApp(self.viewer, mdr("m1"))
        [(msgType, fields)] = self.viewer.takeRaw()
        self.assertEqual(msgType, "W")
        self.assertEqual(
            [(e[269], e[270], e[271]) for e in entries(fields)],
            [("0", "10", "20"), ("1", "10.05", "10")],
        )
        # 50 from the hidden order at 10.04, then 10 of the iceberg's slice
        # at 10.05: two trades; the slice shown again is the same level.
        self.order("b2", "1", "60", "10.05")
        got = [
            (e[269], e[270], e.get(271))
            for _, fields in self.viewer.takeRaw() for e in entries(fields)
        ]
        self.assertEqual([g for g in got if g[0] == "2"], [("2", "10.04", "50"), ("2", "10.05", "10")])
        self.assertEqual([g for g in got if g[0] != "2" and g[2] != "10"], [])
        self.assertNotIn("10.04", [g[1] for g in got if g[0] != "2"])
        self.assertEqual(self.engine.getBook("AAPL").depth(False), [(100500, 10, 1)])

class ReferenceMarketDataTests(MarketDataTests):
    engineClass = ReferenceEngine


class FuzzTests(SynchronousTestCase):
    @settings(max_examples=150, deadline=None)
    @given(
        pairs=st.lists(
            st.tuples(
                st.sampled_from([262, 263, 264, 265, 266, 267, 269, 146, 55]),
                st.one_of(st.sampled_from(["0", "1", "2", "AAPL", "-1", "Y", "N", ""]), st.text(max_size=6)),
            ),
            max_size=12,
        )
    )
    def test_arbitraryRequestsNeverRaise(self, pairs):
        engine, clock = makeEngine()
        endpoint = FakeEndpoint(engine, clock)
        app = OrderEntry(endpoint, MarketData(endpoint))
        session = FakeSession(endpoint, "F")
        app.sessionLoggedOn(session)
        app.fromApp(session, FakeMessage("V", pairs))
        app.fromApp(session, nos("c1"))
        for msgType, fields in session.sent:
            self.assertIn(msgType, ("W", "X", "Y", "8", "3"))
