# -*- test-case-name: tests.test_web -*-
"""
The web view's service: C{twisted.web} in the simulator's process, behind
HTTP Basic authentication over the management service's users (the same
checker, and the same slowing down of a host that fails to log in:
L{exsim.control.checker.LoginGuard}).

Paths (read-only; anything else is a 404, and no response carries a
traceback):

 - C{/}: engines, books, endpoints, sessions;
 - C{/book/NAME}: a book's ladder, trades and recent orders;
 - C{/session/ID}: a session's message journal (C{ID} as C{list_sessions}
   gives it, e.g. C{/session/fix1/CLIENT});
 - C{/events}: the control events;
 - C{/stream/...}: the live updates of each page (Server-Sent Events);
 - C{/static/...}: the style sheet and the script.
"""

import os

from twisted.application import service
from twisted.cred import portal
from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import guard, resource, server, static
from twisted.web.resource import IResource
from zope.interface import implementer

from exsim.control.queue import batchEntries
from exsim.errors import BadValue, ExsimError, WrongState
from exsim.listening import allInterfaces, serverEndpoint
from exsim.observe.inventory import TradeTape
from exsim.observe.web import pages, streams

#: Where the web view listens unless told otherwise.
DEFAULT_LISTEN = "tcp:8790:interface=127.0.0.1"

#: The files of C{/static/}.
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

#: Events the events page shows when it opens.
RECENT_EVENTS = pages.PAGE_EVENTS

#: Headers of every page: no framing, no sniffing, scripts and styles
#: from this server only, nothing cached.
HEADERS = (
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


def _secure(request):
    for name, value in HEADERS:
        request.setHeader(name, value)


class RecentEvents:
    """
    A tap of the event queue keeping the last L{RECENT_EVENTS} events for
    the events page (unconverted until the page opens).
    """

    def __init__(self, queue, size=RECENT_EVENTS):
        from collections import deque

        self.queue = queue
        self.size = size
        self._items = deque()
        self._count = 0
        queue.addTap(self)

    def entry(self, entry):
        self._add(entry, 1)

    def batch(self, firstId, time, engineName, engine, events):
        self._add((firstId, time, engineName, engine, events), len(events))

    def _add(self, item, count):
        self._items.append((item, count))
        self._count += count
        while self._count - self._items[0][1] >= self.size:
            self._count -= self._items.popleft()[1]

    def events(self):
        """
        The last events, oldest first, as dicts.
        """
        result = []
        for item, _ in self._items:
            result.extend([item] if isinstance(item, dict) else batchEntries(*item))
        return result[-self.size:]

    def stop(self):
        self.queue.removeTap(self)


class NotFoundPage(resource.Resource):
    """
    A 404 with a page of ours.
    """

    isLeaf = True

    def __init__(self, what="nothing here"):
        resource.Resource.__init__(self)
        self.what = what

    def render(self, request):
        request.setResponseCode(404)
        _secure(request)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return pages.notFound(self.what)


class Page(resource.Resource):
    """
    A page made by C{make()} (bytes, or None for a 404); a longer path is
    a 404.
    """

    isLeaf = True

    def __init__(self, make):
        resource.Resource.__init__(self)
        self.make = make

    def render_GET(self, request):
        if request.postpath not in ([], [b""]):
            return NotFoundPage().render(request)
        body = self.make()
        if body is None:
            return NotFoundPage().render(request)
        _secure(request)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return body


def _name(request):
    """
    The rest of the path as a name (book names and session ids may hold a
    C{/}), or None.
    """
    try:
        name = "/".join(segment.decode("utf-8") for segment in request.postpath)
    except UnicodeDecodeError:
        return None
    return name or None


class NamedPage(resource.Resource):
    """
    A page of a named thing: C{make(name)} (an L{ExsimError} or None: a
    404).
    """

    isLeaf = True

    def __init__(self, make, what):
        resource.Resource.__init__(self)
        self.make = make
        self.what = what

    def render_GET(self, request):
        name = _name(request)
        body = pages.safely(self.make, name) if name is not None else None
        if body is None:
            return NotFoundPage("no %s %r" % (self.what, name)).render(request)
        _secure(request)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return body


class StreamResource(resource.Resource):
    """
    C{/stream/KIND[/NAME]}: opens an L{streams.EventStream} made by
    C{open(request, name)} (an L{ExsimError}: a 404).
    """

    isLeaf = True

    def __init__(self, web, open, named):
        resource.Resource.__init__(self)
        self.web = web
        self.open = open
        self.named = named

    def render_GET(self, request):
        name = _name(request)
        if (name is None) == self.named:
            return NotFoundPage().render(request)
        _secure(request)
        try:
            stream = self.open(request, name)
        except ExsimError as e:
            return NotFoundPage(str(e)).render(request)
        self.web.streams.add(stream)
        request.notifyFinish().addBoth(lambda _: self.web.streams.discard(stream))
        return server.NOT_DONE_YET


class StaticFiles(static.File):
    """
    C{/static/}: files only, no directory listing.
    """

    def directoryListing(self):
        return NotFoundPage()

    childNotFound = NotFoundPage()

    def render_GET(self, request):
        _secure(request)
        request.setHeader(b"cache-control", b"no-cache")
        return static.File.render_GET(self, request)


class WebRoot(resource.Resource):
    """
    The root of the web view (what a logged-in user gets).
    """

    def __init__(self, web):
        resource.Resource.__init__(self)
        simulator = self.simulator = web.simulator
        clock = web.reactor
        self._children = {
            b"": Page(lambda: pages.overviewPage(simulator)),
            b"book": NamedPage(lambda name: pages.bookPage(simulator, name, web.tapes), "book"),
            b"session": NamedPage(lambda name: pages.sessionPage(simulator, name), "session"),
            b"events": Page(lambda: pages.eventsPage(web.recent.events())),
            b"static": StaticFiles(STATIC, defaultType="application/octet-stream"),
            b"stream": StreamRoot(web, clock),
        }

    def getChild(self, name, request):
        child = self._children.get(name)
        return child if child is not None else NotFoundPage()


class StreamRoot(resource.Resource):
    def __init__(self, web, clock):
        resource.Resource.__init__(self)
        simulator = web.simulator

        def overview(request, name):
            return streams.PollingStream(
                request, clock, lambda: pages.overviewParts(simulator), streams.OVERVIEW_INTERVAL
            )

        def book(request, name):
            pages.bookParts(simulator, name, web.tapes)  # a 404 if there is no such book
            return streams.PollingStream(
                request, clock, lambda: pages.bookParts(simulator, name, web.tapes),
                streams.BOOK_INTERVAL,
            )

        def session(request, name):
            return streams.SessionStream(request, clock, simulator, name)

        def events(request, name):
            return streams.EventsStream(request, clock, simulator.events)

        self._children = {
            b"overview": StreamResource(web, overview, False),
            b"book": StreamResource(web, book, True),
            b"session": StreamResource(web, session, True),
            b"events": StreamResource(web, events, False),
        }

    def getChild(self, name, request):
        child = self._children.get(name)
        return child if child is not None else NotFoundPage()


@implementer(portal.IRealm)
class WebRealm:
    """
    Gives every logged-in user the L{WebRoot}.
    """

    def __init__(self, root):
        self.root = root

    def requestAvatar(self, avatarId, mind, *interfaces):
        if IResource not in interfaces:
            raise NotImplementedError("the web view serves web resources only")
        return IResource, self.root, lambda: None


class _Peer:
    """
    What L{exsim.control.checker.LoginGuard} reads of a PB broker, for an
    HTTP request: its peer (a host failing to log in waits, whatever it
    tries it with).
    """

    def __init__(self, request):
        self.transport = self
        self._address = request.getClientAddress()

    def getPeer(self):
        return self._address


class BasicCredentials(guard.BasicCredentialFactory):
    """
    HTTP Basic credentials that carry their request's peer.
    """

    def decode(self, response, request):
        credentials = guard.BasicCredentialFactory.decode(self, response, request)
        credentials.broker = _Peer(request)
        return credentials


class WebSite(server.Site):
    """
    The site: no tracebacks in responses, no access log of its own.
    """

    displayTracebacks = False
    noisy = False

    def log(self, request):
        pass

    def logPrefix(self):
        """
        How Twisted names the listener in its port lines ("web view
        starting on 8790").
        """
        return "web view"


class WebService(service.Service):
    """
    The web view, listening on an endpoint string.

    @ivar port: the listening port, once listening.
    @ivar streams: the live update streams open.
    """

    log = Logger()

    def __init__(self, simulator, checker, listen=DEFAULT_LISTEN, reactor=None):
        self.setName("web")
        self.simulator = simulator
        self.reactor = reactor if reactor is not None else simulator.reactor
        self.listen = listen
        self.port = None
        self.streams = set()
        self.recent = None
        #: {engine name: L{TradeTape}} while running.
        self.tapes = {}
        self.root = WebRoot(self)
        wrapper = guard.HTTPAuthSessionWrapper(
            portal.Portal(WebRealm(self.root), [checker]), [BasicCredentials(b"exsim")]
        )
        self.site = WebSite(wrapper, reactor=self.reactor)
        self._listening = None
        self._failure = None

    def startService(self):
        if self.running:
            return
        service.Service.startService(self)
        if self.recent is None:
            self.recent = RecentEvents(self.simulator.events)
        for name, engine in self.simulator.engines.items():
            self._engineCreated(self.simulator, "engine", name, engine)
        self.simulator.observers.append(self._engineCreated)
        self._listening = self.startListening()
        self._listening.addErrback(self._ebListen)

    def _ebListen(self, failure):
        self.log.error(
            "web view cannot listen on {listen}: {error}", listen=self.listen,
            error=failure.getErrorMessage(),
        )
        # Told to whoever waits (whenListening), and kept for them.
        self._failure = failure
        return None

    def _engineCreated(self, simulator, kind, name, thing):
        """
        Keep the trade tape of every engine while running.
        """
        if kind != "engine":
            return
        old = self.tapes.pop(name, None)
        if old is not None:
            old.engine.unsubscribe(old)
        tape = self.tapes[name] = TradeTape(thing, self.reactor)
        thing.subscribe(tape)

    def startListening(self):
        """
        Listen now.

        @return: a Deferred firing with the port.
        """
        try:
            endpoint = serverEndpoint(self.reactor, self.listen)
        except (ValueError, TypeError, KeyError) as e:
            return defer.fail(BadValue("bad web listen endpoint %r: %s" % (self.listen, e)))

        def listening(port):
            self.port = port
            address = port.getHost()
            self.log.info(
                "web view on {scheme}://{host}:{port}/ (the management service's users)",
                scheme=self.scheme, host=getattr(address, "host", "?"),
                port=getattr(address, "port", "?"),
            )
            if allInterfaces(self.listen):
                self.log.warn(
                    "the web view listens on all interfaces ({listen}); add "
                    ":interface=127.0.0.1 to listen on loopback only{plain}", listen=self.listen,
                    plain="" if self.scheme == "https" else (
                        ", or serve it over TLS (ssl:...) so that passwords do not cross "
                        "the network readable"
                    ),
                )
            return port

        def failed(f):
            if f.check(BadValue):
                return f
            raise BadValue("the web view cannot listen on %r: %s" % (self.listen, f.getErrorMessage()))

        return endpoint.listen(self.site).addCallbacks(listening, failed)

    @property
    def scheme(self):
        """
        C{https} when the web view listens with TLS (an C{ssl:} endpoint
        string), else C{http}.
        """
        return "https" if self.listen.split(":", 1)[0].strip().lower() == "ssl" else "http"

    def whenListening(self):
        """
        A Deferred firing with (host, port) once listening.
        """
        if self.port is not None:
            return defer.succeed(self.address())
        if self._failure is not None:
            return defer.fail(self._failure)
        if self._listening is None:
            return defer.fail(WrongState("the web view is not started"))
        d = defer.Deferred()

        def done(result):
            if self._failure is not None:
                d.errback(self._failure)
            elif self.port is None:
                d.errback(WrongState("the web view stopped before it listened"))
            else:
                d.callback(self.address())
            return result

        self._listening.addBoth(done)
        return d

    def address(self):
        if self.port is None:
            raise WrongState("the web view is not listening")
        host = self.port.getHost()
        return (host.host, host.port)

    def stopService(self):
        service.Service.stopService(self)
        for stream in list(self.streams):
            stream.end()
        self.streams.clear()
        if self.recent is not None:
            self.recent.stop()
            self.recent = None
        if self._engineCreated in self.simulator.observers:
            self.simulator.observers.remove(self._engineCreated)
        for tape in self.tapes.values():
            tape.engine.unsubscribe(tape)
        self.tapes = {}
        port, self.port = self.port, None
        if port is not None:
            return port.stopListening()
        return None


def webChecker(simulator):
    """
    The checker of the management service's users (its login guard).

    @raise WrongState: if the simulator has no management service.
    """
    try:
        control = simulator.getServiceNamed("control")
    except KeyError:
        raise WrongState(
            "the web view logs users in as the management service does: the simulator "
            "has no management service ([control] section)"
        )
    factory = getattr(control, "factory", None)
    checker = getattr(factory, "guard", None)
    return checker if checker is not None else control.checker


def startWeb(simulator, listen=DEFAULT_LISTEN):
    """
    Start the web view of C{simulator} (L{exsim.service.Simulator.start_web}).

    @return: a Deferred firing with (host, port) once listening.
    """
    if not isinstance(listen, str) or not listen.strip():
        raise BadValue("listen must be an endpoint string such as %r, not %r" % (DEFAULT_LISTEN, listen))
    try:
        existing = simulator.getServiceNamed("web")
    except KeyError:
        existing = None
    if existing is not None:
        if existing.port is not None:
            raise WrongState("the web view already listens on %s:%d" % existing.address())
        existing.disownServiceParent()
    web = WebService(simulator, webChecker(simulator), listen.strip())
    web.setServiceParent(simulator)
    if not simulator.running:
        web.startService()
    d = web.whenListening()

    def failed(f):
        d2 = defer.maybeDeferred(web.disownServiceParent)
        return d2.addBoth(lambda _: f)

    return d.addErrback(failed)
