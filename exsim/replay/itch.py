# -*- test-case-name: tests.test_replay -*-
"""
ITCH 5.0 files as Nasdaq publishes them: each message preceded by its
length (two bytes, big-endian), maybe gzip-compressed.  The messages of
one symbol (found by its Stock Directory, or its first Add Order) become
replay actions: Add Order (A, F) -> ADD, Order Executed (E) and Order
Executed With Price (C) -> EXECUTE, Order Cancel (X) -> CANCEL, Order
Delete (D) -> DELETE, Order Replace (U) -> REPLACE, Trade (P) and Cross
Trade (Q) -> TRADE.  Every other message is read and left aside.
"""

import struct

from exsim.replay.recording import (
    ADD,
    CANCEL,
    DELETE,
    EXECUTE,
    REPLACE,
    TRADE,
    ReplayError,
    openFile,
    readBlock,
    scaledPrice,
)

#: The length of every ITCH 5.0 message, by type (the type byte included).
LENGTHS = {
    b"S"[0]: 12, b"R"[0]: 39, b"H"[0]: 25, b"Y"[0]: 20, b"L"[0]: 26, b"V"[0]: 35,
    b"W"[0]: 12, b"K"[0]: 28, b"J"[0]: 35, b"h"[0]: 21, b"A"[0]: 36, b"F"[0]: 40,
    b"E"[0]: 31, b"C"[0]: 36, b"X"[0]: 23, b"D"[0]: 19, b"U"[0]: 35, b"P"[0]: 44,
    b"Q"[0]: 40, b"B"[0]: 19, b"I"[0]: 50, b"N"[0]: 20, b"O"[0]: 48,
}

_A, _F, _E, _C, _X, _D, _U, _P, _Q, _R = (ord(c) for c in "AFECXDUPQR")

#: Layouts after the type byte: the full Add Order (locate, tracking,
#: timestamp high 16 bits and low 32, reference, side, shares, stock,
#: price) and the Stock Directory's start, read while looking for the
#: symbol.
_ADD_FULL = struct.Struct(">HHHIQcI8sI")
_DIRECTORY = struct.Struct(">HHHI8s")

#: Layouts of what is replayed, after the type byte: locate, then tracking
#: and timestamp as one 8-byte number (L{_TIME} keeps the timestamp), then
#: the fields used (C{x}: bytes skipped; a layout may end before the
#: message does).
_ADD = struct.Struct(">HQQcI8xI")
_DELETE = struct.Struct(">HQQ")
_REPLACE = struct.Struct(">HQQQII")
_EXECUTED = struct.Struct(">HQQI")
_CANCEL = struct.Struct(">HQQI")
_EXECUTED_PRICE = struct.Struct(">HQQI9xI")
_TRADE = struct.Struct(">HQ9xI8xI")
_CROSS = struct.Struct(">HQQ8xI")
_TIME = (1 << 48) - 1

#: Bytes read when looking for the symbol before the replay starts, and
#: at a time then (the directory is at the start of a day's file).
SCAN_LIMIT = 64 << 20
SCAN_BLOCK = 64 << 10

#: The ITCH price scale: four implied decimals.
ITCH_SCALE = 10000


def sniff(head):
    """
    Whether C{head} (a file's first bytes) starts like an ITCH file.
    """
    if len(head) < 3:
        return False
    length = (head[0] << 8) | head[1]
    return LENGTHS.get(head[2]) == length


class Recording:
    """
    One symbol's messages of an ITCH file, as replay actions.

    @ivar messages: messages of the symbol read so far.
    @ivar read_: messages of every symbol read so far.
    """

    format = "itch"

    def __init__(self, path, symbol, instrument, priceScale=None, name=None):
        self.path = path
        self.name = name or path
        self.symbol = symbol
        self.stock = symbol.encode("ascii", "replace")[:8].ljust(8)
        self.scale = instrument.priceScale
        if priceScale is not None and int(priceScale) != ITCH_SCALE:
            raise ReplayError("ITCH prices have four decimals: price_scale must be 10000 or none")
        self.messages = 0
        self.read_ = 0
        self._locate = None
        self._scan()
        self._file = openFile(path)
        self._buffer = b""
        self._pos = 0
        self._offset = 0
        self._eof = False

    def _scan(self):
        """
        Find the symbol's stock locate code before the replay starts: an
        unknown symbol is an error now, not an empty replay.
        """
        f = openFile(self.path)
        directory = 0
        try:
            data = b""
            pos = 0
            offset = 0
            while offset + pos < SCAN_LIMIT:
                if len(data) - pos < 2 + 50:
                    block = readBlock(f, self.name, SCAN_BLOCK)
                    data = data[pos:] + block
                    offset += pos
                    pos = 0
                    if not block and len(data) < 2:
                        break
                if len(data) - pos < 2:
                    break
                length = (data[pos] << 8) | data[pos + 1]
                end = pos + 2 + length
                if end > len(data):
                    if not block:
                        break
                    continue
                kind = data[pos + 2]
                if LENGTHS.get(kind) != length:
                    raise self._corrupt(offset + pos, kind, length)
                if kind == _R:
                    directory += 1
                    locate, _, _, _, stock = _DIRECTORY.unpack_from(data, pos + 3)
                    if stock == self.stock:
                        self._locate = locate
                        return
                elif kind == _A or kind == _F:
                    fields = _ADD_FULL.unpack_from(data, pos + 3)
                    if fields[7] == self.stock:
                        self._locate = fields[0]
                        return
                    if directory:
                        # The directory comes first: the symbol is not in it.
                        break
                pos = end
        finally:
            f.close()
        if directory or offset + pos < SCAN_LIMIT:
            raise ReplayError(
                "%s: symbol %s is not in the file (%d symbols in its stock directory)"
                % (self.name, self.symbol, directory)
            )

    def _corrupt(self, offset, kind, length):
        if kind in LENGTHS:
            return ReplayError(
                "%s: corrupt at byte %d: a %r message of %d bytes (it has %d)"
                % (self.name, offset, chr(kind), length, LENGTHS[kind])
            )
        return ReplayError(
            "%s: corrupt at byte %d: not an ITCH 5.0 message (type byte %r, length %d)"
            % (self.name, offset, bytes([kind]), length)
        )

    def close(self):
        self._file.close()

    def read(self, count):
        """
        Up to C{count} actions of the symbol, in file order; an empty list
        at the end of the file.

        @raise ReplayError: for a truncated or corrupt file.
        """
        actions = []
        append = actions.append
        data = self._buffer
        pos = self._pos
        size = len(data)
        locate = self._locate
        lengths = LENGTHS
        scale = self.scale
        path = self.name
        seen = 0
        n = 0
        while n < count:
            if size - pos < 52:
                if not self._eof:
                    block = readBlock(self._file, path)
                    if not block:
                        self._eof = True
                    self._offset += pos
                    data = data[pos:] + block
                    pos = 0
                    size = len(data)
                    continue
                if pos >= size:
                    break
                if size - pos < 2:
                    raise ReplayError("%s: truncated at byte %d" % (path, self._offset + pos))
            length = (data[pos] << 8) | data[pos + 1]
            end = pos + 2 + length
            if end > size:
                raise ReplayError(
                    "%s: truncated at byte %d (a message of %d bytes, %d left)"
                    % (path, self._offset + pos, length, size - pos - 2)
                )
            kind = data[pos + 2]
            if lengths.get(kind) != length:
                self._buffer, self._pos = data, pos
                raise self._corrupt(self._offset + pos, kind, length)
            seen += 1
            start = pos + 3
            pos = end
            if kind == _R:
                loc, _, _, _, stock = _DIRECTORY.unpack_from(data, start)
                if stock == self.stock:
                    locate = self._locate = loc
                continue
            if locate is None:
                # Until the symbol's locate code is known (a file with no
                # stock directory): its first Add Order says it.
                if kind != _A and kind != _F:
                    continue
                (loc, _, _, _, _, _, _, stock, _) = _ADD_FULL.unpack_from(data, start)
                if stock != self.stock:
                    continue
                locate = self._locate = loc
            # Another symbol's message (or a message of no symbol): left
            # aside before anything is unpacked.
            if (data[start] << 8 | data[start + 1]) != locate:
                continue
            # The most frequent first.  Each layout reads the tracking
            # number and the 6-byte timestamp as one 8-byte number, whose
            # low 48 bits are the timestamp.
            if kind == _A or kind == _F:
                (_, time, ref, side, shares, price) = _ADD.unpack_from(data, start)
                if scale != ITCH_SCALE:
                    price = scaledPrice(path, "byte %d" % (self._offset + start - 3,), price, ITCH_SCALE, scale)
                append((time & _TIME, ADD, ref, side == b"B", shares, price))
            elif kind == _D:
                (_, time, ref) = _DELETE.unpack_from(data, start)
                append((time & _TIME, DELETE, ref, None, None, None))
            elif kind == _U:
                (_, time, old, new, shares, price) = _REPLACE.unpack_from(data, start)
                if scale != ITCH_SCALE:
                    price = scaledPrice(path, "byte %d" % (self._offset + start - 3,), price, ITCH_SCALE, scale)
                append((time & _TIME, REPLACE, old, new, shares, price))
            elif kind == _E:
                (_, time, ref, shares) = _EXECUTED.unpack_from(data, start)
                append((time & _TIME, EXECUTE, ref, shares, None, None))
            elif kind == _X:
                (_, time, ref, shares) = _CANCEL.unpack_from(data, start)
                append((time & _TIME, CANCEL, ref, shares, None, None))
            elif kind == _C:
                (_, time, ref, shares, price) = _EXECUTED_PRICE.unpack_from(data, start)
                if scale != ITCH_SCALE:
                    price = scaledPrice(path, "byte %d" % (self._offset + start - 3,), price, ITCH_SCALE, scale)
                append((time & _TIME, EXECUTE, ref, shares, price, None))
            elif kind == _P or kind == _Q:
                (_, time, shares, price) = (_TRADE if kind == _P else _CROSS).unpack_from(data, start)
                if not shares or not price:
                    continue
                if scale != ITCH_SCALE:
                    price = scaledPrice(path, "byte %d" % (self._offset + start - 3,), price, ITCH_SCALE, scale)
                append((time & _TIME, TRADE, shares, price, None, None))
            else:
                continue
            n += 1
        self._buffer = data
        self._pos = pos
        self.messages += n
        self.read_ += seen
        return actions
