# -*- test-case-name: tests.test_fix_codec -*-
"""
FIX tag=value framing, parsing and encoding.

Framing follows the standard: a message is C{8=BeginString SOH 9=BodyLength
SOH} followed by exactly BodyLength bytes and C{10=NNN SOH}, where NNN is
the sum of every byte before the checksum field modulo 256.  Nothing here
scans for C{10=}: the frame is cut by BodyLength, then checked.

This module is on the hot path of every FIX endpoint: it uses index
arithmetic on bytes, never a general-purpose FIX library.
"""

import json
import os
import re
from decimal import Decimal
from operator import itemgetter
from zlib import adler32

from exsim.memo import remember

SOH = b"\x01"

#: Length field tag -> the data field it measures (values may hold SOH).
with open(os.path.join(os.path.dirname(__file__), "spec", "datafields.json")) as _f:
    DATA_LENGTH_TAGS = {int(k): v for k, v in json.load(_f).items()}
del _f

#: The most digits a whole number on the wire may have (tag numbers,
#: BodyLength, MsgSeqNum, and every field of an integer type: see
#: L{exsim.fix.dictionary}): 18 digits fit a signed 64-bit integer, which
#: every FIX engine can hold.  Longer numbers are refused before int()
#: sees them: Python will not convert more than 4,300 digits, and a number
#: that big would reach every listener and feed of the engine.
MAX_NUMBER_DIGITS = 18

#: Bytes of small tag numbers -> int, to avoid int() on the hot path.
_TAGS = {str(i).encode("ascii"): i for i in range(1, 10000)}

#: Header fields in the order the standard lists them (after 8, 9, 35).
HEADER_ORDER = (
    49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145,
    43, 97, 52, 122, 212, 213, 347, 369, 370, 1128, 1129, 1156, 627,
)


class Garbled(Exception):
    """
    A message that cannot be parsed (missing '=' or a non-numeric tag, a
    data field whose length does not fit).  FIX says: discard and log.
    """


class FrameError:
    """
    Bytes the framer discarded, and why.

    @ivar reason: text for the log.
    @ivar data: the discarded bytes.
    """

    __slots__ = ("reason", "data")

    def __init__(self, reason, data):
        self.reason = reason
        self.data = data

    def __repr__(self):
        return "<FrameError %s: %r>" % (self.reason, self.data[:80])


class Oversized(Exception):
    """
    The peer sent a message longer than the configured maximum.
    """


class Framer:
    """
    Cut a byte stream into FIX messages by BeginString, BodyLength and
    CheckSum.

    L{feed} returns, in order, the raw bytes of each complete well-formed
    message and a L{FrameError} for each run of bytes discarded (bad
    BodyLength, bad CheckSum, garbage between messages).
    """

    def __init__(self, maxMessageSize=65536):
        self.maxMessageSize = maxMessageSize
        self._buffer = b""
        #: For L{messages}: the L{Shape} messages are expected to have
        #: (or None), the same with the checks of L{dictionary} (or None),
        #: and the tags of the last message parsed without them.
        self._shape = None
        self._checked = None
        self._lastTags = None
        self._dictionary = None

    @property
    def dictionary(self):
        """
        The L{exsim.fix.dictionary.Dictionary} that L{messages} checks the
        values of expected messages with, as it cuts them (see
        L{Message.validatedBy}), or None.
        """
        return self._dictionary

    @dictionary.setter
    def dictionary(self, dictionary):
        self._dictionary = dictionary
        self._shape = self._checked = self._lastTags = None

    @property
    def buffered(self):
        """
        The number of bytes held waiting for the rest of a message.
        """
        return len(self._buffer)

    def feed(self, data):
        """
        Add received bytes; return the messages (bytes) and
        L{FrameError}s now complete.

        @raise Oversized: if a message (declared or buffered) exceeds
            C{maxMessageSize}.
        """
        return self._feed(data, False)

    def messages(self, data):
        """
        Like L{feed}, with every message parsed: a L{Message}, or the
        L{Garbled} error (its C{raw} attribute the message's bytes) if it
        does not parse.

        A message with the fields (tags, in order) of the one before is
        cut and parsed in one regular expression match (see L{_shape}),
        with the same result as L{feed} and L{Message.fromBytes}.

        @raise Oversized: as L{feed}.
        """
        return self._feed(data, True)

    def _feed(self, data, parse):
        buf = self._buffer + data if self._buffer else bytes(data)
        out = []
        append = out.append
        pos = 0
        n = len(buf)
        maxSize = self.maxMessageSize
        find = buf.find
        shape = self._shape if parse else None
        checked = self._checked
        while pos < n:
            if shape is not None:
                # The fast way: the fields of the last message (first with
                # the dictionary's checks of their values), each value
                # without '=' or SOH, up to a three-digit CheckSum; then
                # BodyLength, size and CheckSum checked as below.
                used = checked
                m = None if used is None else used.match(buf, pos)
                if m is None:
                    used = shape
                    m = shape.match(buf, pos)
                if m is not None:
                    values = m.groups()
                    end = m.end()
                    if (
                        end - pos <= maxSize
                        and m.end(2) + 1 + int(values[1]) == end - 7
                        and int(values[-1]) == byteSum(buf[pos : end - 7])
                    ):
                        append(_shaped(used, buf[pos:end], values))
                        pos = end
                        continue
            if buf[pos : pos + 2] != b"8=":
                if n - pos < 2 and buf[pos : pos + 1] == b"8":
                    break
                # Between messages anything goes: the next BeginString
                # may follow the junk directly.
                nxt = find(b"8=FIX", pos)
                if nxt < 0:
                    # Keep a tail that could begin a message.
                    keep = max(pos, n - 4)
                    if keep > pos:
                        append(FrameError("garbage between messages", buf[pos:keep]))
                    pos = keep
                    break
                append(FrameError("garbage between messages", buf[pos:nxt]))
                pos = nxt
                continue
            j = find(b"\x01", pos)
            if j < 0:
                if n - pos > 64:
                    nxt = self._resync(buf, pos + 1)
                    end = n if nxt < 0 else nxt
                    append(FrameError("BeginString too long", buf[pos:end]))
                    pos = end
                    continue
                break
            if buf[j + 1 : j + 3] != b"9=":
                if n - j < 3:
                    break
                nxt = self._resync(buf, pos + 1)
                end = n if nxt < 0 else nxt
                append(FrameError("BodyLength (9) is not the second field", buf[pos:end]))
                pos = end
                continue
            k = find(b"\x01", j + 3)
            if k < 0:
                if n - j > 16:
                    nxt = self._resync(buf, pos + 1)
                    end = n if nxt < 0 else nxt
                    append(FrameError("bad BodyLength", buf[pos:end]))
                    pos = end
                    continue
                break
            lengthText = buf[j + 3 : k]
            if not lengthText.isdigit() or len(lengthText) > MAX_NUMBER_DIGITS:
                nxt = self._resync(buf, pos + 1)
                end = n if nxt < 0 else nxt
                append(FrameError("bad BodyLength %r" % (lengthText,), buf[pos:end]))
                pos = end
                continue
            bodyEnd = k + 1 + int(lengthText)
            total = bodyEnd + 7
            if total - pos > maxSize:
                self._buffer = b""
                raise Oversized(
                    "message of %d bytes exceeds max_message_size %d"
                    % (total - pos, maxSize)
                )
            if total > n:
                break
            if buf[bodyEnd : bodyEnd + 3] != b"10=" or buf[total - 1] != 1:
                nxt = self._resync(buf, pos + 1)
                end = n if nxt < 0 else nxt
                append(FrameError("BodyLength does not match the message", buf[pos:end]))
                pos = end
                continue
            checkText = buf[bodyEnd + 3 : total - 1]
            if not checkText.isdigit() or int(checkText) != byteSum(buf[pos:bodyEnd]):
                append(FrameError("bad CheckSum", buf[pos:total]))
            elif parse:
                raw = buf[pos:total]
                try:
                    message = Message.fromBytes(raw)
                except Garbled as e:
                    e.raw = raw
                    append(e)
                else:
                    append(message)
                    tags = message.tags
                    if tags is not None and tags == self._lastTags:
                        # Twice in a row: expect it from now on.
                        shape = self._shape = Shape.forTags(tags)
                        dictionary = self._dictionary
                        checked = self._checked = (
                            None
                            if dictionary is None or shape is None
                            else Shape.forDictionary(tags, message.msgType, dictionary)
                        )
                    self._lastTags = tags
            else:
                append(buf[pos:total])
            pos = total
        rest = buf[pos:]
        if len(rest) > maxSize:
            self._buffer = b""
            raise Oversized(
                "%d bytes without a complete message exceed max_message_size %d"
                % (len(rest), maxSize)
            )
        self._buffer = rest
        return out

    @staticmethod
    def _resync(buf, start):
        """
        The offset of the next plausible message start at or after
        C{start}, or -1.
        """
        i = buf.find(b"\x018=FIX", start - 1 if start > 0 else 0)
        return -1 if i < 0 else i + 1


#: Tag bytes -> int for the tags the fast parser handles: 1 to 9999 except
#: the length fields of data fields.
_FAST_TAGS = {k: v for k, v in _TAGS.items() if v not in DATA_LENGTH_TAGS}


def parsePairs(raw):
    """
    Split a framed message into (tag, value) pairs.

    @param raw: the bytes of one message, SOH-terminated.
    @return: a list of (int, bytes).
    @raise Garbled: for a field without '=', a non-numeric tag, or a data
        field whose declared length does not fit.
    """
    parts = raw.split(b"\x01")
    if parts[-1] == b"":
        del parts[-1]
        tags = _FAST_TAGS
        try:
            pairs = [
                (tags[t], v) for t, sep, v in [p.partition(b"=") for p in parts] if sep
            ]
        except KeyError:
            pass
        else:
            if len(pairs) == len(parts):
                return pairs
    return _parseWithData(raw)


#: Every byte but '=' and SOH, to keep only the separators of a message.
_NOT_SEPARATORS = bytes(i for i in range(256) if i not in (1, 61))

#: The separators of a message whose every field has exactly one '=' begin
#: this.
_ALTERNATING = b"=\x01" * 5000

#: A message's tags joined by SOH (its skeleton) -> (tags, whether each
#: tag appears once), or False for tags the fast parse does not handle.
_SKELETONS = {}
SKELETONS_MEMO = 10000


def _skeletonTags(skeleton):
    """
    The tags of a message skeleton and whether they are unique, or False
    if a tag is not a plain number from 1 to 9999 or is the length of a
    data field.
    """
    try:
        tags = tuple([_FAST_TAGS[p] for p in skeleton.split(b"\x01")])
    except KeyError:
        return False
    return tags, len(set(tags)) == len(tags)


class Shape:
    """
    The fields (tags, in order) of messages that repeat, and a regular
    expression that cuts and parses such a message in one match.

    The expression matches exactly the messages with these fields that
    L{Framer.feed} and L{Message.fromBytes} would cut and parse by their
    fast way (each value without '=' or SOH, BodyLength digits, CheckSum
    three digits), less those whose BodyLength or CheckSum is wrong, which
    the framer checks after the match.  A shape made with a dictionary
    (L{forDictionary}) matches fewer: those whose values also pass the
    dictionary's checks.

    @ivar tags: the tags (a tuple).
    @ivar unique: whether each tag appears once.
    @ivar match: the C{match} method of the expression; its groups are
        the values.
    @ivar msgType: for a shape made with a dictionary, the MsgType (35) of
        the messages it matches (part of the expression), else None.
    @ivar validatedBy: the L{exsim.fix.dictionary.Dictionary} whose
        checks the values matched pass, or None.
    @ivar checks: (index, predicate) of values to check in Python too
        before the message counts as validated by C{validatedBy}.
    """

    __slots__ = (
        "tags", "unique", "match", "msgType", "validatedBy", "checks", "first", "pickers",
        "textPickers",
    )

    def __init__(self, tags, patterns, msgType=None, validatedBy=None, checks=()):
        """
        @param patterns: a regular expression (bytes) per value.
        """
        self.tags = tags
        self.unique = len(set(tags)) == len(tags)
        expression = b"".join(
            b"%d=(%s)\x01" % (tag, pattern) for tag, pattern in zip(tags, patterns)
        )
        self.match = re.compile(expression).match
        self.msgType = msgType
        self.validatedBy = validatedBy
        self.checks = checks
        #: {tag: the index of its first value}
        self.first = {}
        for i, tag in enumerate(tags):
            self.first.setdefault(tag, i)
        #: {tags wanted: an itemgetter of values + (None,)}, for L{Message.pick}.
        self.pickers = {}
        #: {tags wanted: L{textPicker}}, for L{Message.pickText}.
        self.textPickers = {}

    def picker(self, wanted):
        """
        A function of a message's values plus a last None, giving the
        first value of each of C{wanted} (None if missing).
        """
        getter = self.pickers.get(wanted)
        if getter is None:
            missing = len(self.tags)
            indexes = [self.first.get(tag, missing) for tag in wanted]
            if len(indexes) == 1:
                getter = itemgetter(slice(indexes[0], indexes[0] + 1))
            else:
                getter = itemgetter(*indexes)
            self.pickers[wanted] = getter
        return getter

    def textPicker(self, wanted):
        """
        For L{Message.pickText}: (a function of a message's values giving
        those of the tags of C{wanted} present, in order, as a tuple, or
        None if none is; how many of C{wanted} are missing; None if the
        missing ones are all last, else a function putting a list of
        those present plus a last None in the order of C{wanted}).
        """
        found = self.textPickers.get(wanted)
        if found is None:
            first = self.first
            present = [tag for tag in wanted if tag in first]
            count = len(wanted) - len(present)
            getter = order = None
            if present:
                indexes = [first[tag] for tag in present]
                if len(indexes) == 1:
                    getter = itemgetter(slice(indexes[0], indexes[0] + 1))
                else:
                    getter = itemgetter(*indexes)
                if present != list(wanted[: len(present)]):
                    where = {tag: i for i, tag in enumerate(present)}
                    # (Two or more wanted: one present, one not.)
                    order = itemgetter(*[where.get(tag, len(present)) for tag in wanted])
            found = self.textPickers[wanted] = (getter, count, order)
        return found

    @classmethod
    def forTags(cls, tags):
        """
        The (shared) shape of messages with C{tags}, or None if they are
        not a message's (no 8 and 9 first, 10 last).
        """
        shape = _SHAPES.get(tags)
        if shape is None:
            if tags[:2] != (8, 9) or tags[-1] != 10 or len(tags) < 4:
                return None
            patterns = [_VALUE] * len(tags)
            patterns[1] = _DIGITS
            patterns[-1] = _CHECKSUM
            shape = remember(_SHAPES, tags, cls(tags, patterns), SHAPES_MEMO)
        return shape

    @classmethod
    def forDictionary(cls, tags, msgType, dictionary):
        """
        The (shared) shape of messages with C{tags} and MsgType C{msgType}
        whose values pass the checks of C{dictionary} (see
        L{exsim.fix.dictionary.Dictionary.valuePatterns}), or None.
        """
        key = (tags, msgType, dictionary)
        shape = _SHAPES.get(key, False)
        if shape is False:
            shape = None
            found = None
            if (
                tags[:2] == (8, 9)
                and tags[-1] == 10
                and len(tags) >= 4
                and tags[2] == 35
                and msgType is not None
            ):
                found = dictionary.valuePatterns(msgType, tags)
            if found is not None:
                patterns, checks = found
                patterns = list(patterns)
                # MsgType as given; BodyLength and CheckSum as the framer
                # wants them, and as the dictionary does.
                patterns[2] = re.escape(msgType.encode("latin-1"))
                patterns[1] = _both(_DIGITS, patterns[1])
                patterns[-1] = _both(_CHECKSUM, patterns[-1])
                shape = cls(tags, patterns, msgType, dictionary, checks)
            remember(_SHAPES, key, shape, SHAPES_MEMO)
        return shape


#: A value the fast parse takes: no '=', no SOH.
_VALUE = rb"[^\x01=]*"
_DIGITS = rb"[0-9]{1,18}"
_CHECKSUM = rb"[0-9]{3}"


def _both(framing, check):
    """
    An expression for a value matching C{framing} and C{check} (neither
    matching SOH).
    """
    if check in (rb"[^\x01=]+", framing) or (framing == _CHECKSUM and check == _DIGITS):
        return framing
    return b"(?=(?:%s)\x01)%s" % (check, framing)


#: Message tags (and MsgType and dictionary) -> their L{Shape}.
_SHAPES = {}
SHAPES_MEMO = 1000


def _parseWithData(raw):
    """
    The careful path of L{parsePairs}: field by field, for messages holding
    data fields (whose values are counted by the preceding length field
    and may hold SOH), large tags, or anything malformed.
    """
    pairs = []
    pos = 0
    n = len(raw)
    pendingData = None
    pendingLength = 0
    while pos < n:
        eq = raw.find(b"=", pos)
        if eq < 0:
            raise Garbled("field %r has no '='" % (raw[pos : pos + 40],))
        t = raw[pos:eq]
        if not t.isdigit() or t[:1] == b"0":
            raise Garbled("tag %r is not a positive number" % (t[:40],))
        if len(t) > MAX_NUMBER_DIGITS:
            raise Garbled("tag %r... has more than %d digits" % (t[:20], MAX_NUMBER_DIGITS))
        tag = int(t)
        if tag == pendingData:
            end = eq + 1 + pendingLength
            if end >= n or raw[end] != 1:
                raise Garbled("data field %d does not match its length" % (tag,))
        else:
            end = raw.find(b"\x01", eq + 1)
            if end < 0:
                raise Garbled("message does not end with SOH")
        value = raw[eq + 1 : end]
        pairs.append((tag, value))
        pendingData = None
        if tag in DATA_LENGTH_TAGS and value.isdigit() and len(value) <= MAX_NUMBER_DIGITS:
            pendingData = DATA_LENGTH_TAGS[tag]
            pendingLength = int(value)
        pos = end + 1
    return pairs


class Message:
    """
    A parsed FIX message.

    @ivar msgType: MsgType (35) as text, or None if missing.
    @ivar seqNum: MsgSeqNum (34) as an int, or None if missing or not a
        number.
    @ivar pairs: every field in order as (int tag, bytes value).
    @ivar tags: every tag in order (a tuple), or None.
    @ivar values: every value in order (a tuple), or None.
    @ivar raw: the bytes received.
    @ivar beginString: BeginString (8) as text.
    @ivar shape: the L{Shape} that cut the message, or None.
    @ivar validatedBy: the L{exsim.fix.dictionary.Dictionary} whose
        L{validate<exsim.fix.dictionary.Dictionary.validate>} is known to
        find the message valid (its shape checked it), or None.
    """

    __slots__ = (
        "msgType", "seqNum", "_pairs", "raw", "beginString", "_fields", "tags", "values",
        "shape", "validatedBy",
    )

    def __init__(self, pairs, raw=b"", fields=None, tags=None, values=None):
        """
        @param pairs: the (tag, value) pairs, or None to make them (when
            asked for) from C{tags} and C{values}.
        @param fields: {tag: first value}, or None to make it.
        """
        self.shape = self.validatedBy = None
        self._pairs = pairs
        self.raw = raw
        self.tags = tags
        self.values = values
        if fields is None:
            fields = dict(reversed(self.pairs))
        self._fields = fields
        mt = fields.get(35)
        self.msgType = None if mt is None else mt.decode("latin-1")
        bs = fields.get(8)
        self.beginString = None if bs is None else bs.decode("latin-1")
        sn = fields.get(34)
        self.seqNum = (
            int(sn) if sn is not None and sn.isdigit() and len(sn) <= MAX_NUMBER_DIGITS else None
        )

    @property
    def pairs(self):
        pairs = self._pairs
        if pairs is None:
            pairs = self._pairs = list(zip(self.tags, self.values))
        return pairs

    @classmethod
    def fromBytes(cls, raw):
        """
        Parse one framed message.

        @raise Garbled: see L{parsePairs}.
        """
        # The fast way, for a message with one '=' per field (no '=' in a
        # value, no data field): cut at both separators at once; the tags
        # (the skeleton) repeat from one message to the next and are
        # looked up, not parsed.
        separators = raw.translate(None, _NOT_SEPARATORS)
        if (
            not len(separators) & 1
            and raw[-1:] == b"\x01"
            and _ALTERNATING.startswith(separators)
        ):
            parts = raw.replace(b"\x01", b"=").split(b"=")
            skeleton = b"\x01".join(parts[0:-1:2])
            known = _SKELETONS.get(skeleton)
            if known is None:
                known = remember(_SKELETONS, skeleton, _skeletonTags(skeleton), SKELETONS_MEMO)
            if known:
                tags, unique = known
                values = tuple(parts[1::2])
                return cls(
                    None,
                    raw,
                    dict(zip(tags, values)) if unique else None,
                    tags,
                    values,
                )
        return cls(parsePairs(raw), raw)

    @property
    def fields(self):
        """
        {tag: first value (bytes)}.
        """
        fields = self._fields
        if fields is None:
            # A message cut by its shape: made when first asked for.
            if self.shape.unique:
                fields = dict(zip(self.tags, self.values))
            else:
                fields = dict(reversed(self.pairs))
            self._fields = fields
        return fields

    def get(self, tag, default=None):
        """
        The first value of C{tag} as text, or C{default}.
        """
        fields = self._fields
        if fields is None:
            fields = self.fields
        value = fields.get(tag)
        if value is None:
            return default
        return value.decode("utf-8", "replace")

    def getBytes(self, tag, default=None):
        """
        The first value of C{tag} as bytes, or C{default}.
        """
        fields = self._fields
        if fields is None:
            fields = self.fields
        return fields.get(tag, default)

    def pick(self, tags):
        """
        The first value (bytes) of each of C{tags} (a tuple), None for a
        missing one, as a tuple: several L{getBytes} at once.
        """
        shape = self.shape
        if shape is not None:
            getter = shape.pickers.get(tags)
            if getter is None:
                getter = shape.picker(tags)
            return getter(self.values + (None,))
        get = self.fields.get
        return tuple([get(tag) for tag in tags])

    def pickText(self, tags):
        """
        The first value of each of C{tags} (a tuple) as text (as L{get}
        gives it), None for a missing one, as a list.
        """
        shape = self.shape
        if shape is not None and self.raw.isascii():
            # One decode for them all.
            found = shape.textPickers.get(tags)
            if found is None:
                found = shape.textPicker(tags)
            getter, count, order = found
            if getter is not None:
                texts = b"\x01".join(getter(self.values)).decode("ascii").split("\x01")
                if order is None:
                    if count:
                        texts.extend([None] * count)
                    return texts
                texts.append(None)
                return list(order(texts))
        return [None if v is None else v.decode("utf-8", "replace") for v in self.pick(tags)]

    def getAll(self, tag):
        """
        Every value of C{tag}, in order, as text (for repeating groups).
        """
        return [v.decode("utf-8", "replace") for t, v in self.pairs if t == tag]

    def __contains__(self, tag):
        return tag in self.fields


_newMessage = object.__new__


def _shaped(shape, raw, values):
    """
    The L{Message} of C{values} (bytes), cut by C{shape}.
    """
    message = _newMessage(Message)
    message._pairs = message._fields = None
    message.raw = raw
    message.tags = shape.tags
    message.values = values
    message.shape = shape
    message.beginString = values[0].decode("latin-1")
    msgType = shape.msgType
    if msgType is None:
        i = shape.first.get(35)
        msgType = None if i is None else values[i].decode("latin-1")
    message.msgType = msgType
    i = shape.first.get(34)
    seqNum = None if i is None else values[i]
    message.seqNum = (
        int(seqNum)
        if seqNum is not None and seqNum.isdigit() and len(seqNum) <= MAX_NUMBER_DIGITS
        else None
    )
    validatedBy = shape.validatedBy
    if validatedBy is not None:
        for i, predicate in shape.checks:
            if not predicate(values[i]):
                validatedBy = None
                break
    message.validatedBy = validatedBy
    return message

    def __repr__(self):
        return "<Message %s>" % (self.raw.replace(b"\x01", b"|").decode("latin-1"),)


def encodeValue(value):
    """
    A field value as bytes: text is UTF-8, booleans are Y/N, Decimals are
    written without an exponent.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if value is True:
        return b"Y"
    if value is False:
        return b"N"
    if isinstance(value, int):
        return b"%d" % (value,)
    if isinstance(value, Decimal):
        return format(value, "f").encode("ascii")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f").encode("ascii")
    return str(value).encode("utf-8")


_TAG_PREFIX = {i: b"%d=" % (i,) for i in range(1, 10000)}


_TAG_PREFIX_TEXT = {i: "%d=" % (i,) for i in range(1, 10000)}


def encodeFields(fields):
    """
    Encode (tag, value) pairs as C{tag=value SOH ...} bytes.
    """
    if not fields:
        return b""
    try:
        # The common case: every value is text.
        prefix = _TAG_PREFIX_TEXT
        return ("\x01".join([prefix[t] + v for t, v in fields]) + "\x01").encode("utf-8")
    except (TypeError, KeyError):
        pass
    prefix = _TAG_PREFIX
    out = []
    append = out.append
    for tag, value in fields:
        cls = value.__class__
        if cls is str:
            value = value.encode("utf-8")
        elif cls is not bytes:
            value = encodeValue(value)
        p = prefix.get(tag)
        append((b"%d=" % (tag,) if p is None else p) + value)
    append(b"")
    return b"\x01".join(out)


def byteSum(data):
    """
    The sum of the bytes of C{data} modulo 256, as CheckSum (10) wants it.

    Adler-32's first half is one plus the sum of the bytes modulo 65521:
    exact for up to 256 bytes (256 * 255 + 1 < 65521), or 515 bytes of
    ASCII (515 * 127 + 1 < 65521), so the sum is taken in C, that many
    bytes at a time, rather than byte by byte in C{sum()}.
    """
    n = len(data)
    if n <= 256 or (n <= 515 and data.isascii()):
        return ((adler32(data) & 0xFFFF) - 1) & 255
    view = memoryview(data)
    total = 0
    for i in range(0, n, 256):
        total += (adler32(view[i : i + 256]) & 0xFFFF) - 1
    return total & 255


#: The CheckSum (10) field of each byte sum (0 to 255).
CHECKSUM_FIELDS = tuple(b"10=%03d\x01" % (i,) for i in range(256))


def checksum(data):
    """
    The CheckSum (10) field for C{data}: C{b"10=NNN\\x01"}.
    """
    return CHECKSUM_FIELDS[byteSum(data)]


def frame(beginString, body):
    """
    Add BeginString, BodyLength and CheckSum around C{body} (which starts
    with the MsgType field).
    """
    if isinstance(beginString, str):
        beginString = beginString.encode("latin-1")
    head = b"8=" + beginString + b"\x019=%d\x01" % (len(body),)
    message = head + body
    return message + checksum(message)


def encode(beginString, msgType, header, body):
    """
    Encode a whole message.

    @param header: header (tag, value) pairs other than 8, 9 and 35, put
        in the standard order.
    @param body: body (tag, value) pairs, kept in the order given.
    """
    if isinstance(msgType, str):
        msgType = msgType.encode("latin-1")
    order = {tag: i for i, tag in enumerate(HEADER_ORDER)}
    header = sorted(header, key=lambda tv: order.get(tv[0], len(order)))
    return frame(
        beginString, b"35=" + msgType + b"\x01" + encodeFields(header) + encodeFields(body)
    )
