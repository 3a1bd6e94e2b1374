"""
FIX sessions that logged out are forgotten, beyond the endpoint's last
C{max_logged_out_sessions}, when nothing would be lost (issue 11, defect
6): every CompID that ever logged on (any, with C{target_comp_id = *})
used to keep its session, store and message journal for the day.
"""

import os

from twisted.trial.unittest import TestCase

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.errors import BadValue
from exsim.fix import settings as fixSettings
from exsim.fix.family import family as fixFamily
from exsim.model import Instrument, Order, OrdType, Side, TimeInForce
from exsim.owners import ownerOf
from tests import fixsession_helpers
from tests.soupfakes import makeEndpoint


def types(messages):
    return [m.msgType for m in messages]


class ForgetTests(TestCase):
    """
    A FIX order-entry endpoint accepting any CompID, memory store.
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.endpoint = self.makeEndpoint()
        self.factory = self.endpoint.factory
        self.engine = self.endpoint.engine
        self.reactor = self.endpoint.reactor
        self.reactor.advance(fixsession_helpers.START)
        self._port = 40000

    def makeEndpoint(self, **properties):
        properties.setdefault("sender_comp_id", "EXSIM")
        properties.setdefault("target_comp_id", "*")
        properties.setdefault("max_logged_out_sessions", 0)
        return makeEndpoint(fixFamily, "fix1", engineClass=self.engineClass, **properties)

    def client(self, compId="CLIENT"):
        self._port += 1
        client = fixsession_helpers.Client(self.factory, compId=compId, port=self._port)
        self.assertEqual(types(client.logon()), ["A"])
        return client

    def order(self, client, clOrdId, side, price="10"):
        return client.send("D", [
            (11, clOrdId), (55, "AAPL"), (54, side), (38, 100), (40, "2"),
            (44, price), (59, "0"), (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ])

    def logout(self, client):
        self.assertEqual(types(client.send("5")), ["5"])
        self.assertTrue(client.disconnected)
        client.close()

    def test_loggedOutSessionForgotten(self):
        """
        A session that logged out, with no live order, is forgotten: only
        its two sequence numbers stay.
        """
        client = self.client()
        self.order(client, "c1", "1")
        self.engine.cancelAll(ownerOf("fix1/CLIENT"))
        client.received()
        self.logout(client)
        self.assertNotIn("CLIENT", self.factory.sessions)
        application = self.factory.application
        self.assertNotIn("fix1/CLIENT", application.sessions)
        self.assertIsNone(application.routeOf(ownerOf("fix1/CLIENT")))
        # Logon, NewOrderSingle and Logout in; Logon, ack, cancel and
        # Logout out.
        self.assertEqual(self.factory.forgotten, {"CLIENT": (5, 4)})

    def test_logonAgainGoesOnInSequence(self):
        """
        A forgotten session's client logs on again without resetting: both
        sequences go on, no ResendRequest either way; a resend of what
        was sent before is a GapFill.
        """
        client = self.client()
        self.order(client, "c1", "1")
        self.engine.cancelAll(ownerOf("fix1/CLIENT"))
        client.received()
        self.logout(client)
        again = fixsession_helpers.Client(self.factory, compId="CLIENT", port=41000)
        again.seq = client.seq
        [logon] = again.logon()
        self.assertEqual((logon.msgType, logon.seqNum), ("A", 5))
        self.assertEqual(self.factory.forgotten, {})
        [gapFill] = again.send("2", [(7, 1), (16, 0)])
        self.assertEqual((gapFill.msgType, gapFill.get(123), gapFill.get(36)), ("4", "Y", "6"))
        # The client's own ClOrdIDs of the day are still known to the engine.
        [reject] = self.order(again, "c1", "1")
        self.assertEqual((reject.get(150), reject.get(39)), ("8", "8"))

    def test_liveOrdersKeepTheSession(self):
        """
        A session with a live order is kept after its logout: a fill while
        it is away is stored and resent.
        """
        seller = self.client("SELLER")
        self.order(seller, "s1", "2")
        self.logout(seller)
        self.assertIn("SELLER", self.factory.sessions)
        buyer = self.client("BUYER")
        self.order(buyer, "b1", "1")
        again = fixsession_helpers.Client(self.factory, compId="SELLER", port=41000)
        again.seq = seller.seq
        # Logon, ack and Logout went out before; the fill was stored as 4.
        [logon] = again.logon()
        self.assertEqual(logon.seqNum, 5)
        resent = again.send("2", [(7, 2), (16, 4)])
        self.assertEqual(
            [(m.msgType, m.get(43), m.get(150), m.get(11)) for m in resent],
            [("8", "Y", "0", "s1"), ("4", "Y", None, None), ("8", "Y", "F", "s1")],
        )

    def test_connectionLostKeepsTheSession(self):
        """
        A connection that drops without a Logout keeps its session (and
        its messages, for the resend its client will ask for).
        """
        client = self.client()
        client.close()
        self.assertIn("CLIENT", self.factory.sessions)
        self.assertEqual(self.factory.forgotten, {})

    def test_venueLogoutForgets(self):
        """
        A logout the venue starts (logout_session) forgets the session once
        the client answers.
        """
        client = self.client()
        connection = client.protocol
        connection.logout("bye")
        client.received()
        self.assertEqual(types(client.send("5")), [])
        self.assertNotIn("CLIENT", self.factory.sessions)
        self.assertEqual(self.factory.forgotten, {"CLIENT": (3, 3)})

    def test_resetOnLogoutKeepsNothing(self):
        self.endpoint.setProperty("reset_on_logout", "yes")
        client = self.client()
        self.logout(client)
        self.assertEqual((self.factory.sessions, self.factory.forgotten), ({}, {}))

    def test_heldMessagesKeepTheSession(self):
        """
        A session with session-control state of its own (here: hold) is
        kept.
        """
        from exsim.fix import control

        client = self.client()
        session = self.factory.sessions["CLIENT"]
        control.controlOf(session).setHold(True)
        self.logout(client)
        self.assertIn("CLIENT", self.factory.sessions)

    def test_fileStoreKeepsTheSession(self):
        endpoint = self.makeEndpoint(store=self.mktemp())
        self.factory = endpoint.factory
        endpoint.reactor.advance(fixsession_helpers.START)
        client = self.client()
        self.logout(client)
        self.assertIn("CLIENT", self.factory.sessions)
        self.assertEqual(os.listdir(self.factory._stores.directory), ["CLIENT.fixstore"])

    def test_dropCopyKeepsItsSessions(self):
        """
        A drop copy's session gets every report, stored while it is away:
        never forgotten.
        """
        endpoint = makeEndpoint(
            fixFamily, "dc1", engine=self.engine, reactor=self.reactor,
            sender_comp_id="EXSIM", target_comp_id="*", role="drop_copy",
            max_logged_out_sessions=0,
        )
        self.factory = endpoint.factory
        client = self.client("DC")
        self.logout(client)
        self.assertIn("DC", self.factory.sessions)

    def test_manyCompIdsLeaveNoSession(self):
        """
        A thousand CompIDs logging on and out one after the other leave no
        session behind, only their sequence numbers.
        """
        for n in range(1000):
            self.logout(self.client("C%d" % (n,)))
        self.assertEqual(self.factory.sessions, {})
        self.assertEqual(len(self.factory.forgotten), 1000)
        self.assertEqual(self.factory.application.sessions, {})


    def test_lastLoggedOutRemembered(self):
        """
        The last C{max_logged_out_sessions} sessions that logged out are
        remembered (their messages and journal too); beyond, the one that
        logged out first is forgotten.
        """
        self.endpoint.setProperty("max_logged_out_sessions", 2)
        for compId in ("A", "B", "C"):
            self.logout(self.client(compId))
        self.assertEqual(sorted(self.factory.sessions), ["B", "C"])
        self.assertEqual(sorted(self.factory.forgotten), ["A"])
        # B logs on again: it does not count while logged on, and it goes
        # to the end of the line when it logs out.
        b = fixsession_helpers.Client(self.factory, compId="B", port=41000)
        b.seq = 3
        self.assertEqual(types(b.logon()), ["A"])
        self.logout(self.client("D"))
        self.assertEqual(sorted(self.factory.sessions), ["B", "C", "D"])
        self.logout(b)
        self.assertEqual(sorted(self.factory.sessions), ["B", "D"])
        self.logout(self.client("E"))
        self.assertEqual(sorted(self.factory.sessions), ["B", "E"])
        self.assertEqual(sorted(self.factory.forgotten), ["A", "C", "D"])
        # Lowering the bound forgets at once.
        self.endpoint.setProperty("max_logged_out_sessions", 0)
        self.assertEqual(self.factory.sessions, {})

    def test_defaultBound(self):
        endpoint = makeEndpoint(fixFamily, "fix2", sender_comp_id="EXSIM")
        self.assertEqual(fixSettings.get(endpoint, "max_logged_out_sessions"), 1000)
        self.assertRaises(BadValue, endpoint.setProperty, "max_logged_out_sessions", "-1")


class ReferenceForgetTests(ForgetTests):
    engineClass = ReferenceEngine


class HasLiveOrdersTests(TestCase):
    """
    C{hasLiveOrders(owner)} on both engines.
    """

    engineClass = MatchingEngine

    def test_hasLiveOrders(self):
        engine = self.engineClass("e1")
        engine.addBook(Instrument("AAPL"))
        self.assertFalse(engine.hasLiveOrders("A"))

        def order(owner, clOrdId, side):
            return engine.submitNew(
                Order(owner, clOrdId, "AAPL", side, 100, 100000, OrdType.LIMIT, TimeInForce.DAY)
            )

        order("A", "a1", Side.BUY)
        self.assertTrue(engine.hasLiveOrders("A"))
        self.assertFalse(engine.hasLiveOrders("B"))
        order("B", "b1", Side.SELL)
        self.assertFalse(engine.hasLiveOrders("A"))
        self.assertFalse(engine.hasLiveOrders("B"))
        order("A", "a2", Side.BUY)
        engine.submitReplace("A", "a3", origClOrdId="a2", quantity=50)
        self.assertTrue(engine.hasLiveOrders("A"))
        engine.submitCancel("A", "a4", origClOrdId="a3")
        self.assertFalse(engine.hasLiveOrders("A"))


class ReferenceHasLiveOrdersTests(HasLiveOrdersTests):
    engineClass = ReferenceEngine
