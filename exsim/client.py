# -*- test-case-name: tests.test_client -*-
"""
Python clients of the management service.

 - L{ControlClient}: every management operation as a method returning a
   Deferred (trial tests, Twisted programs); L{connect} attaches one to a
   running C{twistd exsim}.
 - L{API}: blocking.  C{API().create_server()} starts a simulator in a
   child process and returns a L{Server} whose methods are the operations;
   C{API().connect(...)} attaches a L{Connection} to a running simulator.

How C{create_server} works: the calling process forks.  The child
inherits everything the parent registered (C{exsim.register}), its
modules and environment; it closes every file descriptor it inherited
(listening sockets, the parent's reactor), builds a fresh reactor of its
own, listens for the management service on C{127.0.0.1}, port 0, with a
generated password, and tells the parent the port through a pipe.  The
parent never starts a thread: blocking calls run a private reactor in the
calling thread until the answer arrives, so a later C{create_server} forks
a process without reactor threads, as the first did.  The child reads a
second pipe whose write end only the parent holds: when the parent exits
in any way (even C{kill -9}), the child sees end-of-file and stops.
"""

from __future__ import annotations

import atexit
import errno
import inspect
import json
import os
import secrets
import select
import signal
import sys
import time
from typing import Any, Callable

from twisted.cred import error as crederror
from twisted.cred.credentials import UsernamePassword
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.spread import pb

from exsim import errors
from exsim.control import OPERATIONS
from exsim.control.queue import PAGE_SIZE

#: Seconds a blocking call waits for its answer.
DEFAULT_TIMEOUT = 60.0

#: The user name of a server made by L{API.create_server}.
SERVER_USER = "exsim"


class RemoteError(errors.ExsimError):
    """
    The simulator raised an error this client has no class for.

    @ivar remoteType: the qualified name of the remote exception class.
    """

    def __init__(self, remoteType, message):
        errors.ExsimError.__init__(self, message)
        self.remoteType = remoteType


class ServerGone(errors.ExsimError):
    """
    The simulator process ended or the connection to it was lost.
    """


def _localError(failure):
    """
    Turn a remote error back into the L{exsim.errors} class it was raised
    as, with the same message.
    """
    remoteType = getattr(failure, "type", None)
    if isinstance(failure, pb.CopiedFailure):
        if isinstance(remoteType, bytes):
            remoteType = remoteType.decode("utf-8", "replace")
        module, _, name = remoteType.rpartition(".")
        message = failure.value if isinstance(failure.value, str) else str(failure.value)
        if module == "exsim.errors":
            cls = getattr(errors, name, None)
            if isinstance(cls, type) and issubclass(cls, errors.ExsimError):
                return Failure(cls(message))
        if remoteType == "twisted.cred.error.UnauthorizedLogin":
            return Failure(crederror.UnauthorizedLogin(message))
        return Failure(RemoteError(remoteType, message))
    if failure.check(pb.PBConnectionLost, pb.DeadReferenceError):
        return Failure(ServerGone("the connection to the simulator was lost"))
    return failure


class ControlClient:
    """
    A logged-in management client: each operation of L{OPERATIONS} is a
    method of the same name returning a Deferred that fires with the
    result or fails with the L{exsim.errors} class the simulator raised.

    @ivar perspective: the L{pb.RemoteReference} of the control avatar.
    """

    def __init__(self, perspective: pb.RemoteReference, reactor: Any = None) -> None:
        self.perspective = perspective
        self.reactor = reactor
        self._buffer = []

    def call(self, name: str, *args: Any, **kwargs: Any) -> defer.Deferred:
        """
        Run the operation C{name} remotely.
        """
        remote = _JSON_TWINS.get(name, name)
        try:
            d = self.perspective.callRemote(remote, *args, **kwargs)
        except pb.DeadReferenceError:
            return defer.fail(ServerGone("the connection to the simulator was lost"))
        d.addErrback(_localError)
        if remote is not name:
            d.addCallback(_decodeEvents)
        return d

    def peek_events(self, max_count: int | None = None, after: int | None = None) -> defer.Deferred:
        """
        Up to C{max_count} queued events after event id C{after}, left in
        the queue; with C{None} every queued one (a page at a time).
        """
        if max_count is not None:
            return self.call("peek_events", max_count, after)
        result = []

        def page(events):
            result.extend(events)
            if len(events) < PAGE_SIZE:
                return result
            return self.call("peek_events", PAGE_SIZE, events[-1]["event_id"]).addCallback(page)

        return self.call("peek_events", PAGE_SIZE, after).addCallback(page)

    def list_orders(
        self, book: str, owner: str | None = None, after: int | None = None,
        max_count: int | None = None,
    ) -> defer.Deferred:
        """
        The live orders of a book (see docs/api.rst); with C{max_count}
        None every one of them, fetched a page at a time.
        """
        if max_count is not None:
            return self.call("list_orders", book, owner, after, max_count)
        result = []

        def page(orders):
            result.extend(orders)
            if len(orders) < PAGE_SIZE:
                return result
            return self.call("list_orders", book, owner, orders[-1]["order_id"], PAGE_SIZE).addCallback(page)

        return self.call("list_orders", book, owner, after, PAGE_SIZE).addCallback(page)

    def get_events(self, max_count: int | None = None) -> defer.Deferred:
        """
        Remove and return up to C{max_count} events, oldest first; with
        C{None} every queued event (fetched a page at a time).
        """
        buffered = _takeBuffered(self._buffer, max_count)
        if max_count is not None:
            if len(buffered) >= max_count:
                return defer.succeed(buffered)
            d = self.call("get_events", max_count - len(buffered))
            return d.addCallback(lambda events: buffered + events)
        result = buffered

        def page(events):
            result.extend(events)
            if not events:
                return result
            return self.call("get_events", PAGE_SIZE).addCallback(page)

        return self.call("get_events", PAGE_SIZE).addCallback(page)

    def wait_for_event(
        self, event_type: str, timeout: float = 10.0, interval: float = 0.02, **fields: Any
    ) -> defer.Deferred:
        """
        Wait for the first event of C{event_type} whose fields equal
        C{fields}, polling C{get_events}.  Events that arrived before it
        stay queued (in this client) for the next C{get_events}.

        @return: a Deferred firing with the event, or failing with
            L{exsim.errors.Timeout} after C{timeout} seconds.
        """
        from twisted.internet import task

        reactor = self.reactor
        if reactor is None:
            from twisted.internet import reactor
        deadline = reactor.seconds() + timeout

        def check(events):
            self._buffer.extend(events)
            found = _takeMatch(self._buffer, event_type, fields)
            if found is not None:
                return found
            if reactor.seconds() >= deadline:
                raise errors.Timeout(
                    "no %s event %r in %s seconds" % (event_type, fields, timeout)
                )
            d = task.deferLater(reactor, interval, self.call, "get_events", PAGE_SIZE)
            return d.addCallback(check)

        return self.call("get_events", PAGE_SIZE).addCallback(check)

    def follow_events(self, callback: Callable[[dict[str, Any]], Any]) -> defer.Deferred:
        """
        Call C{callback(event)} with every later control event, as it
        happens, without taking events from the queue (see
        L{exsim.observe.follow}), until L{disconnect}.

        @return: a Deferred firing once following has begun.
        """
        d = self.perspective.callRemote("follow_events", _EventObserver(callback))
        return d.addErrback(_localError)

    def disconnect(self) -> defer.Deferred:
        """
        Drop the connection.

        @return: a Deferred firing once it is closed.
        """
        broker = getattr(self.perspective, "broker", None)
        if broker is None or broker.disconnected or broker.transport is None:
            return defer.succeed(None)
        d = defer.Deferred()
        self.perspective.notifyOnDisconnect(lambda ref: d.called or d.callback(None))
        broker.transport.loseConnection()
        return d


class _EventObserver(pb.Referenceable):
    """
    What the simulator sends followed events to.
    """

    def __init__(self, callback):
        self.callback = callback

    def remote_events(self, text):
        for event in json.loads(text):
            self.callback(event)


#: Operations whose answer travels as one JSON text, by the avatar method
#: that sends it.
_JSON_TWINS = {
    "get_events": "get_events_json",
    "peek_events": "peek_events_json",
    "get_messages": "get_messages_json",
}


def _decodeEvents(answer):
    """
    get_events travels as JSON text (see
    L{exsim.control.avatar.ControlAvatar.perspective_get_events_json}).
    """
    if isinstance(answer, (str, bytes)):
        return json.loads(answer)
    return answer


def _takeBuffered(buffer, maxCount):
    count = len(buffer) if maxCount is None else min(int(maxCount), len(buffer))
    taken = buffer[:count]
    del buffer[:count]
    return taken


def _takeMatch(buffer, eventType, fields):
    for i, event in enumerate(buffer):
        if event.get("type") == eventType and all(
            event.get(k) == v for k, v in fields.items()
        ):
            return buffer.pop(i)
    return None


def _operationSignature(name, returns):
    """
    The signature of the management operation C{name} as a client method:
    the simulator method's parameters (and their annotations), returning
    C{returns}.
    """
    from exsim.service import Simulator

    method = getattr(Simulator, name, None)
    if method is None:
        return None
    signature = inspect.signature(method)
    return signature.replace(return_annotation=returns)


def _asyncOperation(name):
    def operation(self, *args, **kwargs):
        return self.call(name, *args, **kwargs)

    operation.__name__ = name
    operation.__doc__ = "Run C{%s} (see docs/api.rst); returns a Deferred." % (name,)
    operation.__signature__ = _operationSignature(name, "Deferred")
    return operation


for _name in OPERATIONS:
    if _name not in ControlClient.__dict__:
        setattr(ControlClient, _name, _asyncOperation(_name))


def _password(password):
    return password if isinstance(password, bytes) else str(password).encode("utf-8")


def login(factory: pb.PBClientFactory, user: str, password: str | bytes) -> defer.Deferred:
    """
    Log in through a connected (or connecting) L{pb.PBClientFactory}.

    @return: a Deferred firing with a L{ControlClient}, or failing with
        L{twisted.cred.error.UnauthorizedLogin}.
    """
    credentials = UsernamePassword(str(user).encode("utf-8"), _password(password))
    d = factory.login(credentials)
    d.addErrback(_localError)
    return d.addCallback(ControlClient)


def connect(
    endpoint: str, user: str, password: str | bytes, reactor: Any = None
) -> defer.Deferred:
    """
    Connect to a running simulator's management service and log in.

    @param endpoint: a client endpoint string, e.g.
        C{"tcp:127.0.0.1:8789"} (a host name is resolved in a thread).
    @return: a Deferred firing with a L{ControlClient}.
    """
    from twisted.internet.endpoints import clientFromString

    if reactor is None:
        from twisted.internet import reactor
    factory = pb.PBClientFactory()
    try:
        ep = _onReactor(clientFromString(reactor, endpoint), reactor)
    except (ValueError, TypeError, KeyError) as e:
        return defer.fail(errors.BadValue("bad endpoint %r: %s" % (endpoint, e)))
    except Exception as e:
        # A TLS client string whose CA directory or certificate is bad.
        return defer.fail(errors.BadValue("bad endpoint %r: %s: %s" % (endpoint, type(e).__name__, e)))

    def connected(broker):
        d = login(factory, user, password)
        # A management service greets at once (Perspective Broker's
        # dialect negotiation): a peer that says nothing, or hangs up,
        # is something else (a FIX port, say), told now, not after the
        # caller's timeout.
        def notPB(why):
            if not d.called and factory._root is None:
                # No greeting will come: nothing else may fire the request.
                factory.rootObjectRequests = []
                d.errback(NotManagementService(
                    "%s is not an exsim management service (%s)" % (endpoint, why)
                ))
                broker.transport.abortConnection()

        timer = reactor.callLater(
            GREETING_TIMEOUT, notPB,
            "no Perspective Broker greeting in %g seconds" % (GREETING_TIMEOUT,),
        )
        broker.notifyOnDisconnect(lambda: notPB("it closed the connection without a greeting"))

        def done(result):
            if timer.active():
                timer.cancel()
            return result

        def withReactor(client):
            client.reactor = reactor
            return client

        return d.addBoth(done).addCallback(withReactor)

    return ep.connect(factory).addCallback(connected)


#: Seconds a management service has to greet a new connection (it greets at
#: once; 3 s proved too short for a simulator starting on a loaded 2-core
#: machine).  A peer that hangs up is told at once.
GREETING_TIMEOUT = 10.0


class NotManagementService(errors.ExsimError):
    """
    The peer is not an exsim management service (no Perspective Broker
    greeting).
    """


def _onReactor(ep, reactor):
    """
    An C{ssl:} client endpoint whose TLS layer schedules its writes on
    C{reactor}: the one C{clientFromString} builds uses the global reactor,
    which never runs under the blocking clients (their private reactor
    does), so nothing would ever be sent.
    """
    from twisted.internet import endpoints

    if not isinstance(ep, endpoints.SSL4ClientEndpoint):
        return ep
    tcp = endpoints.TCP4ClientEndpoint(
        reactor, ep._host, ep._port, timeout=ep._timeout, bindAddress=ep._bindAddress
    )
    try:
        return endpoints.wrapClientTLS(ep._sslContextFactory, tcp, clock=reactor)
    except TypeError:  # pragma: no cover (Twisted without clock=)
        return ep


# -- blocking ------------------------------------------------------------------


def _privateReactor():
    """
    A reactor of our own, never installed and never run: blocking calls
    iterate it in the calling thread.
    """
    try:
        from twisted.internet.pollreactor import PollReactor

        return PollReactor()
    except ImportError:
        from twisted.internet.selectreactor import SelectReactor

        return SelectReactor()


class Connection:
    """
    A blocking management client: every operation of L{OPERATIONS} is a
    method of the same name that returns the result or raises the
    L{exsim.errors} class the simulator raised.

    Use L{API.connect} or L{API.create_server} to make one.
    """

    def __init__(
        self, endpoint: str, user: str, password: str | bytes, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.timeout = timeout
        self._reactor = _privateReactor()
        self._client = None
        try:
            self._client = self._wait(connect(endpoint, user, password, self._reactor))
        except BaseException:
            self._closeReactor()
            raise

    def _wait(self, d, timeout=None):
        reactor = self._reactor
        if reactor is None:
            raise ServerGone("this connection is closed")
        result = []
        d.addBoth(result.append)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not result:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                d.cancel()
                raise errors.Timeout("no answer from the simulator in %s seconds" % (self.timeout,))
            nextCall = reactor.timeout()
            reactor.iterate(remaining if nextCall is None else min(nextCall, remaining))
        if isinstance(result[0], Failure):
            result[0].raiseException()
        return result[0]

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """
        Run the operation C{name} and wait for its result.
        """
        if self._client is None:
            raise ServerGone("this connection is closed")
        return self._wait(self._client.call(name, *args, **kwargs))

    def get_events(self, max_count: int | None = None) -> list[dict[str, Any]]:
        """
        Remove and return up to C{max_count} events (all with C{None}),
        oldest first.
        """
        if self._client is None:
            raise ServerGone("this connection is closed")
        return self._wait(self._client.get_events(max_count))

    def peek_events(self, max_count: int | None = None, after: int | None = None) -> list[dict[str, Any]]:
        """
        Up to C{max_count} queued events after event id C{after} (all with
        C{None}), oldest first, left in the queue.
        """
        if self._client is None:
            raise ServerGone("this connection is closed")
        return self._wait(self._client.peek_events(max_count, after))

    def list_orders(
        self, book: str, owner: str | None = None, after: int | None = None,
        max_count: int | None = None,
    ) -> list[dict[str, Any]]:
        """
        The live orders of a book (all of them with C{max_count} None).
        """
        if self._client is None:
            raise ServerGone("this connection is closed")
        return self._wait(self._client.list_orders(book, owner, after, max_count))

    def wait_for_event(self, event_type: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """
        Wait (polling) for the first event of C{event_type} whose fields
        equal C{fields}, and return it.  Events that arrived before it stay
        queued (in this client) for the next C{get_events}.

        @raise exsim.errors.Timeout: after C{timeout} seconds.
        """
        if self._client is None:
            raise ServerGone("this connection is closed")
        return self._wait(
            self._client.wait_for_event(event_type, timeout, **fields), timeout + self.timeout
        )

    def follow(
        self, callback: Callable[[dict[str, Any]], Any], count: int | None = None,
        seconds: float | None = None,
    ) -> int:
        """
        Call C{callback(event)} with every later control event as it
        happens (nothing is taken from the queue), until C{count} events
        came, C{seconds} passed, or the caller interrupts (C{KeyboardInterrupt}
        ends it quietly).  The connection is then closed: it follows no
        more.

        @return: the number of events passed on.
        """
        if self._client is None:
            raise ServerGone("this connection is closed")
        seen = [0]

        def each(event):
            if count is not None and seen[0] >= count:
                return
            seen[0] += 1
            callback(event)

        self._wait(self._client.follow_events(each))
        reactor = self._reactor
        deadline = None if seconds is None else time.monotonic() + seconds
        try:
            while count is None or seen[0] < count:
                if self._client is None or self._client.perspective.broker.disconnected:
                    raise ServerGone("the connection to the simulator was lost")
                remaining = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                if remaining <= 0:
                    break
                reactor.iterate(remaining)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()
        return seen[0]

    def close(self) -> None:
        """
        Drop the connection (the simulator keeps running).
        """
        client, self._client = self._client, None
        reactor = self._reactor
        if client is not None and reactor is not None:
            client.disconnect()
            deadline = time.monotonic() + 5

            def busy():
                waker = getattr(reactor, "waker", None)
                return [d for d in reactor.getReaders() + reactor.getWriters() if d is not waker]

            while busy() and time.monotonic() < deadline:
                reactor.iterate(0.05)
        self._closeReactor()

    def _closeReactor(self):
        reactor, self._reactor = self._reactor, None
        if reactor is None:
            return
        reactor.disconnectAll()
        waker = getattr(reactor, "waker", None)
        if waker is not None:
            reactor.removeReader(waker)
            waker.connectionLost(None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _blockingOperation(name):
    def operation(self, *args, **kwargs):
        return self.call(name, *args, **kwargs)

    operation.__name__ = name
    operation.__doc__ = "Run C{%s} (see docs/api.rst) and return its result." % (name,)
    operation.__signature__ = _operationSignature(name, "Any")
    return operation


for _name in OPERATIONS:
    if _name not in Connection.__dict__:
        setattr(Connection, _name, _blockingOperation(_name))
del _name


class Server(Connection):
    """
    A simulator running in a child process (L{API.create_server}), with a
    blocking connection to it.

    @ivar pid: the child's process id.
    @ivar address: (host, port) of its management service.
    @ivar user: the user name, C{password} the generated password.
    """

    def __init__(self, pid, address, user, password, watchFd, statusFd, timeout=DEFAULT_TIMEOUT):
        self.pid = pid
        self.address = address
        self.user = user
        self.password = password
        self._watchFd = watchFd
        self._statusFd = statusFd
        self.endpoint = "tcp:%s:%d" % address
        try:
            Connection.__init__(self, self.endpoint, user, password, timeout)
        except BaseException:
            self._stopChild()
            raise
        _running.add(self)

    @property
    def running(self) -> bool:
        return self._watchFd is not None

    def delete(self, timeout: float = 10.0) -> None:
        """
        Stop the simulator and wait until its process is gone (it closes
        every port it listened on as it stops).  Idempotent.
        """
        try:
            self.close()
        finally:
            self._stopChild(timeout)
            _running.discard(self)

    def _stopChild(self, timeout=10.0):
        watchFd, self._watchFd = self._watchFd, None
        if watchFd is None:
            return
        # End of file on the watch pipe tells the child to stop.
        os.close(watchFd)
        statusFd, self._statusFd = self._statusFd, None
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    os.kill(self.pid, signal.SIGKILL)
                    break
                readable, _, _ = select.select([statusFd], [], [], remaining)
                if readable and not os.read(statusFd, 4096):
                    break
        finally:
            os.close(statusFd)
            _reap(self.pid)


def _reap(pid):
    while True:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue
        return


#: Servers to stop when the interpreter exits normally.
_running = set()


@atexit.register
def _deleteAll():
    for server in list(_running):
        try:
            server.delete()
        except Exception:
            pass


class API:
    """
    The blocking client API::

        server = exsim.API().create_server()
        server.create_engine("e1", "matching")
        ...
        server.delete()
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout

    def connect(self, endpoint: str, user: str, password: str | bytes) -> Connection:
        """
        Attach to a running simulator (C{twistd exsim} with a C{[control]}
        section) by client endpoint string, e.g. C{"tcp:127.0.0.1:8789"}.

        @return: a L{Connection}.
        """
        return Connection(endpoint, user, password, self.timeout)

    def create_server(
        self,
        event_queue_size: int | str | None = None,
        log_file: str | None = None,
        startup_timeout: float = 30.0,
    ) -> Server:
        """
        Start a simulator in a child process of this one and log in.

        @param event_queue_size: bound of its event queue.
        @param log_file: a path the child writes its log to (by default
            it writes warnings and errors to standard error).
        @return: a L{Server}; C{server.delete()} stops it.
        """
        if not hasattr(os, "fork"):
            raise errors.WrongState("create_server needs os.fork (a POSIX system)")
        if event_queue_size is not None:
            from exsim.control.queue import parseSize

            event_queue_size = parseSize(event_queue_size)
        # Hex, so that it never starts with "-" (a command line, such as
        # exsimctl's, would read that as an option).
        password = secrets.token_hex(18)
        watchRead, watchWrite = os.pipe()
        statusRead, statusWrite = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        pid = os.fork()
        if pid == 0:  # pragma: no cover (runs in the child)
            code = 1
            try:
                os.close(watchWrite)
                os.close(statusRead)
                from exsim.child import run

                code = run(watchRead, statusWrite, SERVER_USER, password, event_queue_size, log_file)
            except BaseException:
                try:
                    import traceback

                    os.write(2, traceback.format_exc().encode("utf-8", "replace"))
                except BaseException:
                    pass
            finally:
                os._exit(code)
        os.close(watchRead)
        os.close(statusWrite)
        try:
            port = _readPort(statusRead, startup_timeout)
        except BaseException:
            os.close(watchWrite)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.close(statusRead)
            _reap(pid)
            raise
        return Server(
            pid, ("127.0.0.1", port), SERVER_USER, password, watchWrite, statusRead, self.timeout
        )


def _readPort(fd, timeout):
    """
    Read the child's first status line: the port, or C{error: ...}.
    """
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise errors.WrongState("the simulator did not start in %s seconds" % (timeout,))
        try:
            readable, _, _ = select.select([fd], [], [], remaining)
        except InterruptedError:
            continue
        if readable:
            try:
                chunk = os.read(fd, 4096)
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                raise
            if not chunk:
                raise ServerGone("the simulator process ended while starting")
            data += chunk
    line = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    if not line.isdigit():
        raise ServerGone("the simulator could not start: %s" % (line,))
    return int(line)
