# -*- test-case-name: tests.test_testing_fix -*-
"""
What the blocking wire clients of L{exsim.testing} share: a socket (plain
or TLS) read with deadlines, and waiting for a message that matches.
"""

import socket
import ssl
import time


class WaitTimeout(AssertionError):
    """
    No message matching what a test waited for arrived in time (an
    C{AssertionError}, so test runners count it as a failure).
    """


class ConnectionClosed(AssertionError):
    """
    The venue closed the connection while a test waited for a message.
    """


def tlsContext(tls, serverHostname=None):
    """
    The client L{ssl.SSLContext} for C{tls}: C{None} or C{False} for plain
    TCP, C{True} for the system's trust roots, the path of a PEM file of
    CA certificates to trust, or a ready L{ssl.SSLContext}.
    """
    if tls is None or tls is False:
        return None
    if isinstance(tls, ssl.SSLContext):
        return tls
    if tls is True:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(tls))


def matcher(predicate, fields):
    """
    One callable from what C{wait_for} was given: a callable, a message
    type (text), or C{None}; and field values that must be equal.
    """
    if predicate is None:
        test = None
    elif callable(predicate):
        test = predicate
    else:
        wanted = str(predicate)

        def test(message):
            return message.msg_type == wanted

    def matches(message):
        if test is not None and not test(message):
            return False
        for name, value in fields.items():
            if message.get(name) != value:
                return False
        return True

    return matches


def describe(predicate, fields):
    parts = []
    if predicate is not None:
        parts.append(getattr(predicate, "__name__", None) if callable(predicate) else repr(predicate))
    parts.extend("%s=%r" % item for item in fields.items())
    return ", ".join(p for p in parts if p) or "any message"


class BlockingClient:
    """
    A client on a blocking socket.  Subclasses implement C{_feed(data)}
    (returning the messages decoded, after keeping them in C{messages})
    and may implement C{_tick()}, called at least once a second while the
    client waits, for heartbeats.

    @ivar messages: every message received, in order.
    @ivar timeout: default seconds C{wait_for} waits.
    """

    def __init__(self, host, port, timeout=10.0, tls=None, server_hostname=None):
        self.timeout = timeout
        self.messages = []
        self._unclaimed = []
        self.closed = False
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context = tlsContext(tls)
        if context is not None:
            try:
                sock = context.wrap_socket(sock, server_hostname=server_hostname or host)
            except BaseException:
                sock.close()
                raise
        self.socket = sock

    def _send(self, data):
        self.socket.sendall(data)

    def _received(self, messages):
        self.messages.extend(messages)
        self._unclaimed.extend(messages)

    def poll(self, seconds=0.0):
        """
        Read what arrives within C{seconds} (at least what is there now)
        and handle it.

        @return: the messages received.
        """
        if self.closed:
            return []
        self.socket.settimeout(max(seconds, 0.0001))
        try:
            data = self.socket.recv(65536)
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError):
            data = None
        except OSError:
            data = b""
        got = []
        if data == b"":
            self.closed = True
        elif data:
            got = self._feed(data)
            self._received(got)
        self._tick()
        return got

    def _tick(self):
        pass

    def wait_for(self, predicate=None, timeout=None, **fields):
        """
        The first message received (since the client started) and not
        returned by an earlier C{wait_for}, that C{predicate} accepts (a
        callable taking a message, or a message type as text) and whose
        C{fields} have the values given.  Messages skipped stay available
        to later calls.

        @raise WaitTimeout: if none arrives within C{timeout} seconds
            (default: the client's C{timeout}).
        @raise ConnectionClosed: if the venue closes the connection first.
        """
        return self._waitFor(predicate, timeout, fields)

    def _waitFor(self, predicate, timeout, fields):
        match = matcher(predicate, fields)
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        while True:
            for i, message in enumerate(self._unclaimed):
                if match(message):
                    del self._unclaimed[i]
                    return message
            if self.closed:
                raise ConnectionClosed(
                    "the venue closed the connection before %s arrived; last received: %s"
                    % (describe(predicate, fields), self._recent())
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(
                    "no %s in %s seconds; last received: %s"
                    % (describe(predicate, fields), wait, self._recent())
                )
            self.poll(min(remaining, 1.0))

    def _recent(self, count=5):
        return "; ".join(repr(m) for m in self.messages[-count:]) or "nothing"

    def close(self):
        """
        Close the connection (no logout: see the subclass).
        """
        self.closed = True
        try:
            self.socket.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
