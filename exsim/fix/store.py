# -*- test-case-name: tests.test_fix_store -*-
"""
FIX message stores: the sequence numbers of a session and the application
messages it sent, kept for resend.

L{MemoryStore} lives as long as the simulator.  L{FileStore} also writes
everything to one file per session in a directory, so that a client which
reconnects after a simulator restart without resetting continues where it
was.

The file is a journal, one record per change, flushed at once (and, with
the endpoint property C{store_sync}, synced to disk: without it a record
survives the simulator being killed, not the machine losing power)::

    EXSIM-FIX-STORE 1                      first line
    S <seq> <length> <msgType> <sendingTime>\\n<body bytes>\\n   a sent message
    N <next sender seq>                    after a message not kept (admin)
    T <next target seq>                    after a received message
    R                                      reset: both sequences to 1
"""

import os
from urllib.parse import quote

from exsim.errors import BadValue

MAGIC = b"EXSIM-FIX-STORE 1\n"
SUFFIX = ".fixstore"

#: The default of the C{store_limit} endpoint property: the messages kept
#: for resend per session (about 300 bytes each for an ExecutionReport:
#: some 30 MB per session at the limit; see docs/reliability.rst).
DEFAULT_LIMIT = 100000


class StoreError(BadValue):
    """
    A store file cannot be read: it is corrupt or cut short.
    """


#: Messages are kept in chunks of 2**CHUNK_BITS consecutive MsgSeqNums.
CHUNK_BITS = 10
CHUNK_SIZE = 1 << CHUNK_BITS


class MemoryStore:
    """
    Sequence numbers and sent application messages, in memory.

    Messages are kept by MsgSeqNum in chunks of L{CHUNK_BITS} bits of
    consecutive numbers, each chunk three small maps (body, type,
    SendingTime), rather than in three maps of every message: a map of a
    hundred thousand messages stalled the session for milliseconds each
    time it grew (every doubling, and again and again once C{store_limit}
    trims it: deletions leave slots it must rebuild), and four sessions at
    the same rate stalled at the same moment (issue 11, defect 6: the
    soak's p99.9 and maximum grew with the stores).  A chunk grows to
    1,024 entries at most; trimming empties the oldest chunks.

    @ivar nextSenderSeq: the MsgSeqNum of the next message we send.
    @ivar nextTargetSeq: the MsgSeqNum expected next from the counterparty.
    @ivar limit: the most messages kept (C{store_limit}): beyond it the
        oldest are dropped, and a resend of them becomes a GapFill.
    """

    def __init__(self, limit=DEFAULT_LIMIT):
        self.nextSenderSeq = 1
        self.nextTargetSeq = 1
        self.limit = limit
        self._forget()

    def __len__(self):
        """
        The number of messages kept.
        """
        return min(self._held(), self.limit)

    def _held(self):
        """
        The number of messages held (those beyond L{limit} not yet
        dropped too): counted when asked (L{saveMessage} counts nothing).
        """
        return sum(len(chunk[0]) for chunk in self._chunks.values())

    def setLimit(self, limit):
        """
        Keep at most C{limit} messages from now on (the oldest beyond it
        are dropped at once).
        """
        # What the old limit let go stays gone, even if the new one is
        # higher.
        self._trim()
        self.limit = limit
        self._trim()

    def _dropChunks(self):
        """
        Drop whole chunks of the oldest messages while what stays is at
        least L{limit} (L{saveMessage} calls this when it starts a chunk:
        one dict deletion for up to a chunk of messages, rather than three
        per message; a store holds at most two chunks more than its
        limit).  The messages beyond L{limit} that stay are not kept for
        anyone: L{getMessages} and L{lastMessages} leave them out
        (L{_cutoff}).
        """
        chunks = self._chunks
        held = self._held()
        while chunks:
            key = min(chunks)
            size = len(chunks[key][0])
            if held - size < self.limit:
                break
            del chunks[key]
            held -= size
            if key == self._lastKey:
                self._lastKey = None
            self._oldest = max(self._oldest, (key + 1) << CHUNK_BITS)

    def _cutoff(self):
        """
        The lowest MsgSeqNum of the newest L{limit} messages held (0 if
        none is beyond it).
        """
        excess = self._held() - self.limit
        if excess <= 0:
            return 0
        chunks = self._chunks
        for key in sorted(chunks):
            bodies = chunks[key][0]
            if excess >= len(bodies):
                excess -= len(bodies)
                continue
            return sorted(bodies)[excess]
        return 0

    def _trim(self):
        """
        Drop the oldest messages beyond L{limit}, every one.
        """
        chunks = self._chunks
        seq = self._oldest
        held = self._held()
        while held > self.limit:
            key = seq >> CHUNK_BITS
            chunk = chunks.get(key)
            if chunk is None:
                # Nothing kept from here to the end of this chunk: go on
                # from the oldest chunk there is.
                seq = min(chunks) << CHUNK_BITS
                continue
            bodies = chunk[0]
            if seq in bodies:
                del bodies[seq], chunk[1][seq], chunk[2][seq]
                held -= 1
                if not bodies:
                    del chunks[key]
                    if key == self._lastKey:
                        self._lastKey = None
            seq += 1
        self._oldest = seq

    def _forget(self):
        # {MsgSeqNum >> CHUNK_BITS: (bodies, types, sending times)}, each
        # {MsgSeqNum: bytes}: three maps rather than one of tuples, as a
        # tuple per message would be one more object for the garbage
        # collector to walk.
        self._chunks = {}
        # The chunk the last message went to, at hand: its key and maps
        # (L{_startChunk}; a key of None, none).
        self._lastKey = None
        self._bodies = self._types = self._times = None
        #: No message below this is kept (where trimming starts).
        self._oldest = 1

    def saveMessage(self, seqNum, msgType, sendingTime, body):
        """
        Keep a sent application message for resend; the next sender
        sequence number becomes C{seqNum + 1}.

        @param msgType: bytes.
        @param sendingTime: bytes, the SendingTime (52) it went out with.
        @param body: the encoded body fields (bytes).
        """
        if seqNum >> CHUNK_BITS != self._lastKey:
            self._startChunk(seqNum >> CHUNK_BITS)
        self._bodies[seqNum] = body
        self._types[seqNum] = msgType
        self._times[seqNum] = sendingTime
        self.nextSenderSeq = seqNum + 1

    def _startChunk(self, key):
        """
        Keep at hand the chunk of the messages whose MsgSeqNums have
        C{key} for high bits, made if need be; a new chunk first drops the
        oldest ones the limit lets go.
        """
        chunk = self._chunks.get(key)
        if chunk is None:
            self._dropChunks()
            chunk = self._chunks[key] = ({}, {}, {})
        self._lastKey = key
        self._bodies, self._types, self._times = chunk

    def setNextSenderSeq(self, seqNum):
        self.nextSenderSeq = seqNum

    def setNextTargetSeq(self, seqNum):
        self.nextTargetSeq = seqNum

    def getMessages(self, begin, end):
        """
        The stored messages with C{begin <= seqNum <= end}, in order, as
        (seqNum, msgType, sendingTime, body) tuples.
        """
        chunks = self._chunks
        begin = max(begin, self._cutoff())
        low, high = begin >> CHUNK_BITS, end >> CHUNK_BITS
        result = []
        for key in sorted(k for k in chunks if low <= k <= high):
            bodies, types, times = chunks[key]
            for seq in sorted(s for s in bodies if begin <= s <= end):
                result.append((seq, types[seq], times[seq], bodies[seq]))
        return result

    def lastMessages(self, count):
        """
        The last C{count} stored messages below C{nextSenderSeq} (fewer if
        there are not so many), oldest first, as L{getMessages} gives
        them.
        """
        chunks = self._chunks
        last = self.nextSenderSeq - 1
        first = self._cutoff()
        result = []
        for key in sorted((k for k in chunks if k <= last >> CHUNK_BITS), reverse=True):
            bodies, types, times = chunks[key]
            for seq in sorted((s for s in bodies if first <= s <= last), reverse=True):
                if len(result) == count:
                    break
                result.append((seq, types[seq], times[seq], bodies[seq]))
            if len(result) == count:
                break
        result.reverse()
        return result

    def reset(self):
        """
        Start again from sequence number 1 both ways, forgetting the
        messages.
        """
        self.nextSenderSeq = 1
        self.nextTargetSeq = 1
        self._forget()

    def close(self):
        pass


class FileStore(MemoryStore):
    """
    A L{MemoryStore} journalled to a file.

    @ivar path: the file.
    """

    def __init__(self, path, sync=False):
        MemoryStore.__init__(self)
        self.path = path
        self.sync = sync
        if os.path.exists(path):
            self._load()
            self._file = open(path, "ab")
        else:
            self._file = open(path, "wb")
            self._file.write(MAGIC)
            self._file.flush()

    def _error(self, offset, what):
        return StoreError(
            "FIX store file %s is corrupt at byte %d: %s (move it away to start "
            "the session afresh)" % (self.path, offset, what)
        )

    def _load(self):
        with open(self.path, "rb") as f:
            data = f.read()
        if not data.startswith(MAGIC):
            raise self._error(0, "not an exsim FIX store (bad first line)")
        pos = len(MAGIC)
        n = len(data)
        while pos < n:
            eol = data.find(b"\n", pos)
            if eol < 0:
                self._cutShort(pos)
                break
            line = data[pos:eol]
            parts = line.split(b" ")
            kind = parts[0]
            try:
                if kind == b"S" and len(parts) == 5:
                    seq, length = int(parts[1]), int(parts[2])
                    start = eol + 1
                    end = start + length
                    if length >= 0 and end >= n:
                        # The last record, cut short.
                        self._cutShort(pos)
                        break
                    if length < 0 or data[end : end + 1] != b"\n":
                        raise self._error(pos, "message record is cut short")
                    MemoryStore.saveMessage(self, seq, parts[3], parts[4], data[start:end])
                    pos = end + 1
                    continue
                elif kind == b"N" and len(parts) == 2:
                    self.nextSenderSeq = int(parts[1])
                elif kind == b"T" and len(parts) == 2:
                    self.nextTargetSeq = int(parts[1])
                elif kind == b"R" and len(parts) == 1:
                    MemoryStore.reset(self)
                else:
                    raise self._error(pos, "unknown record type")
            except ValueError as e:
                if isinstance(e, StoreError):
                    raise
                raise self._error(pos, "bad number in a record")
            pos = eol + 1
        if self.nextSenderSeq < 1 or self.nextTargetSeq < 1:
            raise self._error(pos, "sequence numbers must be positive")

    def _cutShort(self, pos):
        """
        The last record was cut short (the simulator was killed while
        writing it): what it recorded never went out.  Drop it.
        """
        with open(self.path, "r+b") as f:
            f.truncate(pos)

    def _write(self, data):
        self._file.write(data)
        self._file.flush()
        if self.sync:
            os.fsync(self._file.fileno())

    def saveMessage(self, seqNum, msgType, sendingTime, body):
        MemoryStore.saveMessage(self, seqNum, msgType, sendingTime, body)
        self._write(
            b"S %d %d %s %s\n" % (seqNum, len(body), msgType, sendingTime) + body + b"\n"
        )

    def setNextSenderSeq(self, seqNum):
        MemoryStore.setNextSenderSeq(self, seqNum)
        self._write(b"N %d\n" % (seqNum,))

    def setNextTargetSeq(self, seqNum):
        MemoryStore.setNextTargetSeq(self, seqNum)
        self._write(b"T %d\n" % (seqNum,))

    def reset(self):
        MemoryStore.reset(self)
        # Start the journal afresh: nothing before a reset matters.
        self._file.close()
        self._file = open(self.path, "wb")
        self._write(MAGIC)

    def close(self):
        if not self._file.closed:
            self._file.close()


class StoreFactory:
    """
    Opens the store of each session of an endpoint.

    @param spec: C{"memory"} or a directory path (created if missing).
    """

    #: The C{store_limit} of the stores opened.
    limit = DEFAULT_LIMIT

    def __init__(self, spec, sync=False):
        self.spec = spec
        self.sync = sync
        self.directory = None if spec == "memory" else spec

    def check(self):
        """
        Make sure the directory exists and every store file in it reads.

        @raise StoreError: for a corrupt store file or an unusable directory.
        @return: {counterparty CompID: store} of the stores found.
        """
        if self.directory is None:
            return {}
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as e:
            raise StoreError("FIX store directory %r cannot be used: %s" % (self.directory, e))
        found = {}
        from urllib.parse import unquote

        for name in sorted(os.listdir(self.directory)):
            if name.endswith(SUFFIX):
                compId = unquote(name[: -len(SUFFIX)])
                found[compId] = FileStore(os.path.join(self.directory, name), self.sync)
                found[compId].setLimit(self.limit)
        return found

    def open(self, counterparty):
        """
        A new store for the session with C{counterparty}.
        """
        if self.directory is None:
            return MemoryStore(self.limit)
        store = FileStore(
            os.path.join(self.directory, quote(counterparty, safe="") + SUFFIX), self.sync
        )
        store.setLimit(self.limit)
        return store
