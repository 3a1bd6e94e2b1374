"""
Byte layouts of OUCH 4.2 messages (L{exsim.soup.ouch42}) against vectors
built by hand from the specification's offsets and sizes.
"""

from hypothesis import given, settings, strategies as st
from twisted.trial.unittest import TestCase

from exsim.soup import ouch42
from exsim.soup.packets import SoupProtocolError
from tests.helpers import fuzzExamples


def u32(n):
    return n.to_bytes(4, "big")


def u64(n):
    return n.to_bytes(8, "big")


TS = 34200123456789  # 09:30:00.123456789


class InboundTests(TestCase):
    def test_enterOrder(self):
        vector = (
            b"O"  # 0 type
            + b"ORD1          "  # 1 token (14)
            + b"B"  # 15 side
            + u32(100)  # 16 shares
            + b"AAPL    "  # 20 stock (8)
            + u32(1502500)  # 28 price 150.25
            + u32(99999)  # 32 time in force
            + b"FIRM"  # 36 firm
            + b"Y"  # 40 display
            + b"A"  # 41 capacity
            + b"N"  # 42 intermarket sweep
            + u32(0)  # 43 minimum quantity
            + b"N"  # 47 cross type
            + b" "  # 48 customer type
        )
        self.assertEqual(len(vector), 49)
        built = ouch42.enterOrder(
            "ORD1", b"B", 100, "AAPL", 1502500, 99999, "FIRM", b"Y", b"A", b"N", 0, b"N", b" "
        )
        self.assertEqual(built, vector)
        self.assertEqual(
            ouch42.decode(vector),
            (b"O", b"ORD1          ", b"B", 100, b"AAPL    ", 1502500, 99999, b"FIRM",
             b"Y", b"A", b"N", 0, b"N", b" "),
        )

    def test_replaceOrder(self):
        vector = (
            b"U" + b"ORD1          " + b"ORD2          " + u32(50) + u32(1500000)
            + u32(0) + b"Y" + b"N" + u32(10)
        )
        self.assertEqual(len(vector), 47)
        self.assertEqual(ouch42.replaceOrder("ORD1", "ORD2", 50, 1500000, 0, b"Y", b"N", 10), vector)
        self.assertEqual(ouch42.decode(vector)[1:4], (b"ORD1          ", b"ORD2          ", 50))

    def test_cancelOrder(self):
        vector = b"X" + b"ORD1          " + u32(0)
        self.assertEqual(len(vector), 19)
        self.assertEqual(ouch42.cancelOrder("ORD1"), vector)
        self.assertEqual(ouch42.decode(vector), (b"X", b"ORD1          ", 0))

    def test_modifyOrderSize(self):
        self.assertEqual(ouch42.MODIFY_ORDER.size, 20)

    def test_badMessages(self):
        self.assertRaises(SoupProtocolError, ouch42.decode, b"Q" + b" " * 18)
        self.assertRaises(SoupProtocolError, ouch42.decode, b"X" + b" " * 17)
        self.assertRaises(SoupProtocolError, ouch42.decode, b"O" + b" " * 49)
        self.assertRaises(SoupProtocolError, ouch42.decode, b"")

    @settings(max_examples=fuzzExamples(300), deadline=None)
    @given(st.binary(max_size=60))
    def test_arbitraryBytes(self, data):
        try:
            fields = ouch42.decode(data)
        except SoupProtocolError:
            return
        self.assertEqual(fields[0], data[:1])


class OutboundTests(TestCase):
    def test_systemEvent(self):
        vector = b"S" + u64(TS) + b"S"
        self.assertEqual(len(vector), 10)
        self.assertEqual(ouch42.systemEvent(TS, b"S"), vector)

    def test_accepted(self):
        vector = (
            b"A" + u64(TS) + b"ORD1          " + b"S" + u32(200) + b"MSFT    "
            + u32(3000000) + u32(0) + b"    " + b"Y" + u64(77) + b"P" + b"N" + u32(0)
            + b"N" + b"L" + b" "
        )
        self.assertEqual(len(vector), 66)
        self.assertEqual(vector[49:57], u64(77))  # order reference number at 49
        self.assertEqual(vector[64:65], b"L")  # order state at 64
        built = ouch42.ACCEPTED.pack(
            b"A", TS, b"ORD1          ", b"S", 200, b"MSFT    ", 3000000, 0, b"    ", b"Y",
            77, b"P", b"N", 0, b"N", b"L", b" ",
        )
        self.assertEqual(built, vector)

    def test_replaced(self):
        vector = (
            b"U" + u64(TS) + b"ORD2          " + b"B" + u32(60) + b"AAPL    "
            + u32(1500100) + u32(99999) + b"FIRM" + b"Y" + u64(5) + b"A" + b"N" + u32(0)
            + b"N" + b"L" + b"ORD1          " + b" "
        )
        self.assertEqual(len(vector), 80)
        self.assertEqual(vector[65:79], b"ORD1          ")  # previous token at 65
        built = ouch42.REPLACED.pack(
            b"U", TS, b"ORD2          ", b"B", 60, b"AAPL    ", 1500100, 99999, b"FIRM",
            b"Y", 5, b"A", b"N", 0, b"N", b"L", b"ORD1          ", b" ",
        )
        self.assertEqual(built, vector)

    def test_canceled(self):
        vector = b"C" + u64(TS) + b"ORD1          " + u32(40) + b"U"
        self.assertEqual(len(vector), 28)
        self.assertEqual(ouch42.canceled(TS, "ORD1", 40, b"U"), vector)

    def test_executed(self):
        vector = b"E" + u64(TS) + b"ORD1          " + u32(10) + u32(1502500) + b"R" + u64(9)
        self.assertEqual(len(vector), 40)
        self.assertEqual(ouch42.executed(TS, "ORD1", 10, 1502500, b"R", 9), vector)

    def test_brokenTrade(self):
        vector = b"B" + u64(TS) + b"ORD1          " + u64(9) + b"E"
        self.assertEqual(len(vector), 32)
        self.assertEqual(ouch42.brokenTrade(TS, "ORD1", 9, b"E"), vector)

    def test_rejected(self):
        vector = b"J" + u64(TS) + b"ORD1          " + b"S"
        self.assertEqual(len(vector), 24)
        self.assertEqual(ouch42.rejected(TS, "ORD1", b"S"), vector)

    def test_cancelPendingAndReject(self):
        self.assertEqual(ouch42.cancelPending(TS, "T"), b"P" + u64(TS) + b"T" + b" " * 13)
        self.assertEqual(ouch42.cancelReject(TS, "T"), b"I" + u64(TS) + b"T" + b" " * 13)

    def test_roundTrip(self):
        for payload in [
            ouch42.systemEvent(TS, b"E"),
            ouch42.canceled(TS, "A", 1, b"I"),
            ouch42.executed(TS, "A", 1, 2, b"A", 3),
            ouch42.rejected(TS, "A", b"X"),
        ]:
            fields = ouch42.decodeOutbound(payload)
            self.assertEqual(ouch42.OUTBOUND[payload[:1]].pack(*fields), payload)
