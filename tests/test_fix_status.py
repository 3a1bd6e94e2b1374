# -*- test-case-name: tests.test_fix_status -*-
"""
Tests for L{exsim.fix.status} (TradingSessionStatusRequest and
SecurityStatusRequest, their subscriptions) and for what FIX order entry
does with the trading phases: At the Opening and At the Close orders,
rejects naming the phase, the ExecutionReports of an uncross.  Every
message sent is checked against its version's dictionary.
"""

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix import dictionary
from exsim.fix.marketdata import MarketData
from exsim.fix.orders import OrderEntry
from exsim.interfaces import IEngineListener, IMarketPhases
from tests.fixfakes import FakeEndpoint, FakeMessage, FakeSession, fieldDict, makeEngine, nos
from tests.test_fix_marketdata import entries, mdr

#: Versions with the status messages, and FIX.4.1 without them.
VERSIONS = [("FIX.4.2", None), ("FIX.4.4", None), ("FIXT.1.1", "8"), ("FIXT.1.1", "9")]


def tradingSessionRequest(reqId, requestType="0", extra=()):
    return FakeMessage("g", [(335, reqId), *extra, (263, requestType)])


def securityRequest(reqId, symbol="AAPL", requestType="0"):
    pairs = [(324, reqId)]
    if symbol is not None:
        pairs.append((55, symbol))
    pairs.append((263, requestType))
    return FakeMessage("e", pairs)


class StatusTests(SynchronousTestCase):
    """
    (On the fast engine; L{ReferenceEngineStatusTests}: the reference
    engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.engine, self.clock = makeEngine(engineClass=self.engineClass)
        self.endpoint = FakeEndpoint(self.engine, self.clock)
        self.app = OrderEntry(self.endpoint, MarketData(self.endpoint))

    def session(self, begin="FIX.4.4", applVerId=None, compId="C"):
        session = FakeSession(self.endpoint, compId, begin, applVerId)
        self.app.sessionLoggedOn(session)
        return session

    def take(self, session):
        """
        What C{session} was sent, each message checked against its
        dictionary, as (msgType, {tag: value}).
        """
        d = dictionary.forVersion(session.beginString, session.applVerId)
        sent = session.takeRaw()
        for msgType, fields in sent:
            self.assertEqual(dictionary.validateOutgoing(d, msgType, fields), [], (msgType, fields))
        return [(msgType, fieldDict(fields)) for msgType, fields in sent]

    def test_provides(self):
        self.assertTrue(verifyObject(IEngineListener, self.app.status))
        self.assertTrue(verifyObject(IMarketPhases, self.engine))

    def test_tradingSessionSnapshot(self):
        """
        The trading session's status follows the books' phase (no
        schedule: the phase all books share).
        """
        for begin, applVerId in VERSIONS:
            session = self.session(begin, applVerId)
            self.assertTrue(self.app.fromApp(session, tradingSessionRequest("t1")))
            [(msgType, h)] = self.take(session)
            self.assertEqual((msgType, h[335], h[336], h[340]), ("h", "t1", "1", "2"))
            self.assertEqual(h[325], "N")
        for symbol in ("AAPL", "MSFT"):
            self.engine.setPhase(symbol, "pre_open")
        session = self.session("FIX.4.4")
        self.app.fromApp(session, tradingSessionRequest("t2"))
        [(_, h)] = self.take(session)
        self.assertEqual(h[340], "4")

    def test_tradingSessionFollowsSchedule(self):
        """
        With an engine schedule, the session's status is the schedule's
        phase, and a subscriber gets an unsolicited h at each change.
        """
        session = self.session("FIXT.1.1", "9")
        self.app.fromApp(session, tradingSessionRequest("t1", "1"))
        self.take(session)
        # 1700000000 is 2023-11-14 22:13:20 UTC: 17:13 in New York.
        self.engine.setProperty(
            "schedule", "pre_open 04:00, continuous 09:30, closing_auction 15:55, post_close 16:00, closed 20:00"
        )
        [(msgType, h)] = self.take(session)
        self.assertEqual((msgType, h[340], h[325], h[335]), ("h", "3", "Y", "t1"))
        self.clock.advance(2 * 3600 + 47 * 60)  # 20:00:20: closed
        [(_, h)] = self.take(session)
        self.assertEqual((h[340], h[58]), ("3", "trading phase closed"))
        self.clock.advance(8 * 3600 + 13 * 60)  # 04:13:20 the next day
        [(_, h)] = self.take(session)
        self.assertEqual(h[340], "4")
        self.clock.advance(5 * 3600 + 17 * 60)  # 09:30
        [(_, h)] = self.take(session)
        self.assertEqual(h[340], "2")
        # Unsubscribed: nothing more.
        self.app.fromApp(session, tradingSessionRequest("t1", "2"))
        self.clock.advance(7 * 3600)
        self.assertEqual(self.take(session), [])

    def test_securityStatusSnapshot(self):
        """
        A snapshot taken later in a halt still says why (Text, and
        HaltReason: HaltReasonChar P, news pending, before FIX.5.0SP2,
        HaltReasonInt 4 in it).
        """
        self.engine.haltBook("AAPL", "news pending")
        codes = {"FIX.4.2": "P", "FIX.4.4": "P", "8": "P", "9": "4"}
        for begin, applVerId in VERSIONS:
            session = self.session(begin, applVerId)
            self.app.fromApp(session, securityRequest("s1"))
            [(msgType, f)] = self.take(session)
            self.assertEqual((msgType, f[324], f[55], f[326], f[325]), ("f", "s1", "AAPL", "2", "N"))
            self.assertEqual(f[327], codes[applVerId or begin])
            if begin != "FIX.4.2":
                self.assertEqual(f[58], "trading phase halted: news pending")
        # A reason FIX has no code for: Text only; after the halt, neither.
        self.engine.resumeBook("AAPL")
        self.engine.haltBook("AAPL", "volcano")
        session = self.session("FIX.4.4", compId="LATE")
        self.app.fromApp(session, securityRequest("s2"))
        [(_, f)] = self.take(session)
        self.assertEqual((f[58], f.get(327)), ("trading phase halted: volcano", None))
        self.engine.resumeBook("AAPL")
        self.app.fromApp(session, securityRequest("s3"))
        [(_, f)] = self.take(session)
        self.assertEqual((f[326], f[58], f.get(327)), ("17", "trading phase continuous", None))

    def test_tradingSessionSnapshotHalted(self):
        """
        Every book halted for one reason: the trading session is halted,
        and a later TradingSessionStatus says why.
        """
        for symbol in sorted(self.engine.books):
            self.engine.haltBook(symbol, "T12")
        session = self.session("FIXT.1.1", "9")
        self.app.fromApp(session, tradingSessionRequest("t1"))
        [(_, h)] = self.take(session)
        self.assertEqual((h[340], h[58]), ("1", "trading phase halted: T12"))
        self.engine.resumeBook("AAPL")
        self.engine.haltBook("AAPL", "other")
        self.app.fromApp(session, tradingSessionRequest("t2"))
        [(_, h)] = self.take(session)
        self.assertEqual((h[340], h[58]), ("1", "trading phase halted"))

    def test_pause(self):
        """
        A pause is a trading halt (2) on FIX, said in Text, to subscribers
        and in later snapshots.
        """
        session = self.session("FIX.4.4")
        self.app.fromApp(session, securityRequest("s1", "AAPL", "1"))
        self.take(session)
        self.engine.haltBook("AAPL", "LUDP", pause=True)
        [(_, f)] = self.take(session)
        self.assertEqual((f[326], f[325], f[58]), ("2", "Y", "trading phase halted (paused): LUDP"))
        self.app.fromApp(session, securityRequest("s2"))
        [(_, f)] = self.take(session)
        self.assertEqual((f[326], f[325], f[58]), ("2", "N", "trading phase halted (paused): LUDP"))

    def test_openingDelay(self):
        """
        A delayed opening is SecurityTradingStatus 1 (opening delay), sent
        to subscribers when it is delayed and in snapshots until it opens.
        """
        old = self.session("FIX.4.2", compId="OLD")
        new = self.session("FIXT.1.1", "9", compId="NEW")
        self.engine.setPhase("AAPL", "pre_open")
        for session in (old, new):
            self.app.fromApp(session, securityRequest("s1", "AAPL", "1"))
            self.assertEqual(self.take(session)[0][1][326], "12" if session is old else "21")
        self.engine.delayOpen("AAPL", "order imbalance")
        for session, code in ((old, "I"), (new, "2")):
            [(msgType, f)] = self.take(session)
            self.assertEqual((msgType, f[326], f[325], f[327]), ("f", "1", "Y", code))
        later = self.session("FIX.4.4", compId="LATE")
        self.app.fromApp(later, securityRequest("s2"))
        [(_, f)] = self.take(later)
        self.assertEqual(
            (f[326], f[58], f[327]),
            ("1", "trading phase pre_open: opening delayed: order imbalance", "I"),
        )
        self.engine.resumeBook("AAPL")
        self.assertEqual(self.take(new)[0][1][326], "17")

    def test_securityStatusCodes(self):
        """
        SecurityTradingStatus of each phase, in versions with and without
        the later codes.
        """
        old = self.session("FIX.4.2", compId="OLD")
        new = self.session("FIXT.1.1", "9", compId="NEW")
        sp1 = self.session("FIXT.1.1", "8", compId="SP1")
        for session in (old, new, sp1):
            self.app.fromApp(session, securityRequest("s", "AAPL", "1"))
            self.assertEqual(self.take(session)[0][1][326], "17")
        expected = [
            ("pre_open", "12", "21", "21"),
            ("continuous", "17", "17", "17"),
            ("halted", "2", "2", "2"),
            ("continuous", "3", "3", "3"),
            ("closing_auction", "13", "24", "24"),
            ("post_close", "18", "26", "18"),
            ("closed", "18", "18", "18"),
        ]
        for phase, oldCode, newCode, sp1Code in expected:
            self.engine.setPhase("AAPL", phase)
            got = tuple(self.take(s)[0][1][326] for s in (old, new, sp1))
            self.assertEqual((phase,) + got, (phase, oldCode, newCode, sp1Code))

    def test_closingImbalanceBeforeSp1(self):
        """
        Before FIX.5.0SP1 a closing call's status is its imbalance side.
        """
        session = self.session("FIX.4.4")
        self.engine.setPhase("AAPL", "closing_auction")
        self.app.fromApp(session, nos("b1", side="1", qty="300", price="10.00"))
        self.app.fromApp(session, nos("s1", side="2", qty="100", price="10.00"))
        self.take(session)
        self.app.fromApp(session, securityRequest("s1"))
        [(_, f)] = self.take(session)
        self.assertEqual(f[326], "9")

    def test_unsolicitedSecurityStatus(self):
        """
        A subscriber gets an f for every phase change of its book only,
        until it unsubscribes.
        """
        session = self.session("FIX.4.4")
        self.app.fromApp(session, securityRequest("s1", "AAPL", "1"))
        self.take(session)
        self.engine.setPhase("MSFT", "halted")
        self.assertEqual(self.take(session), [])
        self.engine.haltBook("AAPL", "news")
        [(msgType, f)] = self.take(session)
        self.assertEqual((msgType, f[326], f[325], f[324], f[58]), ("f", "2", "Y", "s1", "trading phase halted: news"))
        self.engine.resumeBook("AAPL")
        [(_, f)] = self.take(session)
        self.assertEqual(f[326], "3")
        self.app.fromApp(session, securityRequest("s1", "AAPL", "2"))
        self.engine.haltBook("AAPL")
        self.assertEqual(self.take(session), [])

    def test_subscriptionsEndWithTheSession(self):
        session = self.session("FIX.4.4")
        self.app.fromApp(session, securityRequest("s1", "AAPL", "1"))
        self.app.fromApp(session, tradingSessionRequest("t1", "1"))
        self.take(session)
        self.assertTrue(self.app.status._following)
        self.app.sessionLoggedOut(session)
        self.assertFalse(self.app.status._following)
        self.engine.haltBook("AAPL")
        self.assertEqual(self.take(session), [])

    def test_unknownSecurity(self):
        session = self.session("FIX.4.4")
        self.app.fromApp(session, securityRequest("s1", "NOPE"))
        [(msgType, j)] = session.take()
        self.assertEqual((msgType, j[372], j[380]), ("j", "e", "2"))

    def test_badSubscriptionType(self):
        session = self.session("FIX.4.4")
        self.app.fromApp(session, securityRequest("s1", "AAPL", "7"))
        [(msgType, r)] = session.take()
        self.assertEqual((msgType, r[371]), ("3", "263"))

    def test_notBeforeFix42(self):
        session = self.session("FIX.4.1")
        self.assertFalse(self.app.fromApp(session, tradingSessionRequest("t1")))
        self.assertEqual(session.take(), [])

    def test_marketDataEndpoint(self):
        """
        A market-data endpoint answers them too.
        """
        app = MarketData(self.endpoint)
        session = FakeSession(self.endpoint, "MD", "FIX.4.4")
        self.assertTrue(app.fromApp(session, securityRequest("s1")))
        [(msgType, f)] = self.take(session)
        self.assertEqual((msgType, f[326]), ("f", "17"))


class ReferenceEngineStatusTests(StatusTests):
    engineClass = ReferenceEngine


class PhaseOrderEntryTests(SynchronousTestCase):
    """
    Orders over FIX in the trading phases.
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.engine, self.clock = makeEngine(engineClass=self.engineClass)
        self.endpoint = FakeEndpoint(self.engine, self.clock)
        self.app = OrderEntry(self.endpoint)

    def session(self, begin="FIX.4.4", applVerId=None, compId="C"):
        session = FakeSession(self.endpoint, compId, begin, applVerId)
        self.app.sessionLoggedOn(session)
        return session

    def take(self, session):
        d = dictionary.forVersion(session.beginString, session.applVerId)
        sent = session.takeRaw()
        for msgType, fields in sent:
            self.assertEqual(dictionary.validateOutgoing(d, msgType, fields), [], (msgType, fields))
        return [(msgType, fieldDict(fields)) for msgType, fields in sent]

    def test_rejectNamesThePhase(self):
        session = self.session()
        self.engine.haltBook("AAPL")
        self.app.fromApp(session, nos("c1"))
        [(msgType, er)] = self.take(session)
        self.assertEqual((msgType, er[39], er[103]), ("8", "8", "2"))
        self.assertIn("halted", er[58])
        self.engine.setPhase("AAPL", "closed")
        self.app.fromApp(session, nos("c2"))
        [(_, er)] = self.take(session)
        self.assertIn("closed", er[58])

    def test_auctionExecutions(self):
        """
        An uncross's ExecutionReports: LastLiquidityInd 4 (auction) and no
        AggressorIndicator in FIX.5.0SP2, no LastLiquidityInd in FIX.4.4;
        At the Opening orders take part, and what is left of them is
        cancelled.
        """
        new = self.session("FIXT.1.1", "9", compId="NEW")
        old = self.session("FIX.4.4", compId="OLD")
        self.engine.setPhase("AAPL", "pre_open")
        self.app.fromApp(new, nos("b1", side="1", qty="300", price="10.10", tif="2"))
        self.app.fromApp(old, nos("s1", side="2", qty="200", price="10.00"))
        self.assertEqual([m for m, _ in self.take(new) + self.take(old)], ["8", "8"])
        self.engine.setPhase("AAPL", "continuous")
        [(_, fill), (_, cancelled)] = self.take(new)
        self.assertEqual((fill[150], fill[32], fill[31], fill[851], fill[59]), ("F", "200", "10", "4", "2"))
        self.assertNotIn(1057, fill)
        self.assertEqual((cancelled[150], cancelled[39]), ("4", "4"))
        [(_, fill)] = self.take(old)
        self.assertEqual((fill[32], fill[31], fill[39]), ("200", "10", "2"))
        self.assertNotIn(851, fill)

    def test_atTheClose(self):
        session = self.session("FIX.4.4")
        self.app.fromApp(session, nos("b1", side="1", qty="100", price="10.00", tif="7"))
        [(_, er)] = self.take(session)
        self.assertEqual((er[39], er[59]), ("0", "7"))
        self.app.fromApp(session, nos("s1", side="2", qty="100", price="10.00"))
        # Not in the continuous book: the sell rests.
        [(_, er)] = self.take(session)
        self.assertEqual(er[39], "0")
        self.engine.setPhase("AAPL", "closing_auction")
        self.engine.setPhase("AAPL", "post_close")
        reports = self.take(session)
        self.assertEqual(sorted((r[11], r[39]) for _, r in reports), [("b1", "2"), ("s1", "2")])


class ReferenceEnginePhaseOrderEntryTests(PhaseOrderEntryTests):
    engineClass = ReferenceEngine


class MarketDataPhaseTests(SynchronousTestCase):
    """
    Market data in the trading phases: the indicative uncross (269=Q, A)
    during a call, the opening and closing prices (4, 5).
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.engine, self.clock = makeEngine(engineClass=self.engineClass)
        self.endpoint = FakeEndpoint(self.engine, self.clock)
        self.app = OrderEntry(self.endpoint, MarketData(self.endpoint))
        self.trader = FakeSession(self.endpoint, "T", "FIX.4.4")
        self.app.sessionLoggedOn(self.trader)

    def viewer(self, begin, applVerId=None):
        session = FakeSession(self.endpoint, "V" + begin, begin, applVerId)
        self.app.sessionLoggedOn(session)
        return session

    def order(self, clOrdId, side, qty, price):
        self.app.fromApp(self.trader, nos(clOrdId, side=side, qty=qty, price=price))
        self.trader.take()

    def take(self, session):
        d = dictionary.forVersion(session.beginString, session.applVerId)
        sent = session.takeRaw()
        for msgType, fields in sent:
            self.assertEqual(dictionary.validateOutgoing(d, msgType, fields), [], (msgType, fields))
        return sent

    def test_indicativeAndOpeningPrice(self):
        viewer = self.viewer("FIXT.1.1", "9")
        self.engine.setPhase("AAPL", "pre_open")
        self.order("b1", "1", "300", "10.01")
        self.order("s1", "2", "200", "10.00")
        self.app.fromApp(viewer, mdr("m1", "1", types=("Q", "A", "4", "5")))
        [(msgType, fields)] = self.take(viewer)
        self.assertEqual(msgType, "W")
        self.assertEqual(
            [(e[269], e[270], e[271], e.get(58)) for e in entries(fields)],
            [("Q", "10", "200", None), ("A", "10", "100", "buy")],
        )
        # Every second of the call: only what changed.
        self.clock.advance(1)
        self.assertEqual(self.take(viewer), [])
        self.order("s2", "2", "100", "10.00")
        self.clock.advance(1)
        [(msgType, fields)] = self.take(viewer)
        self.assertEqual(
            [(e[279], e[269], e[271], e.get(58)) for e in entries(fields)],
            [("1", "Q", "300", None), ("1", "A", "0", "none")],
        )
        self.engine.setPhase("AAPL", "continuous")
        [(msgType, fields)] = self.take(viewer)
        self.assertEqual(
            [(e[279], e[269], e[270]) for e in entries(fields)],
            [("0", "4", "10"), ("2", "Q", "10"), ("2", "A", "10")],
        )
        # A later snapshot has the opening price.
        self.app.fromApp(viewer, mdr("m2", "0", types=("4", "5")))
        [(msgType, fields)] = self.take(viewer)
        self.assertEqual([(e[269], e[270], e[271]) for e in entries(fields)], [("4", "10", "300")])

    def test_typesByVersion(self):
        """
        Imbalance (A) from FIX.4.4, auction clearing price (Q) from FIX.5.0;
        opening and closing prices in every version.
        """
        for begin, applVerId, types, ok in [
            ("FIX.4.2", None, ("4", "5"), True),
            ("FIX.4.2", None, ("A",), False),
            ("FIX.4.4", None, ("A",), True),
            ("FIX.4.4", None, ("Q",), False),
            ("FIXT.1.1", "7", ("Q", "A"), True),
        ]:
            viewer = self.viewer(begin, applVerId)
            self.app.fromApp(viewer, mdr("m", "0", types=types))
            [(msgType, fields)] = self.take(viewer)
            self.assertEqual(msgType, "W" if ok else "Y", (begin, types))


class ReferenceEngineMarketDataPhaseTests(MarketDataPhaseTests):
    engineClass = ReferenceEngine
