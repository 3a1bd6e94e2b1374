"""
An OUCH order and a FIX order trade with each other on one engine; both
show up on the ITCH feed.
"""

from twisted.trial.unittest import TestCase

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix.family import family as fixFamily
from exsim.soup import itch50, ouch42
from exsim.soup.itch import family as itchFamily
from exsim.soup.ouch import family as ouchFamily
from tests import fixsession_helpers
from tests.soupfakes import Client, makeEndpoint


class OuchFixTests(TestCase):
    """
    (On the fast engine; L{ReferenceOuchFixTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.ouch = makeEndpoint(
            ouchFamily, "ouch1", symbols=("AAPL",), engineClass=self.engineClass
        )
        self.engine = self.ouch.engine
        self.reactor = self.ouch.reactor
        self.reactor.advance(fixsession_helpers.START)
        self.fix = makeEndpoint(
            fixFamily, "fix1", engine=self.engine, reactor=self.reactor,
            sender_comp_id="EXSIM", target_comp_id="*",
        )
        self.itch = makeEndpoint(itchFamily, "itch1", engine=self.engine, reactor=self.reactor)
        self.trader = Client(self.ouch)
        self.trader.login("alice")
        self.trader.sequenced()
        self.fixClient = fixsession_helpers.Client(self.fix.factory, compId="BUYER")
        [logon] = self.fixClient.logon()
        self.assertEqual(logon.msgType, "A")

    def newOrderSingle(self, clOrdId, side, quantity, price):
        return self.fixClient.send("D", [
            (11, clOrdId), (55, "AAPL"), (54, side), (38, quantity), (40, "2"),
            (44, price), (59, "0"), (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ])

    def test_fixHitsOuch(self):
        self.trader.unsequenced(ouch42.enterOrder("S1", b"S", 100, "AAPL", 1500000))
        [accepted] = [ouch42.decodeOutbound(p) for p in self.trader.sequenced()]
        self.assertEqual(accepted[0], b"A")
        reports = self.newOrderSingle("F1", "1", 60, "150.00")
        fills = [m for m in reports if m.msgType == "8" and m.get(150) == "F"]
        self.assertEqual(len(fills), 1)
        self.assertEqual((fills[0].get(32), fills[0].get(31)), ("60", "150"))
        [executed] = [ouch42.decodeOutbound(p) for p in self.trader.sequenced()]
        self.assertEqual(executed[:1] + executed[2:6], (b"E", b"S1            ", 60, 1500000, b"A"))
        self.assertEqual(self.engine.getBook("AAPL").orders()[0].owner, "ouch1/alice")
        feed = [itch50.decode(p) for p in self.itch.factory.stream.messages()]
        self.assertEqual([m[0] for m in feed[-2:]], [b"A", b"E"])
        self.assertEqual(feed[-1][5:], (60, executed[6]))

    def test_ouchHitsFix(self):
        reports = self.newOrderSingle("F1", "2", 50, "150.01")
        self.assertEqual([m.get(150) for m in reports if m.msgType == "8"], ["0"])
        self.trader.unsequenced(ouch42.enterOrder("B1", b"B", 80, "AAPL", 1500200))
        messages = [ouch42.decodeOutbound(p) for p in self.trader.sequenced()]
        self.assertEqual([m[0] for m in messages], [b"A", b"E"])
        self.assertEqual(messages[1][3:6], (50, 1500100, b"R"))
        fills = [m for m in self.fixClient.received() if m.msgType == "8"]
        self.assertEqual([(m.get(150), m.get(32), m.get(31)) for m in fills], [("F", "50", "150.01")])
        book = self.engine.getBook("AAPL")
        self.assertEqual(book.depth(True), [(1500200, 30, 1)])


class ReferenceOuchFixTests(OuchFixTests):
    engineClass = ReferenceEngine
