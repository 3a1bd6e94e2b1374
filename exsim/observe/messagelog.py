# -*- test-case-name: tests.test_messagelog -*-
"""
The message journal of every session: each message in and out, with the
time and the direction, in a bounded ring (the endpoint property
C{message_log_size}, 10,000 by default; the oldest go first) and, when the
endpoint property C{message_log} names a directory, in files.

Capture stays off the hot paths: a session adds tuples C{(time,
direction, data)} to its L{MessageLog} (a C{deque} bounded by messages),
with the time the protocol already read from the clock for its own
timers, and bytes it already holds: the messages of one read as they
came, one entry (a garbled FIX message one of its own, in its place);
what one write sent, one entry (the bytes written: a connection's
replies to one read of its input, a resend, a login replay).  Replies follow the messages of the
read they answer (the order of the wire), at the time the last of them
came in.  An entry of several messages is split when decoded, and
nothing is decoded until asked (C{get_messages}, the web view:
L{exsim.observe.decode}).  One entry per read and per write, not a tuple
per message: each tuple held to the end of the ring is freed long after
it was made, its memory cold (a tuple per SoupBinTCP packet cost about
4 % of the CPU time of an OUCH order).

With C{message_log} set, a log also writes each message to
C{<session>.messages.log} as it comes: FIX in QuickFIX's layout (C{time :
message}, one message a line, as QuickFIX's FileLog writes it), OUCH and
ITCH as one decoded line per message; the session's events go to
C{<session>.event.log}.  C{<session>} is the session id with its C{/}
made C{-} and anything but letters, digits, C{.}, C{_}, C{-}, C{@} and
C{#} written C{%XX}: C{fix1/CLIENT} becomes C{fix1-CLIENT}.  Traffic of
connections that never logged on goes to C{<endpoint>.unidentified.*}.
Files are flushed once per reactor turn.  Passwords (FIX Password and
NewPassword, the SoupBinTCP Login Request's) are masked in files and in
what C{get_messages} returns.
"""

import os
import re
import time
import weakref
from collections import deque

from twisted.logger import Logger

from exsim.errors import BadValue

#: Directions.
IN = "in"
OUT = "out"
DIRECTIONS = (IN, OUT)

#: Messages kept per session unless C{message_log_size} says otherwise.
DEFAULT_SIZE = 10000

#: The largest C{message_log_size}.
MAX_SIZE = 10000000

#: The endpoint properties of the message journal.
PROPERTY_NAMES = ("message_log", "message_log_size")


def parseSize(value):
    """
    C{message_log_size}: a whole number from 0 (keep nothing) to
    L{MAX_SIZE}.
    """
    if isinstance(value, bool):
        raise BadValue("message_log_size must be a whole number, not %r" % (value,))
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise BadValue("message_log_size must be a whole number, not %r" % (value,))
    if not 0 <= number <= MAX_SIZE:
        raise BadValue(
            "message_log_size must be between 0 and %d, not %r" % (MAX_SIZE, value)
        )
    return number


def parseDirectory(value):
    """
    C{message_log}: a directory under the simulator's data directory, or
    C{none} (no files).
    """
    from exsim.datadir import checkDataName

    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in ("", "none", "no", "off"):
        return None
    return checkDataName(text, "message_log")


#: {property: parser}
PROPERTIES = {"message_log": parseDirectory, "message_log_size": parseSize}

#: {property: default}
DEFAULTS = {"message_log": None, "message_log_size": DEFAULT_SIZE}


_UNSAFE = re.compile(r"[^A-Za-z0-9._@#-]")


def fileName(sessionId):
    """
    The file name stem of a session's logs (see the module docstring).
    """
    endpoint, sep, rest = sessionId.partition("/")
    quote = lambda m: "%%%02X" % (ord(m.group()),)  # noqa: E731
    stem = _UNSAFE.sub(quote, endpoint)
    if sep:
        stem += "-" + _UNSAFE.sub(quote, rest)
    if stem.startswith("."):
        stem = "%2E" + stem[1:]
    return stem


def stamp(seconds):
    """
    A UTC timestamp as QuickFIX writes its logs: C{YYYYMMDD-HH:MM:SS.ffffff}.
    """
    whole = int(seconds)
    micros = int(round((seconds - whole) * 1000000))
    if micros >= 1000000:
        whole, micros = whole + 1, micros - 1000000
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(whole)) + ".%06d" % (micros,)


_append = deque.append


class MessageLog(deque):
    """
    The journal of one session: a ring of C{(time, direction, data)}
    entries, each of one message or of several (what one read brought or
    one write sent), bounded by messages: the oldest entries go while it
    holds more than C{size} messages and more than one entry (so the
    newest entry stays whole, however many messages it has).

    @ivar sessionId: the session's id (a connection's, until it logs on).
    @ivar protocol: C{fix}, C{ouch} or C{itch}.
    @ivar files: the L{LogFiles} written, or None.
    @ivar size: the most messages kept (C{message_log_size}).
    @ivar held: the messages held.
    """

    __slots__ = ("sessionId", "protocol", "files", "logs", "size", "held", "_counts")

    def __init__(self, sessionId, protocol, size=DEFAULT_SIZE, logs=None):
        deque.__init__(self)
        self.sessionId = sessionId
        self.protocol = protocol
        self.files = None
        self.logs = logs
        self.size = size
        self.held = 0
        #: The messages of each entry, oldest first.
        self._counts = deque()

    def __repr__(self):
        return "<MessageLog %s %d/%s>" % (self.sessionId, self.held, self.size)

    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__

    def append(self, entry):
        """
        Journal an entry of one message.
        """
        self.add(entry, 1)

    def extend(self, entries):
        """
        Journal entries of one message each.
        """
        for entry in entries:
            self.add(entry, 1)

    def add(self, entry, count):
        """
        Journal an entry of C{count} messages (its data holds them one
        after the other, as on the wire).
        """
        if not self.size:
            return
        _append(self, entry)
        self._counts.append(count)
        self.held += count
        if self.held > self.size:
            self._trim()

    def _trim(self):
        """
        Let the oldest entries go while more than C{size} messages are
        held, but never the newest (unless C{size} is 0).
        """
        counts = self._counts
        while self.held > self.size and (len(counts) > 1 or (counts and not self.size)):
            self.held -= counts.popleft()
            self.popleft()

    def resize(self, size):
        """
        Keep at most C{size} messages from now on (the newest stay).
        """
        self.size = size
        self._trim()

    def setFiles(self, files):
        """
        Write every later message to C{files} (a L{LogFiles}), or stop
        writing (None).
        """
        self.files = files
        self.__class__ = MessageLog if files is None else _WritingLog

    def adopt(self, other):
        """
        Take the messages of a connection's log (it just logged on to this
        session), in their order.
        """
        for entry, count in zip(list(other), list(other._counts)):
            self.add(entry, count)

    def identify(self, sessionId):
        """
        The connection behind this log logged on as C{sessionId}: files
        from now on are the session's (what was kept so far is written to
        them too).
        """
        self.sessionId = sessionId
        logs = self.logs
        if logs is not None and self.files is not None:
            files = logs.filesFor(sessionId, self.protocol)
            self.setFiles(files)
            for entry in self:
                files.write(entry)

    def entries(self, last=None, direction=None):
        """
        The newest C{last} entries (every one if None) of C{direction}
        (both if None), oldest first.
        """
        kept = [e for e in self if direction is None or e[1] == direction]
        if last is not None:
            kept = kept[-last:] if last else []
        return kept


class _WritingLog(MessageLog):
    """
    A L{MessageLog} that also writes each message to its files.
    """

    __slots__ = ()

    def add(self, entry, count):
        MessageLog.add(self, entry, count)
        self.files.write(entry)


class LogFiles:
    """
    The two files of one session (or of an endpoint's unidentified
    traffic): C{.messages.log} and C{.event.log}, opened for appending.
    """

    log = Logger()

    def __init__(self, directory, stem, protocol, reactor):
        self.protocol = protocol
        self.reactor = reactor
        base = os.path.join(directory, stem)
        self.path = base
        self.messages = open(base + ".messages.log", "ab")
        self.events = open(base + ".event.log", "ab")
        self._flushCall = None
        self.closed = False

    def write(self, entry):
        """
        Write one journal entry: each message it holds, a line each.
        """
        if self.closed:
            return
        from exsim.observe import decode

        seconds, direction, data = entry
        try:
            lines = decode.fileLines(self.protocol, direction, data)
        except Exception:
            self.log.failure("message log {path}: cannot write a message", path=self.path)
            return
        prefix = stamp(seconds).encode("ascii") + b" : "
        if self.protocol != "fix":
            prefix += direction.encode("ascii") + b" "
        self.messages.write(b"".join(prefix + line + b"\n" for line in lines))
        self._dirty()

    def event(self, seconds, eventType, fields):
        """
        Write one session event.
        """
        if self.closed:
            return
        detail = " ".join(
            "%s=%s" % (key, value) for key, value in fields.items() if value is not None
        )
        line = "%s : %s%s\n" % (stamp(seconds), eventType, " " + detail if detail else "")
        self.events.write(line.replace("\r", " ").encode("utf-8", "replace"))
        self._dirty()

    def _dirty(self):
        if self._flushCall is None:
            self._flushCall = self.reactor.callLater(0, self.flush)

    def flush(self):
        self._flushCall = None
        if not self.closed:
            self.messages.flush()
            self.events.flush()

    def close(self):
        if self.closed:
            return
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
        self.closed = True
        self.messages.close()
        self.events.close()


class EndpointLogs:
    """
    The message logs of one endpoint's sessions, and their files.

    @ivar size: C{message_log_size}.
    @ivar directory: the absolute path of C{message_log}, or None.
    """

    log = Logger()

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.reactor = endpoint.reactor
        self.size = DEFAULT_SIZE
        self.directory = None
        self._logs = weakref.WeakSet()
        self._files = {}
        self.configure()

    def configure(self):
        """
        Apply the endpoint's C{message_log_size} and C{message_log} to
        every log.

        @raise BadValue: if the directory cannot be made.
        """
        properties = self.endpoint.properties
        self.size = properties.get("message_log_size", DEFAULT_SIZE)
        name = properties.get("message_log")
        directory = None
        if name is not None:
            simulator = getattr(self.endpoint, "simulator", None)
            dataPath = getattr(simulator, "dataPath", None)
            directory = dataPath(name, "message_log") if dataPath is not None else os.path.abspath(name)
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise BadValue("message_log: cannot make directory %r: %s" % (name, e.strerror or e))
        if directory != self.directory:
            for files in self._files.values():
                files.close()
            self._files = {}
            self.directory = directory
        for log in list(self._logs):
            log.resize(self.size)
            self._attachFiles(log)

    def _attachFiles(self, log):
        if self.directory is None:
            log.setFiles(None)
        else:
            log.setFiles(self.filesFor(log.sessionId, log.protocol))

    def filesFor(self, sessionId, protocol):
        """
        The L{LogFiles} of a session id (an unidentified connection's:
        the endpoint's unidentified files).
        """
        if self.directory is None:
            return None
        if "/" in sessionId:
            stem = fileName(sessionId)
        else:
            stem = fileName(self.endpoint.name) + ".unidentified"
        files = self._files.get(stem)
        if files is None:
            try:
                files = self._files[stem] = LogFiles(self.directory, stem, protocol, self.reactor)
            except OSError as e:
                self.log.error(
                    "endpoint {endpoint}: cannot open message log {stem}: {error}",
                    endpoint=self.endpoint.name, stem=stem, error=e.strerror or str(e),
                )
                return None
        return files

    def new(self, sessionId, protocol):
        """
        A new L{MessageLog} for a session (or a connection not logged on
        yet: its id has no C{/}).
        """
        log = MessageLog(sessionId, protocol, self.size, self)
        self._logs.add(log)
        if self.directory is not None:
            files = self.filesFor(sessionId, protocol)
            if files is not None:
                log.setFiles(files)
        return log

    def event(self, eventType, fields):
        """
        A session event of the endpoint (L{exsim.endpoint.Endpoint.report}):
        written to its session's event file.
        """
        if self.directory is None:
            return
        session = fields.get("session")
        files = self.filesFor(session if isinstance(session, str) else "", self._protocol())
        if files is not None:
            files.event(self.reactor.seconds(), eventType, fields)

    def _protocol(self):
        return getattr(self.endpoint, "protocolName", "fix")

    def close(self):
        """
        Close every file (the rings stay); L{configure} opens them again.
        """
        for log in list(self._logs):
            log.setFiles(None)
        for files in self._files.values():
            files.close()
        self._files = {}
        self.directory = None


def logsOf(endpoint):
    """
    The L{EndpointLogs} of an endpoint, made on first use.
    """
    logs = getattr(endpoint, "messageLogs", None)
    if logs is None:
        logs = EndpointLogs(endpoint)
        endpoint.messageLogs = logs
    return logs


def newLog(endpoint, sessionId, protocol):
    """
    A new L{MessageLog} of a session of C{endpoint}.
    """
    return logsOf(endpoint).new(sessionId, protocol)
