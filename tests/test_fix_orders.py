"""
Tests for L{exsim.fix.orders}: FIX order entry against the engine, with a
fake session recording what would be sent; and for what it is built from:
L{exsim.fix.versions}, L{exsim.fix.convert}, L{exsim.fix.reports},
L{exsim.fix.replies} and L{exsim.fix.done}.
"""

import gc
from decimal import Decimal

from hypothesis import given, settings, strategies as st
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix import codec, orders, replies, reports, utctime, versions
from exsim.fix.convert import formatAvgPx, formatPrice
from exsim.fix.done import DoneOrders
from exsim.fix.orders import OrderEntry
from exsim.fix.versions import profileFor
from exsim.interfaces import IEngineListener, IFixApplication, IFixEncodedSession, IFixSession
from exsim.model import Instrument, Order, OrdStatus, OrdType, Side, TimeInForce
from exsim.orderentry import OrderRouting
from exsim.owners import ownerOf

from tests.fixfakes import (
    FakeEndpoint,
    FakeMessage,
    FakeSession,
    cancel,
    makeEngine,
    nos,
    replace,
    status,
)
from tests.helpers import Recorder

@implementer(IFixEncodedSession)
class EncodedFakeSession(FakeSession):
    """
    A L{FakeSession} that also takes pre-encoded bodies (as the real
    session does), recording them decoded as (tag, text) pairs.
    """

    def sendEncoded(self, msgType, body):
        pairs = [(t, v.decode("utf-8")) for t, v in codec.parsePairs(body)]
        self.sent.append((msgType.decode("ascii"), pairs))


VERSIONS = (
    ("FIX.4.0", None),
    ("FIX.4.1", None),
    ("FIX.4.2", None),
    ("FIX.4.3", None),
    ("FIX.4.4", None),
    ("FIXT.1.1", "9"),
)


class Harness:
    """
    An engine, an order-entry application and two logged-on sessions.
    """

    def __init__(self, beginString="FIX.4.4", applVerId=None, encoded=True,
                 engineClass=MatchingEngine, **properties):
        self.engine, self.clock = makeEngine(engineClass=engineClass)
        self.endpoint = FakeEndpoint(self.engine, self.clock, **properties)
        self.app = OrderEntry(self.endpoint)
        sessionClass = EncodedFakeSession if encoded else FakeSession
        self.a = sessionClass(self.endpoint, "A", beginString, applVerId)
        self.b = sessionClass(self.endpoint, "B", beginString, applVerId)
        self.app.sessionLoggedOn(self.a)
        self.app.sessionLoggedOn(self.b)

    def send(self, session, message):
        result = self.app.fromApp(session, message)
        return result


def only(testCase, session, msgType="8"):
    sent = session.take()
    testCase.assertEqual([t for t, _ in sent], [msgType], sent)
    return sent[0][1]


class FormattingTests(SynchronousTestCase):
    def test_formatPrice(self):
        self.assertEqual(formatPrice(1502500), "150.25")
        self.assertEqual(formatPrice(1500000), "150")
        self.assertEqual(formatPrice(1), "0.0001")
        self.assertEqual(formatPrice(-1502500), "-150.25")
        self.assertEqual(formatPrice(15025, 100), "150.25")
        self.assertEqual(formatPrice(7, 7), "1")
        self.assertEqual(formatPrice("10.001"), "10.001")

    def test_formatAvgPx(self):
        self.assertEqual(formatAvgPx(0, 0), "0")
        self.assertEqual(formatAvgPx(100 * 100000 + 200 * 110000, 300), "10.66666667")
        self.assertEqual(formatAvgPx(300 * 100000, 300), "10")

    def test_stamp(self):
        self.assertEqual(profileFor("FIX.4.2").stamp(1700000000.25), "20231114-22:13:20.250")
        self.assertEqual(profileFor("FIX.4.1").stamp(1700000000.25), "20231114-22:13:20")
        self.assertEqual(profileFor("FIX.4.4").stamp(1700000001.9996), "20231114-22:13:21.999")

    def test_parseTimes(self):
        self.assertEqual(utctime.parseUTCTimestamp("20231114-22:13:20.250"), 1700000000.25)
        self.assertEqual(utctime.parseUTCTimestamp("20231114-22:13:20"), 1700000000.0)
        self.assertIsNone(utctime.parseUTCTimestamp("2023-11-14"))
        self.assertIsNone(utctime.parseUTCTimestamp("20231114-22:13:20.x"))
        self.assertEqual(utctime.parseDateEnd("20231114"), 1700006400.0)
        self.assertIsNone(utctime.parseDateEnd("2023111"))

    def test_applicationVersion(self):
        self.assertEqual(versions.applicationVersion("FIXT.1.1"), "FIX.5.0SP2")
        self.assertEqual(versions.applicationVersion("FIXT.1.1", "7"), "FIX.5.0")
        self.assertEqual(versions.applicationVersion("FIX.4.2", None), "FIX.4.2")


class InterfaceTests(SynchronousTestCase):
    def test_provides(self):
        h = Harness()
        self.assertTrue(verifyObject(IFixApplication, h.app))
        self.assertTrue(verifyObject(IEngineListener, h.app))
        self.assertTrue(verifyObject(IFixSession, h.a))
        self.assertTrue(verifyObject(IFixEncodedSession, h.a))


class NewOrderTests(SynchronousTestCase):
    def test_acceptedEveryVersion(self):
        """
        A resting limit order is acknowledged with an ExecutionReport New
        carrying the fields of the session's version.
        """
        for beginString, applVerId in VERSIONS:
            h = Harness(beginString, applVerId)
            self.assertTrue(h.send(h.a, nos("c1", extra=[(1, "ACC1")])))
            er = only(self, h.a)
            order = h.engine.findOrder("fix1/A", "c1")
            self.assertEqual(er[37], str(order.orderId))
            self.assertEqual(er[11], "c1")
            self.assertEqual(er[39], "0")
            self.assertEqual(er[55], "AAPL")
            self.assertEqual(er[54], "1")
            self.assertEqual(er[38], "100")
            self.assertEqual(er[44], "10")
            self.assertEqual(er[40], "2")
            self.assertEqual(er[59], "0")
            self.assertEqual(er[1], "ACC1")
            self.assertEqual(er[14], "0")
            self.assertEqual(er[6], "0")
            rank = profileFor(beginString, applVerId).rank
            if rank <= 42:
                self.assertEqual(er[20], "0")
            else:
                self.assertNotIn(20, er)
            if rank >= 41:
                self.assertEqual(er[150], "0")
                self.assertEqual(er[151], "100")
            else:
                self.assertNotIn(150, er)
                self.assertNotIn(151, er)
                self.assertEqual((er[32], er[31]), ("0", "0"))
            if rank >= 42:
                self.assertEqual(er[60], "20231114-22:13:20.000")
            else:
                self.assertEqual(er[60], "20231114-22:13:20")
            self.assertEqual(h.b.sent, [])

    def test_execIdIsEngines(self):
        h = Harness()
        events = []

        class Listener:
            def engineEvents(self, batch):
                events.extend(batch)

        h.engine.subscribe(Listener())
        h.send(h.a, nos("c1"))
        er = only(self, h.a)
        self.assertEqual(er[17], str(events[0].execId))

    def _reject(self, message, beginString="FIX.4.4", applVerId=None):
        h = Harness(beginString, applVerId)
        h.send(h.a, message)
        er = only(self, h.a)
        self.assertEqual(er[39], "8")
        self.assertEqual(er[150], "8")
        self.assertEqual(er[151], "0")
        self.assertTrue(er[58])
        return er

    def test_unknownSymbol(self):
        er = self._reject(nos("c1", symbol="NOPE"))
        self.assertEqual(er[103], "1")
        self.assertEqual(er[55], "NOPE")

    def test_badPrice(self):
        self.assertEqual(self._reject(nos("c1", price="10.001"))[103], "99")
        self.assertEqual(self._reject(nos("c1", price="10.001"), "FIX.4.2")[103], "0")
        self.assertEqual(self._reject(nos("c1", price="-1"))[103], "99")
        self.assertEqual(self._reject(nos("c1", price="10.00001"))[44], "10.00001")
        self.assertEqual(self._reject(nos("c1", price=None))[103], "99")

    def test_badQuantity(self):
        self.assertEqual(self._reject(nos("c1", qty="0"))[103], "13")
        er = self._reject(nos("c1", qty="10.5"))
        self.assertEqual((er[103], er[38]), ("13", "10.5"))
        self.assertEqual(self._reject(nos("c1", qty="10.5"), "FIX.4.2")[103], "0")

    def test_unsupportedOrderType(self):
        er = self._reject(nos("c1", ordType="6"))
        self.assertEqual((er[103], er[40]), ("11", "6"))
        self.assertEqual(self._reject(nos("c1", ordType="P"), "FIX.4.2")[103], "0")

    def test_unsupportedTimeInForce(self):
        er = self._reject(nos("c1", tif="2"))
        self.assertEqual((er[103], er[59]), ("11", "2"))

    def test_gtdWithoutExpiry(self):
        self.assertEqual(self._reject(nos("c1", tif="6"))[103], "11")

    def test_gtdExpired(self):
        er = self._reject(nos("c1", tif="6", extra=[(126, "20200101-00:00:00")]))
        self.assertEqual(er[103], "11")

    def test_duplicateClOrdId(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.a.take()
        h.send(h.a, nos("c1"))
        er = only(self, h.a)
        self.assertEqual((er[39], er[103]), ("8", "6"))

    def test_sameClOrdIdOtherSession(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.send(h.b, nos("c1"))
        self.assertEqual(only(self, h.a)[39], "0")
        self.assertEqual(only(self, h.b)[39], "0")

    def test_unsupportedSide(self):
        h = Harness()
        h.send(h.a, nos("c1", side="3"))
        er = only(self, h.a)
        self.assertEqual((er[39], er[150], er[103], er[37], er[54]), ("8", "8", "99", "NONE", "3"))
        self.assertTrue(er[17].startswith("L"))

    def test_missingClOrdId(self):
        h = Harness()
        message = FakeMessage("D", [(55, "AAPL"), (54, "1"), (38, "1"), (40, "2"), (44, "1")], seqNum=7)
        self.assertTrue(h.send(h.a, message))
        reject = only(self, h.a, "3")
        self.assertEqual((reject[45], reject[371], reject[373], reject[372]), ("7", "11", "1", "D"))

    def test_unsupportedMessageType(self):
        h = Harness()
        self.assertFalse(h.send(h.a, FakeMessage("AB", [(11, "x")])))
        self.assertFalse(h.send(h.a, FakeMessage("V", [(262, "x")])))
        self.assertEqual(h.a.sent, [])


class FillTests(SynchronousTestCase):
    def test_partialThenFull44(self):
        """
        A resting order filled in two parts gets ExecType F (Trade) with
        LastQty/LastPx, CumQty, LeavesQty and AvgPx; the aggressor too.
        """
        h = Harness()
        h.send(h.a, nos("s1", side="2", qty="300", price="10.00"))
        h.a.take()
        h.send(h.b, nos("b1", side="1", qty="100", price="10.05"))
        resting = only(self, h.a)
        self.assertEqual(
            (resting[150], resting[39], resting[32], resting[31], resting[14], resting[151], resting[6], resting[851]),
            ("F", "1", "100", "10", "100", "200", "10", "1"),
        )
        b = h.b.take()
        self.assertEqual([er[150] for _, er in b], ["0", "F"])
        aggr = b[1][1]
        self.assertEqual((aggr[39], aggr[32], aggr[31], aggr[151], aggr[851], aggr[44]), ("2", "100", "10", "0", "2", "10.05"))
        self.assertNotEqual(aggr[17], resting[17])
        h.send(h.b, nos("b2", side="1", qty="200", price="10.00"))
        resting = only(self, h.a)
        self.assertEqual((resting[39], resting[14], resting[151], resting[11]), ("2", "300", "0", "s1"))

    def test_fills42(self):
        h = Harness("FIX.4.2")
        h.send(h.a, nos("s1", side="2", qty="300", price="10.00"))
        h.send(h.b, nos("b1", side="1", qty="100", price="10.00"))
        h.send(h.b, nos("b2", side="1", qty="200", price="10.00"))
        a = [er for _, er in h.a.take()]
        self.assertEqual([(er[20], er[150], er[39]) for er in a], [("0", "0", "0"), ("0", "1", "1"), ("0", "2", "2")])
        self.assertEqual(a[1][32], "100")
        self.assertNotIn(851, a[1])

    def test_fills50sp2(self):
        h = Harness("FIXT.1.1", "9")
        h.send(h.a, nos("s1", side="2", qty="100", price="10.00"))
        h.send(h.b, nos("b1", side="1", qty="100", price="10.00"))
        fill = h.a.take()[1][1]
        self.assertEqual((fill[150], fill[1057], fill[851]), ("F", "N", "1"))
        self.assertEqual(fill[880], h.b.take()[1][1][880])

    def test_avgPxOverLevels(self):
        h = Harness()
        h.send(h.a, nos("s1", side="2", qty="100", price="10.00"))
        h.send(h.a, nos("s2", side="2", qty="200", price="11.00"))
        h.send(h.b, nos("b1", side="1", qty="300", price="11.00"))
        last = h.b.take()[-1][1]
        self.assertEqual((last[6], last[14], last[39]), ("10.66666667", "300", "2"))

    def test_marketOrderSweepsThenCancels(self):
        h = Harness()
        h.send(h.a, nos("s1", side="2", qty="100", price="10.00"))
        h.send(h.b, nos("m1", side="1", qty="150", ordType="1"))
        b = [er for _, er in h.b.take()]
        self.assertEqual([er[150] for er in b], ["0", "F", "4"])
        self.assertNotIn(44, b[0])
        self.assertEqual((b[2][39], b[2][14], b[2][151], b[2][11]), ("4", "100", "0", "m1"))

    def test_iocAndFok(self):
        h = Harness()
        h.send(h.a, nos("s1", side="2", qty="100", price="10.00"))
        h.send(h.b, nos("f1", side="1", qty="150", price="10.00", tif="4"))
        self.assertEqual([er[150] for _, er in h.b.take()], ["0", "4"])
        h.send(h.b, nos("i1", side="1", qty="150", price="10.00", tif="3"))
        b = [er for _, er in h.b.take()]
        self.assertEqual([er[150] for er in b], ["0", "F", "4"])
        self.assertEqual(b[2][59], "3")

    def test_gtcRestsAndDayExpires(self):
        h = Harness()
        h.send(h.a, nos("g1", tif="1"))
        h.send(h.a, nos("d1"))
        h.a.take()
        h.engine.expireDay()
        er = only(self, h.a)
        self.assertEqual((er[11], er[150], er[39], er[151]), ("d1", "C", "C", "0"))
        self.assertIsNotNone(h.engine.findOrder("fix1/A", "g1"))

    def test_gtdExpiresAtExpireTime(self):
        h = Harness()
        expire = versions.Profile("FIX.4.4").stamp(h.clock.seconds() + 60)
        h.send(h.a, nos("t1", tif="6", extra=[(126, expire)]))
        er = only(self, h.a)
        self.assertEqual((er[59], er[126]), ("6", expire))
        h.clock.advance(59)
        self.assertEqual(h.a.sent, [])
        h.clock.advance(1)
        self.assertEqual(only(self, h.a)[150], "C")

    def test_gtdExpireDate(self):
        h = Harness()
        h.send(h.a, nos("t1", tif="6", extra=[(432, "20231114")]))
        er = only(self, h.a)
        self.assertEqual((er[39], er[432]), ("0", "20231114"))
        h.clock.advance(6400)
        self.assertEqual(only(self, h.a)[150], "C")


class BehaviourTests(SynchronousTestCase):
    def test_autoFill(self):
        h = Harness()
        h.engine.setBookProperty("AAPL", "behaviour", "auto_fill")
        h.send(h.a, nos("c1"))
        self.assertEqual([(er[150], er[39]) for _, er in h.a.take()], [("0", "0"), ("F", "2")])

    def test_autoReject(self):
        h = Harness()
        h.engine.setBookProperty("AAPL", "behaviour", "auto_reject")
        h.engine.setBookProperty("AAPL", "reject_text", "nope")
        h.send(h.a, nos("c1"))
        er = only(self, h.a)
        self.assertEqual((er[150], er[103], er[58]), ("8", "99", "nope"))

    def test_autoCancel(self):
        h = Harness()
        h.engine.setBookProperty("AAPL", "behaviour", "auto_cancel")
        h.send(h.a, nos("c1"))
        h.a.take()
        h.clock.advance(1)
        er = only(self, h.a)
        self.assertEqual((er[150], er[11]), ("4", "c1"))
        self.assertNotIn(41, er)

    def test_autoPartial(self):
        h = Harness()
        h.engine.setBookProperty("AAPL", "behaviour", "auto_partial")
        h.send(h.a, nos("c1"))
        a = [er for _, er in h.a.take()]
        self.assertEqual([(er[150], er[39]) for er in a], [("0", "0"), ("F", "1")])
        self.assertEqual(a[1][151], "50")


class CancelReplaceTests(SynchronousTestCase):
    def test_cancel(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.a.take()
        h.send(h.a, cancel("x1", "c1"))
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[11], er[41], er[151]), ("4", "4", "x1", "c1", "0"))
        self.assertIsNone(h.engine.findOrder("fix1/A", "c1"))

    def test_cancelByOrderId(self):
        h = Harness("FIXT.1.1", "9")
        h.send(h.a, nos("c1"))
        orderId = only(self, h.a)[37]
        message = FakeMessage("F", [(37, orderId), (11, "x1"), (55, "AAPL"), (54, "1"), (60, "20240101-00:00:00")])
        h.send(h.a, message)
        self.assertEqual(only(self, h.a)[150], "4")

    def test_cancelOtherSessionsOrderIsUnknown(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.a.take()
        h.send(h.b, cancel("x1", "c1"))
        rej = only(self, h.b, "9")
        self.assertEqual((rej[102], rej[39], rej[37], rej[434]), ("1", "8", "NONE", "1"))
        self.assertEqual(h.a.sent, [])

    def test_cancelUnknownEveryVersion(self):
        for beginString, applVerId in VERSIONS:
            h = Harness(beginString, applVerId)
            h.send(h.a, cancel("x1", "nope"))
            rej = only(self, h.a, "9")
            self.assertEqual((rej[37], rej[11], rej[102]), ("NONE", "x1", "1"))
            rank = profileFor(beginString, applVerId).rank
            if rank >= 41:
                self.assertEqual((rej[41], rej[39]), ("nope", "8"))
            else:
                self.assertNotIn(39, rej)
            if rank >= 42:
                self.assertEqual(rej[434], "1")
            else:
                self.assertNotIn(434, rej)

    def test_cancelTooLate(self):
        h = Harness()
        h.send(h.a, nos("s1", side="2"))
        h.send(h.b, nos("b1", side="1"))
        orderId = h.a.take()[0][1][37]
        h.send(h.a, cancel("x1", "s1", side="2"))
        rej = only(self, h.a, "9")
        self.assertEqual((rej[102], rej[39], rej[37], rej[41]), ("0", "2", orderId, "s1"))

    def test_cancelSideMismatch(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.a.take()
        h.send(h.a, cancel("x1", "c1", side="2"))
        rej = only(self, h.a, "9")
        self.assertEqual((rej[102], rej[39]), ("99", "0"))
        self.assertIsNotNone(h.engine.findOrder("fix1/A", "c1"))

    def test_replace(self):
        for beginString, applVerId in VERSIONS:
            h = Harness(beginString, applVerId)
            h.send(h.a, nos("c1"))
            h.a.take()
            h.send(h.a, replace("c2", "c1", qty="150", price="10.50"))
            er = only(self, h.a)
            rank = profileFor(beginString, applVerId).rank
            self.assertEqual((er[11], er[38], er[44]), ("c2", "150", "10.5"))
            self.assertEqual(er[39], "5" if rank <= 42 else "0")
            if rank >= 41:
                self.assertEqual((er[150], er[41], er[151]), ("5", "c1", "150"))
            order = h.engine.findOrder("fix1/A", "c2")
            self.assertEqual((order.price, order.quantity), (105000, 150))

    def test_replaceAfterPartialFill(self):
        h = Harness()
        h.send(h.a, nos("c1", qty="300"))
        h.send(h.b, nos("s1", side="2", qty="100"))
        h.a.take()
        h.send(h.a, replace("c2", "c1", qty="200"))
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[14], er[151]), ("5", "1", "100", "100"))

    def test_replaceCrosses(self):
        h = Harness()
        h.send(h.a, nos("c1", price="9.00"))
        h.send(h.b, nos("s1", side="2", price="10.00"))
        h.a.take()
        h.send(h.a, replace("c2", "c1", price="10.00"))
        self.assertEqual([er[150] for _, er in h.a.take()], ["5", "F"])

    def test_replaceDuplicate(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.send(h.a, nos("c2"))
        h.a.take()
        h.send(h.a, replace("c2", "c1", qty="50"))
        rej = only(self, h.a, "9")
        self.assertEqual((rej[102], rej[434], rej[39], rej[41]), ("6", "2", "0", "c1"))
        h42 = Harness("FIX.4.2")
        h42.send(h42.a, nos("c1"))
        h42.send(h42.a, nos("c2"))
        h42.a.take()
        h42.send(h42.a, replace("c2", "c1", qty="50"))
        self.assertEqual(only(self, h42.a, "9")[102], "2")

    def test_replaceBadPriceAndTypeChange(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.a.take()
        h.send(h.a, replace("c2", "c1", price="10.001"))
        self.assertEqual(only(self, h.a, "9")[102], "99")
        h.send(h.a, replace("c3", "c1", ordType="1", price=None))
        rej = only(self, h.a, "9")
        self.assertIn("order type", rej[58])


class StatusTests(SynchronousTestCase):
    def test_statusLive(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        h.a.take()
        h.send(h.a, status("c1"))
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[11], er[151]), ("I", "0", "c1", "100"))
        self.assertTrue(er[17].startswith("S"))

    def test_statusDone(self):
        h = Harness("FIX.4.2")
        h.send(h.a, nos("c1"))
        h.send(h.b, nos("s1", side="2"))
        h.a.take()
        h.send(h.a, status("c1"))
        er = only(self, h.a)
        self.assertEqual((er[20], er[150], er[39], er[14]), ("3", "2", "2", "100"))

    def test_statusUnknown(self):
        for beginString, applVerId in VERSIONS:
            h = Harness(beginString, applVerId)
            h.send(h.a, status("nope"))
            er = only(self, h.a)
            self.assertEqual((er[39], er[11], er[37]), ("8", "nope", "NONE"))

    def test_statusOtherSession(self):
        h = Harness()
        h.send(h.a, nos("c1"))
        orderId = only(self, h.a)[37]
        h.send(h.b, status("c1", extra=[(37, orderId)]))
        self.assertEqual(only(self, h.b)[39], "8")


class DoneOrdersTests(SynchronousTestCase):
    """
    L{DoneOrders} gives back orders equal to those it was given,
    from records the garbage collector does not track.
    """

    def finished(self):
        """
        Finished orders of every kind: filled with an account and an
        expiry, rejected with a text price and an odd quantity, cancelled
        with other user data, and a market order.
        """
        made = []
        filled = Order(
            "fix1/A", "f1", "AAPL", Side.BUY, 100, 100000, OrdType.LIMIT, TimeInForce.GTD,
            1700000000.0, reports.OrderData("ACC", "20240102-10:00:00", None),
        )
        filled.orderId, filled.cumQty, filled.leavesQty = 7, 100, 0
        filled.notional, filled.status = 100 * 100000, OrdStatus.FILLED
        made.append(filled)
        rejected = Order("fix1/A", "r1", "AAPL", Side.SELL, Decimal("1.5"), "x", "Z", "Q")
        rejected.orderId, rejected.status = 8, OrdStatus.REJECTED
        made.append(rejected)
        cancelled = Order("fix1/B", "c1", "AAPL", Side.SELL_SHORT, 300, 99000, userData=["mine"])
        cancelled.orderId, cancelled.cumQty, cancelled.leavesQty = 9, 100, 0
        cancelled.notional, cancelled.status = 100 * 99000, OrdStatus.CANCELLED
        made.append(cancelled)
        market = Order("fix1/B", "m1", "AAPL", Side.BUY, 10, None, OrdType.MARKET, TimeInForce.IOC)
        market.orderId, market.status = 10, OrdStatus.EXPIRED
        made.append(market)
        return made

    def assertSameOrder(self, got, order):
        self.assertIs(type(got), Order)
        for name in Order.__slots__:
            if name == "userData" and type(order.userData) is reports.OrderData:
                self.assertEqual(
                    (got.userData.account, got.userData.expireTime, got.userData.expireDate),
                    (order.userData.account, order.userData.expireTime, order.userData.expireDate),
                )
            else:
                self.assertEqual(getattr(got, name), getattr(order, name), name)
        self.assertEqual(got.terms, order.terms)

    def test_equalOrders(self):
        done = DoneOrders(100)
        made = self.finished()
        for order in made:
            done.add(order)
        self.assertEqual(len(done), 4)
        profile = profileFor("FIX.4.4")
        for order in made:
            got = done.get(order.owner, order.clOrdId)
            self.assertSameOrder(got, order)
            self.assertEqual(
                replies.statusReport(profile, got, "S1", "20240102-10:00:00.000", 10000),
                replies.statusReport(profile, order, "S1", "20240102-10:00:00.000", 10000),
            )
        self.assertIsNone(done.get("fix1/A", "c1"))

    def test_untracked(self):
        done = DoneOrders(100)
        made = self.finished()
        for order in made[:2] + made[3:]:
            done.add(order)
        # A tuple inside a tuple: the inner one is untracked first.
        gc.collect()
        gc.collect()
        records = list(done.records())
        self.assertEqual(len(records), 3)
        for record in records:
            self.assertFalse(gc.is_tracked(record), record)

    def test_generations(self):
        done = DoneOrders(2)
        made = self.finished()
        for order in made[:3]:
            done.add(order)
        for order in made[:3]:
            self.assertSameOrder(done.get(order.owner, order.clOrdId), order)
        done.add(made[3])
        self.assertIsNone(done.get(made[0].owner, made[0].clOrdId))
        self.assertIsNone(done.get(made[1].owner, made[1].clOrdId))
        for order in made[2:]:
            self.assertSameOrder(done.get(order.owner, order.clOrdId), order)

    def test_generationLetGoLittleByLittle(self):
        """
        The generation let go when a new one starts is freed a few records
        per record added, not at once (freeing 200,000 records stalled
        every session for some 50 ms): gone from lookups at once, emptied
        long before the next generation fills.
        """
        from exsim.fix.done import DROP_STEP

        limit = 40
        done = DoneOrders(limit)
        orders = []
        for n in range(3 * limit):
            order = Order("fix1/A", "c%d" % n, "AAPL", Side.BUY, 100, 100000)
            order.orderId, order.status = n + 1, OrdStatus.CANCELLED
            orders.append(order)
        for order in orders[: 2 * limit]:
            done.add(order)
        # Two generations full: the first is let go, none of it freed yet.
        [dropping] = done._dropping
        self.assertEqual(len(dropping), limit)
        self.assertIsNone(done.get("fix1/A", "c0"))
        self.assertSameOrder(done.get("fix1/A", "c40"), orders[40])
        done.add(orders[2 * limit])
        self.assertEqual(len(dropping), limit - DROP_STEP)
        for order in orders[2 * limit + 1: 2 * limit + limit // DROP_STEP]:
            done.add(order)
        self.assertEqual(len(dropping), 0)
        done.add(orders[2 * limit + limit // DROP_STEP])
        self.assertEqual(done._dropping, [])
        self.assertEqual(len(done), limit + limit // DROP_STEP + 1)

    def test_cancelTooLateAfterRotation(self):
        """
        A finished order in the older generation still answers a cancel
        with its status and order id.
        """
        self.patch(orders, "DONE_MEMORY", 3)
        h = Harness()
        h.send(h.a, nos("s1", side="2"))
        h.send(h.b, nos("b1", side="1"))
        orderId = h.a.take()[0][1][37]
        h.send(h.a, nos("s2", side="2"))
        h.send(h.b, nos("b2", side="1"))
        h.a.take()
        h.send(h.a, cancel("x1", "s1", side="2"))
        rej = only(self, h.a, "9")
        self.assertEqual((rej[102], rej[39], rej[37], rej[41]), ("0", "2", orderId, "s1"))


class ManagedTests(SynchronousTestCase):
    """
    (On the fast engine; L{ReferenceManagedTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.h = Harness(engineClass=self.engineClass)
        self.h.engine.setProperty("mode", "managed")

    def test_acceptAndFill(self):
        h = self.h
        h.send(h.a, nos("c1"))
        self.assertEqual(h.a.sent, [])
        order = h.engine.findOrder("fix1/A", "c1")
        h.engine.acceptOrder(order.orderId)
        self.assertEqual(only(self, h.a)[150], "0")
        h.engine.fillOrder(order.orderId, 40, 100000)
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[32], er[31], er[151]), ("F", "1", "40", "10", "60"))

    def test_reject(self):
        h = self.h
        h.send(h.a, nos("c1"))
        h.engine.rejectOrder(h.engine.findOrder("fix1/A", "c1").orderId, "no")
        er = only(self, h.a)
        self.assertEqual((er[150], er[103], er[58]), ("8", "99", "no"))

    def test_pendingCancel(self):
        h = self.h
        h.send(h.a, nos("c1"))
        orderId = h.engine.findOrder("fix1/A", "c1").orderId
        h.engine.acceptOrder(orderId)
        h.a.take()
        h.send(h.a, cancel("x1", "c1"))
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[11], er[41]), ("6", "6", "x1", "c1"))
        h.send(h.a, cancel("x2", "c1"))
        self.assertEqual(only(self, h.a, "9")[102], "3")
        h.engine.acceptCancel(orderId)
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[11], er[41]), ("4", "4", "x1", "c1"))

    def test_pendingReplace(self):
        h = self.h
        h.send(h.a, nos("c1"))
        orderId = h.engine.findOrder("fix1/A", "c1").orderId
        h.engine.acceptOrder(orderId)
        h.a.take()
        h.send(h.a, replace("c2", "c1", qty="50"))
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[11], er[41]), ("E", "E", "c2", "c1"))
        h.engine.rejectReplace(orderId, "not now")
        rej = only(self, h.a, "9")
        self.assertEqual((rej[434], rej[39], rej[58]), ("2", "0", "not now"))

    def test_pendingReplace41(self):
        h = Harness("FIX.4.1")
        h.engine.setProperty("mode", "managed")
        h.send(h.a, nos("c1"))
        orderId = h.engine.findOrder("fix1/A", "c1").orderId
        h.engine.acceptOrder(orderId)
        h.a.take()
        h.send(h.a, replace("c2", "c1", qty="50"))
        er = only(self, h.a)
        self.assertEqual((er[150], er[39]), ("6", "6"))
        h.engine.acceptReplace(orderId)
        er = only(self, h.a)
        self.assertEqual((er[150], er[39], er[38]), ("5", "5", "50"))


class ReferenceManagedTests(ManagedTests):
    engineClass = ReferenceEngine


class RoutingTests(SynchronousTestCase):
    def test_houseOrdersSendNothing(self):
        h = Harness()
        h.engine.submitNew(Order("house", "h1", "AAPL", Side.SELL, 100, 100000), neverHeld=True)
        self.assertEqual((h.a.sent, h.b.sent), ([], []))
        h.send(h.a, nos("c1"))
        self.assertEqual([er[150] for _, er in h.a.take()], ["0", "F"])

    def test_loggedOutSessionStillNumbered(self):
        """
        Reports about the orders of a session that logged out still go to
        it (its store keeps them for resend); its orders stay in the book.
        """
        h = Harness()
        h.send(h.a, nos("c1"))
        h.a.take()
        h.a.loggedOn = False
        h.app.sessionLoggedOut(h.a)
        self.assertIsNotNone(h.engine.findOrder("fix1/A", "c1"))
        h.send(h.b, nos("s1", side="2"))
        self.assertEqual(only(self, h.a)[150], "F")

    def test_cancelOnDisconnect(self):
        h = Harness(cancel_on_disconnect=True)
        h.send(h.a, nos("c1"))
        h.send(h.a, nos("c2"))
        h.send(h.b, nos("c3"))
        h.a.take()
        h.b.take()
        h.app.sessionLoggedOut(h.a)
        a = [er for _, er in h.a.take()]
        self.assertEqual(sorted((er[11], er[150]) for er in a), [("c1", "4"), ("c2", "4")])
        self.assertEqual(a[0][58], "cancelled on disconnect")
        self.assertIsNotNone(h.engine.findOrder("fix1/B", "c3"))
        self.assertEqual(h.b.sent, [])

    def test_otherEngineListenerUnaffected(self):
        h = Harness()
        h.app.shutdown()
        h.send(h.a, nos("c1"))
        self.assertEqual(h.a.sent, [])


#: Field values as the session layer hands them over: any text but SOH,
#: which ends a field on the wire and so is never inside a value.
_TEXT = st.one_of(
    st.none(),
    st.sampled_from(["1", "2", "0", "-1", "10.00", "1e5", "NaN", "Infinity", "x", "", "5", "6", "3", "99999999999999999999"]),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x01"), max_size=12),
)


class FuzzTests(SynchronousTestCase):
    @settings(max_examples=150, deadline=None)
    @given(
        msgType=st.sampled_from(["D", "F", "G", "H"]),
        values=st.fixed_dictionaries(
            {t: _TEXT for t in (11, 41, 37, 55, 54, 38, 40, 44, 59, 126, 432, 1)}
        ),
    )
    def test_arbitraryValuesNeverRaise(self, msgType, values):
        h = Harness()
        h.send(h.a, nos("live1"))
        pairs = [(t, v) for t, v in values.items() if v is not None]
        h.send(h.a, FakeMessage(msgType, pairs))
        for _, fields in h.a.sent:
            for tag, value in fields:
                self.assertIsInstance(value, str)


class OutgoingValidityTests(SynchronousTestCase):
    """
    Every message the application layer sends passes the data dictionary
    of the session's version (the session layer's validateOutgoing).
    """

    def scenario(self, beginString, applVerId):
        from exsim.fix.dropcopy import DropCopy
        from exsim.fix.marketdata import MarketData
        from tests.test_fix_marketdata import mdr

        h = Harness(beginString, applVerId)
        copyEndpoint = type(h.endpoint)(h.engine, h.clock, "dc1")
        copy = DropCopy(copyEndpoint)
        dc = FakeSession(copyEndpoint, "DC", beginString, applVerId)
        copy.sessionLoggedOn(dc)
        md = MarketData(h.endpoint)
        h.app.marketData = md
        viewer = FakeSession(h.endpoint, "V", beginString, applVerId)
        h.app.sessionLoggedOn(viewer)
        h.app.fromApp(viewer, mdr("m1"))
        h.app.fromApp(viewer, mdr("m2", "0", depth="1"))
        h.app.fromApp(viewer, mdr("m3", symbols=("NOPE",)))
        everyKindOfFlow(h)
        return [h.a, h.b, viewer, dc]

    def test_everyVersion(self):
        from exsim.fix import dictionary

        for beginString, applVerId in VERSIONS:
            d = dictionary.forVersion(beginString, applVerId)
            seen = set()
            for session in self.scenario(beginString, applVerId):
                for msgType, fields in session.sent:
                    seen.add(msgType)
                    problems = dictionary.validateOutgoing(d, msgType, fields)
                    self.assertEqual(problems, [], (beginString, msgType, fields))
            expected = {"8", "9"} | ({"W", "X", "Y"} if beginString not in ("FIX.4.0", "FIX.4.1") else set())
            self.assertEqual(seen, expected, beginString)


class FamilyTests(SynchronousTestCase):
    """
    The C{fix} protocol family, with the session layer's L{FixFactory}.
    """

    def setUp(self):
        from twisted.internet.testing import MemoryReactorClock

        from exsim.fix.family import family

        self.family = family
        self.clock = MemoryReactorClock()
        self.clock.advance(1709294400.0)
        self.engine = MatchingEngine("e1", self.clock)
        from exsim.model import Instrument

        self.engine.addBook(Instrument("AAPL"))

    def endpoint(self, name="fix1", **properties):
        return FakeEndpoint(self.engine, self.clock, name, **properties)

    def test_provides(self):
        from exsim.interfaces import IProtocolFamily

        self.assertTrue(verifyObject(IProtocolFamily, self.family))
        self.assertEqual(self.family.name, "fix")

    def test_properties(self):
        from exsim.errors import BadValue
        from exsim.fix import settings

        names = self.family.propertyNames()
        for name in list(settings.PROPERTIES) + ["role", "cancel_on_disconnect", "market_data"]:
            self.assertIn(name, names)
        self.assertEqual(self.family.parseProperty("role", " Drop_Copy "), "drop_copy")
        self.assertEqual(self.family.parseProperty("cancel_on_disconnect", "yes"), True)
        self.assertEqual(self.family.parseProperty("market_data", "no"), False)
        self.assertEqual(self.family.parseProperty("sender_comp_id", "VENUE"), "VENUE")
        for name, value in (("role", "trader"), ("cancel_on_disconnect", "maybe"), ("nope", "1")):
            e = self.assertRaises(BadValue, self.family.parseProperty, name, value)
            self.assertIn(name, str(e))

    def test_registered(self):
        from exsim import registry

        self.assertIs(registry.lookup("protocol", "fix"), self.family)

    def test_roles(self):
        from exsim.fix.dropcopy import DropCopy
        from exsim.fix.factory import FixFactory
        from exsim.fix.marketdata import MarketData

        factory = self.family.buildFactory(self.endpoint())
        self.assertIsInstance(factory, FixFactory)
        self.assertIsInstance(factory.application, OrderEntry)
        self.assertIsInstance(factory.application.marketData, MarketData)
        factory = self.family.buildFactory(self.endpoint("fix2", market_data=False))
        self.assertIsNone(factory.application.marketData)
        factory = self.family.buildFactory(self.endpoint("dc1", role="drop_copy"))
        self.assertIsInstance(factory.application, DropCopy)
        factory = self.family.buildFactory(self.endpoint("md1", role="market_data"))
        self.assertIsInstance(factory.application, MarketData)

    def test_shutdownDetaches(self):
        factory = self.family.buildFactory(self.endpoint())
        # Order entry follows the engine; its market data only once a
        # session subscribes (MarketDataTests.test_followsEngineWhileSubscribed).
        self.assertEqual(list(self.engine._listeners), [factory.application])
        factory.shutdown()
        factory.shutdown()
        self.assertEqual(list(self.engine._listeners), [])

    def client(self, factory, compId="CLIENT"):
        from tests.fixsession_helpers import Client

        client = Client(factory, compId)
        client.logon()
        return client

    def test_wire(self):
        """
        Over the session layer: a NewOrderSingle in, its ExecutionReport
        out, numbered and stamped by the session.
        """
        factory = self.family.buildFactory(self.endpoint())
        client = self.client(factory)
        [er] = client.send("D", [(11, "c1"), (55, "AAPL"), (54, "1"), (60, "20240301-12:00:00"), (38, 100), (40, "2"), (44, "10.00")])
        self.assertEqual((er.msgType, er.get(150), er.get(39), er.get(56), er.seqNum), ("8", "0", "0", "CLIENT", 2))
        [reject] = client.send("AB", [(55, "AAPL")])
        self.assertEqual(reject.msgType, "3")
        [reject] = client.send("E", [(66, "L1"), (394, "1"), (68, "1"), (73, "0")])
        self.assertEqual((reject.msgType, reject.get(372), reject.get(380)), ("j", "E", "3"))
        self.assertEqual(len(factory.application.sessions), 1)

    def test_ordersStayOnDisconnect(self):
        factory = self.family.buildFactory(self.endpoint())
        client = self.client(factory)
        client.send("D", [(11, "c1"), (55, "AAPL"), (54, "1"), (60, "20240301-12:00:00"), (38, 100), (40, "2"), (44, "10.00")])
        client.close()
        self.assertIsNotNone(self.engine.findOrder("fix1/CLIENT", "c1"))

    def test_cancelOnDisconnect(self):
        factory = self.family.buildFactory(self.endpoint(cancel_on_disconnect=True))
        client = self.client(factory)
        client.send("D", [(11, "c1"), (55, "AAPL"), (54, "1"), (60, "20240301-12:00:00"), (38, 100), (40, "2"), (44, "10.00")])
        client.close()
        self.assertIsNone(self.engine.findOrder("fix1/CLIENT", "c1"))
        # The cancel reaches the client by resend when it logs on again.
        from tests.fixsession_helpers import Client

        again = Client(factory)
        again.seq = 3
        [logon] = again.logon()
        self.assertEqual(logon.seqNum, 4)
        resent = [m for m in again.send("2", [(7, 3), (16, 0)]) if m.msgType == "8"]
        self.assertEqual([(m.get(150), m.get(43), m.get(58)) for m in resent], [("4", "Y", "cancelled on disconnect")])


class WireFuzzTests(SynchronousTestCase):
    """
    Mutated application messages through the session layer never raise out
    of the protocol and never stop another session.
    """

    @settings(max_examples=60, deadline=None)
    @given(
        msgType=st.sampled_from(["D", "F", "G", "H", "V"]),
        values=st.lists(
            st.tuples(
                st.sampled_from([11, 41, 37, 55, 54, 38, 40, 44, 59, 126, 432, 1, 262, 263, 264, 267, 269, 146]),
                st.one_of(
                    st.sampled_from(["1", "2", "0", "-1", "10.00", "AAPL", "x", "6", "99999999999999999999"]),
                    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=8),
                ),
            ),
            max_size=12,
        ),
    )
    def test_mutatedMessages(self, msgType, values):
        from twisted.internet.testing import MemoryReactorClock

        from exsim.fix.family import family
        from exsim.model import Instrument
        from tests.fixsession_helpers import Client

        clock = MemoryReactorClock()
        clock.advance(1709294400.0)
        engine = MatchingEngine("e1", clock)
        engine.addBook(Instrument("AAPL"))
        factory = family.buildFactory(FakeEndpoint(engine, clock))
        fuzzer = Client(factory, "FUZZ", port=40001)
        fuzzer.logon()
        other = Client(factory, "OTHER", port=40002)
        other.logon()
        fuzzer.send(msgType, values)
        [er] = other.send("D", [(11, "ok"), (55, "AAPL"), (54, "1"), (60, "20240301-12:00:00"), (38, 1), (40, "2"), (44, "1")])
        self.assertEqual((er.msgType, er.get(39)), ("8", "0"))


#: Every application version an order-entry session may speak.
APPLICATION_VERSIONS = (
    "FIX.4.0", "FIX.4.1", "FIX.4.2", "FIX.4.3", "FIX.4.4", "FIX.5.0", "FIX.5.0SP1", "FIX.5.0SP2",
)


def everyKindOfFlow(h):
    """
    Send requests making every kind of ExecutionReport (and odd values:
    an account, expiry, rejected text quantities and prices).
    """
    h.send(h.a, nos("s1", side="2", qty="300", extra=[(1, "ACC")]))
    h.send(h.b, nos("b1", qty="100", price="10.05"))
    h.send(h.a, replace("s2", "s1", qty="250", price="10.01", side="2"))
    h.send(h.a, replace("s3", "s2", qty="100", side="2", price="10.001"))
    h.send(h.a, cancel("x1", "s2", side="2"))
    h.send(h.a, cancel("x2", "s2", side="2"))
    h.send(h.a, cancel("x3", "zz"))
    h.send(h.a, nos("r1", symbol="NOPE"))
    h.send(h.a, nos("r2", qty="1.5"))
    h.send(h.a, nos("r3", ordType="3"))
    h.send(h.a, nos("r4", side="6"))
    h.send(h.a, nos("m1", ordType="1"))
    h.send(h.a, nos("i1", tif="3", price="9.00"))
    h.send(h.a, nos("d1"))
    h.send(h.a, nos("\u00e9t\u00e9", qty="7", price="10.5"))
    h.send(h.a, nos("g1", tif="6", extra=[(126, "20231114-23:00:00")]))
    h.send(h.a, nos("g2", tif="6", extra=[(432, "20231115"), (1, "A2")]))
    h.send(h.b, nos("big", side="2", qty="1000", price="9.99"))
    h.send(h.a, status("d1"))
    h.send(h.a, status("s2", side="2"))
    h.send(h.a, status("zz"))
    h.engine.expireDay()
    h.engine.setProperty("mode", "managed")
    h.send(h.a, nos("p1"))
    order = h.engine.findOrder("fix1/A", "p1")
    h.engine.acceptOrder(order.orderId)
    h.send(h.a, cancel("p2", "p1"))
    h.engine.rejectCancel(order.orderId)
    h.send(h.a, replace("p3", "p1", qty="50"))
    h.engine.acceptReplace(order.orderId)
    h.engine.fillOrder(order.orderId, 10, 100000)
    h.send(h.a, cancel("p4", "p3"))
    h.engine.acceptCancel(order.orderId)
    # managed_ack = pending_new: a Pending New report first.
    h.engine.setProperty("managed_ack", "pending_new")
    h.send(h.a, nos("p5"))
    h.engine.rejectOrder(h.engine.findOrder("fix1/A", "p5").orderId)
    h.engine.setProperty("managed_ack", "none")


class ReportEncoderTests(SynchronousTestCase):
    """
    L{reports.ReportEncoder} writes exactly what the reference builders'
    (tag, value) pairs encode to, for every version and event type.
    """

    def assertSameAsReference(self, events, scale=10000, classes=None):
        seen = set()
        for version in APPLICATION_VERSIONS:
            profile = versions.Profile(version)
            encoder = reports.ReportEncoder(profile)
            for stamp in ("20231114-22:13:20.250", "20231114-22:13:20"):
                for event in events:
                    fields = reports.executionReport(profile, event, scale, stamp)
                    if fields is None:
                        self.assertIsNone(encoder.encode(event, scale, stamp))
                        continue
                    expected = codec.encodeFields(fields)
                    fast = encoder.encode(event, scale, stamp)
                    if fast is not None:
                        seen.add(event.__class__)
                    self.assertEqual(
                        reports.encodeExecutionReport(profile, event, scale, stamp),
                        expected,
                        (version, event),
                    )
                    self.assertIn(fast, (None, expected), (version, event))
        if classes is not None:
            self.assertEqual(seen, set(classes))

    def test_everyEventType(self):
        h = Harness()
        recorder = Recorder()
        h.engine.subscribe(recorder)
        everyKindOfFlow(h)
        # Values the session layer would have refused, echoed as given.
        h.send(h.a, nos("r2b", qty="abc", price="x.y"))
        h.send(h.a, nos("r5", tif="9"))
        # (The reports of the advanced order types' events, Triggered and
        # Restated, are the reference builders' only.)
        self.assertSameAsReference(
            recorder.events, classes=reports.ReportEncoder(versions.Profile("FIX.4.4")).encoders
        )

    def test_otherScale(self):
        """
        Prices of an instrument with another price scale.
        """
        engine, clock = makeEngine(symbols=())
        engine.addBook(Instrument("X", tickSize=1, priceScale=100))
        recorder = Recorder()
        engine.subscribe(recorder)
        for i, (side, price) in enumerate(((Side.SELL, 1001), (Side.BUY, 1002), (Side.BUY, 1))):
            engine.submitNew(
                Order("o", "c%d" % i, "X", side, 10 + i, price, OrdType.LIMIT, TimeInForce.DAY)
            )
        self.assertSameAsReference(recorder.events, scale=100)

    def test_notTextFallsBack(self):
        """
        A client order id that is not text (a house order's) is encoded by
        the reference path.
        """
        engine, clock = makeEngine()
        recorder = Recorder()
        engine.subscribe(recorder)
        engine.submitNew(
            Order("house", 7, "AAPL", Side.SELL, 10, 100000, OrdType.LIMIT, TimeInForce.DAY)
        )
        encoder = reports.ReportEncoder(versions.Profile("FIX.4.4"))
        self.assertIsNone(encoder.encode(recorder.events[0], 10000, "20231114-22:13:20.250"))
        self.assertSameAsReference(recorder.events)

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["1", "2", "5"]),
                st.integers(1, 500),
                st.integers(995, 1005),
                st.sampled_from([None, "0", "1", "3", "4"]),
                st.sampled_from(["nos", "cancel", "replace"]),
            ),
            min_size=1,
            max_size=25,
        )
    )
    def test_randomFlows(self, steps):
        h = Harness()
        recorder = Recorder()
        h.engine.subscribe(recorder)
        for i, (side, qty, cents, tif, kind) in enumerate(steps):
            price = "%d.%02d" % divmod(cents, 100)
            if kind == "nos" or i == 0:
                h.send(h.a if i % 2 else h.b, nos("c%d" % i, side, str(qty), price, tif=tif))
            elif kind == "cancel":
                h.send(h.b, cancel("x%d" % i, "c%d" % (i - 1), side=side))
            else:
                h.send(h.b, replace("r%d" % i, "c%d" % (i - 1), str(qty), price, side=side))
        self.assertSameAsReference(recorder.events)

    def test_sessionsWithoutEncodedBodies(self):
        """
        A session that provides only L{IFixSession} gets the same reports
        as (tag, value) pairs.
        """
        plain = Harness(encoded=False)
        fast = Harness()
        for h in (plain, fast):
            everyKindOfFlow(h)
        self.assertEqual(plain.a.take(), fast.a.take())
        self.assertEqual(plain.b.take(), fast.b.take())


def _sharedLoop(harness):
    """
    Make C{harness}'s order entry deliver engine events through the
    protocol-neutral loop (L{exsim.orderentry.OrderRouting.engineEvents},
    calling L{OrderEntry._prepare} and L{OrderEntry._report}) instead of
    its inline copy.
    """
    harness.app.engineEvents = OrderRouting.engineEvents.__get__(harness.app)


#: One step of a differential run: (what, session, side, price, quantity,
#: order type, time in force, which earlier order).
_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["new", "new", "new", "cancel", "replace", "house", "status"]),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["1", "2"]),
        st.sampled_from(["9.99", "10.00", "10.01"]),
        st.sampled_from(["100", "200", "300"]),
        st.sampled_from(["2", "2", "1"]),
        st.sampled_from([None, None, "3", "4"]),
        st.integers(0, 40),
    ),
    max_size=40,
)


class InlineRoutingTests(SynchronousTestCase):
    """
    L{OrderEntry.engineEvents} (the shared routing loop with the FIX
    handlers written out in it: a hot-path copy) sends exactly what the
    shared loop calling the handlers sends.
    """

    def test_isACopy(self):
        """
        The order entry has its own loop (if it did not, the differential
        tests below would compare the shared loop with itself).
        """
        self.assertIsNot(OrderEntry.engineEvents, OrderRouting.engineEvents)

    @settings(max_examples=150, deadline=None)
    @given(
        version=st.sampled_from(VERSIONS),
        encoded=st.booleans(),
        symbols=st.lists(st.sampled_from(["AAPL", "MSFT", "CENT"]), min_size=40, max_size=40),
        steps=_STEPS,
    )
    def test_sameAsTheSharedLoop(self, version, encoded, symbols, steps):
        """
        Whatever the orders, cancels, replaces and house orders (orders of
        no session), in any FIX version, with encoded bodies or fields,
        both loops send the same messages to each session.
        """
        inline = Harness(*version, encoded=encoded)
        shared = Harness(*version, encoded=encoded)
        _sharedLoop(shared)
        for harness in (inline, shared):
            # A book of another price scale.
            harness.engine.addBook(Instrument("CENT", tickSize=1, priceScale=100))
        for harness in (inline, shared):
            self._play(harness, symbols, steps)
        self.assertEqual(inline.a.sent, shared.a.sent)
        self.assertEqual(inline.b.sent, shared.b.sent)

    def _play(self, h, symbols, steps):
        sessions = {"a": h.a, "b": h.b}
        for n, (what, who, side, price, qty, ordType, tif, which) in enumerate(steps):
            session = sessions[who]
            symbol = symbols[n]
            clOrdId = "%s%d" % (who, n)
            earlier = "%s%d" % (who, which)
            if what == "new":
                h.send(session, nos(clOrdId, side, qty, price, symbol, ordType, tif))
            elif what == "cancel":
                h.send(session, cancel(clOrdId, earlier, side, symbol))
            elif what == "replace":
                h.send(session, replace(clOrdId, earlier, qty, price, side, symbol))
            elif what == "house":
                h.engine.submitNew(
                    Order("house", clOrdId, symbol, Side.BUY if side == "1" else Side.SELL,
                          int(qty), int(Decimal(price) * 10000)),
                    neverHeld=True,
                )
            else:
                h.send(session, status(earlier, side, symbol))

    def test_sameAfterAHandlerFails(self):
        """
        A report that cannot be sent is logged, and both loops go on with
        the rest of the batch alike.
        """
        results = []
        for useShared in (False, True):
            h = Harness()
            if useShared:
                _sharedLoop(h)
            h.send(h.a, nos("s1", side="2"))
            h.send(h.a, nos("s2", side="2", price="10.01"))
            sendEncoded = h.b.sendEncoded
            calls = []

            def failOnce(msgType, body, calls=calls, sendEncoded=sendEncoded):
                calls.append(msgType)
                if len(calls) == 1:
                    raise RuntimeError("cannot send")
                return sendEncoded(msgType, body)

            h.app.routeOf(ownerOf(h.b.key))
            route = h.app._routes[ownerOf(h.b.key)]
            h.app.attach(ownerOf(h.b.key), (route[0], route[1], failOnce, route[3]))
            h.send(h.b, nos("b1", qty="200", price="10.01"))
            self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
            results.append((h.a.take(), h.b.take()))
        self.assertEqual(results[0], results[1])
        # The buyer's Accepted failed; its fills and the sellers' went out.
        self.assertEqual([er[150] for _, er in results[0][1]], ["F", "F"])
        self.assertEqual([er[150] for _, er in results[0][0]], ["0", "0", "F", "F"])
