# -*- test-case-name: tests.test_backpressure -*-
"""
Output back-pressure: a bound on what a connection may leave unsent.

A client that stops reading (or reads slower than the venue writes) makes
its connection's output pile up in the transport's buffer without limit
(about 30 MB a minute at 1,000 orders/s).  An L{OutputGuard} registers
itself with the transport as a streaming producer, so that the transport
tells it when its buffer is full (Twisted's TCP transports pause their
producer above 64 kB unsent and resume it once everything is sent); while
paused, the guard counts what is still written, and once that passes the
endpoint's C{max_pending_output} the connection is a slow consumer: the
protocol drops it (see L{OutputGuard.__init__}'s C{overflow}).

While its output is paused the connection also stops reading its input
(the transport's own C{pauseProducing}), as a real venue's TCP stack
would: a client that pipelines orders faster than it reads its reports is
slowed down by TCP flow control instead of making the venue buffer their
answers.  So only output the client did not ask for (fills of its resting
orders, market data, heartbeats) can pile up past the bound.

The protocols call L{OutputGuard.wrote} only while the guard is paused
(C{if guard.paused:}), so the hot path pays one attribute test a write.
"""

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from exsim.errors import BadValue

#: The default of the C{max_pending_output} endpoint property: 4 MiB.
DEFAULT_MAX_PENDING_OUTPUT = 4 * 1024 * 1024

#: The smallest C{max_pending_output} accepted.
MIN_MAX_PENDING_OUTPUT = 1024

#: The reason of the C{session_disconnected} event of a slow consumer.
SLOW_CONSUMER = "slow consumer"


def parseMaxPendingOutput(value):
    """
    Parse C{max_pending_output}: a whole number of bytes, at least
    L{MIN_MAX_PENDING_OUTPUT}.

    @raise BadValue: for anything else.
    """
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if isinstance(value, bool) or number < MIN_MAX_PENDING_OUTPUT:
        raise BadValue(
            "max_pending_output must be a whole number of bytes of at least %d, not %r"
            % (MIN_MAX_PENDING_OUTPUT, value)
        )
    return number


def maxPendingOutput(endpoint):
    """
    The C{max_pending_output} of C{endpoint} (or the default).
    """
    return endpoint.properties.get("max_pending_output", DEFAULT_MAX_PENDING_OUTPUT)


def unsent(transport):
    """
    The bytes C{transport} holds unsent, if it says (Twisted's TCP
    transports), else C{None}.
    """
    buffer = getattr(transport, "dataBuffer", None)
    extra = getattr(transport, "_tempDataLen", None)
    if buffer is None or extra is None:
        return None
    return len(buffer) - getattr(transport, "offset", 0) + extra


@implementer(IPushProducer)
class OutputGuard:
    """
    Watches one connection's unsent output.

    @ivar paused: whether the transport has said its buffer is full (and
        not yet that it drained).
    @ivar pending: bytes written since the transport paused us (an upper
        bound of what it holds beyond its own buffer size).
    @ivar tripped: whether the limit was passed (C{overflow} was called).
    """

    paused = False
    tripped = False

    def __init__(self, transport, limit, overflow):
        """
        @param transport: the connection's transport; the guard registers
            itself with it as a streaming producer (if it takes one).
        @param limit: the bound, in bytes (C{max_pending_output}).
        @param overflow: called once, with the bytes pending, when the
            bound is passed; it should drop the connection.
        """
        self.transport = transport
        self.limit = limit
        self.overflow = overflow
        self.pending = 0
        registerProducer = getattr(transport, "registerProducer", None)
        if registerProducer is not None:
            try:
                registerProducer(self, True)
            except RuntimeError:
                # Another producer is registered: no back-pressure signal.
                pass

    def wrote(self, count):
        """
        C{count} bytes were written while paused: call C{overflow} if more
        than the limit is now pending.
        """
        self.pending += count
        if self.pending > self.limit and not self.tripped:
            exact = unsent(self.transport)
            if exact is not None and exact <= self.limit:
                # Part of it was sent meanwhile: count from what is left.
                self.pending = exact
                return
            self.tripped = True
            self.overflow(exact if exact is not None else self.pending)

    # -- IPushProducer --------------------------------------------------------

    def pauseProducing(self):
        # Twisted calls this for every write while its buffer stays full.
        if not self.paused:
            self.paused = True
            self.pending = 0
            pause = getattr(self.transport, "pauseProducing", None)
            if pause is not None:
                # Read no more input until the output drains.
                pause()

    def resumeProducing(self):
        if self.paused:
            resume = getattr(self.transport, "resumeProducing", None)
            if resume is not None and not self.tripped:
                resume()
        self.paused = False
        self.pending = 0

    def stopProducing(self):
        self.paused = False


def dropConnection(transport):
    """
    Close C{transport} at once, discarding what it holds unsent (a slow
    consumer would never take it: C{loseConnection} would wait for ever).
    """
    abort = getattr(transport, "abortConnection", None)
    if abort is not None:
        abort()
    else:
        transport.loseConnection()
