# -*- test-case-name: tests.test_trading_day -*-
"""
A whole simulated trading day driven by the engine's schedule on the
reactor's clock (a MemoryReactorClock: milliseconds for the day), seen on
FIX (order entry with SecurityStatus and TradingSessionStatus
subscriptions), OUCH and ITCH at once, on both engines: the opening call
and auction, continuous trading, a halt and its reopening auction, the
closing call and auction, the close.  Every FIX message is checked against
its dictionary; every ITCH message decodes with itchfeed and the feed
rebuilds the engine's books.
"""

from twisted.trial.unittest import TestCase

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix import dictionary
from exsim.fix.orders import OrderEntry
from exsim.soup import itch50, ouch42
from exsim.soup.itch import family as itchFamily
from exsim.soup.ouch import family as ouchFamily
from tests.fixfakes import FakeEndpoint, FakeMessage, FakeSession, fieldDict, nos
from tests.soupfakes import Client, makeEndpoint
from tests.test_itch import engineBooks, rebuild

P10 = 100000  # 10.00 with four decimals
HOUR = 3600.0
SCHEDULE = "pre_open 09:00, continuous 09:30, closing_auction 15:55, post_close 16:00, closed 20:00"


class TradingDayTests(TestCase):
    """
    (On the fast engine; L{ReferenceTradingDayTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        # (No client heartbeats while the clock jumps hours: no idle timeout.)
        self.ouch = makeEndpoint(
            ouchFamily, "ouch1", symbols=("AAPL",), engineClass=self.engineClass,
            idle_timeout="100000",
        )
        self.engine = self.ouch.engine
        self.reactor = self.ouch.reactor
        # 1970-01-01 08:00 in New York.
        self.reactor.advance(8 * HOUR + 5 * HOUR)
        self.alice = Client(self.ouch)
        self.alice.login("alice")
        self.alice.sequenced()
        self.feed = makeEndpoint(itchFamily, "itch1", engine=self.engine, reactor=self.reactor)
        self.fixEndpoint = FakeEndpoint(self.engine, self.reactor, "fix1")
        self.fixApp = OrderEntry(self.fixEndpoint)
        self.fix = FakeSession(self.fixEndpoint, "BOB", "FIXT.1.1", "9")
        self.fixApp.sessionLoggedOn(self.fix)
        self.dictionary = dictionary.forVersion("FIXT.1.1", "9")

    def fixSent(self):
        sent = self.fix.takeRaw()
        for msgType, fields in sent:
            self.assertEqual(
                dictionary.validateOutgoing(self.dictionary, msgType, fields), [], (msgType, fields)
            )
        return [(msgType, fieldDict(fields)) for msgType, fields in sent]

    def ouchSent(self):
        return [ouch42.decodeOutbound(p) for p in self.alice.sequenced()]

    def until(self, hours, second=False):
        """
        Advance the clock to C{hours} (New York time) of the first day, in
        one step, or C{second} by second (a call sends its NOII every
        second of the clock).
        """
        target = (hours + 5) * HOUR
        if second:
            while self.reactor.seconds() + 1 <= target:
                self.reactor.advance(1)
        self.reactor.advance(target - self.reactor.seconds())

    def test_day(self):
        engine = self.engine
        self.engine.setProperty("schedule", SCHEDULE)
        self.fixApp.fromApp(self.fix, FakeMessage("g", [(335, "t"), (263, "1")]))
        self.fixApp.fromApp(self.fix, FakeMessage("e", [(324, "s"), (55, "AAPL"), (263, "1")]))
        # 08:00: between the schedule's 20:00 and 09:00: closed.
        [(_, h), (_, f)] = self.fixSent()
        self.assertEqual((h[340], f[326]), ("3", "18"))
        self.alice.unsequenced(ouch42.enterOrder("X0", b"B", 100, "AAPL", P10, 99999))
        [rejected] = self.ouchSent()
        self.assertEqual((rejected[0], rejected[3]), (b"J", ouch42.REJECT_CLOSED))

        # 09:00 the opening call: an At the Opening buy on OUCH, a sell on FIX.
        self.until(9.01)
        self.assertEqual([(m, d.get(340), d.get(326)) for m, d in self.fixSent()],
                         [("f", None, "21"), ("h", "4", None)])
        self.alice.unsequenced(ouch42.enterOrder("B1", b"B", 300, "AAPL", P10 + 100, 99999, crossType=b"O"))
        self.fixApp.fromApp(self.fix, nos("S1", side="2", qty="200", price="10.00"))
        self.assertEqual([m[0] for m in self.ouchSent()], [b"A"])
        self.assertEqual([d[39] for _, d in self.fixSent()], ["0"])

        # 09:30 the opening auction: 200 at 10.00.
        self.until(9.6, second=True)
        messages = self.ouchSent()
        self.assertEqual([(m[0], m[3]) for m in messages], [(b"E", 200), (b"C", 100)])
        self.assertEqual((messages[0][4], messages[0][5], messages[1][4]), (P10, b"O", b"C"))
        reports = self.fixSent()
        self.assertEqual(
            [(m, d.get(39), d.get(851), d.get(326), d.get(340)) for m, d in reports],
            [("8", "2", "4", None, None), ("f", None, None, "17", None), ("h", None, None, None, "2")],
        )

        # Continuous trading, then a halt at 11:00 and the reopening.
        self.alice.unsequenced(ouch42.enterOrder("S2", b"S", 100, "AAPL", P10 + 500, 99999))
        self.fixApp.fromApp(self.fix, nos("B2", side="1", qty="100", price="10.05"))
        self.assertEqual([m[0] for m in self.ouchSent()], [b"A", b"E"])
        self.assertEqual([(d[11], d[39]) for _, d in self.fixSent()], [("B2", "0"), ("B2", "2")])
        self.until(11)
        engine.setBookProperty("AAPL", "halt_accepts_orders", "yes")
        engine.haltBook("AAPL", "T1")
        # The book is halted, not the market (the schedule's session is
        # open): no h.
        self.assertEqual([(m, d.get(326)) for m, d in self.fixSent()], [("f", "2")])
        self.alice.unsequenced(ouch42.enterOrder("B3", b"B", 100, "AAPL", P10, 99999))
        self.fixApp.fromApp(self.fix, nos("S3", side="2", qty="100", price="10.00"))
        self.fixSent()
        self.ouchSent()
        self.reactor.pump([1] * 60)
        engine.resumeBook("AAPL")
        [executed] = self.ouchSent()
        self.assertEqual((executed[0], executed[5]), (b"E", b"H"))

        # An At the Close buy (Cross Type C) waits for the closing call.
        self.alice.unsequenced(ouch42.enterOrder("B4", b"B", 100, "AAPL", P10, 99999, crossType=b"C"))
        self.fixApp.fromApp(self.fix, nos("S4", side="2", qty="100", price="10.00"))
        self.assertEqual([m[0] for m in self.ouchSent()], [b"A"])
        self.until(15.95)
        self.assertEqual([(d.get(326), d.get(340)) for _, d in self.fixSent()][-2:],
                         [("24", None), (None, "5")])
        self.until(16.5, second=True)
        [executed] = self.ouchSent()
        self.assertEqual((executed[0], executed[5]), (b"E", b"C"))
        self.until(21)
        self.assertEqual([(d.get(326), d.get(340)) for _, d in self.fixSent()][-2:],
                         [("18", None), (None, "3")])

        # The feed: decodes, rebuilds the books, and tells the day.
        payloads = self.feed.factory.stream.messages()
        books, messages, symbols = rebuild(payloads)
        self.assertEqual(books, engineBooks(engine))
        for payload, message in zip(payloads, messages):
            self.assertEqual(message.to_bytes(), payload)
        decoded = [itch50.decode(p) for p in payloads]
        self.assertEqual(
            "".join(m[4].decode() for m in decoded if m[0] == b"S"), "OSQMECOS" + "QMEC"
        )
        crosses = [(m[4], m[6], m[8]) for m in decoded if m[0] == b"Q"]
        self.assertEqual(crosses, [(200, P10, b"O"), (100, P10, b"H"), (100, P10, b"C")])
        actions = [m[5] for m in decoded if m[0] == b"H"]
        self.assertEqual(actions, [b"T", b"Q", b"T"])
        # A NOII every second of the calls the clock went through second by
        # second: 09:00:36-09:30 (1,764), the halt's minute (60), 15:57-16:00
        # (180), and one as each call starts.
        self.assertEqual(len([m for m in decoded if m[0] == b"I"]), 1764 + 60 + 180 + 1)


class ReferenceTradingDayTests(TradingDayTests):
    engineClass = ReferenceEngine
