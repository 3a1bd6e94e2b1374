"""
Trading phases with QuickFIX (dictionary validation on) in FIX.4.2,
FIX.4.4 and FIX.5.0SP2, over TCP on 127.0.0.1: TradingSessionStatus and
SecurityStatus, requested and unsolicited (a halt, a delayed opening with
its HaltReason), an opening auction with an At the Opening order, a reject
by phase; neither side rejects anything.
"""

from twisted.internet import defer

from tests.test_fix_interop import QuickFixCase, _now


class PhasesQuickFixTests(QuickFixCase):
    @defer.inlineCallbacks
    def day(self, beginString):
        sim = self.simulator
        self.startClient([("A", beginString, self.port), ("B", beginString, self.port)])
        yield self.waitEvents([("logon", "A"), ("logon", "B")])
        hand = [(21, "1")] if beginString == "FIX.4.2" else []
        self.send("A", "g", [(335, "t1"), (263, "1")])
        self.send("A", "e", [(324, "s1"), (55, "AAPL"), (263, "1")])
        h, f = yield self.receive("A", 2)
        self.assertEqual((h.msgType, h[340], h[325]), ("h", "2", "N"))
        self.assertEqual((f.msgType, f[326], f[55]), ("f", "17", "AAPL"))

        sim.halt_book("AAPL", "news pending")
        [f, h] = yield self.receive("A", 2)
        self.assertEqual((f.msgType, f[326], f[325]), ("f", "2", "Y"))
        self.assertEqual((h.msgType, h[340]), ("h", "1"))
        self.send("B", "D", [(11, "b0"), *hand, (55, "AAPL"), (54, "1"), (60, _now()), (38, "100"),
                             (40, "2"), (44, "10.00")])
        [rejected] = yield self.receive("B")
        self.assertEqual((rejected[39], rejected[103]), ("8", "2"))
        self.assertIn("halted", rejected[58])

        sim.resume_book("AAPL")
        sim.set_book_property("AAPL", "phase", "pre_open")
        updates = yield self.receive("A", 4)
        self.assertEqual(
            [(m.msgType, m[326] if m.msgType == "f" else m[340]) for m in updates],
            [("f", "3"), ("h", "2"), ("f", "12" if beginString == "FIX.4.2" else "21"), ("h", "4")],
        )
        # The opening is delayed: SecurityTradingStatus 1 (opening delay),
        # HaltReason order imbalance (HaltReasonChar I; HaltReasonInt 2 in
        # FIX.5.0SP2), also in a later snapshot.
        sim.delay_open("AAPL", "order imbalance")
        [f] = yield self.receive("A")
        code = "2" if beginString == "FIXT.1.1" else "I"
        self.assertEqual((f.msgType, f[326], f[327], f[325]), ("f", "1", code, "Y"))
        self.send("A", "e", [(324, "s2"), (55, "AAPL"), (263, "0")])
        [f] = yield self.receive("A")
        self.assertEqual((f.msgType, f[326], f[327], f[325]), ("f", "1", code, "N"))
        # An At the Opening buy and a sell: the opening auction trades them.
        self.send("B", "D", [(11, "b1"), *hand, (55, "AAPL"), (54, "1"), (60, _now()), (38, "300"),
                             (40, "2"), (44, "10.01"), (59, "2")])
        self.send("B", "D", [(11, "s1"), *hand, (55, "AAPL"), (54, "2"), (60, _now()), (38, "200"),
                             (40, "2"), (44, "10.00")])
        accepted = yield self.receive("B", 2)
        self.assertEqual([m[39] for m in accepted], ["0", "0"])
        sim.set_book_property("AAPL", "phase", "continuous")
        reports = yield self.receive("B", 3)
        fills = [m for m in reports if m[11] in ("b1", "s1") and m[39] in ("1", "2")]
        self.assertEqual(sorted((m[11], m[32], m[31]) for m in fills),
                         [("b1", "200", "10"), ("s1", "200", "10")])
        if beginString == "FIXT.1.1":
            self.assertEqual({m[851] for m in fills}, {"4"})
        updates = yield self.receive("A", 2)
        self.assertEqual([m.msgType for m in updates], ["f", "h"])
        self.assertNoRejects()

    def test_fix42(self):
        return self.day("FIX.4.2")

    def test_fix44(self):
        return self.day("FIX.4.4")

    def test_fix50sp2(self):
        return self.day("FIXT.1.1")
