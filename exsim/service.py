# -*- test-case-name: tests.test_service -*-
"""
The simulator service: engines and endpoints by name, and the management
operations on them.

The management operations (C{create_engine}, C{create_book}, ...) are the
one place where configuration files (L{exsim.config}) and the control
service (L{exsim.control}) change the simulator; their names are the
user's contract (see README.rst) and stay snake_case.
"""

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from exsim import registry
from exsim.endpoint import Endpoint
from exsim.errors import BadValue, DuplicateName, UnknownName
from exsim.model import Instrument


def _name(value, what):
    if not isinstance(value, str) or not value.strip():
        raise BadValue("%s name must be a non-empty string, not %r" % (what, value))
    return value.strip()


class Simulator(service.MultiService):
    """
    The whole simulator.

    @ivar engines: {name: IEngine}
    @ivar endpoints: {name: L{Endpoint}}
    @ivar bookEngines: {book name: engine name}
    """

    log = Logger()

    def __init__(self, reactor):
        service.MultiService.__init__(self)
        self.reactor = reactor
        self.engines = {}
        self.endpoints = {}
        self.bookEngines = {}
        self.bookSymbols = {}
        #: callables (simulator, kind, name, object) told about every
        #: created engine/endpoint/book (the control event queue uses it).
        self.observers = []
        #: callables (eventType, fields) receiving session events.
        self.eventSinks = []

    gcPolicy = False
    _gcCall = None

    def startService(self):
        service.MultiService.startService(self)
        if self.gcPolicy:
            from exsim import gcpolicy

            self._gcCall = gcpolicy.install(self.reactor)

    def stopService(self):
        if self._gcCall is not None and self._gcCall.running:
            self._gcCall.stop()
        self._gcCall = None
        return service.MultiService.stopService(self)

    def reportEvent(self, eventType, **fields):
        """
        A session event from an endpoint; passed to every callable in
        C{eventSinks} as C{sink(eventType, fields)}.
        """
        for sink in list(self.eventSinks):
            sink(eventType, fields)

    def _tell(self, kind, name, thing):
        for observer in list(self.observers):
            observer(self, kind, name, thing)

    # -- engines -------------------------------------------------------------

    def create_engine(self, name, class_name="matching"):
        name = _name(name, "engine")
        if name in self.engines:
            raise DuplicateName("engine %r already exists" % (name,))
        factory = registry.lookup("engine", class_name or "matching")
        engine = factory(name, self.reactor)
        self.engines[name] = engine
        self._tell("engine", name, engine)
        return None

    def engine(self, name):
        try:
            return self.engines[name]
        except (KeyError, TypeError):
            raise UnknownName("unknown engine %r" % (name,))

    def delete_engine(self, name):
        engine = self.engine(name)
        users = sorted(n for n, e in self.endpoints.items() if e.engine is engine)
        if users:
            raise BadValue(
                "engine %r is used by endpoint(s) %s: delete them first"
                % (name, ", ".join(users))
            )
        for book in [b for b, e in self.bookEngines.items() if e == name]:
            self.delete_book(book, name)
        del self.engines[name]

    def set_engine_property(self, engine, name, value):
        self.engine(engine).setProperty(name, value)

    # -- books ---------------------------------------------------------------

    def create_book(self, name, engine, symbol=None):
        name = _name(name, "book")
        eng = self.engine(engine)
        if name in self.bookEngines:
            raise DuplicateName("book %r already exists" % (name,))
        symbol = _name(symbol or name, "symbol")
        if symbol in eng.books:
            raise DuplicateName("engine %r already has a book for %r" % (engine, symbol))
        book = eng.addBook(Instrument(symbol))
        self.bookEngines[name] = engine
        self.bookSymbols[name] = symbol
        self._tell("book", name, book)

    def book(self, name):
        """
        (engine, book) of the book called C{name}.
        """
        try:
            engineName = self.bookEngines[name]
        except (KeyError, TypeError):
            raise UnknownName("unknown book %r" % (name,))
        engine = self.engines[engineName]
        return engine, engine.getBook(self.bookSymbols[name])

    def set_book_property(self, book, name, value):
        engine, b = self.book(book)
        engine.setBookProperty(b.symbol, name, value)

    def delete_book(self, name, engine=None):
        eng, book = self.book(name)
        if engine is not None and self.bookEngines[name] != engine:
            raise UnknownName("engine %r has no book %r" % (engine, name))
        eng.removeBook(book.symbol)
        del self.bookEngines[name]
        del self.bookSymbols[name]

    def get_book(self, name, depth=10):
        """
        A depth snapshot: prices as decimal text.
        """
        engine, book = self.book(name)
        if depth is not None:
            try:
                depth = int(depth)
            except (TypeError, ValueError):
                raise BadValue("depth must be a whole number, not %r" % (depth,))
            if depth <= 0:
                raise BadValue("depth must be positive")
        text = lambda p: None if p is None else str(book.instrument.toDecimal(p))
        return {
            "symbol": book.symbol,
            "bids": [(text(p), q, c) for p, q, c in book.depth(True, depth)],
            "asks": [(text(p), q, c) for p, q, c in book.depth(False, depth)],
            "last": text(book.lastPrice),
            "last_quantity": book.lastQuantity,
            "volume": book.volume,
        }

    # -- endpoints -----------------------------------------------------------

    def create_endpoint(self, name, engine, protocol, **properties):
        name = _name(name, "endpoint")
        if name in self.endpoints:
            raise DuplicateName("endpoint %r already exists" % (name,))
        eng = self.engine(engine)
        family = registry.lookup("protocol", protocol)
        endpoint = Endpoint(name, eng, family, self.reactor, self)
        for key, value in properties.items():
            endpoint.setProperty(key, value)
        self.endpoints[name] = endpoint
        endpoint.setServiceParent(self)
        self._tell("endpoint", name, endpoint)
        if "listen" in properties:
            return self.start_endpoint(name)
        return None

    def endpoint(self, name):
        try:
            return self.endpoints[name]
        except (KeyError, TypeError):
            raise UnknownName("unknown endpoint %r" % (name,))

    def set_protocol_property(self, endpoint, name, value):
        self.endpoint(endpoint).setProperty(name, value)

    def start_endpoint(self, name):
        """
        @return: a Deferred firing with None once listening.
        """
        return self.endpoint(name).listen().addCallback(lambda _: None)

    def get_endpoint_address(self, name):
        return self.endpoint(name).address()

    def delete_endpoint(self, name):
        endpoint = self.endpoint(name)
        del self.endpoints[name]
        d = defer.maybeDeferred(endpoint.disownServiceParent)
        d.addCallback(lambda _: endpoint.close())
        return d.addCallback(lambda _: None)
