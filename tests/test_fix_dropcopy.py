"""
Tests for L{exsim.fix.dropcopy}.
"""

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix.dropcopy import DropCopy
from exsim.fix.orders import OrderEntry
from exsim.interfaces import IEngineListener, IFixApplication
from exsim.model import Order, Side

from tests.fixfakes import FakeEndpoint, FakeMessage, FakeSession, cancel, makeEngine, nos


class DropCopyTests(SynchronousTestCase):
    """
    (On the fast engine; L{ReferenceDropCopyTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.engine, self.clock = makeEngine(engineClass=self.engineClass)
        self.entry = FakeEndpoint(self.engine, self.clock, "fix1")
        self.copyEndpoint = FakeEndpoint(self.engine, self.clock, "dc1", role="drop_copy")
        self.orders = OrderEntry(self.entry)
        self.copy = DropCopy(self.copyEndpoint)
        self.a = FakeSession(self.entry, "A", "FIX.4.4")
        self.b = FakeSession(self.entry, "B", "FIX.4.2")
        self.orders.sessionLoggedOn(self.a)
        self.orders.sessionLoggedOn(self.b)
        self.dc44 = FakeSession(self.copyEndpoint, "DC", "FIX.4.4")
        self.dc42 = FakeSession(self.copyEndpoint, "DC2", "FIX.4.2")
        self.copy.sessionLoggedOn(self.dc44)
        self.copy.sessionLoggedOn(self.dc42)

    def test_provides(self):
        self.assertTrue(verifyObject(IFixApplication, self.copy))
        self.assertTrue(verifyObject(IEngineListener, self.copy))

    def test_copiesEveryReportInOrder(self):
        self.orders.fromApp(self.a, nos("s1", side="2", qty="300"))
        self.orders.fromApp(self.b, nos("b1", side="1", qty="100"))
        self.orders.fromApp(self.a, cancel("x1", "s1", side="2"))
        originals = [("fix1/A", er) for _, er in self.a.take()] + [("fix1/B", er) for _, er in self.b.take()]
        copies = self.dc44.take()
        self.assertEqual({t for t, _ in copies}, {"8"})
        copies = [er for _, er in copies]
        # Same ExecIDs as the owners got, in engine (ExecID) order.
        self.assertEqual(sorted(er[17] for _, er in originals), sorted(er[17] for er in copies))
        self.assertEqual([er[17] for er in copies], sorted((er[17] for er in copies), key=int))
        self.assertEqual([er[150] for er in copies], ["0", "0", "F", "F", "4"])
        byExecId = {er[17]: owner for owner, er in originals}
        for er in copies:
            self.assertEqual((er[453], er[448], er[447], er[452]), ("1", byExecId[er[17]], "D", "3"))
            self.assertNotIn(109, er)
        copies42 = [er for _, er in self.dc42.take()]
        self.assertEqual([er[150] for er in copies42], ["0", "0", "1", "2", "4"])
        self.assertEqual([er[17] for er in copies42], [er[17] for er in copies])
        self.assertEqual(copies42[0][109], "fix1/A")
        self.assertNotIn(453, copies42[0])

    def test_noCancelRejectsOrMarketData(self):
        self.orders.fromApp(self.a, cancel("x1", "nope"))
        self.assertEqual(self.a.take()[0][0], "9")
        self.assertEqual(self.dc44.sent, [])

    def test_houseOrders(self):
        self.engine.submitNew(Order("house", "h1", "AAPL", Side.BUY, 10, 100000), neverHeld=True)
        er = self.dc44.take()[0][1]
        self.assertEqual((er[448], er[150], er[11]), ("house", "0", "h1"))

    def test_backgroundActivityNotCopied(self):
        """
        Background activity orders stand for the rest of the market: their
        reports are not copied, but a client's fill against one is.
        """
        self.engine.submitNew(Order("house/AAPL", "A1", "AAPL", Side.SELL, 10, 100000), neverHeld=True)
        self.assertEqual(self.dc44.take(), [])
        self.orders.fromApp(self.a, nos("b1", side="1", qty="10", price="10"))
        copies = [er for _, er in self.dc44.take()]
        self.assertEqual([er[448] for er in copies], ["fix1/A", "fix1/A"])
        self.assertEqual([er[150] for er in copies], ["0", "F"])

    def test_acceptsNoOrderEntry(self):
        self.assertFalse(self.copy.fromApp(self.dc44, nos("c1")))
        self.assertFalse(self.copy.fromApp(self.dc44, FakeMessage("V", [(262, "m")])))
        self.assertEqual(self.engine.findOrder("dc1/DC", "c1"), None)
        self.assertEqual(self.dc44.sent, [])

    def test_loggedOutSessionKeepsReceiving(self):
        """
        Copies keep going to a drop-copy session that disconnected (its
        store keeps them for the resend after it logs on again).
        """
        self.copy.sessionLoggedOut(self.dc44)
        self.orders.fromApp(self.a, nos("c1"))
        self.assertEqual(len(self.dc44.sent), 1)

    def test_shutdown(self):
        self.copy.shutdown()
        self.orders.fromApp(self.a, nos("c1"))
        self.assertEqual(self.dc44.sent, [])


class ReferenceDropCopyTests(DropCopyTests):
    engineClass = ReferenceEngine
