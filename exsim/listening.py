# -*- test-case-name: tests.test_listening -*-
"""
What every wire listener and connection of the simulator gets.

The listen backlog: Twisted's default is 50, so 1,000 clients logging on
at once saw SYNs dropped and retried after a second (14.3 s for all of
them, against 0.14 s with a backlog of 1,024).

Nagle's algorithm: off on every wire connection.  A report written while
an earlier one waits for its ACK would otherwise wait too (delayed ACKs:
up to 40 ms); measured with fills arriving from other sessions, ack
latency p50 was 9.3 ms with it on, 0.77 ms with it off.
"""

from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import ITCPTransport

#: The listen backlog where the endpoint string gives none.
DEFAULT_BACKLOG = 1024

#: Endpoint types whose strings take a C{backlog} argument.
_BACKLOG_TYPES = ("tcp", "tcp6", "ssl", "unix")


def withBacklog(description, backlog=DEFAULT_BACKLOG):
    """
    C{description} (a server endpoint string) with C{backlog=} added when
    its type takes one and it names none.
    """
    kind = description.split(":", 1)[0].strip().lower()
    if kind not in _BACKLOG_TYPES or "backlog=" in description:
        return description
    return "%s:backlog=%d" % (description.rstrip(":"), backlog)


def serverEndpoint(reactor, description):
    """
    L{serverFromString} with a large default backlog (L{withBacklog}).
    """
    return serverFromString(reactor, withBacklog(description))


def noDelay(transport):
    """
    Turn Nagle's algorithm off on C{transport} if it is a TCP connection
    (TLS over TCP included); anything else is left alone.
    """
    if ITCPTransport.providedBy(transport):
        transport.setTcpNoDelay(True)
        return True
    setTcpNoDelay = getattr(transport, "setTcpNoDelay", None)
    if setTcpNoDelay is not None:
        try:
            setTcpNoDelay(True)
        except (AttributeError, NotImplementedError, OSError):
            return False
        return True
    return False
