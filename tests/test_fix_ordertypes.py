# -*- test-case-name: tests.test_fix_ordertypes -*-
"""
The advanced order types and protections over FIX (issue 13): stop and
stop-limit, iceberg and hidden, post-only, minimum quantity, midpoint peg,
self-trade prevention, OrderMassCancelRequest and OrderMassStatusRequest;
in every FIX version, each message checked against the version's data
dictionary; on both engine classes.
"""

from twisted.trial.unittest import SynchronousTestCase

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix import dictionary
from exsim.fix.dropcopy import DropCopy
from exsim.fix.versions import profileFor
from exsim.model import OrdStatus
from tests.fixfakes import FakeMessage, FakeSession, cancel, nos, replace
from tests.test_fix_orders import VERSIONS, Harness

ALL_VERSIONS = VERSIONS + (("FIXT.1.1", "7"), ("FIXT.1.1", "8"))


def massCancel(clOrdId, requestType="7", symbol=None, side=None):
    pairs = [(11, clOrdId), (530, requestType)]
    if symbol is not None:
        pairs.append((55, symbol))
    if side is not None:
        pairs.append((54, side))
    pairs.append((60, "20240102-10:00:00.000"))
    return FakeMessage("q", pairs)


def massStatus(requestId, requestType="7", symbol=None):
    pairs = [(584, requestId), (585, requestType)]
    if symbol is not None:
        pairs.append((55, symbol))
    return FakeMessage("AF", pairs)


class OrderTypesTests(SynchronousTestCase):
    """
    Over FIX, on the fast engine (L{ReferenceOrderTypesTests}: the
    reference engine).
    """

    engineClass = MatchingEngine

    def harness(self, beginString="FIX.4.4", applVerId=None, **properties):
        h = Harness(beginString, applVerId, engineClass=self.engineClass, **properties)
        self.dictionary = dictionary.forVersion(beginString, applVerId)
        self.sessions = [h.a, h.b]
        return h

    def take(self, session):
        """
        What C{session} was sent, each message checked against the
        dictionary, as (msgType, {tag: text}).
        """
        for msgType, fields in session.sent:
            problems = dictionary.validateOutgoing(self.dictionary, msgType, fields)
            self.assertEqual(problems, [], (msgType, fields))
        return session.take()

    def reports(self, session):
        sent = self.take(session)
        self.assertEqual({t for t, _ in sent} - {"8"}, set(), sent)
        return [f for _, f in sent]

    # -- stops -----------------------------------------------------------------

    def test_stopEveryVersion(self):
        """
        A stop order rests unseen with its StopPx; when a trade reaches it,
        it triggers (ExecType L from FIX.5.0, D with FIX.4.2 to 4.4,
        nothing before) and fills as a market order.
        """
        for beginString, applVerId in ALL_VERSIONS:
            h = self.harness(beginString, applVerId)
            rank = profileFor(beginString, applVerId).rank
            h.send(h.a, nos("s1", ordType="3", price=None, extra=[(99, "10.05")]))
            (accepted,) = self.reports(h.a)
            self.assertEqual((accepted[39], accepted[40], accepted[99]), ("0", "3", "10.05"))
            self.assertNotIn(44, accepted)
            h.send(h.b, nos("b1", side="2", qty="150", price="10.05"))
            h.send(h.b, nos("b2", side="1", qty="50", price="10.05"))
            self.reports(h.b)
            reports = self.reports(h.a)
            if rank >= 50:
                self.assertEqual(reports[0][150], "L")
            elif rank >= 42:
                self.assertEqual(reports[0][150], "D")
                if rank >= 43:
                    self.assertEqual(reports[0][378], "8")
            if rank >= 42:
                self.assertEqual(reports[0][58], "stop order triggered")
                reports = reports[1:]
            (fill,) = reports
            self.assertEqual((fill[39], fill[32], fill[31]), ("2", "100", "10.05"))

    def test_stopLimitAndReplace(self):
        """
        A stop-limit order shows its Price and StopPx; a replace changes
        its stop price; it cannot change its display quantity.
        """
        h = self.harness()
        h.send(h.a, nos("s1", ordType="4", price="10.10", extra=[(99, "10.05")]))
        (accepted,) = self.reports(h.a)
        self.assertEqual((accepted[44], accepted[99]), ("10.1", "10.05"))
        h.send(h.a, replace("s2", "s1", price="10.10", ordType="4", extra=[(99, "10.07")]))
        (replaced,) = self.reports(h.a)
        self.assertEqual((replaced[150], replaced[99]), ("5", "10.07"))
        self.assertEqual(h.engine.findOrder("fix1/A", "s2").extra.stopPx, 100700)
        h.send(h.a, replace("s3", "s2", price="10.10", ordType="4", extra=[(111, "10")]))
        (rejected,) = self.take(h.a)
        self.assertEqual(rejected[0], "9")
        self.assertIn("cannot be changed", rejected[1][58])

    def test_stopWithoutStopPx(self):
        h = self.harness()
        h.send(h.a, nos("s1", ordType="3", price=None))
        (er,) = self.reports(h.a)
        self.assertEqual((er[39], er[103]), ("8", "99"))
        self.assertIn("stop price", er[58])

    # -- iceberg and hidden ------------------------------------------------------

    def test_icebergEveryVersion(self):
        """
        MaxFloor (and DisplayQty from FIX.5.0) makes an iceberg; reports
        echo them where the version's ExecutionReport has them.
        """
        for beginString, applVerId in ALL_VERSIONS:
            h = self.harness(beginString, applVerId)
            tags = profileFor(beginString, applVerId).reportTags
            h.send(h.a, nos("i1", qty="100", extra=[(111, "10")]))
            (er,) = self.reports(h.a)
            order = h.engine.findOrder("fix1/A", "i1")
            self.assertEqual(order.extra.displayQty, 10)
            self.assertEqual(h.engine.books["AAPL"].depth(True), [(100000, 10, 1)])
            if 111 in tags:
                self.assertEqual(er[111], "10")
            if 1138 in tags:
                self.assertEqual(er[1138], "10")

    def test_displayQtyAndHidden(self):
        h = self.harness("FIXT.1.1", "9")
        h.send(h.a, nos("i1", qty="100", extra=[(1138, "20")]))
        h.send(h.a, nos("h1", qty="100", price="9.99", extra=[(111, "0")]))
        h.send(h.a, nos("h2", qty="100", price="9.98", extra=[(1084, "4")]))
        self.reports(h.a)
        book = h.engine.books["AAPL"]
        self.assertEqual(book.depth(True), [(100000, 20, 1)])
        self.assertEqual([p for p, q, c in book.hiddenDepth(True)], [100000, 99900, 99800])

    def test_badDisplayQuantity(self):
        h = self.harness()
        h.send(h.a, nos("i1", qty="100", extra=[(111, "200")]))
        (er,) = self.reports(h.a)
        self.assertEqual((er[39], er[103]), ("8", "13"))
        self.assertIn("display quantity exceeds", er[58])
        self.assertEqual(h.engine.books["AAPL"].depth(True), [])

    def test_badInput(self):
        """
        Bad advanced terms are each an ExecutionReport Rejected whose Text
        says why, and the book is as it was; in every version.
        """
        cases = [
            (dict(qty="100", extra=[(110, "101")]), "minimum quantity exceeds"),
            (dict(ordType="1", price=None, tif="3", extra=[(18, "6")]), "market order cannot be post-only"),
            (dict(tif="3", extra=[(18, "6")]), "post-only order must be able to rest"),
            (dict(extra=[(99, "9.00")]), "only a stop order has a stop price"),
            (dict(ordType="3", price=None, extra=[(99, "9.001")]), "stop price"),
            (dict(ordType="P", price=None, tif="4", extra=[(18, "M")]), "midpoint peg cannot be FOK"),
            (dict(qty="100", extra=[(111, "10"), (110, "20")]), "iceberg order cannot have a minimum"),
        ]
        for beginString, applVerId in ALL_VERSIONS:
            h = self.harness(beginString, applVerId)
            h.send(h.b, nos("rest", side="2", qty="10", price="10.05"))
            self.take(h.b)
            book = h.engine.books["AAPL"]
            before = (book.depth(True), book.depth(False), book.hiddenDepth(True), book.waitingStops())
            for n, (fields, reason) in enumerate(cases):
                h.send(h.a, nos("x%d" % (n,), **fields))
                (er,) = self.reports(h.a)
                self.assertEqual(er[39], "8", (beginString, applVerId, reason))
                self.assertIn(reason, er[58])
                self.assertEqual(
                    (book.depth(True), book.depth(False), book.hiddenDepth(True), book.waitingStops()),
                    before,
                )

    # -- post-only, minimum quantity -------------------------------------------------

    def test_postOnly(self):
        h = self.harness()
        h.send(h.b, nos("s1", side="2", price="10.00"))
        self.reports(h.b)
        h.send(h.a, nos("p1", price="10.00", extra=[(18, "6")]))
        (er,) = self.reports(h.a)
        self.assertEqual((er[39], er[103]), ("8", "99"))
        self.assertIn("post-only", er[58])
        h.send(h.a, nos("p2", price="9.99", extra=[(18, "6")]))
        (er,) = self.reports(h.a)
        self.assertEqual((er[39], er[18]), ("0", "6"))

    def test_postOnlySlides(self):
        h = self.harness("FIX.4.2")
        h.engine.setBookProperty("AAPL", "post_only_action", "slide")
        h.send(h.b, nos("s1", side="2", price="10.00"))
        h.send(h.a, nos("p1", price="10.05", extra=[(18, "6")]))
        (er,) = self.reports(h.a)
        self.assertEqual((er[39], er[44]), ("0", "9.99"))

    def test_minQty(self):
        h = self.harness()
        h.send(h.b, nos("s1", side="2", qty="30", price="10.00"))
        self.reports(h.b)
        h.send(h.a, nos("m1", qty="100", tif="3", extra=[(110, "50")]))
        accepted, er = self.reports(h.a)
        self.assertEqual((er[150], er[39], er[14], er[110]), ("4", "4", "0", "50"))
        self.assertIn("minimum quantity", er[58])
        h.send(h.a, nos("m2", qty="100", tif="3", extra=[(110, "20")]))
        self.assertEqual(self.reports(h.a)[-1][14], "30")

    # -- midpoint peg ----------------------------------------------------------------

    def test_pegEveryVersion(self):
        """
        OrdType P with ExecInst M is a midpoint peg: accepted with its
        limit as Price; an incoming order trades with it at the midpoint.
        """
        for beginString, applVerId in ALL_VERSIONS:
            h = self.harness(beginString, applVerId)
            h.send(h.b, nos("bid", price="10.00"))
            h.send(h.b, nos("ask", side="2", price="10.10"))
            h.send(h.a, nos("p1", side="2", qty="10", ordType="P", price="10.02", extra=[(18, "M")]))
            (er,) = self.reports(h.a)
            self.assertEqual((er[39], er[40], er[44], er[18]), ("0", "P", "10.02", "M"))
            self.assertEqual(h.engine.findOrder("fix1/A", "p1").price, 100500)
            h.send(h.b, nos("take", qty="10", price="10.10"))
            (fill,) = self.reports(h.a)
            self.assertEqual((fill[31], fill[39]), ("10.05", "2"))

    def test_pegPriceType(self):
        h = self.harness("FIXT.1.1", "8")
        h.send(h.a, nos("p1", ordType="P", price=None, extra=[(1094, "4")]))
        (er,) = self.reports(h.a)
        self.assertEqual((er[39], er[1094]), ("0", "4"))
        h.send(h.a, nos("p2", ordType="P", price=None, extra=[(1094, "1")]))
        (er,) = self.reports(h.a)
        self.assertEqual(er[39], "8")
        self.assertIn("midpoint", er[58])

    def test_pegNeedsMidpoint(self):
        h = self.harness()
        h.send(h.a, nos("p1", ordType="P", price=None))
        (er,) = self.reports(h.a)
        self.assertEqual((er[39], er[37]), ("8", "NONE"))
        self.assertIn("ExecInst M", er[58])

    # -- self-trade prevention ---------------------------------------------------------

    def test_selfMatchPreventionId(self):
        """
        FIX.5.0SP2: SelfMatchPreventionID narrows self-trade prevention;
        the cancels carry ExecRestatementReason 18 (the incoming order) or
        19 (the resting one).
        """
        h = self.harness("FIXT.1.1", "9")
        h.engine.setBookProperty("AAPL", "self_trade_prevention", "cancel_both")
        h.send(h.a, nos("s1", side="2", extra=[(2362, "D1")]))
        h.send(h.a, nos("b1", extra=[(2362, "D2")]))
        self.assertEqual([r[150] for r in self.reports(h.a)], ["0", "0", "F", "F"])
        h.send(h.a, nos("s2", side="2", qty="50", extra=[(2362, "D1")]))
        h.send(h.a, nos("b2", qty="10", extra=[(2362, "D1")]))
        reports = self.reports(h.a)
        cancels = [(r[11], r[378]) for r in reports if r[150] == "4"]
        self.assertEqual(cancels, [("s2", "19"), ("b2", "18")])
        self.assertEqual(reports[0][2362], "D1")

    def test_decrement(self):
        h = self.harness("FIX.4.4")
        h.engine.setBookProperty("AAPL", "self_trade_prevention", "decrement")
        h.send(h.a, nos("s1", side="2", qty="100"))
        h.send(h.a, nos("b1", qty="30"))
        restated, cancelled = self.reports(h.a)[2:]
        self.assertEqual(
            (restated[150], restated[378], restated[38], restated[151]), ("D", "5", "70", "70")
        )
        self.assertEqual((cancelled[150], cancelled[11], cancelled[378]), ("4", "b1", "99"))

    def test_stpGroup(self):
        """
        The endpoint property stp_group makes its sessions one party.
        """
        h = self.harness(stp_group="desk")
        h.engine.setBookProperty("AAPL", "self_trade_prevention", "cancel_newest")
        h.send(h.a, nos("s1", side="2"))
        h.send(h.b, nos("b1"))
        accepted, er = self.reports(h.b)
        self.assertEqual(er[150], "4")
        self.assertEqual(er[58], "cancelled by self-trade prevention")

    # -- mass cancel and mass status -----------------------------------------------------

    def test_massCancelAll(self):
        """
        OrderMassCancelRequest 7: the report first, then an
        ExecutionReport per cancelled order; the other session's orders
        stay.
        """
        for beginString, applVerId in ALL_VERSIONS[3:]:
            h = self.harness(beginString, applVerId)
            h.send(h.a, nos("a1"))
            h.send(h.a, nos("a2", side="2", price="11.00"))
            h.send(h.a, nos("a3", symbol="MSFT"))
            h.send(h.b, nos("b1"))
            self.take(h.a)
            self.take(h.b)
            h.send(h.a, massCancel("mc1"))
            sent = self.take(h.a)
            self.assertEqual([t for t, _ in sent], ["r", "8", "8", "8"])
            report = sent[0][1]
            self.assertEqual(
                (report[11], report[530], report[531], report[533]), ("mc1", "7", "7", "3")
            )
            self.assertEqual({f[150] for _, f in sent[1:]}, {"4"})
            self.assertEqual(sent[1][1][58], "cancelled by an order mass cancel request")
            self.assertEqual(self.take(h.b), [])
            self.assertEqual(h.engine.findOrder("fix1/B", "b1").status, OrdStatus.NEW)

    def test_massCancelSymbolSide(self):
        h = self.harness()
        h.send(h.a, nos("a1"))
        h.send(h.a, nos("a2", side="2", price="11.00"))
        h.send(h.a, nos("a3", symbol="MSFT"))
        self.take(h.a)
        h.send(h.a, massCancel("mc1", "1", symbol="AAPL", side="2"))
        sent = self.take(h.a)
        self.assertEqual([t for t, _ in sent], ["r", "8"])
        self.assertEqual((sent[0][1][531], sent[0][1][533]), ("1", "1"))
        self.assertEqual(sent[1][1][11], "a2")

    def test_massCancelRejected(self):
        h = self.harness()
        h.send(h.a, massCancel("mc1", "1", symbol="NOPE"))
        ((msgType, report),) = self.take(h.a)
        self.assertEqual((msgType, report[531], report[532]), ("r", "0", "1"))
        h.send(h.a, massCancel("mc2", "5"))
        ((msgType, report),) = self.take(h.a)
        self.assertEqual((report[531], report[532]), ("0", "0"))
        self.assertIn("not supported", report[58])

    def test_massCancelNotBefore43(self):
        h = self.harness("FIX.4.2")
        self.assertFalse(h.send(h.a, massCancel("mc1")))

    def test_massStatus(self):
        """
        OrderMassStatusRequest: an ExecutionReport (ExecType I) per live
        order of the session, the last with LastRptRequested Y.
        """
        h = self.harness()
        h.send(h.a, nos("a1"))
        h.send(h.a, nos("a2", side="2", price="11.00", extra=[(111, "10")]))
        h.send(h.b, nos("b1"))
        self.take(h.a)
        h.send(h.a, massStatus("ms1"))
        reports = self.reports(h.a)
        self.assertEqual([(r[11], r[150], r[584], r[911]) for r in reports],
                         [("a1", "I", "ms1", "2"), ("a2", "I", "ms1", "2")])
        self.assertEqual([r.get(912) for r in reports], [None, "Y"])
        self.assertEqual(reports[1][111], "10")
        h.send(h.a, massStatus("ms2", "1", symbol="MSFT"))
        (none,) = self.reports(h.a)
        self.assertEqual((none[37], none[39], none[911], none[912]), ("NONE", "8", "0", "Y"))
        h.send(h.a, massStatus("ms3", "8"))
        (none,) = self.reports(h.a)
        self.assertIn("not supported", none[58])

    # -- drop copy ---------------------------------------------------------------------

    def test_dropCopy(self):
        """
        A drop copy gets the reports of triggers and decrements too.
        """
        h = self.harness("FIXT.1.1", "9")
        copyEndpoint = type(h.endpoint)(h.engine, h.clock, "dc1")
        copy = DropCopy(copyEndpoint)
        dc = FakeSession(copyEndpoint, "DC", "FIXT.1.1", "9")
        copy.sessionLoggedOn(dc)
        h.engine.setBookProperty("AAPL", "self_trade_prevention", "decrement")
        h.send(h.a, nos("s1", ordType="3", price=None, extra=[(99, "10.00")]))
        h.send(h.b, nos("b1", side="2", qty="50"))
        h.send(h.a, nos("s2", side="2", qty="50", price="10.00"))
        h.send(h.a, nos("b2", qty="10"))
        execTypes = [f[150] for _, f in self.take(dc)]
        self.assertIn("L", execTypes)
        self.assertIn("D", execTypes)

    def test_cancelAndStatusOfSpecial(self):
        h = self.harness()
        h.send(h.a, nos("h1", extra=[(111, "0"), (110, "10")]))
        h.send(h.a, cancel("h2", "h1"))
        reports = self.reports(h.a)
        self.assertEqual((reports[1][150], reports[1][111], reports[1][110]), ("4", "0", "10"))


class ReferenceOrderTypesTests(OrderTypesTests):
    engineClass = ReferenceEngine


class WireShapesTests(SynchronousTestCase):
    """
    Through the real framer, which learns the shapes of repeated messages:
    order entry remembers which shapes have none of the advanced fields
    (L{exsim.fix.orders._PLAIN_SHAPES}); plain and advanced orders of
    shapes seen before keep their terms.
    """

    def test_shapes(self):
        from twisted.internet.testing import MemoryReactorClock

        from exsim.fix import orders
        from exsim.service import Simulator
        from tests import fixsession_helpers

        reactor = MemoryReactorClock()
        reactor.advance(fixsession_helpers.START)
        simulator = Simulator(reactor)
        simulator.create_engine("e1")
        simulator.create_book("AAPL", "e1")
        simulator.create_endpoint("fix1", "e1", "fix", sender_comp_id="EXSIM", target_comp_id="*")
        simulator.start_endpoint("fix1")
        client = fixsession_helpers.Client(simulator.endpoint("fix1").factory, compId="A")
        client.logon()
        engine = simulator.engines["e1"]
        orders._PLAIN_SHAPES.clear()

        def order(clOrdId, extra=()):
            fields = [
                (11, clOrdId), (55, "AAPL"), (54, "2"), (38, 100), (40, "2"), (44, "10.00"),
                (59, "0"), (60, fixsession_helpers.stamp(reactor.seconds())),
            ]
            client.send("D", fields + list(extra))
            return engine.findOrder("fix1/A", clOrdId)

        # (The framer expects a shape once it has come twice in a row.)
        for i in range(3):
            for j in range(4):
                plain = order("p%d.%d" % (i, j))
                self.assertIsNone(plain.extra)
            for j in range(4):
                iceberg = order("i%d.%d" % (i, j), [(111, "10")])
                self.assertEqual(iceberg.extra.displayQty, 10)
        self.assertEqual(sorted(set(orders._PLAIN_SHAPES.values())), [False, True])
