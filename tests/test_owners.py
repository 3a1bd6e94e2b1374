"""
Tests for L{exsim.owners}: the owner value type, and the owners orders
get from L{exsim.model.Order}.
"""

import copy
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.spread import jelly
from twisted.trial.unittest import SynchronousTestCase

from exsim import owners
from exsim.engine.activity import Activity
from exsim.engine.matching import MatchingEngine
from exsim.model import Instrument, Order, Side
from exsim.owners import (
    ACTIVITY,
    FEED,
    HOUSE,
    OTHER,
    REPLAY,
    SESSION,
    Owner,
    activityOwner,
    houseOwner,
    isActivity,
    ownerOf,
    sessionOwner,
)
from tests.helpers import Recorder, limit


class OwnerTests(SynchronousTestCase):
    def test_kinds(self):
        self.assertEqual(
            [(o.kind, o.isActivity, o.endpoint, o.name) for o in (
                ownerOf("house"), ownerOf("house/AAPL"), ownerOf("fix1/CLIENT"), ownerOf("alice"),
            )],
            [
                (HOUSE, False, None, None),
                (ACTIVITY, True, None, "AAPL"),
                (SESSION, False, "fix1", "CLIENT"),
                (OTHER, False, None, None),
            ],
        )

    def test_constructors(self):
        self.assertIs(houseOwner(), ownerOf("house"))
        self.assertIs(activityOwner("MSFT"), ownerOf("house/MSFT"))
        self.assertIs(sessionOwner("ouch1", "alice"), ownerOf("ouch1/alice"))

    def test_anyBackground(self):
        """
        L{Owner.anyBackground} says whether a background owner (activity,
        replay, feed) was ever made: other owners leave it as it is.
        """
        self.patch(Owner, "anyBackground", False)
        ownerOf("fix1/anyBackground-%d" % id(self))
        houseOwner()
        self.assertFalse(Owner.anyBackground)
        ownerOf("replay/anyBackground-%d" % id(self))
        self.assertTrue(Owner.anyBackground)

    def test_sessionOfEndpointWithSlash(self):
        """
        The parts of a session owner are the ones given, even when the
        endpoint's name has a C{/}; its text is as ever.
        """
        owner = sessionOwner("a/b", "C")
        self.assertEqual((owner, owner.endpoint, owner.name), ("a/b/C", "a/b", "C"))
        self.assertIs(ownerOf("a/b/C"), owner)

    def test_houseEndpoint(self):
        """
        Engines match owners by text: the sessions of an endpoint called
        C{house} own activity orders, as their text says (and as before
        owners had kinds).
        """
        self.assertIs(sessionOwner("house", "X").kind, ACTIVITY)

    def test_sameObject(self):
        self.assertIs(ownerOf("fix9/Z"), ownerOf("fix9/Z"))
        owner = ownerOf("fix9/Z")
        self.assertIs(ownerOf(owner), owner)

    def test_notText(self):
        """
        An owner that is not text (a test's number) is kept as it is, and
        is not activity.
        """
        self.assertEqual(ownerOf(7), 7)
        self.assertIsNone(ownerOf(None))
        self.assertFalse(isActivity(7))
        self.assertFalse(isActivity("house/AAPL"))
        self.assertTrue(isActivity(ownerOf("house/AAPL")))

    def test_textForm(self):
        """
        An owner is its text wherever text is made of it: C{str}, C{%s},
        joins; and it is a dict key equal to its text.
        """
        owner = ownerOf("fix1/CLIENT")
        for text in (str(owner), "%s" % (owner,), "{}".format(owner), owner + ""):
            self.assertIs(type(text), str)
            self.assertEqual(text, "fix1/CLIENT")
        self.assertEqual({"fix1/CLIENT": 1}[owner], 1)
        self.assertEqual({owner: 1}["fix1/CLIENT"], 1)
        self.assertEqual(repr(owner), "<Owner session 'fix1/CLIENT'>")

    def test_copies(self):
        owner = ownerOf("fix1/CLIENT")
        self.assertIs(copy.copy(owner), owner)
        self.assertIs(copy.deepcopy(owner), owner)
        self.assertIs(pickle.loads(pickle.dumps(owner)), owner)

    @settings(max_examples=300, deadline=None)
    @given(
        st.one_of(
            st.text(max_size=20),
            st.tuples(
                st.sampled_from(["house", "house/", "replay/", "feed/", "fix1/"]),
                st.text(max_size=10),
            ).map("".join),
        )
    )
    def test_anyText(self, text):
        """
        Any text is an owner equal to it, of one of the kinds, with the
        parts of its text its kind names.
        """
        owner = ownerOf(text)
        self.assertIsInstance(owner, Owner)
        self.assertEqual(owner, text)
        self.assertEqual(hash(owner), hash(text))
        self.assertIn(owner.kind, (HOUSE, ACTIVITY, REPLAY, FEED, SESSION, OTHER))
        if owner.kind is SESSION:
            self.assertEqual("%s/%s" % (owner.endpoint, owner.name), text)
        if owner.kind is ACTIVITY:
            self.assertEqual("house/" + owner.name, text)
        if owner.kind is REPLAY:
            self.assertEqual("replay/" + owner.name, text)
        if owner.kind is FEED:
            self.assertEqual("feed/" + owner.name, text)


class OrderOwnerTests(SynchronousTestCase):
    """
    Every order owned by text is owned by that text's L{Owner}.
    """

    def test_orderOwner(self):
        order = Order("fix1/CLIENT", "c1", "AAPL", Side.BUY, 10, 100)
        self.assertIs(order.owner, ownerOf("fix1/CLIENT"))
        self.assertEqual(order.owner, "fix1/CLIENT")
        gtd = Order("house/AAPL", "c2", "AAPL", Side.BUY, 10, 100, expireTime=5.0)
        self.assertTrue(gtd.owner.isActivity)
        self.assertEqual(Order(5, "c3", "AAPL", Side.BUY, 10, 100).owner, 5)

    def test_activityOwner(self):
        engine = MatchingEngine("e1")
        book = engine.addBook(Instrument("AAPL"))
        self.assertIs(Activity(engine, book).owner, activityOwner("AAPL"))

    def test_engineFindsByText(self):
        """
        An engine asked with the text finds the orders of the owner.
        """
        engine = MatchingEngine("e1")
        engine.addBook(Instrument("AAPL"))
        engine.submitNew(limit(sessionOwner("fix1", "A"), "c1", "buy", 10, "10"))
        self.assertIsNotNone(engine.findOrder("fix1/A", "c1"))
        self.assertEqual(engine.cancelAll("fix1/A"), 1)

    def test_eventsCarryText(self):
        """
        What reaches the control client of an order's owner is plain text:
        an engine event's dict goes through Perspective Broker's jelly
        with the owner as a C{str}.
        """
        engine = MatchingEngine("e1")
        engine.addBook(Instrument("AAPL"))
        recorder = Recorder()
        engine.subscribe(recorder)
        engine.submitNew(limit("fix1/A", "c1", "buy", 10, "10"))
        engine.submitCancel("fix1/A", "x1", origClOrdId="nope")
        owners = [e.asDict()["owner"] for e in recorder.events if "owner" in e.asDict()]
        self.assertGreaterEqual(len(owners), 2)
        self.assertEqual(set(owners), {"fix1/A"})
        for owner in owners:
            self.assertIs(type(owner), str)
            self.assertEqual(jelly.unjelly(jelly.jelly(owner)), "fix1/A")


class ModuleTests(SynchronousTestCase):
    def test_kindsAreDistinct(self):
        self.assertEqual(len({owners.HOUSE, owners.ACTIVITY, owners.SESSION, owners.OTHER}), 4)
