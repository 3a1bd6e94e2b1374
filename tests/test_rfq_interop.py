"""
Request for quote with QuickFIX (dictionary validation on) in FIX.4.2,
FIX.4.4 and FIX.5.0SP2: a requester, two dealers on a dealer endpoint and
a drop copy, over TCP on 127.0.0.1; neither side rejects anything.
"""

import time

from twisted.internet import defer, reactor, task

from exsim.rfq.desk import existingDesk
from tests.test_fix_interop import QuickFixCase, _now


def _later(seconds):
    """
    A UTCTimestamp C{seconds} from now (wall clock: the simulator runs on
    the real reactor here).
    """
    now = time.time() + seconds
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(now)) + ".%03d" % (int(now * 1000) % 1000,)


class RfqQuickFixTests(QuickFixCase):
    """
    The whole RFQ flow with QuickFIX sessions.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield QuickFixCase.setUp(self)
        sim = self.simulator
        sim.set_book_property("AAPL", "rfq", "yes")
        sim.set_book_property("AAPL", "tick_size", "0.01")
        yield sim.create_endpoint("dealers", "e1", "fix", role="dealer",
                                  listen="tcp:0:interface=127.0.0.1")
        self.dealerPort = sim.get_endpoint_address("dealers")[1]
        # No timer of the desk (deadlines, validity) outlives the test.
        self.addCleanup(lambda: existingDesk(sim.engines["e1"]).stop())

    def request(self, sender, requestId, quantity="100", side="1", symbol="AAPL"):
        entry = [(55, symbol)]
        if side is not None:
            entry.append((54, side))
        entry.append((38, quantity))
        self.send(sender, "R", [(131, requestId)], [(146, 55, [55, 54, 38], [entry])])

    @defer.inlineCallbacks
    def flow(self, beginString):
        """
        A request, forwarded to two dealers; both quote; the requester
        lifts the better offer (OrdType D); the other quote expires (AI,
        FIX.4.2: Z) and a late accept of it is rejected; a request for an
        unknown symbol is refused (AG, FIX.4.2: b).
        """
        self.startClient([
            ("RQ", beginString, self.port), ("D1", beginString, self.dealerPort),
            ("D2", beginString, self.dealerPort), ("DC", beginString, self.dcPort),
        ])
        yield self.waitEvents([("logon", "RQ"), ("logon", "D1"), ("logon", "D2"), ("logon", "DC")])
        hand = "1" if beginString == "FIX.4.2" else None
        self.request("RQ", "rq1")
        [r1] = yield self.receive("D1")
        [r2] = yield self.receive("D2")
        self.assertEqual((r1.msgType, r1[55], r1[38], r1[54]), ("R", "AAPL", "100", "1"))
        requestId = r1[131]
        self.assertEqual(r2[131], requestId)
        self.send("D1", "S", [(131, requestId), (117, "d1q"), (55, "AAPL"), (132, "149.90"), (133, "150.10"),
                              (134, "100"), (135, "100"), (62, _later(1.5))])
        self.send("D2", "S", [(131, requestId), (117, "d2q"), (55, "AAPL"), (133, "150.05"), (135, "100"),
                              (62, _later(30))])
        quotes = yield self.receive("RQ", 2)
        self.assertEqual([(q.msgType, q[131]) for q in quotes], [("S", "rq1"), ("S", "rq1")])
        best = min(quotes, key=lambda q: float(q[133]))
        other = max(quotes, key=lambda q: float(q[133]))
        self.assertEqual(best[133], "150.05")
        order = [(11, "buy1"), (55, "AAPL"), (54, "1"), (60, _now()), (38, "100"), (40, "D"),
                 (117, best[117])]
        if hand:
            order.append((21, hand))
        self.send("RQ", "D", order)
        reports = yield self.receive("RQ", 2)
        self.assertEqual([(m.msgType, m[39], m[11]) for m in reports], [("8", "0", "buy1"), ("8", "2", "buy1")])
        self.assertEqual((reports[1][31], reports[1][32]), ("150.05", "100"))
        dealer = yield self.receive("D2", 2)
        self.assertEqual([(m[39], m[11], m[54]) for m in dealer], [("0", "d2q", "2"), ("2", "d2q", "2")])
        copies = yield self.receive("DC", 4)
        self.assertEqual(sorted(m[11] for m in copies), ["buy1", "buy1", "d2q", "d2q"])
        # D1's quote expires.
        [expired] = yield self.receive("RQ")
        [dealerExpired] = yield self.receive("D1")
        if beginString == "FIX.4.2":
            self.assertEqual((expired.msgType, expired[117]), ("Z", other[117]))
            self.assertEqual((dealerExpired.msgType, dealerExpired[117]), ("Z", "d1q"))
        else:
            self.assertEqual((expired.msgType, expired[117], expired[297]), ("AI", other[117], "7"))
            self.assertEqual((dealerExpired.msgType, dealerExpired[117], dealerExpired[297]),
                             ("AI", "d1q", "7"))
        order = [(11, "late"), (55, "AAPL"), (54, "1"), (60, _now()), (38, "10"), (40, "D"), (117, other[117])]
        if hand:
            order.append((21, hand))
        self.send("RQ", "D", order)
        [late] = yield self.receive("RQ")
        self.assertEqual((late[39], late[11]), ("8", "late"))
        self.assertIn("expired", late[58])
        # A request for an unknown symbol.
        self.request("RQ", "rq2", symbol="NOPE")
        [refused] = yield self.receive("RQ")
        if beginString == "FIX.4.2":
            self.assertEqual((refused.msgType, refused[131], refused[297]), ("b", "rq2", "5"))
        else:
            self.assertEqual((refused.msgType, refused[131], refused[658]), ("AG", "rq2", "1"))
        # A dealer's crossed quote on a new request is refused.
        self.request("RQ", "rq3", side=None)
        [r3] = yield self.receive("D1")
        yield self.receive("D2")
        self.send("D1", "S", [(131, r3[131]), (117, "bad"), (55, "AAPL"), (132, "150.20"), (133, "150.10"),
                              (134, "1"), (135, "1")])
        [refusal] = yield self.receive("D1")
        self.assertEqual((refusal.msgType in ("AI", "b"), refusal[297]), (True, "5"))
        self.assertIn("not below offer", refusal[58])
        self.assertNoRejects()

    def test_fix44(self):
        return self.flow("FIX.4.4")

    def test_fix42(self):
        return self.flow("FIX.4.2")

    @defer.inlineCallbacks
    def test_fix50sp2(self):
        """
        FIX.5.0SP2 (FIXT.1.1): the flow, then a QuoteResponse (AJ) hit.
        """
        yield self.flow("FIXT.1.1")
        self.request("RQ", "rq4")
        [r4] = yield self.receive("D1")
        yield self.receive("D2")
        self.send("D2", "S", [(131, r4[131]), (117, "d2q4"), (55, "AAPL"), (133, "150.00"), (135, "50")])
        [quote] = yield self.receive("RQ")
        self.send("RQ", "AJ", [(693, "resp1"), (117, quote[117]), (694, "1"), (54, "1"), (38, "50"),
                               (55, "AAPL")])
        reports = yield self.receive("RQ", 2)
        self.assertEqual([(m[39], m[11]) for m in reports], [("0", "resp1"), ("2", "resp1")])
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.assertNoRejects()
