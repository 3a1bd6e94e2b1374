# -*- test-case-name: tests.test_soup_phases -*-
"""
The trading phases on OUCH 4.2 (L{exsim.soup.ouch}: rejects by phase,
Cross Type, the liquidity flags and cancel reason of auctions) and ITCH
5.0 (L{exsim.soup.itch}: Stock Trading Action, NOII, Cross Trade, System
Events from the schedule), on both engines; everything the feed publishes
is decoded with itchfeed and rebuilds the engine's books.
"""

from twisted.trial.unittest import TestCase

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.soup import itch50, ouch42
from exsim.soup.itch import family as itchFamily
from tests.soupfakes import makeEndpoint
from tests.test_itch import engineBooks, rebuild, setUpOuchAndFeed

P10 = 100000  # 10.00
# (A short opening call: a call sends its NOII every second.)
SCHEDULE = "pre_open 09:00, continuous 09:30, closing_auction 15:55, post_close 16:00, closed 20:00"


def decoded(payloads):
    return [ouch42.decodeOutbound(p) for p in payloads]


class SoupPhaseTests(TestCase):
    """
    (On the fast engine; L{ReferenceSoupPhaseTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        setUpOuchAndFeed(self)
        self.alice.sequenced()
        self.bob.sequenced()

    def enter(self, client, token, side, shares, price=P10, crossType=b"N", stock="AAPL"):
        client.unsequenced(
            ouch42.enterOrder(token, side, shares, stock, price, 99999, crossType=crossType)
        )
        return decoded(client.sequenced())

    def feedSince(self, start):
        return [itch50.decode(p) for p in self.stream.messages()[start:]]

    def assertRebuilds(self):
        books, messages, symbols = rebuild(self.stream.messages())
        self.assertEqual(books, engineBooks(self.engine))
        for payload, message in zip(self.stream.messages(), messages):
            self.assertEqual(message.to_bytes(), payload)
        return messages

    # -- OUCH --------------------------------------------------------------

    def test_rejectedByPhase(self):
        """
        A halted book rejects with reason H, a closed one with C.
        """
        self.engine.haltBook("AAPL", "T1")
        [rejected] = self.enter(self.alice, "O1", b"B", 100)
        self.assertEqual((rejected[0], rejected[3]), (b"J", ouch42.REJECT_HALTED))
        self.engine.setPhase("MSFT", "closed")
        [rejected] = self.enter(self.alice, "O2", b"B", 100, stock="MSFT")
        self.assertEqual((rejected[0], rejected[3]), (b"J", ouch42.REJECT_CLOSED))

    def test_openingCross(self):
        """
        Cross Type O: the order takes part in the opening cross only; its
        executions have liquidity flag O; what is left is cancelled with
        reason C.
        """
        self.engine.setPhase("AAPL", "pre_open")
        [accepted] = self.enter(self.alice, "B1", b"B", 300, P10, crossType=b"O")
        self.assertEqual((accepted[0], accepted[14]), (b"A", b"O"))
        self.enter(self.bob, "S1", b"S", 200, P10)
        self.engine.setPhase("AAPL", "continuous")
        executed, cancelled = decoded(self.alice.sequenced())
        self.assertEqual(executed[:6], (b"E", executed[1], b"B1            ", 200, P10, b"O"))
        self.assertEqual(
            (cancelled[0], cancelled[2], cancelled[3], cancelled[4]),
            (b"C", b"B1            ", 100, ouch42.CANCEL_CROSS),
        )
        [executed] = decoded(self.bob.sequenced())
        self.assertEqual(executed[3:6], (200, P10, b"O"))
        # Cross Type O outside pre_open: refused.
        [rejected] = self.enter(self.alice, "B2", b"B", 100, crossType=b"O")
        self.assertEqual(rejected[0], b"J")

    def test_closingCross(self):
        """
        Cross Type C: accepted during the continuous phase but kept out of
        it; executed in the closing cross (liquidity flag C).
        """
        [accepted] = self.enter(self.alice, "B1", b"B", 100, P10, crossType=b"C")
        self.assertEqual(accepted[0], b"A")
        [accepted] = self.enter(self.bob, "S1", b"S", 100, P10)
        self.assertEqual(self.alice.sequenced(), [])
        self.engine.setPhase("AAPL", "closing_auction")
        self.engine.setPhase("AAPL", "post_close")
        [executed] = decoded(self.alice.sequenced())
        self.assertEqual(executed[3:6], (100, P10, b"C"))

    def test_reopeningCross(self):
        self.engine.setBookProperty("AAPL", "halt_accepts_orders", "yes")
        self.engine.haltBook("AAPL")
        self.enter(self.alice, "B1", b"B", 100, P10)
        self.enter(self.bob, "S1", b"S", 100, P10)
        self.engine.resumeBook("AAPL")
        [executed] = decoded(self.alice.sequenced())
        self.assertEqual(executed[5], b"H")

    # -- ITCH --------------------------------------------------------------

    def test_tradingActions(self):
        """
        A halt is a Stock Trading Action H with the reason's first four
        characters, the resume T; a halt that accepts orders for a
        reopening auction is quotation only (Q).
        """
        start = len(self.stream.messages())
        self.engine.haltBook("AAPL", "T12 news")
        self.engine.resumeBook("AAPL")
        self.engine.setBookProperty("MSFT", "halt_accepts_orders", "yes")
        self.engine.haltBook("MSFT")
        # (A halt is a reopening call: NOII and a Cross Trade too.)
        messages = [m for m in self.feedSince(start) if m[0] == b"H"]
        self.assertEqual(
            [(m[0], m[1], m[5], m[7]) for m in messages],
            [(b"H", 1, b"H", b"T12 "), (b"H", 1, b"T", b"    "), (b"H", 2, b"Q", b"    ")],
        )
        # A new feed says so from the start.
        feed = makeEndpoint(itchFamily, "itch2", engine=self.engine, reactor=self.reactor)
        actions = [itch50.decode(p) for p in feed.factory.stream.messages()]
        self.assertEqual([m[5] for m in actions if m[0] == b"H"], [b"T", b"Q"])
        self.assertRebuilds()

    def test_pause(self):
        """
        A pause (halt_book's pause) is Stock Trading Action P with the
        reason; a feed started during the halt says so too, with the
        reason.
        """
        start = len(self.stream.messages())
        self.engine.haltBook("AAPL", "LUDP", pause=True)
        self.engine.haltBook("MSFT", "T1")
        messages = [m for m in self.feedSince(start) if m[0] == b"H"]
        self.assertEqual([(m[1], m[5], m[7]) for m in messages], [(1, b"P", b"LUDP"), (2, b"H", b"T1  ")])
        feed = makeEndpoint(itchFamily, "itch2", engine=self.engine, reactor=self.reactor)
        actions = [itch50.decode(p) for p in feed.factory.stream.messages()]
        self.assertEqual(
            [(m[5], m[7]) for m in actions if m[0] == b"H"], [(b"P", b"LUDP"), (b"H", b"T1  ")]
        )
        start = len(self.stream.messages())
        self.engine.resumeBook("AAPL")
        [action] = [m for m in self.feedSince(start) if m[0] == b"H"]
        self.assertEqual((action[5], action[7]), (b"T", b"    "))
        # halt_kind = pause: the phase halted, set, is a pause too.
        self.engine.setBookProperty("AAPL", "halt_kind", "pause")
        start = len(self.stream.messages())
        self.engine.setPhase("AAPL", "halted")
        [action] = [m for m in self.feedSince(start) if m[0] == b"H"]
        self.assertEqual((action[5], action[7]), (b"P", b"    "))
        self.assertRebuilds()

    def test_noiiPrices(self):
        """
        NOII far, near and current reference price as Nasdaq defines them
        (the book of tests.phaserules' test_imbalanceFigures): far 10.01
        (the At the Opening orders alone), near 10.06 (every order), current
        reference 10.02 (within the inside, 10.00 to 10.02), where 150 pair
        and 350 are left to buy; the near price is 0.4 % from it (L).
        """
        from exsim.model import TimeInForce
        from tests.helpers import limit, market

        opg = TimeInForce.AT_OPEN
        self.engine.setPhase("AAPL", "pre_open")
        for order in (
            market("x/1", "mb", "buy", 500, tif=opg),
            limit("x/2", "os", "sell", 50, "10.01", tif=opg),
            limit("x/3", "b", "buy", 100, "10.00"),
            limit("x/4", "a1", "sell", 100, "10.02"),
            limit("x/4", "a2", "sell", 300, "10.04"),
            limit("x/4", "a3", "sell", 200, "10.06"),
        ):
            self.engine.submitNew(order)
        start = len(self.stream.messages())
        self.reactor.advance(1)
        [noii] = self.feedSince(start)
        self.assertEqual(
            noii[0:1] + noii[4:],
            (b"I", 150, 350, b"B", b"AAPL    ", P10 + 100, P10 + 600, P10 + 200, b"O", b"L"),
        )
        self.assertRebuilds()

    def test_priceVariation(self):
        """
        NOII Price Variation Indicator: how far the near price is from the
        current reference price.
        """
        from exsim.soup.itch import priceVariation

        cases = [
            (P10, b"L"), (P10 + 999, b"L"), (P10 + 1000, b"1"), (P10 + 5500, b"5"),
            (P10 - 9990, b"9"), (P10 + 15000, b"A"), (P10 + 25000, b"B"), (P10 * 2, b"C"),
        ]
        self.assertEqual([(near, priceVariation(near, P10)) for near, _ in cases], cases)
        self.assertEqual((priceVariation(P10, None), priceVariation(None, P10)), (b" ", b" "))

    def test_noiiEverySecondOfAJump(self):
        """
        One jump of the clock over N seconds of a call: N NOIIs, as a real
        day would have had.
        """
        self.engine.setPhase("AAPL", "pre_open")
        start = len(self.stream.messages())
        self.reactor.advance(30)
        self.assertEqual([m[0] for m in self.feedSince(start)], [b"I"] * 30)

    def test_noiiAndCross(self):
        """
        During a call a NOII every second; the uncross publishes its
        executions as not printable, then one Cross Trade.
        """
        self.engine.setPhase("AAPL", "pre_open")
        self.enter(self.alice, "B1", b"B", 300, P10 + 100)
        self.enter(self.bob, "S1", b"S", 200, P10)
        start = len(self.stream.messages())
        self.reactor.advance(1)
        [noii] = self.feedSince(start)
        self.assertEqual(
            noii[0:1] + noii[4:],
            (b"I", 200, 100, b"B", b"AAPL    ", 0, P10, P10, b"O", b"L"),
        )
        start = len(self.stream.messages())
        self.engine.setPhase("AAPL", "continuous")
        messages = self.feedSince(start)
        self.assertEqual([m[0] for m in messages], [b"C", b"C", b"Q"])
        self.assertEqual([m[7] for m in messages[:2]], [b"N", b"N"])
        cross = messages[2]
        self.assertEqual(cross[4:], (200, b"AAPL    ", P10, messages[0][6], b"O"))
        # After the call: no more NOII.
        start = len(self.stream.messages())
        self.reactor.advance(5)
        self.assertEqual(self.feedSince(start), [])
        messages = self.assertRebuilds()
        self.assertTrue({b"I", b"Q", b"C", b"H"} <= {m.message_type for m in messages})

    def test_noCross(self):
        """
        An empty call: NOII with direction O (insufficient orders), and a
        Cross Trade of 0 shares.
        """
        self.engine.setPhase("AAPL", "closing_auction")
        self.enter(self.alice, "B1", b"B", 100, P10)
        start = len(self.stream.messages())
        self.reactor.advance(1)
        [noii] = self.feedSince(start)
        self.assertEqual((noii[4], noii[5], noii[6], noii[11]), (0, 100, b"O", b"C"))
        start = len(self.stream.messages())
        self.engine.setPhase("AAPL", "post_close")
        [cross] = self.feedSince(start)
        self.assertEqual((cross[0], cross[4], cross[8]), (b"Q", 0, b"C"))
        self.assertRebuilds()

    def test_systemEventsFromSchedule(self):
        """
        The engine's schedule drives the System Events through a whole day
        on the reactor's clock.
        """
        start = len(self.stream.messages())
        self.engine.setProperty("schedule", SCHEDULE)
        # 09:30: continuous already (start of market hours was sent).
        self.assertEqual(self.feedSince(start), [])
        seen = []
        for hours in (6.5, 0.1, 4, 13, 1):
            start = len(self.stream.messages())
            self.reactor.advance(hours * 3600)
            seen.append(
                "".join(m[4].decode() for m in self.feedSince(start) if m[0] == b"S")
            )
        # 16:00 post_close (the 15:55 closing call on the way), 16:06,
        # 20:06 closed, 09:06 pre_open, 10:06 continuous.
        self.assertEqual(seen, ["M", "", "EC", "OS", "Q"])
        self.assertRebuilds()


class ReferenceSoupPhaseTests(SoupPhaseTests):
    engineClass = ReferenceEngine
