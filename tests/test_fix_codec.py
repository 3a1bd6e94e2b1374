"""
Tests for L{exsim.fix.codec}: framing by BeginString/BodyLength/CheckSum,
parsing and encoding.
"""

from decimal import Decimal

from hypothesis import given, settings, strategies as st
from twisted.trial import unittest

from exsim.fix import codec, dictionary

BODY = b"35=0\x0149=A\x0156=B\x0134=1\x0152=20240301-12:00:00\x01"


def message(body=BODY, begin="FIX.4.2"):
    return codec.frame(begin, body)


class FrameTests(unittest.TestCase):
    def test_frame(self):
        raw = message()
        self.assertTrue(raw.startswith(b"8=FIX.4.2\x019=%d\x01" % (len(BODY),)))
        self.assertEqual(raw[-7:], b"10=%03d\x01" % (sum(raw[:-7]) % 256,))

    def test_checksumKnownValue(self):
        # A message from the FIX specification's examples, checksum by hand.
        data = b"8=FIX.4.2\x019=5\x0135=0\x01"
        self.assertEqual(codec.checksum(data), b"10=%03d\x01" % (sum(data) % 256,))
        self.assertEqual(codec.checksum(b"\x01" * 256), b"10=000\x01")
        self.assertEqual(codec.checksum(b"\x05"), b"10=005\x01")


class FramerTests(unittest.TestCase):
    def test_oneMessage(self):
        raw = message()
        self.assertEqual(codec.Framer().feed(raw), [raw])

    def test_byteByByte(self):
        raw = message()
        framer = codec.Framer()
        out = []
        for i in range(len(raw)):
            out.extend(framer.feed(raw[i : i + 1]))
        self.assertEqual(out, [raw])
        self.assertEqual(framer.buffered, 0)

    def test_coalesced(self):
        raws = [message(BODY.replace(b"34=1", b"34=%d" % i)) for i in range(1, 50)]
        self.assertEqual(codec.Framer().feed(b"".join(raws)), raws)

    def test_splitAnywhere(self):
        raws = [message(BODY.replace(b"34=1", b"34=%d" % i)) for i in range(1, 4)]
        data = b"".join(raws)
        for cut in range(len(data)):
            framer = codec.Framer()
            self.assertEqual(framer.feed(data[:cut]) + framer.feed(data[cut:]), raws)

    def test_zeroPaddedBodyLength(self):
        raw = b"8=FIX.4.2\x019=%04d\x01" % (len(BODY),) + BODY
        raw += codec.checksum(raw)
        self.assertEqual(codec.Framer().feed(raw), [raw])

    def test_badChecksum(self):
        raw = message()
        bad = raw[:-4] + b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256,)
        good = message(BODY.replace(b"34=1", b"34=2"))
        out = codec.Framer().feed(bad + good)
        self.assertEqual(len(out), 2)
        self.assertIsInstance(out[0], codec.FrameError)
        self.assertIn("CheckSum", out[0].reason)
        self.assertEqual(out[1], good)

    def test_badBodyLength(self):
        raw = message()
        bad = raw.replace(b"9=%d" % (len(BODY),), b"9=%d" % (len(BODY) - 3,))
        good = message(BODY.replace(b"34=1", b"34=2"))
        out = codec.Framer().feed(bad + good)
        self.assertIsInstance(out[0], codec.FrameError)
        self.assertEqual(out[1:], [good])

    def test_longerBodyLengthWaitsThenResyncs(self):
        raw = message()
        bad = raw.replace(b"9=%d" % (len(BODY),), b"9=%d" % (len(BODY) + 20,))
        framer = codec.Framer()
        self.assertEqual(framer.feed(bad), [])
        good = message(BODY.replace(b"34=1", b"34=2"))
        out = framer.feed(good)
        self.assertIsInstance(out[0], codec.FrameError)
        self.assertEqual(out[1:], [good])

    def test_garbageBetween(self):
        raw = message()
        out = codec.Framer().feed(b"hello\x01" + raw + b"junk\x01junk\x01" + raw)
        self.assertEqual([o for o in out if not isinstance(o, codec.FrameError)], [raw, raw])
        self.assertEqual(len([o for o in out if isinstance(o, codec.FrameError)]), 2)

    def test_junkRightBeforeMessage(self):
        raw = message()
        out = codec.Framer().feed(b"junk" + raw)
        self.assertIsInstance(out[0], codec.FrameError)
        self.assertEqual(out[1:], [raw])
        framer = codec.Framer()
        out = framer.feed(b"junk8=F") + framer.feed(raw[3:])
        self.assertEqual(out[-1:], [raw])

    def test_bodyLengthNotSecond(self):
        bad = b"8=FIX.4.2\x0135=0\x019=5\x0110=000\x01"
        out = codec.Framer().feed(bad + message())
        self.assertIsInstance(out[0], codec.FrameError)
        self.assertEqual(out[1:], [message()])

    def test_nonNumericBodyLength(self):
        out = codec.Framer().feed(b"8=FIX.4.2\x019=x1\x01" + message())
        self.assertIsInstance(out[0], codec.FrameError)
        self.assertEqual(out[1:], [message()])

    def test_oversizedDeclared(self):
        framer = codec.Framer(maxMessageSize=100)
        self.assertRaises(codec.Oversized, framer.feed, b"8=FIX.4.2\x019=5000\x01")

    def test_garbageNotBuffered(self):
        """
        Garbage is discarded as it comes, never accumulated.
        """
        framer = codec.Framer(maxMessageSize=100)
        for data in (b"x" * 1000, b"8=FIX.4.2" + b"x" * 1000, b"8=FIX.4.2\x019=" + b"1" * 1000):
            out = framer.feed(data)
            self.assertTrue(all(isinstance(o, codec.FrameError) for o in out))
            self.assertLess(framer.buffered, 100)
        self.assertEqual(framer.feed(message())[-1:], [message()])

    def test_maxSizeExact(self):
        raw = message()
        self.assertEqual(codec.Framer(maxMessageSize=len(raw)).feed(raw), [raw])
        self.assertRaises(codec.Oversized, codec.Framer(maxMessageSize=len(raw) - 1).feed, raw)


class ParseTests(unittest.TestCase):
    def test_message(self):
        m = codec.Message.fromBytes(message(BODY + b"58=hello\x01"))
        self.assertEqual(m.msgType, "0")
        self.assertEqual(m.seqNum, 1)
        self.assertEqual(m.beginString, "FIX.4.2")
        self.assertEqual(m.get(58), "hello")
        self.assertEqual(m.get(999, "d"), "d")
        self.assertEqual(m.getBytes(49), b"A")
        self.assertEqual(m.pairs[0], (8, b"FIX.4.2"))
        self.assertEqual(m.pairs[-1][0], 10)
        self.assertIn(58, m)

    def test_getFirstAndGetAll(self):
        m = codec.Message.fromBytes(message(BODY + b"448=X\x01448=Y\x01"))
        self.assertEqual(m.get(448), "X")
        self.assertEqual(m.getAll(448), ["X", "Y"])

    def test_emptyValue(self):
        m = codec.Message.fromBytes(message(BODY + b"58=\x01"))
        self.assertEqual(m.get(58), "")

    def test_valueWithEquals(self):
        m = codec.Message.fromBytes(message(BODY + b"58=a=b\x01"))
        self.assertEqual(m.get(58), "a=b")

    def test_noEquals(self):
        self.assertRaises(codec.Garbled, codec.Message.fromBytes, message(BODY + b"58\x01"))

    def test_nonNumericTag(self):
        for bad in (b"x8=1\x01", b"+5=1\x01", b"05=1\x01", b"1_0=1\x01", b"=1\x01"):
            self.assertRaises(codec.Garbled, codec.parsePairs, message(BODY + bad))

    def test_bigTag(self):
        pairs = codec.parsePairs(message(BODY + b"123456=x\x01"))
        self.assertIn((123456, b"x"), pairs)

    def test_dataFieldWithSoh(self):
        body = BODY + b"95=5\x0196=a\x01b=c\x0158=t\x01"
        pairs = codec.parsePairs(message(body))
        self.assertIn((96, b"a\x01b=c"), pairs)
        self.assertIn((58, b"t"), pairs)

    def test_dataFieldLengthMismatch(self):
        body = BODY + b"95=9\x0196=a\x01b\x0158=t\x01"
        self.assertRaises(codec.Garbled, codec.parsePairs, message(body))

    def test_badSeqNum(self):
        m = codec.Message.fromBytes(message(BODY.replace(b"34=1", b"34=x")))
        self.assertIsNone(m.seqNum)


_PIECES = st.lists(
    st.sampled_from([b"=", b"\x01", b"0", b"5", b"8", b"35", b"95", b"96", b"a", b"10", b"x"]),
    max_size=30,
)


class ByteSumTests(unittest.TestCase):
    """
    L{codec.byteSum} (Adler-32 in chunks) is the sum of the bytes mod 256.
    """

    def test_lengthsAndBytes(self):
        for n in (0, 1, 255, 256, 257, 300, 515, 516, 600, 1000, 70000):
            for data in (b"\xff" * n, b"\x7f" * n, bytes(range(256)) * (n // 256) + b"\x80" * (n % 256)):
                self.assertEqual(codec.byteSum(data), sum(data) % 256, n)

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=2000))
    def test_arbitrary(self, data):
        self.assertEqual(codec.byteSum(data), sum(data) % 256)
        self.assertEqual(codec.byteSum(bytes(b & 127 for b in data)), sum(b & 127 for b in data) % 256)


class FastParseTests(unittest.TestCase):
    """
    L{codec.Message.fromBytes} (its fast path: known skeletons, one split)
    reads exactly what L{codec.parsePairs} reads.
    """

    def assertSameParse(self, raw):
        try:
            expected = codec.parsePairs(raw)
        except codec.Garbled:
            self.assertRaises(codec.Garbled, codec.Message.fromBytes, raw)
            return
        for _ in range(2):  # the skeleton unknown, then known
            m = codec.Message.fromBytes(raw)
            self.assertEqual(m.pairs, expected, raw)
            self.assertEqual(m._fields, dict(reversed(expected)), raw)
            if m.tags is not None:
                self.assertEqual(list(zip(m.tags, m.values)), expected, raw)

    def test_examples(self):
        for body in (
            b"58=a=b\x0112\x01",
            b"58=a=5\x0112\x01",
            b"58==\x01",
            b"448=X\x01448=Y\x01",
            b"95=3\x0196=a=b\x01",
            b"95=3\x0196=a\x01b\x01",
            b"58=\x01",
            b"x58=1\x01",
            b"=1\x01",
        ):
            self.assertSameParse(message(BODY + body))
        self.assertSameParse(b"8=FIX.4.2\x019=5\x0135=0")

    @settings(max_examples=300, deadline=None)
    @given(_PIECES)
    def test_arbitraryBodies(self, pieces):
        self.assertSameParse(message(BODY + b"".join(pieces)))
        self.assertSameParse(BODY + b"".join(pieces))


def _describe(item):
    """
    What L{codec.Framer.messages} or its reference gave, comparable.
    """
    if isinstance(item, codec.FrameError):
        return ("error", item.reason, item.data)
    if isinstance(item, codec.Garbled):
        return ("garbled", str(item), item.raw)
    return (
        "message", item.raw, item.pairs, item.tags, item.values, item.fields,
        item.msgType, item.seqNum, item.beginString,
    )


def _reference(framer, data):
    """
    What L{codec.Framer.messages} must give: L{codec.Framer.feed}, each
    message parsed by L{codec.Message.fromBytes}.
    """
    out = []
    for item in framer.feed(data):
        if isinstance(item, bytes):
            try:
                item = codec.Message.fromBytes(item)
            except codec.Garbled as e:
                e.raw = item
                item = e
        out.append(item)
    return out


#: A NewOrderSingle body after the header of L{BODY}; the values vary.
_NOS = b"11=%s\x0155=AAPL\x0154=%s\x0138=%s\x0140=2\x0144=%s\x0159=0\x01"


def _order(seq, clOrdId=b"c1", side=b"1", qty=b"100", price=b"10.5"):
    return message(
        BODY.replace(b"35=0", b"35=D").replace(b"34=1", b"34=%d" % (seq,))
        + _NOS % (clOrdId, side, qty, price)
    )


def _resum(raw):
    """
    C{raw} with the CheckSum its bytes before the last field have.
    """
    return raw[:-7] + codec.checksum(raw[:-7])


class ParsingFramerTests(unittest.TestCase):
    """
    L{codec.Framer.messages} gives what L{codec.Framer.feed} and
    L{codec.Message.fromBytes} give, also when it cuts and parses messages
    with the fields of the one before in one match.
    """

    def assertSameAsFeed(self, chunks, maxSize=65536):
        framer = codec.Framer(maxSize)
        reference = codec.Framer(maxSize)
        for chunk in chunks:
            try:
                expected = [_describe(i) for i in _reference(reference, chunk)]
            except codec.Oversized:
                self.assertRaises(codec.Oversized, framer.messages, chunk)
                continue
            self.assertEqual([_describe(i) for i in framer.messages(chunk)], expected)
            self.assertEqual(framer.buffered, reference.buffered)

    def test_sameFieldsParsedInOneMatch(self):
        """
        From the third message with the same fields on, messages are not
        parsed by L{codec.Message.fromBytes}, with the same result.
        """
        raws = [_order(i, b"c%d" % (i,), b"12"[i % 2 : i % 2 + 1]) for i in range(1, 8)]
        framer = codec.Framer()
        first = framer.messages(b"".join(raws[:2]))
        calls = []
        fromBytes = codec.Message.fromBytes
        self.patch(codec.Message, "fromBytes", lambda raw: calls.append(raw) or fromBytes(raw))
        rest = framer.messages(b"".join(raws[2:]))
        self.assertEqual(calls, [])
        self.assertEqual(
            [_describe(m) for m in first + rest],
            [_describe(fromBytes(raw)) for raw in raws],
        )
        self.assertEqual(rest[0].get(11), "c3")
        self.assertEqual(rest[0].seqNum, 3)

    def test_pick(self):
        """
        L{codec.Message.pick} gives what L{codec.Message.getBytes} gives,
        for messages cut by their shape or not.
        """
        raws = [_order(i) for i in range(1, 4)] + [message(BODY + b"58=a\x0158=b\x01")] * 3
        framer = codec.Framer()
        messages = framer.messages(b"".join(raws))
        self.assertEqual(
            [m.shape is not None for m in messages], [False, False, True, False, False, True]
        )
        for m in messages:
            for tags in [(11, 54, 9999, 35), (58, 8), (10,), (9999,)]:
                self.assertEqual(m.pick(tags), tuple(m.getBytes(t) for t in tags), (m, tags))
        self.assertEqual(messages[-1].pick((58, 1)), (b"a", None))

    def test_pickText(self):
        """
        L{codec.Message.pickText} gives what L{codec.Message.get} gives.
        """
        raws = [_order(i, b"c\xc3\xa9" if i == 5 else b"c%d" % (i,)) for i in range(1, 6)]
        raws += [message(BODY + b"58=\x01")] * 3
        messages = codec.Framer().messages(b"".join(raws))
        self.assertEqual([m.shape is not None for m in messages][2:5], [True] * 3)
        self.assertEqual(messages[-1].shape.tags[-2], 58)
        for m in messages:
            for tags in [(11, 54, 9999, 35), (9999, 11), (58, 8), (10,), (9999,), (11, 9999),
                         (9998, 9999), (58,)]:
                self.assertEqual(m.pickText(tags), [m.get(t) for t in tags], (m, tags))
        self.assertEqual(messages[4].pickText((11, 55)), ["c\xe9", "AAPL"])

    def test_otherFieldsParsedAsBefore(self):
        raws = [_order(1), _order(2), message(), _order(3), message(BODY + b"58=a=b\x01")]
        self.assertSameAsFeed([b"".join(raws)])

    def test_badFramesWithTheSameFields(self):
        """
        A message that matches the fields expected but has a wrong
        BodyLength or CheckSum, or is too long, is cut as L{feed} cuts it.
        """
        good = [_order(1), _order(2)]
        raw = _order(3)
        badSum = raw[:-4] + b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256,)
        length = raw.split(b"\x01")[1]
        # With a CheckSum right for the bytes before it.
        shorter = _resum(raw.replace(length, b"9=%d" % (int(length[2:]) - 2,), 1))
        longer = _resum(raw.replace(length, b"9=%d" % (int(length[2:]) + 2,), 1))
        for bad in (badSum, shorter, longer, raw.replace(b"11=c1", b"11=c=1")):
            self.assertSameAsFeed([b"".join(good) + bad + _order(4) + _order(5)])
        long = _order(3, b"c12345")
        self.assertSameAsFeed([b"".join(good), long], maxSize=len(long) - 1)

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.binary(min_size=1, max_size=6).filter(lambda b: b"\x01" not in b),
                st.sampled_from([b"1", b"2", b"", b"x=y"]),
                st.integers(0, 4),
            ),
            min_size=1,
            max_size=12,
        ),
        st.lists(st.integers(0, 3000), max_size=5),
        st.binary(max_size=3),
    )
    def test_arbitraryStreams(self, orders, cuts, junk):
        raws = []
        for i, (clOrdId, side, damage) in enumerate(orders):
            raw = _order(i + 1, clOrdId, side)
            if damage == 1:
                raw = raw[:-2] + b"9\x01"
            elif damage == 2:
                raw = _resum(raw.replace(b"\x019=", b"\x019=1", 1))
            elif damage == 3:
                raw = junk + raw
            raws.append(raw)
        data = b"".join(raws)
        chunks = []
        start = 0
        for cut in sorted(cuts):
            chunks.append(data[start:cut])
            start = max(start, cut)
        chunks.append(data[start:])
        self.assertSameAsFeed(chunks)
        self.assertSameAsFeed(chunks, maxSize=180)


def _values(*examples):
    """
    Good and bad values for a field: C{examples}, or text made of the
    characters of numbers, times and codes.
    """
    return st.one_of(
        st.sampled_from(examples),
        st.text(alphabet="0123456789.-:+ZAaw1", max_size=24),
    )


class CheckedShapeTests(unittest.TestCase):
    """
    L{codec.Shape.forDictionary}: a message it matches (with its Python
    checks passed) is one the dictionary finds valid.
    """

    def shaped(self, begin, applVerId, header, body, msgType="D"):
        raw = codec.encode(begin, msgType, header, body)
        message = codec.Message.fromBytes(raw)
        d = dictionary.forVersion(begin, applVerId)
        if message.tags is None:
            return None, None, None, d
        shape = codec.Shape.forDictionary(message.tags, msgType, d)
        m = shape.match(raw) if shape is not None else None
        if m is None or m.end() != len(raw):
            return message, shape, None, d
        return message, shape, codec._shaped(shape, raw, m.groups()), d

    def test_validMatches(self):
        for begin, applVerId in (
            ("FIX.4.2", None), ("FIX.4.4", None), ("FIXT.1.1", "9"),
        ):
            header = [(49, "A"), (56, "B"), (34, 7), (52, "20240301-12:00:00.000")]
            body = [(11, "c1"), (21, "1"), (55, "X"), (54, "1"), (60, "20240301-12:00:00"),
                    (38, "100"), (40, "2"), (44, "10.5")]
            message, shape, cut, d = self.shaped(begin, applVerId, header, body)
            self.assertIsNone(d.validate(message))
            self.assertIsNotNone(cut, begin)
            self.assertIs(cut.validatedBy, d)
            self.assertEqual(cut.pairs, message.pairs)
            self.assertEqual((cut.msgType, cut.seqNum, cut.beginString), ("D", 7, begin))

    #: Each field of an order: a good value and others, good or bad.
    FIELDS = [
        (34, "7", ("-1", "0", "7-", "1-2")),
        (52, "20240301-12:00:00.000", ("20240230-12:00:00", "20240301-12:00:00.1234567891")),
        (11, "c1", ("", "c 1")),
        (55, "X", ("",)),
        (54, "1", ("2", "Z", "11")),
        (60, "20240301-12:00:00", ("20240301-25:00:00", "2024030-12:00:00")),
        (38, "100", ("-5", "1.5", "1e5", ".5", "5.", "-")),
        (40, "2", ("1", "P", "")),
        (44, "10.5", ("-1", "1,5", "+1")),
    ]

    @settings(max_examples=1000, deadline=None)
    @given(
        st.sampled_from([("FIX.4.0", None), ("FIX.4.2", None), ("FIX.4.4", None),
                         ("FIXT.1.1", "9"), ("FIXT.1.1", "7")]),
        st.lists(
            st.tuples(
                st.integers(0, len(FIELDS) - 1),
                st.one_of(
                    st.integers(0, 5),
                    st.text(alphabet="0123456789.-:+ZAaw1", max_size=24),
                ),
            ),
            max_size=2,
        ),
        st.lists(st.sampled_from([(58, "x"), (59, "0"), (59, "9"), (1, "ACC"), (21, "1")]),
                 max_size=3),
    )
    def test_matchedMeansValid(self, version, changes, extra):
        """
        Good values and one or two others.
        """
        begin, applVerId = version
        values = {tag: good for tag, good, _ in self.FIELDS}
        for index, value in changes:
            tag, good, others = self.FIELDS[index]
            if type(value) is int:
                value = others[value % len(others)]
            values[tag] = value
        header = [(t, values[t]) for t in (34, 52)] + [(49, "A"), (56, "B")]
        body = [(t, values[t]) for t, _, _ in self.FIELDS[2:]] + extra
        message, shape, cut, d = self.shaped(begin, applVerId, header, body)
        if cut is not None:
            self.assertEqual(cut.pairs, message.pairs)
            if cut.validatedBy is d:
                self.assertIsNone(d.validate(message), message)


class EncodeTests(unittest.TestCase):
    def test_values(self):
        self.assertEqual(
            codec.encodeFields(
                [(1, "a"), (2, b"b"), (3, 7), (4, Decimal("1.50")), (5, True), (6, False),
                 (7, 0.25), (8, Decimal("1E+2"))]
            ),
            b"1=a\x012=b\x013=7\x014=1.50\x015=Y\x016=N\x017=0.25\x018=100\x01",
        )

    def test_headerOrder(self):
        raw = codec.encode(
            "FIX.4.4", "D",
            [(52, "20240301-12:00:00"), (34, 7), (43, "Y"), (56, "B"), (49, "A"), (122, "20240301-11:00:00")],
            [(11, "x")],
        )
        tags = [t for t, _ in codec.parsePairs(raw)]
        self.assertEqual(tags, [8, 9, 35, 49, 56, 34, 43, 52, 122, 11, 10])
        self.assertEqual(codec.Framer().feed(raw), [raw])

    def test_roundTrip(self):
        fields = [(11, "ordér"), (38, 100), (44, Decimal("10.25"))]
        raw = codec.encode("FIX.4.2", "D", [(49, "A"), (56, "B"), (34, 1)], fields)
        m = codec.Message.fromBytes(raw)
        self.assertEqual(m.get(11), "ordér")
        self.assertEqual(m.get(44), "10.25")
