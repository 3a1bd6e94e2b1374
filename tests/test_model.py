# -*- test-case-name: tests.test_model -*-
"""
The order model, registry, errors and GC policy.
"""

import gc
from decimal import Decimal

from twisted.internet.task import Clock
from twisted.spread import pb
from twisted.trial.unittest import TestCase

import exsim
from exsim import gcpolicy, registry
from exsim.errors import BadValue, ConfigError, DuplicateName, ExsimError, UnknownName
from exsim.model import (
    Instrument,
    Order,
    OrdStatus,
    OrdType,
    Side,
    TimeInForce,
)


class InstrumentTests(TestCase):
    def test_conversions(self):
        i = Instrument("X")
        self.assertEqual(i.toInternal("12.34"), 123400)
        self.assertEqual(i.toInternal(12), 120000)
        self.assertEqual(i.toInternal(Decimal("0.0001")), 1)
        self.assertEqual(i.toDecimal(123400), Decimal("12.34"))

    def test_badPrices(self):
        i = Instrument("X")
        for bad in ["abc", "1.00001", "nan", "inf", "", None]:
            self.assertRaises(BadValue, i.toInternal, bad)

    def test_extremeExponents(self):
        """
        Exponents beyond the decimal context's range are a L{BadValue}
        (out of range, or too many decimal places), not a
        C{decimal.Overflow} or a silent zero (found by the live-feed
        fuzz test).
        """
        i = Instrument("X")
        for bad in ["1E+999999999", "-1E+999999999", "1e-999999999", "1e400"]:
            self.assertRaises(BadValue, i.toInternal, bad)

    def test_tick(self):
        i = Instrument("X", tickSize=500)
        self.assertTrue(i.onTick(1500))
        self.assertFalse(i.onTick(1501))
        self.assertRaises(BadValue, Instrument, "X", 0)
        self.assertRaises(BadValue, Instrument, "")


class EnumTests(TestCase):
    def test_names(self):
        self.assertIs(Side.fromName("buy"), Side.BUY)
        self.assertIs(Side.fromName("SELL_SHORT"), Side.SELL_SHORT)
        self.assertIs(Side.fromName("2"), Side.SELL)
        self.assertIs(OrdType.fromName("market"), OrdType.MARKET)
        self.assertIs(TimeInForce.fromName("fok"), TimeInForce.FOK)
        e = self.assertRaises(BadValue, Side.fromName, "sideways")
        self.assertIn("buy", str(e))

    def test_fixCodes(self):
        self.assertEqual(OrdStatus.PARTIALLY_FILLED.value, "1")
        self.assertEqual(TimeInForce.GTD.value, "6")

    def test_hashable(self):
        self.assertEqual({Side.BUY: 1}[Side("1")], 1)


class OrderTests(TestCase):
    def test_fields(self):
        o = Order("s1", "c1", "AAPL", Side.SELL, 100, 1000, OrdType.LIMIT, TimeInForce.GTD, 5.0, "u")
        self.assertEqual(
            (o.owner, o.symbol, o.side, o.isBuy, o.ordType, o.timeInForce, o.expireTime, o.userData),
            ("s1", "AAPL", Side.SELL, False, OrdType.LIMIT, TimeInForce.GTD, 5.0, "u"),
        )
        self.assertEqual((o.cumQty, o.leavesQty, o.status, o.avgPx), (0, 100, OrdStatus.PENDING_NEW, 0))

    def test_sharedTerms(self):
        a = Order("s1", "a", "AAPL", Side.BUY, 1, 1)
        b = Order("s1", "b", "AAPL", Side.BUY, 2, 2)
        self.assertIs(a.terms, b.terms)
        c = Order("s1", "c", "AAPL", Side.SELL, 2, 2)
        self.assertIsNot(a.terms, c.terms)

    def test_immutableFields(self):
        o = Order("s1", "a", "AAPL", Side.BUY, 1, 1)
        self.assertRaises(AttributeError, setattr, o, "side", Side.SELL)


class ErrorTests(TestCase):
    def test_pbErrors(self):
        """
        Every exsim error reaches a remote caller as itself.
        """
        for cls in (BadValue, UnknownName, DuplicateName, ConfigError):
            self.assertTrue(issubclass(cls, pb.Error))
            self.assertTrue(issubclass(cls, ExsimError))

    def test_messages(self):
        self.assertEqual(str(UnknownName("unknown engine 'e2'")), "unknown engine 'e2'")
        self.assertEqual(str(ConfigError("bad", "sim.ini", 7)), "sim.ini:7: bad")


class RegistryTests(TestCase):
    def test_builtins(self):
        self.assertIn("matching", registry.names("engine"))
        self.assertIn("auto_fill", registry.names("behaviour"))
        self.assertEqual({"fix", "ouch", "itch"} - set(registry.names("protocol")), set())

    def test_registerAndLookup(self):
        marker = object()
        exsim.register("policy", "test_marker", marker)
        self.addCleanup(registry.unregister, "policy", "test_marker")
        self.assertIs(registry.lookup("policy", "test_marker"), marker)
        self.assertRaises(DuplicateName, exsim.register, "policy", "test_marker", object())
        exsim.register("policy", "test_marker", None, replace=True)
        self.assertIsNone(registry.lookup("policy", "test_marker"))

    def test_badRegistrations(self):
        self.assertRaises(BadValue, exsim.register, "spaceship", "x", object())
        # Nothing looks an "activity" plugin up: not a kind.
        self.assertRaises(BadValue, exsim.register, "activity", "x", object())
        self.assertRaises(BadValue, exsim.register, "policy", "", object())

    def test_unknownName(self):
        e = self.assertRaises(BadValue, registry.lookup, "engine", "warp")
        self.assertIn("matching", str(e))


class GCPolicyTests(TestCase):
    def test_install(self):
        clock = Clock()
        self.addCleanup(gc.unfreeze)
        call = gcpolicy.install(clock, interval=10)
        self.addCleanup(gcpolicy.uninstall, call)
        self.assertGreater(gc.get_freeze_count(), 0)
        gc.unfreeze()
        self.assertEqual(gc.get_freeze_count(), 0)
        clock.advance(10)
        self.assertGreater(gc.get_freeze_count(), 0)
        self.assertEqual(gc.get_threshold(), gcpolicy.THRESHOLDS)

    def test_uninstall(self):
        before = gc.get_threshold()
        self.addCleanup(gc.unfreeze)
        call = gcpolicy.install(Clock(), interval=10)
        gcpolicy.uninstall(call)
        self.assertFalse(call.running)
        self.assertEqual(gc.get_threshold(), before)

    def test_paused(self):
        """
        No automatic collection inside paused(), nested or not; the
        collector is on again after it, even after an exception; off
        before, it stays off.
        """
        self.assertTrue(gc.isenabled())
        with gcpolicy.paused():
            self.assertFalse(gc.isenabled())
            with gcpolicy.paused():
                self.assertFalse(gc.isenabled())
            self.assertFalse(gc.isenabled())
        self.assertTrue(gc.isenabled())
        with self.assertRaises(ZeroDivisionError):
            with gcpolicy.paused():
                1 / 0
        self.assertTrue(gc.isenabled())
        gc.disable()
        self.addCleanup(gc.enable)
        with gcpolicy.paused():
            pass
        self.assertFalse(gc.isenabled())
