"""
hypothesis tests for the decoders of the L{exsim.testing} clients: what
exsim's encoders build decodes back to the same values; arbitrary bytes
never raise out of a decoder; a book view survives any message sequence.
"""

import os
from decimal import Decimal

import simplefix
import simplefix.data
import simplefix.errors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from exsim.soup import itch50, ouch42
from exsim.testing.fix import FixSessionState
from exsim.testing.itch import BookView, decodeItch
from exsim.testing.ouch import SoupClient, decodeOuch

FUZZ = settings(
    max_examples=int(os.environ.get("EXSIM_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
token = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=14)
stock = st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=1, max_size=8)
value = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters="="), min_size=1,
    max_size=30,
)


#: Header tags, and the length and data tags simplefix reads as raw data.
_RESERVED = frozenset([8, 9, 10, 35, 49, 56, 34, 52]) | frozenset(
    int(t) for t in simplefix.data.RAW_LEN_TAGS + simplefix.data.RAW_DATA_TAGS
)


class FixDecoderTests(unittest.SynchronousTestCase):
    @FUZZ
    @given(st.lists(st.tuples(st.integers(11, 9999).filter(lambda t: t not in _RESERVED), value),
                    max_size=20), st.sampled_from("0D8j"), st.binary(max_size=3))
    def test_roundTrip(self, fields, msgType, split):
        """
        Any message simplefix encodes decodes to its pairs, however the
        bytes are split.
        """
        message = simplefix.FixMessage()
        for tag, v in [(8, "FIX.4.4"), (35, msgType), (49, "EXSIM"), (56, "C"), (34, 7)]:
            message.append_pair(tag, v, header=True)
        for tag, v in fields:
            message.append_pair(tag, v)
        data = message.encode()
        state = FixSessionState("C", "EXSIM", "FIX.4.4", 30)
        cut = len(split) % max(len(data), 1)
        got, _ = state.feed(data[:cut])
        more, _ = state.feed(data[cut:])
        [decoded] = got + more
        # 8, 9, 35, 49, 56, 34, then the body, then 10.
        self.assertEqual(decoded.pairs[6:-1], [(t, v) for t, v in fields])
        self.assertEqual(decoded.msg_type, msgType)

    @FUZZ
    @given(st.binary(max_size=400))
    def test_garbage(self, data):
        """
        Arbitrary bytes never raise anything but simplefix's parse error.
        """
        state = FixSessionState("C", "EXSIM", "FIX.4.4", 30)
        try:
            state.feed(data)
        except simplefix.errors.ParsingError:
            pass


class OuchDecoderTests(unittest.SynchronousTestCase):
    @FUZZ
    @given(u64, token, st.sampled_from([b"B", b"S", b"T"]), u32, stock, u32, u32)
    def test_accepted(self, timestamp, tok, side, shares, stk, price, reference):
        payload = ouch42.ACCEPTED.pack(
            b"A", timestamp, ouch42.alpha(tok, 14), side, shares, ouch42.alpha(stk, 8), price,
            99999, b"    ", b"Y", reference, b"A", b"N", 0, b"N", b"L", b" ",
        )
        m = decodeOuch(payload)
        self.assertEqual(
            (m.msg_type, m["timestamp"], m["token"], m["side"], m["shares"], m["stock"],
             m["price"], m["order_reference"]),
            ("A", timestamp, tok.rstrip(" "), side.decode(), shares, stk, Decimal(price) / 10000,
             reference),
        )

    @FUZZ
    @given(u64, token, u32, u32, st.sampled_from([b"A", b"R"]), u64)
    def test_executed(self, timestamp, tok, shares, price, liquidity, match):
        m = decodeOuch(ouch42.executed(timestamp, tok, shares, price, liquidity, match))
        self.assertEqual(
            (m["token"], m["shares"], m["price"], m["liquidity"], m["match_number"]),
            (tok.rstrip(" "), shares, Decimal(price) / 10000, liquidity.decode(), match),
        )

    @FUZZ
    @given(st.binary(max_size=100))
    def test_garbage(self, payload):
        decodeOuch(payload)

    @FUZZ
    @given(st.binary(max_size=300), st.integers(1, 50))
    def test_soupFraming(self, data, chunk):
        """
        Arbitrary bytes cut into packets never raise out of the SoupBinTCP
        client except as a protocol error.
        """
        from exsim.soup.packets import SoupProtocolError

        client = SoupClient.__new__(SoupClient)
        from exsim.soup import packets

        client._reader = packets.PacketReader(65535)
        client.sequence = 1
        client.decode = decodeOuch
        try:
            for i in range(0, len(data), chunk):
                client._feed(data[i:i + chunk])
        except (SoupProtocolError, ValueError):
            pass


class ItchDecoderTests(unittest.SynchronousTestCase):
    @FUZZ
    @given(st.integers(0, 65535), st.integers(0, 2**48 - 1), u64, st.sampled_from([b"B", b"S"]),
           u32, stock, u32)
    def test_addOrder(self, locate, timestamp, reference, side, shares, stk, price):
        m = decodeItch(itch50.addOrder(locate, 0, timestamp, reference, side, shares, stk, price))
        self.assertEqual(
            (m.msg_type, m["stock_locate"], m["timestamp"], m["order_reference"], m["side"],
             m["shares"], m["stock"], m["price"]),
            ("A", locate, timestamp, reference, side.decode(), shares, stk, Decimal(price) / 10000),
        )

    @FUZZ
    @given(st.binary(max_size=100))
    def test_garbage(self, payload):
        decodeItch(payload)

    @FUZZ
    @given(st.lists(st.tuples(st.sampled_from("AEXDUC"), st.integers(1, 5), st.integers(1, 5),
                              st.integers(1, 100), st.integers(1, 3))))
    def test_bookViewNeverNegative(self, steps):
        """
        Any sequence of adds, executions, cancels, deletes and replaces
        (also of unknown references) leaves a book of positive levels.
        """
        book = BookView()
        for kind, ref, new, shares, price in steps:
            if kind == "A":
                payload = itch50.addOrder(1, 0, 0, ref, b"B", shares, "X", price * 100)
            elif kind == "E":
                payload = itch50.orderExecuted(1, 0, 0, ref, shares, 1)
            elif kind == "C":
                payload = itch50.orderExecutedWithPrice(1, 0, 0, ref, shares, 1, price * 100)
            elif kind == "X":
                payload = itch50.orderCancel(1, 0, 0, ref, shares)
            elif kind == "D":
                payload = itch50.orderDelete(1, 0, 0, ref)
            else:
                payload = itch50.orderReplace(1, 0, 0, ref, new, shares, price * 100)
            book.apply(decodeItch(payload))
        for price, quantity, count in book.get_book("X", depth=100)["bids"]:
            self.assertGreater(quantity, 0)
            self.assertGreater(count, 0)
