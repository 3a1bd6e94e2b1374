# -*- test-case-name: tests.test_phases -*-
"""
Tests for L{exsim.engine.phases} (phase names, schedules and their clock)
and for the management operations and configuration of the trading
phases (L{exsim.service.Simulator}: C{halt_book}, C{resume_book},
C{set_book_property(book, "phase", ...)}, C{get_book}, the control
events; C{sim.ini}).  The rules themselves are in L{tests.phaserules}.
"""

import datetime
import zoneinfo

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

from exsim.engine import phases
from exsim.errors import BadValue, WrongState
from exsim.model import Order, OrdType, Side, TimeInForce
from exsim.service import Simulator

NY = zoneinfo.ZoneInfo("America/New_York")


def at(year, month, day, hour, minute=0, zone=NY):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


class ParserTests(unittest.TestCase):
    def test_phase(self):
        self.assertIs(phases.parsePhase(" Pre_Open "), phases.PRE_OPEN)
        self.assertRaises(BadValue, phases.parsePhase, "open")

    def test_schedule(self):
        entries = phases.parseSchedule("pre_open 4:00, continuous 09:30:15,closed 20:00")
        self.assertEqual(
            entries,
            ((4 * 3600, "pre_open"), (9 * 3600 + 30 * 60 + 15, "continuous"), (20 * 3600, "closed")),
        )
        self.assertEqual(
            phases.formatSchedule(entries), "pre_open 04:00, continuous 09:30:15, closed 20:00"
        )
        self.assertEqual(phases.parseSchedule("none"), ())
        self.assertEqual(phases.parseSchedule(""), ())
        self.assertEqual(phases.formatSchedule(()), "none")

    def test_badSchedules(self):
        for text in (
            "pre_open 04:00, pre_open 04:00",
            "continuous 09:30, pre_open 04:00",
            "opening 04:00",
            "pre_open 4",
            "pre_open 04:60",
            "pre_open 04:00 continuous 09:30",
        ):
            self.assertRaises(BadValue, phases.parseSchedule, text)

    def test_timezone(self):
        self.assertEqual(phases.parseTimezone("utc"), "UTC")
        self.assertEqual(phases.parseTimezone("Europe/London"), "Europe/London")
        e = self.assertRaises(BadValue, phases.parseTimezone, "Nowhere/Else")
        self.assertIn("IANA", str(e))


class ScheduledPhaseTests(unittest.TestCase):
    entries = phases.parseSchedule("pre_open 04:00, continuous 09:30, post_close 16:00")

    def test_withinTheDay(self):
        phase, due = phases.scheduledPhase(self.entries, NY, at(2024, 3, 1, 10))
        self.assertEqual((phase, due), ("continuous", at(2024, 3, 1, 16)))

    def test_beforeTheFirstEntry(self):
        """
        Before the day's first entry the last one of the day before holds.
        """
        phase, due = phases.scheduledPhase(self.entries, NY, at(2024, 3, 1, 2))
        self.assertEqual((phase, due), ("post_close", at(2024, 3, 1, 4)))

    def test_afterTheLastEntry(self):
        phase, due = phases.scheduledPhase(self.entries, NY, at(2024, 3, 1, 17))
        self.assertEqual((phase, due), ("post_close", at(2024, 3, 2, 4)))

    def test_daylightSaving(self):
        """
        Local times follow the zone's daylight saving: on 10 March 2024 New
        York moved from UTC-5 to UTC-4, so 09:30 is 13:30 UTC, not 14:30.
        """
        phase, due = phases.scheduledPhase(self.entries, NY, at(2024, 3, 10, 5))
        self.assertEqual(due, datetime.datetime(2024, 3, 10, 13, 30, tzinfo=datetime.timezone.utc).timestamp())


class ScheduleTests(unittest.TestCase):
    def test_runsOnTheClock(self):
        clock = Clock()
        clock.advance(at(2024, 3, 1, 3, 59))
        seen = []
        schedule = phases.Schedule(
            clock, phases.parseSchedule("pre_open 04:00, continuous 09:30"), "America/New_York",
            lambda old, new: seen.append((old, new)),
        )
        schedule.start()
        self.assertEqual(seen, [(None, "continuous")])
        clock.advance(60)
        self.assertEqual(seen[-1], ("continuous", "pre_open"))
        clock.advance(5.5 * 3600)
        self.assertEqual(seen[-1], ("pre_open", "continuous"))
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        schedule.stop()
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_noClock(self):
        schedules = phases.Schedules(None, None, None)
        e = self.assertRaises(BadValue, schedules.setSchedule, "pre_open 04:00")
        self.assertIn("clock", str(e))
        schedules.setSchedule("none")


class RealLikeClock:
    """
    A clock that, as a real reactor, refuses calls due in the past (it is
    not a task.Clock).
    """

    def __init__(self):
        self.clock = Clock()

    def seconds(self):
        return self.clock.seconds()

    def callLater(self, delay, f, *args, **kw):
        assert delay >= 0, delay
        return self.clock.callLater(delay, f, *args, **kw)


class IndicativeTimerTests(unittest.TestCase):
    def test_realReactorFellBehind(self):
        """
        On a real reactor that fell behind by 10 seconds, the late
        indicative event goes out, then one a second later: no burst.
        """
        from exsim.engine.matching import MatchingEngine
        from exsim.model import Instrument
        from tests.helpers import Recorder

        real = RealLikeClock()
        engine = MatchingEngine("e", clock=real)
        engine.addBook(Instrument("AAPL"))
        recorder = Recorder()
        engine.subscribe(recorder)
        engine.setPhase("AAPL", "pre_open")
        recorder.take()
        real.clock.advance(10)
        self.assertEqual(len(recorder.of("auction_indicative")), 1)
        real.clock.advance(0.5)
        self.assertEqual(len(recorder.of("auction_indicative")), 1)
        real.clock.advance(0.5)
        self.assertEqual(len(recorder.of("auction_indicative")), 2)


class BookSimulatorTestCase(unittest.TestCase):
    """
    A simulator on a memory clock with engine C{e1} (of C{engineClass})
    and its book C{AAPL}.
    """

    engineClass = "matching"

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.simulator = Simulator(self.reactor)
        self.simulator.create_engine("e1", self.engineClass)
        self.simulator.create_book("AAPL", "e1", "AAPL")
        self.engine = self.simulator.engines["e1"]

    def events(self, kind=None):
        return [e for e in self.simulator.get_events() if kind is None or e["type"] == kind]

    def order(self, clOrdId, side, quantity, price):
        order = Order(
            "fix1/CLIENT", clOrdId, "AAPL", Side.BUY if side == "buy" else Side.SELL, quantity,
            self.engine.books["AAPL"].instrument.toInternal(price), OrdType.LIMIT, TimeInForce.DAY,
        )
        return self.engine.submitNew(order)


class OperationTests(BookSimulatorTestCase):
    def test_haltAndResume(self):
        self.simulator.halt_book("AAPL", "news pending")
        self.assertEqual(self.simulator.get_book("AAPL")["phase"], "halted")
        (event,) = self.events("phase_changed")
        self.assertEqual(
            (event["book"], event["old"], event["new"], event["reason"], event["engine"]),
            ("AAPL", "continuous", "halted", "news pending", "e1"),
        )
        self.assertRaises(WrongState, self.simulator.halt_book, "AAPL")
        self.simulator.resume_book("AAPL")
        self.assertEqual(self.simulator.get_book("AAPL")["phase"], "continuous")
        events = self.events()
        self.assertEqual([e["type"] for e in events], ["auction_uncrossed", "phase_changed"])
        self.assertEqual(
            (events[0]["auction"], events[0]["price"], events[0]["quantity"]), ("reopening", None, 0)
        )
        e = self.assertRaises(WrongState, self.simulator.resume_book, "AAPL")
        self.assertIn("not halted", str(e))

    def test_haltReasonInGetBook(self):
        """
        A later look at a halted book shows why, and whether it is a
        pause; the resume clears both.
        """
        self.simulator.halt_book("AAPL", "LUDP", pause="yes")
        book = self.simulator.get_book("AAPL")
        self.assertEqual((book["phase"], book["halt_reason"], book["paused"]), ("halted", "LUDP", True))
        self.simulator.resume_book("AAPL")
        book = self.simulator.get_book("AAPL")
        self.assertEqual(book["phase"], "continuous")
        self.assertNotIn("halt_reason", book)
        self.simulator.halt_book("AAPL")
        book = self.simulator.get_book("AAPL")
        self.assertEqual((book["halt_reason"], book["paused"]), (None, False))

    def test_delayOpen(self):
        """
        delay_open: the book stays in pre_open at the schedule's open
        (control event opening_delayed; get_book says so) until
        resume_book opens it.
        """
        self.simulator.set_engine_property("e1", "timezone", "UTC")
        self.simulator.set_engine_property("e1", "schedule", "pre_open 04:00, continuous 09:30")
        e = self.assertRaises(WrongState, self.simulator.delay_open, "AAPL")
        self.assertIn("not in pre_open", str(e))
        self.reactor.advance(5 * 3600)
        self.events()
        self.simulator.delay_open("AAPL", "order imbalance")
        (event,) = self.events("opening_delayed")
        self.assertEqual((event["book"], event["reason"], event["engine"]), ("AAPL", "order imbalance", "e1"))
        self.reactor.advance(5 * 3600)
        book = self.simulator.get_book("AAPL")
        self.assertEqual(
            (book["phase"], book["opening_delayed"], book["delay_reason"]),
            ("pre_open", True, "order imbalance"),
        )
        self.assertEqual(self.events("phase_changed"), [])
        self.simulator.resume_book("AAPL")
        book = self.simulator.get_book("AAPL")
        self.assertEqual(book["phase"], "continuous")
        self.assertNotIn("opening_delayed", book)
        self.assertEqual([e["new"] for e in self.events("phase_changed")], ["continuous"])

    def test_badArguments(self):
        from exsim.errors import UnknownName

        self.assertRaises(UnknownName, self.simulator.halt_book, "NOPE")
        self.assertRaises(UnknownName, self.simulator.resume_book, "NOPE")
        self.assertRaises(BadValue, self.simulator.halt_book, "AAPL", "bad\x01reason")
        self.assertRaises(BadValue, self.simulator.halt_book, "AAPL", "x", "perhaps")
        self.assertRaises(UnknownName, self.simulator.delay_open, "NOPE")
        self.assertRaises(WrongState, self.simulator.delay_open, "AAPL")
        self.assertEqual(self.simulator.get_book("AAPL")["phase"], "continuous")
        self.assertRaises(BadValue, self.simulator.set_book_property, "AAPL", "phase", "lunch")
        self.assertRaises(BadValue, self.simulator.set_engine_property, "e1", "schedule", "lunch 12:00")
        self.assertEqual(self.simulator.get_book("AAPL")["phase"], "continuous")
        self.assertEqual(self.events(), [])

    def test_indicativeInGetBook(self):
        self.simulator.set_book_property("AAPL", "reference_price", "10.00")
        self.simulator.set_book_property("AAPL", "phase", "pre_open")
        self.order("a", "buy", 100, "10.01")
        self.order("b", "sell", 60, "10.00")
        book = self.simulator.get_book("AAPL")
        self.assertEqual(
            book["indicative"],
            {"auction": "opening", "price": "10.00", "paired": 60, "imbalance": 40,
             "imbalance_side": "buy", "far_price": None, "current_reference_price": "10.00"},
        )
        self.simulator.set_book_property("AAPL", "phase", "continuous")
        book = self.simulator.get_book("AAPL")
        self.assertNotIn("indicative", book)
        self.assertEqual((book["last"], book["volume"]), ("10.00", 60))

    def test_indicativeEventsOnlyWhenChanged(self):
        """
        The engine sends auction_indicative every second of a call; the
        control queue keeps the first of the call and those that differ.
        """
        self.simulator.set_book_property("AAPL", "phase", "pre_open")
        self.assertEqual(len(self.events("auction_indicative")), 1)
        self.reactor.advance(3)
        self.assertEqual(self.events("auction_indicative"), [])
        self.order("a", "buy", 100, "10.01")
        self.order("b", "sell", 60, "10.00")
        self.reactor.advance(1)
        (event,) = self.events("auction_indicative")
        self.assertEqual(
            (event["price"], event["paired"], event["imbalance"], event["imbalance_side"]),
            ("10.00", 60, 40, "buy"),
        )
        self.assertEqual(
            (event["far_price"], event["current_reference_price"], event["current_paired"]),
            (None, "10.00", 60),
        )
        self.reactor.advance(5)
        self.assertEqual(self.events("auction_indicative"), [])
        self.simulator.set_book_property("AAPL", "phase", "continuous")
        self.simulator.set_book_property("AAPL", "phase", "pre_open")
        self.assertEqual(len(self.events("auction_indicative")), 1)

    def test_schedule(self):
        self.simulator.set_engine_property("e1", "timezone", "UTC")
        self.simulator.set_engine_property("e1", "schedule", "pre_open 04:00, continuous 09:30")
        self.assertEqual(self.simulator.get_book("AAPL")["phase"], "continuous")
        self.reactor.advance(4 * 3600)
        self.assertEqual(self.simulator.get_book("AAPL")["phase"], "pre_open")
        types = [e["type"] for e in self.events()]
        self.assertEqual(types.count("market_phase_changed"), 2)
        self.assertEqual(self.engine.properties()["schedule"], "pre_open 04:00, continuous 09:30")


class ReferenceOperationTests(OperationTests):
    engineClass = "reference"


class ConfigTests(unittest.TestCase):
    def test_simIni(self):
        from exsim import config

        text = (
            "[engine:e1]\ntimezone = UTC\n"
            "schedule = pre_open 04:00, continuous 09:30, closed 20:00\n"
            "[book:AAPL]\nengine = e1\nhalt_accepts_orders = yes\n"
            "reopen_with_auction = no\npost_close_accepts = yes\n"
            "[book:MSFT]\nengine = e1\nschedule = continuous 00:00\n"
            "[book:IBM]\nengine = e1\nhalt_kind = pause\ndelay_open = yes\n"
        )
        reactor = MemoryReactorClock()
        reactor.advance(5 * 3600)
        simulator = Simulator(reactor)
        config.apply(config.parse(text, "sim.ini"), simulator)
        engine = simulator.engines["e1"]
        book = engine.books["AAPL"]
        self.assertEqual(book.phase, "pre_open")
        self.assertEqual(
            (book.haltAcceptsOrders, book.reopenWithAuction, book.postCloseAccepts), (True, False, True)
        )
        self.assertEqual(engine.books["MSFT"].phase, "continuous")
        # A pause by default, and a delayed opening at 09:30.
        ibm = engine.books["IBM"]
        self.assertEqual((ibm.haltKind, ibm.delaysOpening), ("pause", True))
        reactor.advance(4.5 * 3600)
        self.assertEqual((ibm.phase, ibm.openingDelayed), ("pre_open", True))
        self.assertEqual(book.phase, "continuous")
        simulator.halt_book("IBM", "LUDP")
        self.assertEqual(simulator.get_book("IBM")["paused"], True)

    def test_badSimIni(self):
        from exsim import config
        from exsim.errors import ConfigError

        text = "[engine:e1]\nschedule = pre_open 09:00, continuous 08:00\n"
        e = self.assertRaises(
            ConfigError, config.apply, config.parse(text, "sim.ini"), Simulator(MemoryReactorClock())
        )
        self.assertIn("sim.ini:2", str(e))
        self.assertIn("times must increase", str(e))
