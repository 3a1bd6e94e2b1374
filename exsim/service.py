# -*- test-case-name: tests.test_control_operations -*-
"""
The simulator service: engines and endpoints by name, and the management
operations on them.

The management operations (C{create_engine}, C{create_book}, ...) are the
one place where configuration files (L{exsim.config}) and the control
service (L{exsim.control}) change the simulator; their names are the
user's contract (docs/api.rst) and stay snake_case.
"""

import os

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from exsim import registry, sessioncontrol
from exsim.control.queue import PAGE_SIZE, EventQueue, formatPrice
from exsim.datadir import resolve
from exsim.endpoint import Endpoint
from exsim.errors import BadValue, ConfigError, DuplicateName, UnknownName, WrongState
from exsim.interfaces import (
    IEngineAdmin,
    IEngineEvents,
    IHouseOrders,
    IManagedOrders,
    IMarketPhases,
    IOrderEntry,
)
from exsim.journal import Journal, orderOf, parseSync
from exsim.model import (
    AdvancedTerms,
    Instrument,
    Order,
    OrdStatus,
    OrdType,
    RejectReason,
    Side,
    TimeInForce,
)
from exsim.observe.inventory import Inspection
from exsim.owners import houseOwner
from exsim.replay import Replays
from exsim.roles import roleOf
from exsim.values import parseBoolean

#: The owner of orders entered through the management API (C{"house"}).
HOUSE = houseOwner()

#: Properties of a house order, in the order they are documented.
ORDER_PROPERTIES = (
    "side", "price", "quantity", "order_type", "time_in_force", "expire_time", "stop_price",
    "display_quantity", "min_quantity", "post_only", "stp_id",
)

#: Properties of a quote.
QUOTE_PROPERTIES = ("bid_price", "bid_size", "ask_price", "ask_size")


def _name(value, what):
    if not isinstance(value, str) or not value.strip():
        raise BadValue("%s name must be a non-empty string, not %r" % (what, value))
    if not value.strip().isprintable():
        # Names reach the wire (symbols, house orders' client order ids):
        # a control character, FIX's SOH above all, would break a message.
        raise BadValue("%s name must be printable text, not %r" % (what, value))
    return value.strip()



def _statusReason(reason):
    """
    A halt or delay reason as given (None stays None), checked: it reaches
    the wire (FIX Text, ITCH).
    """
    if reason is None:
        return None
    reason = str(reason)
    if not reason.isprintable() or len(reason) > 100:
        raise BadValue("reason must be printable text of at most 100 characters, not %r" % (reason,))
    return reason

class Simulator(service.MultiService, Inspection):
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
        #: what get_events drains: every engine and session event.
        self.events = EventQueue(reactor)
        self.eventSinks.append(self.events.sessionEvent)
        #: {order id: L{HouseOrder}}
        self.houseOrders = {}
        #: {quote id: L{Quote}}
        self.quotes = {}
        self._houseSerial = 0
        #: Where stores, journals and message logs live (set at start:
        #: C{--data-dir} or C{[control] data_dir}; see L{exsim.datadir}).
        self.dataDir = os.getcwd()
        #: Whether C{dataDir} was given on the command line (it wins over
        #: C{[control] data_dir}).
        self.dataDirFixed = False
        #: Interfaces besides loopback the management API may listen on
        #: (C{[control] allow_listen}; C{"*"}: any).
        self.allowListen = ()
        #: {engine name: its class name}, and the entry times of its
        #: orders (L{exsim.observe.inventory}).
        self.engineClasses = {}
        self.engineNotes = {}
        self.observers.append(self.noteEngine)
        #: the replays, by book (L{exsim.replay.Replays}).
        self.replays = Replays(self)
        #: {feed name: L{exsim.fix.feed.Feed}}
        self.feeds = {}
        #: {engine name: L{exsim.journal.Journal}}
        self.journals = {}
        self._journalSync = {}
        #: {engine name: L{exsim.policy.runner.PolicyRunner}}
        self.policies = {}

    gcPolicy = False
    _gcCall = None

    #: Whether endpoints told to listen before the simulator starts bind
    #: their ports only when it starts (L{exsim.tap} sets it: twistd's
    #: start-up lines come first, and ports are bound in
    #: C{privilegedStartService}, as Twisted's strports services are).
    listenAtStart = False
    #: Called with the L{ConfigError} when such an endpoint cannot bind
    #: its port at start (L{exsim.tap} logs it and exits); None: raised.
    listenFailed = None

    def privilegedStartService(self):
        self._listenHeld()
        service.MultiService.privilegedStartService(self)

    def _listenHeld(self):
        """
        Bind the ports that L{listenAtStart} held, in name order.

        @raise ConfigError: naming the endpoint's C{listen} line (when a
            configuration set it) and why its port cannot be bound.
        """
        for name in sorted(self.endpoints):
            endpoint = self.endpoints[name]
            if endpoint.heldListen is None:
                continue
            failures = []
            endpoint.listenHeld().addErrback(failures.append)
            if failures:
                filename, lineno = endpoint.listenOrigin or (None, None)
                error = ConfigError(failures[0].getErrorMessage(), filename, lineno)
                if self.listenFailed is not None:
                    self.listenFailed(error)
                raise error

    def startService(self):
        self._listenHeld()
        service.MultiService.startService(self)
        if self.gcPolicy:
            from exsim import gcpolicy

            self._gcCall = gcpolicy.install(self.reactor)
        running = self._announce
        whenRunning = getattr(self.reactor, "callWhenRunning", None)
        if whenRunning is None:
            running()
        else:
            whenRunning(running)

    def _announce(self):
        """
        Once running: where each configured endpoint listens, one line each,
        then a summary; a warning when nothing is configured.
        """
        for name in sorted(self.endpoints):
            endpoint = self.endpoints[name]
            if endpoint.listening:
                endpoint.announce()
        control = self.namedServices.get("control")
        if not self.engines and not self.endpoints and control is None:
            self.log.warn(
                "nothing is configured: no engine, no endpoint, no management service "
                "(etc/sim.ini is a documented example)"
            )
        self.log.info(
            "exsim running: engines {engines}; endpoints {endpoints}",
            engines=", ".join(sorted(self.engines)) or "none",
            endpoints=", ".join(sorted(self.endpoints)) or "none",
        )

    def stopService(self):
        from exsim.engine.activity import stopAll

        if self._gcCall is not None:
            from exsim import gcpolicy

            gcpolicy.uninstall(self._gcCall)
        self._gcCall = None
        # Background activity, market makers, policies, RFQ desks, replays
        # and feeds leave no timer behind.
        from exsim.rfq.desk import existingDesk

        for engine in self.engines.values():
            stopAll(engine)
            desk = existingDesk(engine)
            if desk is not None:
                desk.stop()
            phases = IMarketPhases(engine, None)
            if phases is not None:
                phases.stopTimers()
        for runner in self.policies.values():
            runner.cancelPending()
        self.replays.halt()
        for feed in self.feeds.values():
            feed.stop()
        d = service.MultiService.stopService(self)
        for journal in self.journals.values():
            journal.close()
        return d

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
        """
        Create an engine called C{name}.

        @param class_name: the engine class: C{"matching"} (price-time
            matching), or a class a plugin registered (C{exsim.register}).
        """
        name = _name(name, "engine")
        if name in self.engines:
            raise DuplicateName("engine %r already exists" % (name,))
        factory = registry.lookup("engine", class_name or "matching")
        engine = factory(name, self.reactor)
        what = "engine class %r" % (class_name,)
        roleOf(engine, IEngineAdmin, what)
        roleOf(engine, IEngineEvents, what)
        self.engines[name] = engine
        self.engineClasses[name] = class_name or "matching"
        self.events.watchEngine(name, engine)
        self._tell("engine", name, engine)
        return None

    def engine(self, name):
        try:
            return self.engines[name]
        except (KeyError, TypeError):
            raise UnknownName("unknown engine %r" % (name,))

    def delete_engine(self, name):
        """
        Delete an engine with its books; refused (C{BadValue}) while an
        endpoint uses it.
        """
        engine = self.engine(name)
        users = sorted(n for n, e in self.endpoints.items() if e.engine is engine)
        if users:
            raise BadValue(
                "engine %r is used by endpoint(s) %s: delete them first"
                % (name, ", ".join(users))
            )
        for book in [b for b, e in self.bookEngines.items() if e == name]:
            self.delete_book(book, name)
        self.events.unwatchEngine(name)
        runner = self.policies.pop(name, None)
        if runner is not None:
            runner.stop()
        from exsim.rfq.desk import existingDesk

        desk = existingDesk(engine)
        if desk is not None:
            desk.stop()
        phases = IMarketPhases(engine, None)
        if phases is not None:
            # Schedules and the indicative timer.
            phases.stopTimers()
        journal = self.journals.pop(name, None)
        if journal is not None:
            engine.unsubscribe(journal)
            journal.close()
        del self.engines[name]
        self.engineClasses.pop(name, None)
        times = self.engineNotes.pop(name, None)
        if times is not None:
            engine.unsubscribe(times)

    def set_engine_property(self, engine, name, value):
        """
        Set an engine property: C{mode} (C{auto}: the engine matches;
        C{managed}: it holds every order request from the wire until the
        test answers it), C{policy} (what answers held requests by itself:
        C{hold}, C{accept}, C{fill}, C{reject}, C{rules} or a registered
        name), C{reject_text}, C{journal} (a directory: the engine's orders
        survive a restart), C{journal_sync} (C{none}, C{batch},
        C{always}), or one the engine class knows (see the configuration
        reference).
        """
        eng = self.engine(engine)
        if name == "policy":
            self._policy(engine).setPolicy(value)
        elif name == "reject_text":
            self._policy(engine).setRejectText(value)
        elif name == "journal":
            self._openJournal(engine, eng, value)
        elif name == "journal_sync":
            sync = parseSync(value)
            self._journalSync[engine] = sync
            journal = self.journals.get(engine)
            if journal is not None:
                journal.sync = sync
        else:
            eng.setProperty(name, value)

    def dataPath(self, name, what):
        """
        The path of C{name} under the data directory.

        @raise BadValue: for an absolute path or one leaving it.
        """
        return resolve(self.dataDir, name, what)

    def _policy(self, name):
        """
        The L{exsim.policy.runner.PolicyRunner} of engine C{name}, made on
        first use.
        """
        runner = self.policies.get(name)
        if runner is None:
            from exsim.policy.runner import PolicyRunner

            runner = PolicyRunner(name, self.engine(name), self.reportEvent)
            self.policies[name] = runner
        return runner

    def add_policy_rule(self, engine, rule):
        """
        Add a rule at the end of C{engine}'s rules, which answer its held
        requests while its C{policy} is C{rules}: the first rule whose
        condition matches answers (e.g. C{symbol = AAPL and quantity > 1000
        -> reject "size limit"}; the language is on the policies page).
        Control event C{policy_answered} for every answer.

        @return: the rule's number (from 1).
        @raise BadValue: for a bad rule, naming the position of the
            problem; nothing is added.
        """
        runner = self._policy(engine)
        runner.addRule(rule)
        return len(runner.rules)

    def list_policy_rules(self, engine):
        """
        The rules of C{engine}, in order, as text.
        """
        self.engine(engine)
        runner = self.policies.get(engine)
        return [] if runner is None else [rule.text for rule in runner.rules]

    def clear_policy_rules(self, engine):
        """
        Remove every rule of C{engine} (answers already scheduled still
        happen).
        """
        self.engine(engine)
        runner = self.policies.get(engine)
        if runner is not None:
            runner.clearRules()

    def _openJournal(self, name, engine, directory):
        if name in self.journals:
            raise WrongState("engine %r has a journal already" % (name,))
        journal = Journal(
            engine, self.dataPath(directory, "journal"), self._journalSync.get(name, "none")
        )
        self.journals[name] = journal
        engine.subscribe(journal, first=True)
        self._restoreFromJournal(name, engine)

    def _restoreFromJournal(self, name, engine):
        """
        Restore what the engine's journal holds of the books it has now
        (books created later are restored when they are).
        """
        journal = self.journals.get(name)
        if journal is None:
            return
        state = journal.restored
        usedIds = state.usedIds() if not journal.restoredIds else ()
        journal.restoredIds = True
        orders = []
        for symbol in list(engine.books):
            if symbol in journal.restoredBooks:
                continue
            journal.restoredBooks.add(symbol)
            orders.extend(orderOf(record) for record in state.live(symbol))
        journal.muted = True
        try:
            engine.restoreOrders(
                orders, usedIds, (state.maxOrderId, state.maxExecId, state.maxTradeId)
            )
        finally:
            journal.muted = False
        if orders:
            self.log.info(
                "engine {engine}: {count} live orders restored from {path}",
                engine=name, count=len(orders), path=journal.path,
            )

    # -- books ---------------------------------------------------------------

    def create_book(self, name, engine, symbol=None):
        """
        Create a book on C{engine} trading C{symbol} (default: the book's
        name), with the C{standard} behaviour until L{set_book_property}
        says otherwise.
        """
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
        self._restoreFromJournal(engine, eng)

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
        """
        Set a book property: C{behaviour}, C{tick_size}, C{reference_price},
        a behaviour's parameter, the market activity's and the market
        maker's (see the configuration reference).
        """
        engine, b = self.book(book)
        instrument = b.instrument
        if name == "reference_price":
            # Trades happen at the reference price (auto_fill market
            # orders, activity): it must be a price an order could have.
            _price(instrument, value, "reference_price")
        elif name == "tick_size" and b.referencePrice is not None:
            try:
                tick = instrument.toInternal(value)
            except BadValue:
                tick = 0
            if tick > 0 and b.referencePrice % tick:
                raise BadValue(
                    "tick_size %s would put the reference_price %s off the tick grid"
                    % (value, formatPrice(instrument, b.referencePrice))
                )
        engine.setBookProperty(b.symbol, name, value)

    def delete_book(self, name, engine=None):
        """
        Delete a book: its orders are cancelled and its house orders and
        quotes forgotten.  With C{engine}, the book must be that engine's.
        """
        eng, book = self.book(name)
        if engine is not None and self.bookEngines[name] != engine:
            raise UnknownName("engine %r has no book %r" % (engine, name))
        users = sorted(
            n for n, f in self.feeds.items() if f.engine is eng and book.symbol in f.mirrors
        )
        if users:
            raise BadValue(
                "book %r is mirrored by feed(s) %s: delete them first" % (name, ", ".join(users))
            )
        self.replays.forget(name)
        eng.removeBook(book.symbol)
        del self.bookEngines[name]
        del self.bookSymbols[name]
        for table in (self.houseOrders, self.quotes):
            for key in [k for k, v in table.items() if v.book == name]:
                del table[key]

    def load_instruments(self, engine, path):
        """
        Load reference data from a file under the simulator's data
        directory (C{path} names it there: no absolute path, no C{..}): a
        CSV file with a header row or a JSON array of objects, one instrument
        a row, with the columns C{symbol} (required), C{tick_size} or
        C{tick_table}, C{lot_size}, C{price_decimals}, C{reference_price},
        C{currency}, C{security_id}, C{security_id_source} and C{name}
        (the reference data page says what each means).  Each row creates
        a book named by its symbol on C{engine}, or updates the engine's
        book of that symbol.  Every row is checked first: an unknown
        column, a bad value or a repeated symbol is a C{BadValue} naming
        the file, line and column, and nothing is created or changed.

        @return: C{{"created": number of books created, "updated": number
            updated}}.
        """
        from exsim.instruments import loadInstruments

        self.engine(engine)
        return loadInstruments(self, engine, self.dataPath(path, "an instruments file"), path)

    def get_book(self, name, depth=10, hidden=False):
        """
        A depth snapshot of a book, best prices first, prices as decimal
        text: C{{"symbol", "bids": [(price, quantity, order count), ...],
        "asks": [...], "last", "last_quantity", "volume"}}.  The levels
        show displayed quantities, as a market data feed does: an iceberg
        counts with its displayed slice, hidden orders and midpoint pegs
        not at all.

        @param depth: price levels per side, at most 1000.
        @param hidden: if true, also C{"hidden_bids"} and C{"hidden_asks"}:
            the quantity that is not displayed, by price (hidden orders,
            iceberg reserves, pegs), as (price, quantity, order count).
        """
        engine, book = self.book(name)
        if depth is not None:
            try:
                depth = int(depth)
            except (TypeError, ValueError):
                raise BadValue("depth must be a whole number, not %r" % (depth,))
            if depth <= 0:
                raise BadValue("depth must be positive")
            if depth > PAGE_SIZE:
                raise BadValue("depth must be at most %d" % (PAGE_SIZE,))
        def text(price):
            return None if price is None else formatPrice(book.instrument, price)

        result = {
            "symbol": book.symbol,
            "bids": [(text(p), q, c) for p, q, c in book.depth(True, depth)],
            "asks": [(text(p), q, c) for p, q, c in book.depth(False, depth)],
            "last": text(book.lastPrice),
            "last_quantity": book.lastQuantity,
            "volume": book.volume,
        }
        if parseBoolean("hidden", hidden):
            hiddenDepth = getattr(book, "hiddenDepth", None)
            for key, isBuy in (("hidden_bids", True), ("hidden_asks", False)):
                levels = [] if hiddenDepth is None else hiddenDepth(isBuy, depth)
                result[key] = [(text(p), q, c) for p, q, c in levels]
        phases = IMarketPhases(engine, None)
        if phases is not None:
            result["phase"] = book.phase
            if book.phase == "halted":
                result["halt_reason"] = book.haltReason
                result["paused"] = book.paused
            if book.openingDelayed:
                result["opening_delayed"] = True
                result["delay_reason"] = book.delayReason
            indicative = phases.indicative(book.symbol)
            if indicative is not None:
                side = indicative.imbalanceSide
                result["indicative"] = {
                    "auction": indicative.auction,
                    "price": text(indicative.price),
                    "paired": indicative.paired,
                    "imbalance": indicative.imbalance,
                    "imbalance_side": None if side is None else side.name.lower(),
                    "far_price": text(indicative.farPrice),
                    "current_reference_price": text(indicative.currentReferencePrice),
                }
        return result

    # -- replay ----------------------------------------------------------------

    def start_replay(self, book, source, speed=1, start=None, format=None, price_scale=None):
        """
        Replay a recorded market into a book: C{source} names a file
        under the simulator's data directory (no absolute path, no C{..}),
        an ITCH 5.0 file (each message preceded by its
        two-byte length, as Nasdaq publishes them; gzip accepted) of which
        the book's symbol is replayed, a LOBSTER message file, or a CSV of
        quotes and trades (the replay page says what each holds).  Its
        orders, of owner C{replay/<symbol>}, rest in the book, show on
        every feed and trade with the applications' orders; what clients
        take of them the recording's later messages cannot take again
        (counted as conflicts).  The file's start is checked at once (an
        unknown format, a symbol not in the file, a truncated or corrupt
        file are C{BadValue}s); a problem found later stops the replay,
        cancels its orders and is reported in C{replay_finished}.  Control
        events: C{replay_started}, C{replay_finished}.

        @param speed: a multiple of recorded time (C{1}: as recorded,
            C{10}: ten times as fast) on the reactor's clock, or C{max}.
        @param start: a recorded time of day (C{HH:MM:SS[.fraction]} or
            seconds after midnight): what comes before is applied at once,
            then the replay runs at C{speed}.
        @param format: C{itch}, C{lobster} or C{quotes} (default: found
            from the file's first bytes).
        @param price_scale: a LOBSTER file's price units per currency unit
            (default 10000).
        """
        self.book(book)
        path = self.dataPath(source, "a replay source")
        self.replays.start(book, path, speed, start, format, price_scale, source)

    def pause_replay(self, book):
        """
        Pause the book's replay; its orders stay in the book.
        """
        self.replays.pause(book)

    def resume_replay(self, book):
        """
        Resume a paused replay where it was, at its speed, from now.
        """
        self.replays.resume(book)

    def stop_replay(self, book):
        """
        Stop the book's replay and cancel its orders still in the book (a
        replay that reaches the end of its recording leaves its orders).
        """
        self.replays.stop(book)

    def get_replay(self, book):
        """
        The book's replay (running, paused or ended): C{book}, C{symbol},
        C{source}, C{format}, C{state} (C{running}, C{paused},
        C{finished}, C{stopped}, C{failed}), C{speed}, C{start},
        C{position} (the recorded time reached, C{HH:MM:SS.nnnnnnnnn}),
        C{error}, and counts: C{messages} applied, C{orders} entered,
        C{executions}, C{cancels}, C{replaces}, C{trades} (recorded trades
        with no replayed order, which move the last price), C{quotes},
        C{conflicts}, C{rejected} (recorded orders the book refused, e.g.
        off its tick grid), C{unknown} (messages about orders the replay
        does not know), C{live_orders}.
        """
        return self.replays.get(book).describe()

    # -- live feeds ----------------------------------------------------------

    def create_feed(self, name, engine, **properties):
        """
        Mirror live FIX market data into books of C{engine}: exsim
        connects as a FIX initiator to C{connect} (an endpoint string,
        C{tcp:HOST:PORT}), logs on, asks for the full depth of C{symbols}
        (a comma list: each the symbol of a book of C{engine}, and the
        source's symbol) with incremental updates, and mirrors each level
        as an order of the owner C{feed/<name>} that trades with the
        applications' orders.  It reconnects with back-off when the source
        drops.  Other C{properties}: C{sender_comp_id}, C{target_comp_id},
        C{begin_string}, C{default_appl_ver_id}, C{heartbeat_interval},
        C{username}, C{password}, C{depth}, C{reconnect_delay},
        C{max_reconnect_delay}, C{trades} (the live data page says what
        each means).  Control events: C{feed_state} at each change of
        state.
        """
        from exsim.fix.feed import Feed, parseProperties

        name = _name(name, "feed")
        if name in self.feeds:
            raise DuplicateName("feed %r already exists" % (name,))
        eng = self.engine(engine)
        values = parseProperties(properties)
        for symbol in values["symbols"]:
            eng.getBook(symbol)
            for other, feed in sorted(self.feeds.items()):
                if feed.engine is eng and symbol in feed.mirrors:
                    raise WrongState(
                        "book %r of engine %r is mirrored by feed %r already" % (symbol, engine, other)
                    )
        feed = Feed(name, engine, eng, values, self.reactor, self.reportEvent)
        self.feeds[name] = feed
        feed.start()

    def feed(self, name):
        try:
            return self.feeds[name]
        except (KeyError, TypeError):
            raise UnknownName("unknown feed %r" % (name,))

    def delete_feed(self, name):
        """
        Stop a feed: log out, disconnect, cancel its mirrored orders.
        """
        feed = self.feed(name)
        feed.stop()
        del self.feeds[name]

    def get_feed(self, name):
        """
        A feed's state and counts: C{feed}, C{engine}, C{connect},
        C{symbols}, C{state} (C{connecting}, C{logging_on}, C{subscribed},
        C{disconnected}), C{text} (why, for a disconnection or a reject),
        C{live_orders}, and counts: C{connections}, C{messages} (market
        data received), C{snapshots}, C{updates}, C{orders} entered,
        C{trades}, C{conflicts}, C{rejected}, C{gaps}.
        """
        return self.feed(name).describe()

    # -- endpoints -----------------------------------------------------------

    def create_endpoint(self, name, engine, protocol, **properties):
        """
        Create an endpoint: one listener speaking C{protocol} (C{fix},
        C{ouch}, C{itch} or one a plugin registered) for C{engine}.
        C{properties} as L{set_protocol_property}.  With a C{listen}
        property it starts listening at once, and is not created if that
        fails.
        """
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
            # A failing operation changes nothing: no listener, no endpoint.
            def failed(f):
                self.endpoints.pop(name, None)
                d = defer.maybeDeferred(endpoint.disownServiceParent)
                d.addBoth(lambda _: endpoint.close())
                return d.addBoth(lambda _: f)

            return self.start_endpoint(name).addErrback(failed)
        return None

    def endpoint(self, name):
        try:
            return self.endpoints[name]
        except (KeyError, TypeError):
            raise UnknownName("unknown endpoint %r" % (name,))

    def set_protocol_property(self, endpoint, name, value):
        """
        Set an endpoint property (the common C{listen} and C{users}, or one
        of the endpoint's protocol: see the configuration reference).
        """
        self.endpoint(endpoint).setProperty(name, value)

    def start_endpoint(self, name):
        """
        Start listening; C{WrongState} if the endpoint already is.

        @return: a Deferred firing with None once listening.
        """
        return self.endpoint(name).listen().addCallback(lambda _: None)

    def get_endpoint_address(self, name):
        """
        The address the endpoint is bound to (C{listen = tcp:0:...} picks a
        port); C{WrongState} if it is not listening.

        @return: C{(host, port)}.
        """
        return self.endpoint(name).address()

    def delete_endpoint(self, name):
        """
        Stop listening and drop the endpoint's connections.
        """
        endpoint = self.endpoint(name)
        del self.endpoints[name]
        d = defer.maybeDeferred(endpoint.disownServiceParent)
        d.addCallback(lambda _: endpoint.close())
        return d.addCallback(lambda _: None)

    # -- sessions ------------------------------------------------------------

    def list_sessions(self, endpoint=None):
        """
        Every session of every endpoint (or of C{endpoint}), sorted by
        session id: every connected session, and the sessions of the day
        that are logged out but remembered (FIX sessions and their stores,
        OUCH usernames), listed as C{disconnected}.  FIX sessions with a
        memory store that logged out with nothing left for them are
        forgotten beyond the endpoint's C{max_logged_out_sessions}.

        @return: one dict per session.  Fields: C{session}, C{endpoint},
            C{protocol}, C{peer} (C{host:port}, or None), C{state}
            (C{logging_on}, C{active}, C{logging_out}, C{disconnected}); FIX:
            C{begin_string}, C{sender_comp_id} and C{target_comp_id} (as the
            client sends them), C{next_in_seq}, C{next_out_seq},
            C{heartbeat_interval}; SoupBinTCP: C{username}, C{session_name},
            C{next_seq} (of the next sequenced message); and the session's
            control: C{hold}, C{heartbeats}, C{latency} (in force, as text, or
            None), C{queued_out} (messages waiting for latency or hold),
            C{queued_in} (messages waiting for the throttle), C{pending_drop},
            C{pending_garble}.
        """
        if endpoint is None:
            endpoints = [self.endpoints[name] for name in sorted(self.endpoints)]
        else:
            endpoints = [self.endpoint(endpoint)]
        return sessioncontrol.listSessions(endpoints)

    def _session(self, session):
        return sessioncontrol.findSession(list(self.endpoints.values()), session)

    def disconnect_session(self, session):
        """
        Close the session's connection at once, without a Logout (a session
        still logging on too).
        """
        self._session(session).disconnect()

    def logout_session(self, session, text=None):
        """
        Log the session out.  FIX: a Logout with C{text}; the connection
        closes when the client answers, or after C{logout_timeout}.
        SoupBinTCP: a Debug packet with C{text} (if given), End of Session,
        close.
        """
        handle = self._session(session)
        if text is not None and (not isinstance(text, str) or not text.isprintable()):
            raise BadValue("logout text must be printable text, not %r" % (text,))
        handle.logout(text or None)

    def send_raw(self, session, data):
        """
        Write C{data} on the session's connection exactly as given: no
        framing, no sequence number.  Text is sent one byte a character
        (Latin-1); in FIX text C{|} stands for SOH.  Bytes (from Python) go
        as they are.
        """
        self._session(session).sendRaw(data)

    def inject_fault(self, session, fault, count=1):
        """
        Make an active session (C{WrongState} otherwise) misbehave, C{count}
        times (1 to 1,000,000): C{gap}, C{drop}, C{duplicate}, C{garble} or
        C{resend_request} (the session control page says what each does;
        SoupBinTCP sessions take C{drop} and C{duplicate} only).  Emits a
        C{session_fault} event (C{fault}, C{count}).
        """
        handle = self._session(session)
        handle.injectFault(sessioncontrol.parseFault(fault), sessioncontrol.parseCount(count))

    def set_session_property(self, session, name, value):
        """
        Set a property of this session only: C{next_in_seq},
        C{next_out_seq}, C{hold}, C{heartbeats} or C{latency} (the session
        control page says what each does).
        """
        handle = self._session(session)
        handle.setProperty(name, sessioncontrol.parseSessionProperty(name, value))

    # -- events --------------------------------------------------------------

    def get_events(self, max_count=None):
        """
        Remove and return queued events, oldest first, as a list of dicts
        (see Events): at most C{max_count}, and at most 1000
        (L{exsim.control.queue.PAGE_SIZE}) per call.  The clients fetch every page
        when C{max_count} is None; they call a twin, C{get_events_json},
        that sends the same page as one JSON text, because Banana decodes
        long lists of dicts slowly.
        """
        return self.events.get(max_count)

    # -- house orders --------------------------------------------------------

    def _instrument(self, bookName):
        return self.book(bookName)[1].instrument

    def _houseClOrdId(self, base):
        self._houseSerial += 1
        return "%s#%d" % (base, self._houseSerial)

    def create_order(self, order_id, book_name, **properties):
        """
        Create a house order (owner C{"house"}) on a book; C{properties}
        as L{set_order_property}.  Nothing reaches the book before
        L{submit_order}.
        """
        order_id = _name(order_id, "order")
        if order_id in self.houseOrders:
            raise DuplicateName("order %r already exists" % (order_id,))
        self.book(book_name)
        house = HouseOrder(order_id, book_name)
        for key, value in properties.items():
            house.set(self._instrument(book_name), key, value)
        self.houseOrders[order_id] = house

    def houseOrder(self, order_id):
        try:
            return self.houseOrders[order_id]
        except (KeyError, TypeError):
            raise UnknownName("unknown order %r" % (order_id,))

    def set_order_property(self, order_id, name, value):
        """
        Set one property of a house order: C{side}, C{price}, C{quantity},
        C{order_type} (C{limit}, C{market}, C{stop}, C{stop_limit},
        C{pegged}: a midpoint peg, C{price} its limit), C{time_in_force},
        C{expire_time}, C{stop_price}, C{display_quantity} (0: hidden),
        C{min_quantity}, C{post_only}, C{stp_id}.  It takes effect at the
        next L{submit_order}.
        """
        house = self.houseOrder(order_id)
        house.set(self._instrument(house.book), name, value)

    def _liveHouse(self, engine, orderId):
        if orderId is None:
            return None
        order = engine.getOrder(orderId)
        if order is None or order.owner != HOUSE or order.isDone:
            return None
        return order

    def submit_order(self, order_id):
        """
        Send a house order to its book.  It follows the book's behaviour and
        matches against wire orders like any order (house orders are never
        held in managed mode).  While it is live, submitting again replaces
        it with the current price and quantity (C{quantity} is then what
        should remain open); changing its side, type or time in force needs
        L{delete_order} first.  Once it is done, submitting again enters a
        new order.  A reject by the book is a C{BadValue} naming the reason.
        """
        house = self.houseOrder(order_id)
        engine, book = self.book(house.book)
        instrument = book.instrument
        fields = house.orderFields(instrument)
        engine = roleOf(engine, IHouseOrders, "submit_order")
        live = self._liveHouse(engine, house.orderId)
        if live is None:
            clOrdId = self._houseClOrdId(order_id)
            order = Order(HOUSE, clOrdId, book.symbol, **fields)
            events = _submit(engine, lambda: engine.submitNew(order, neverHeld=True))
            house.orderId = order.orderId
            house.submitted = fields
            _raiseRejected(events, "order %r" % (order_id,))
            return None
        for key in ("side", "ordType", "timeInForce", "expireTime"):
            if fields[key] != house.submitted[key]:
                raise WrongState(
                    "order %r is live: only its price and quantity can change "
                    "(delete_order it first)" % (order_id,)
                )
        if house.termsOf(fields) != house.termsOf(house.submitted):
            raise WrongState(
                "order %r is live: only its price, quantity and stop price can change "
                "(delete_order it first)" % (order_id,)
            )
        price = fields["price"]
        quantity = live.cumQty + fields["quantity"]
        current = live.price
        extra = live.extra
        if live.ordType is OrdType.PEGGED:
            current = extra.cap
        stopPx = fields["extra"].stopPx if fields["extra"] is not None else None
        if stopPx == (extra.stopPx if extra is not None else None):
            stopPx = None
        if price == current and quantity == live.quantity and stopPx is None:
            return None
        kw = {} if stopPx is None else {"stopPx": stopPx}
        events = _submit(
            engine,
            lambda: engine.submitReplace(
                HOUSE, self._houseClOrdId(order_id), orderId=live.orderId,
                price=None if price == current else price, quantity=quantity, neverHeld=True, **kw
            ),
        )
        house.submitted = fields
        _raiseRejected(events, "order %r" % (order_id,))
        return None

    def delete_order(self, order_id):
        """
        Cancel a house order if it is live, and forget it.
        """
        house = self.houseOrder(order_id)
        engine, book = self.book(house.book)
        live = self._liveHouse(engine, house.orderId)
        if live is not None:
            roleOf(engine, IHouseOrders, "delete_order").submitCancel(
                HOUSE, self._houseClOrdId(order_id), orderId=live.orderId, neverHeld=True
            )
        del self.houseOrders[order_id]

    # -- quotes --------------------------------------------------------------

    def create_quote(self, quote_id, engine, book_name, **properties):
        """
        Create a two-sided house quote on a book of C{engine}; C{properties}
        as L{set_quote_property}.
        """
        quote_id = _name(quote_id, "quote")
        if quote_id in self.quotes:
            raise DuplicateName("quote %r already exists" % (quote_id,))
        self.engine(engine)
        self.book(book_name)
        if self.bookEngines[book_name] != engine:
            raise UnknownName("engine %r has no book %r" % (engine, book_name))
        quote = Quote(quote_id, book_name)
        for key, value in properties.items():
            quote.set(self._instrument(book_name), key, value)
        self.quotes[quote_id] = quote

    def quote(self, quote_id):
        try:
            return self.quotes[quote_id]
        except (KeyError, TypeError):
            raise UnknownName("unknown quote %r" % (quote_id,))

    def set_quote_property(self, quote_id, name, value):
        """
        Set C{bid_price}, C{bid_size}, C{ask_price} or C{ask_size}; it takes
        effect at the next L{submit_quote}.
        """
        quote = self.quote(quote_id)
        quote.set(self._instrument(quote.book), name, value)

    def submit_quote(self, quote_id):
        """
        Put the quote in the book: each side with a size becomes a house
        order.  Submitting again replaces both sides: everything is checked
        first (a crossed quote, a price off the tick grid, a size without a
        price are C{BadValue}), so either both sides change or neither; the
        side moving towards the other moves second, so the two never trade
        with each other.  Each side is a separate engine command, so market
        data shows two updates.
        """
        quote = self.quote(quote_id)
        engine, book = self.book(quote.book)
        engine = roleOf(engine, IHouseOrders, "submit_quote")
        plan = quote.plan(book.instrument)
        live = {side: self._liveHouse(engine, quote.orderIds.get(side)) for side in ("bid", "ask")}
        # Never let the two sides of the quote cross each other on the
        # way: when the bid moves up to or through the old ask, move the
        # ask first.
        order = ("bid", "ask")
        newBid = plan["bid"][0] if plan["bid"] else None
        if newBid is not None and live["ask"] is not None and newBid >= live["ask"].price:
            order = ("ask", "bid")
        # Both sides go out as one batch of events (one market-data update).
        capture = _Capture()
        engine.subscribe(capture)
        try:
            with engine.batch():
                for side in order:
                    self._quoteSide(engine, book, quote, side, plan[side], live[side])
        finally:
            engine.unsubscribe(capture)
        _raiseRejected(capture.events, "quote %r" % (quote.quoteId,))
        return None

    def _quoteSide(self, engine, book, quote, side, wanted, live):
        base = "quote:%s:%s" % (quote.quoteId, side)
        if wanted is None:
            if live is not None:
                engine.submitCancel(HOUSE, self._houseClOrdId(base), orderId=live.orderId, neverHeld=True)
            quote.orderIds.pop(side, None)
            return
        price, size = wanted
        if live is None:
            order = Order(
                HOUSE, self._houseClOrdId(base), book.symbol,
                Side.BUY if side == "bid" else Side.SELL, size, price,
            )
            events = _submit(engine, lambda: engine.submitNew(order, neverHeld=True))
            quote.orderIds[side] = order.orderId
        else:
            if live.price == price and live.leavesQty == size:
                return
            events = _submit(
                engine,
                lambda: engine.submitReplace(
                    HOUSE, self._houseClOrdId(base), orderId=live.orderId,
                    price=price, quantity=live.cumQty + size, neverHeld=True,
                ),
            )
        _raiseRejected(events, "quote %r %s" % (quote.quoteId, side))

    def delete_quote(self, quote_id):
        """
        Cancel both sides of a quote and forget it.
        """
        quote = self.quote(quote_id)
        engine, book = self.book(quote.book)
        engine = roleOf(engine, IHouseOrders, "delete_quote")
        for side in ("bid", "ask"):
            self._quoteSide(engine, book, quote, side, None, self._liveHouse(engine, quote.orderIds.get(side)))
        del self.quotes[quote_id]

    # -- trades and managed mode ---------------------------------------------

    def _orderRef(self, engine, book, ref):
        """
        The exchange order id named by C{ref}: a house order id (text) or
        an exchange order id (a whole number).
        """
        if isinstance(ref, str):
            house = self.houseOrders.get(ref)
            if house is None or house.book not in self.bookEngines:
                raise UnknownName("unknown order %r" % (ref,))
            live = self._liveHouse(engine, house.orderId)
            if live is None or live.symbol != book.symbol:
                raise WrongState("order %r is not live in book %r" % (ref, book.symbol))
            return live.orderId
        orderId = _orderId(ref)
        order = engine.getOrder(orderId)
        if order is None or order.symbol != book.symbol:
            raise UnknownName("book %r has no live order %r" % (book.symbol, ref))
        return orderId

    def cancel_all(self, engine, book=None, owner=None):
        """
        Cancel the live orders of C{engine} (held ones included): of
        C{book} only, if given, and of C{owner} only (a session's, such as
        C{"fix1/CLIENT"} or C{"ouch1/alice"}, or C{"house"}), if given.
        Each owner gets the usual reports (FIX ExecutionReport Canceled,
        OUCH Canceled), in one batch.

        @return: the number of orders cancelled.
        """
        eng = self.engine(engine)
        symbol = None
        if book is not None:
            if self.bookEngines.get(book) != engine:
                raise UnknownName("engine %r has no book %r" % (engine, book))
            symbol = self.bookSymbols[book]
        if owner is not None and (not isinstance(owner, str) or not owner):
            raise BadValue("owner must be text such as 'fix1/CLIENT' or 'house', not %r" % (owner,))
        return roleOf(eng, IOrderEntry, "cancel_all").cancelAll(owner, symbol)

    def end_of_day(self, engine):
        """
        End the trading day on C{engine}: every DAY order expires (FIX
        ExecType Expired, OUCH Canceled with reason C{E}), OUCH sessions get
        System Events End of Day and Start of Day, ITCH feeds System Events
        End of Market and System Hours then Start of System and Market
        Hours, and client order ids (OUCH tokens) may be used again.  GTC
        and GTD orders stay.  Control event: C{day_ended}.
        """
        self.engine(engine).expireDay()

    def halt_book(self, book, reason=None, pause=None):
        """
        Halt a book: new orders and replaces are refused (unless its
        C{halt_accepts_orders} is C{yes}); cancels go through.  FIX
        sessions that asked get a SecurityStatus (halt, with the reason in
        Text and, for a reason FIX has a code for, HaltReason), ITCH feeds
        a Stock Trading Action C{H} (C{Q} when the halt takes orders for a
        reopening auction).  With C{pause} (C{yes}) it is a trading pause
        (a volatility pause): the same rules, ITCH state C{P}, FIX Text
        C{trading phase halted (paused)}; without it, as the book property
        C{halt_kind} (C{halt} or C{pause}) says.  Later snapshots (FIX
        SecurityStatusRequest, C{get_book}, a new ITCH client) keep
        showing the reason and the pause until the halt ends.  Control
        event C{phase_changed} with C{reason}.  L{resume_book} ends it.

        @param reason: a short text (FIX Text, the ITCH reason code's
            first four characters, e.g. C{LUDP} for a volatility pause).
        @raise WrongState: if the book is halted already.
        """
        engine, b = self.book(book)
        reason = _statusReason(reason)
        if pause is not None:
            pause = parseBoolean("pause", pause)
        roleOf(engine, IMarketPhases, "halt_book").haltBook(b.symbol, reason, pause)

    def resume_book(self, book):
        """
        End a book's halt: it goes back to the phase the halt interrupted
        (or the one its schedule reached meanwhile); a halt that was a call
        (C{reopen_with_auction}) is uncrossed first (control event
        C{auction_uncrossed}).  End a delayed opening (L{delay_open}): the
        book is uncrossed and moves to the phase its schedule reached
        meanwhile, else C{continuous}.

        @raise WrongState: if the book is neither halted nor delayed.
        """
        engine, b = self.book(book)
        roleOf(engine, IMarketPhases, "resume_book").resumeBook(b.symbol)

    def delay_open(self, book, reason=None):
        """
        Delay the opening of a book in C{pre_open}: it stays in its opening
        call (orders accepted and resting, nothing matches, the indicative
        figures go on) even when its schedule opens the market, until
        L{resume_book} opens it (or a phase is set); the book property
        C{delay_open = yes} delays every scheduled opening so.  FIX
        sessions that asked get a SecurityStatus with SecurityTradingStatus
        1 (opening delay), the reason in Text (and HaltReason where FIX has
        a code, e.g. C{order imbalance}); a SecurityStatusRequest is
        answered so until it opens.  Control event C{opening_delayed} (C{book},
        C{reason}).

        @raise WrongState: if the book is not in C{pre_open}, or its
            opening is delayed already.
        """
        engine, b = self.book(book)
        reason = _statusReason(reason)
        roleOf(engine, IMarketPhases, "delay_open").delayOpen(b.symbol, reason)

    def match_orders(self, book_name, order_a, order_b, quantity=None, price=None):
        """
        Trade two live orders of one book, of opposite sides, against each
        other.  An order is named by its exchange order id (a number: wire
        orders, from events) or its house order id (text).  Held orders are
        accepted first.

        @param quantity: default: the smaller open quantity.
        @param price: default: the older order's price.
        @return: the trade id.
        """
        engine, book = self.book(book_name)
        a = self._orderRef(engine, book, order_a)
        b = self._orderRef(engine, book, order_b)
        if quantity is not None:
            quantity = _quantity(quantity, "quantity")
        if price is not None:
            price = _price(book.instrument, price, "price")
        return roleOf(engine, IHouseOrders, "match_orders").matchOrders(a, b, quantity, price)

    def _managed(self, order_id, engine):
        """
        (engine, order) of a live order named by its exchange order id,
        on C{engine} or, when None, the one engine that has it.
        """
        orderId = _orderId(order_id)
        if engine is not None:
            eng = self.engine(engine)
            order = eng.getOrder(orderId)
            if order is None:
                raise UnknownName("engine %r has no live order %r" % (engine, order_id))
            return roleOf(eng, IManagedOrders, "a managed-mode answer"), order
        found = [(n, e) for n, e in sorted(self.engines.items()) if e.getOrder(orderId) is not None]
        if not found:
            raise UnknownName("no engine has a live order %r" % (order_id,))
        if len(found) > 1:
            raise BadValue(
                "order %r is live on engines %s: name the engine"
                % (order_id, ", ".join(n for n, _ in found))
            )
        engine = found[0][1]
        return roleOf(engine, IManagedOrders, "a managed-mode answer"), engine.getOrder(orderId)

    def _requestOf(self, engine, order, kind):
        if kind not in engine.pendingKinds(order.orderId):
            raise WrongState(
                "order %r has no %s request waiting for an answer" % (order.orderId, kind)
            )

    def accept_order(self, order_id, engine=None):
        """
        Managed mode: accept a held new order; a limit order rests in the
        book without matching (or stays off the book if it would cross it).
        """
        eng, order = self._managed(order_id, engine)
        self._requestOf(eng, order, "new")
        eng.acceptOrder(order.orderId)

    def reject_order(self, order_id, reason=None, engine=None):
        """
        Managed mode: reject a held new order with the text C{reason}.
        """
        eng, order = self._managed(order_id, engine)
        self._requestOf(eng, order, "new")
        eng.rejectOrder(order.orderId, _reason(reason), RejectReason.OTHER)

    def fill_order(self, order_id, quantity, price, engine=None):
        """
        Execute C{quantity} of a live order at C{price} against the house;
        repeatable, up to the open quantity.  A held new order is accepted
        first, and what a limit order has left then rests in the book.
        """
        eng, order = self._managed(order_id, engine)
        instrument = eng.getBook(order.symbol).instrument
        quantity = _quantity(quantity, "fill quantity")
        price = _price(instrument, price, "fill price")
        if quantity > order.leavesQty:
            raise BadValue(
                "fill quantity %d exceeds the order's leaves quantity %d"
                % (quantity, order.leavesQty)
            )
        held = order.status is OrdStatus.PENDING_NEW
        eng.fillOrder(order.orderId, quantity, price)
        if held and order.leavesQty and not order.isDone and order.ordType is OrdType.LIMIT:
            eng.restOrder(order.orderId)

    def cancel_order(self, order_id, engine=None):
        """
        Cancel a live order, held or not, on the venue's initiative
        (unsolicited).
        """
        eng, order = self._managed(order_id, engine)
        eng.cancelUnsolicited(order.orderId)

    def accept_cancel(self, order_id, engine=None):
        """
        Managed mode: accept a held cancel request.
        """
        eng, order = self._managed(order_id, engine)
        self._requestOf(eng, order, "cancel")
        eng.acceptCancel(order.orderId)

    def reject_cancel(self, order_id, reason=None, engine=None):
        """
        Managed mode: reject a held cancel request with the text C{reason};
        the order stays as it was.
        """
        eng, order = self._managed(order_id, engine)
        self._requestOf(eng, order, "cancel")
        eng.rejectCancel(order.orderId, _reason(reason))

    def accept_replace(self, order_id, engine=None):
        """
        Managed mode: accept a held replace request.
        """
        eng, order = self._managed(order_id, engine)
        self._requestOf(eng, order, "replace")
        eng.acceptReplace(order.orderId)

    def reject_replace(self, order_id, reason=None, engine=None):
        """
        Managed mode: reject a held replace request with the text
        C{reason}; the order stays as it was.
        """
        eng, order = self._managed(order_id, engine)
        self._requestOf(eng, order, "replace")
        eng.rejectReplace(order.orderId, _reason(reason))

    # -- request for quote -----------------------------------------------------

    def _rfqDesk(self, request_id, engine):
        """
        The RFQ desk that has request C{request_id} (on C{engine}, or the
        one engine that has it).
        """
        from exsim.rfq.desk import RfqRefused, deskFor, existingDesk

        if engine is not None:
            desk = deskFor(self.engine(engine), self.reportEvent, engine)
            desk.getRequest(request_id)
            return desk
        found = []
        for name, eng in sorted(self.engines.items()):
            desk = existingDesk(eng)
            if desk is not None and request_id in desk.requests:
                found.append((name, desk))
        if not found:
            raise RfqRefused("unknown_request", "unknown RFQ request %r" % (request_id,))
        if len(found) > 1:
            raise BadValue(
                "RFQ request %r is on engines %s: name the engine"
                % (request_id, ", ".join(n for n, _ in found))
            )
        name, desk = found[0]
        desk.report = self.reportEvent
        return desk

    def quote_rfq(self, request_id, dealer, bid_price=None, bid_size=None, offer_price=None,
                  offer_size=None, valid_for=None, engine=None):
        """
        Quote on an open request for quote (event C{rfq_request}) as the
        dealer named C{dealer}: the requester gets the quote (FIX Quote) and
        may trade on it until it expires, C{valid_for} seconds from now
        (default: the book's C{rfq_quote_valid_for}).  Give a bid, an offer
        or both, each a price and a size; a request to buy needs an offer,
        to sell a bid.  Control event C{rfq_quote}.

        @return: the quote id (what the requester accepts).
        @raise BadValue: for an unknown or closed request, a bid not below
            the offer, a price off the tick grid, a side without a size (or
            a size without a price); nothing changes.
        """
        desk = self._rfqDesk(request_id, engine)
        request = desk.getRequest(request_id)
        instrument = desk.book(request.symbol).instrument
        prices = {}
        for side, price, size in (("bid", bid_price, bid_size), ("offer", offer_price, offer_size)):
            if price in (None, "") and size in (None, "", 0, "0"):
                prices[side] = (None, None)
                continue
            if price in (None, ""):
                raise BadValue("%s_size needs a %s_price" % (side, side))
            if size in (None, "", 0, "0"):
                raise BadValue("%s_price needs a %s_size" % (side, side))
            prices[side] = (
                _price(instrument, price, side + "_price"), _quantity(size, side + "_size")
            )
        validUntil = None
        if valid_for is not None:
            seconds = _seconds(valid_for, "valid_for")
            validUntil = desk.now() + seconds
        quote = desk.quote(
            request_id, dealer, prices["bid"][0], prices["bid"][1], prices["offer"][0],
            prices["offer"][1], validUntil,
        )
        return quote.quoteId

    def decline_rfq(self, request_id, dealer, reason=None, engine=None):
        """
        Decline to quote on an open request for quote as the dealer named
        C{dealer}.  Control event C{rfq_declined}; a request every dealer
        asked declined is rejected (out of managed mode, at once).
        """
        self._rfqDesk(request_id, engine).decline(request_id, dealer, _reason(reason))


#: Whole numbers from the management API have at most this many digits
#: (as on the FIX wire: see L{exsim.fix.codec.MAX_NUMBER_DIGITS}).
_MAX_WHOLE = 10**18


def _whole(value):
    """
    A whole number given as an int or as text, of at most 18 digits, or
    None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -_MAX_WHOLE < value < _MAX_WHOLE else None
    text = str(value).strip()
    if len(text) > 19:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _shown(value):
    """
    C{value} as text for an error message, cut short.
    """
    if isinstance(value, int) and -(10**40) < value < 10**40:
        return repr(value)
    text = value if isinstance(value, str) else type(value).__name__
    return repr(text[:40] + "..." if len(text) > 40 else text)


def _none(value):
    """
    Whether a property value means "none": None, empty, C{none}.
    """
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "none"))


def _orderId(value):
    number = _whole(value)
    if number is None:
        raise BadValue("an order id must be a whole number, not %s" % (_shown(value),))
    return number


def _quantity(value, what):
    number = _whole(value)
    if number is None or number <= 0:
        raise BadValue(
            "%s must be a positive whole number of at most 18 digits, not %s"
            % (what, _shown(value))
        )
    return number


def _price(instrument, value, what):
    if isinstance(value, bool) or value is None:
        raise BadValue("%s must be a positive decimal, not %r" % (what, value))
    try:
        price = instrument.toInternal(value)
    except BadValue:
        raise BadValue("%s must be a positive decimal with at most 4 decimal places, not %r" % (what, value))
    if price <= 0:
        raise BadValue("%s must be a positive decimal, not %r" % (what, value))
    if not instrument.onTick(price):
        raise BadValue(
            "%s %s is not on the tick grid (tick_size %s)"
            % (what, value, instrument.toDecimal(instrument.tickAt(price)))
        )
    return price


def _seconds(value, what):
    """
    A number of seconds above 0 and at most a day.
    """
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        seconds = None
    if seconds is None or not 0 < seconds <= 86400:
        raise BadValue("%s must be a number of seconds above 0 and at most 86400, not %s" % (what, _shown(value)))
    return seconds


def _reason(value):
    if value is None:
        return None
    return str(value)


def _submit(engine, command):
    """
    Run an engine command; return the events it produced.
    """
    capture = _Capture()
    engine.subscribe(capture)
    try:
        command()
    finally:
        engine.unsubscribe(capture)
    return capture.events


def _raiseRejected(events, what):
    for event in events:
        if event.type in ("rejected", "cancel_rejected"):
            raise BadValue("%s was rejected: %s" % (what, event.text))


class _Capture:
    def __init__(self):
        self.events = []

    def engineEvents(self, events):
        self.events.extend(events)


class HouseOrder:
    """
    A house order: its properties (a template), and the exchange order id
    of what was last submitted.
    """

    def __init__(self, orderId, book):
        self.houseId = orderId
        self.book = book
        self.values = {"order_type": OrdType.LIMIT, "time_in_force": TimeInForce.DAY}
        self.orderId = None
        self.submitted = None

    def set(self, instrument, name, value):
        if name == "side":
            value = Side.fromName(value)
        elif name == "price":
            value = None if value in (None, "") else _price(instrument, value, "price")
        elif name == "quantity":
            value = _quantity(value, "quantity")
        elif name == "order_type":
            value = OrdType.fromName(value)
        elif name == "time_in_force":
            value = TimeInForce.fromName(value)
        elif name == "expire_time":
            try:
                value = None if value in (None, "") else float(value)
            except (TypeError, ValueError):
                raise BadValue("expire_time must be a time in seconds, not %r" % (value,))
        elif name == "stop_price":
            value = None if _none(value) else _price(instrument, value, "stop_price")
        elif name == "display_quantity":
            if _none(value):
                value = None
            else:
                number = _whole(value)
                if number is None or number < 0:
                    raise BadValue(
                        "display_quantity must be 0 (hidden) or a positive whole number, not %s"
                        % (_shown(value),)
                    )
                value = number
        elif name == "min_quantity":
            value = None if _none(value) else _quantity(value, "min_quantity")
        elif name == "post_only":
            value = parseBoolean("post_only", value)
        elif name == "stp_id":
            value = None if _none(value) else _name(str(value), "stp_id")
        else:
            raise BadValue(
                "unknown order property %r (known: %s)" % (name, ", ".join(ORDER_PROPERTIES))
            )
        self.values[name] = value

    def orderFields(self, instrument):
        """
        Keyword arguments of L{Order} for the current properties.

        @raise BadValue: if one is missing or no longer fits the book.
        """
        values = self.values
        for key in ("side", "quantity"):
            if values.get(key) is None:
                raise BadValue("order %r needs a %s" % (self.houseId, key))
        ordType = values["order_type"]
        price = values.get("price")
        if ordType is OrdType.LIMIT or ordType is OrdType.STOP_LIMIT:
            if price is None:
                raise BadValue("limit order %r needs a price" % (self.houseId,))
            if not instrument.onTick(price):
                raise BadValue("the price of order %r is not on the tick grid" % (self.houseId,))
        elif ordType is OrdType.PEGGED:
            if price is not None and not instrument.onTick(price):
                raise BadValue("the price of order %r is not on the tick grid" % (self.houseId,))
        else:
            price = None
        tif = values["time_in_force"]
        if tif is TimeInForce.GTD and values.get("expire_time") is None:
            raise BadValue("GTD order %r needs an expire_time" % (self.houseId,))
        stopPx = values.get("stop_price")
        if ordType in (OrdType.STOP, OrdType.STOP_LIMIT) and stopPx is None:
            raise BadValue("stop order %r needs a stop_price" % (self.houseId,))
        extra = None
        terms = (
            stopPx, values.get("display_quantity"), values.get("min_quantity"),
            values.get("post_only", False), values.get("stp_id"),
        )
        if ordType in (OrdType.STOP, OrdType.STOP_LIMIT, OrdType.PEGGED) or terms != (
            None, None, None, False, None
        ):
            extra = AdvancedTerms(*terms)
        return {
            "side": values["side"],
            "quantity": values["quantity"],
            "price": price,
            "ordType": ordType,
            "timeInForce": tif,
            "expireTime": values.get("expire_time"),
            "extra": extra,
        }

    def termsOf(self, fields):
        """
        The advanced terms of C{fields} (from L{orderFields}) that a live
        order cannot change: display quantity, minimum quantity, post-only
        and self-trade prevention id.
        """
        extra = fields.get("extra")
        if extra is None:
            return (None, None, False, None)
        return (extra.displayQty, extra.minQty, extra.postOnly, extra.stpId)


class Quote:
    """
    A two-sided house quote: its properties and the exchange order ids of
    its live sides.
    """

    def __init__(self, quoteId, book):
        self.quoteId = quoteId
        self.book = book
        self.values = {}
        self.orderIds = {}

    def set(self, instrument, name, value):
        if name in ("bid_price", "ask_price"):
            value = None if value in (None, "") else _price(instrument, value, name)
        elif name in ("bid_size", "ask_size"):
            if value in (None, "", 0, "0"):
                value = 0
            else:
                value = _quantity(value, name)
        else:
            raise BadValue(
                "unknown quote property %r (known: %s)" % (name, ", ".join(QUOTE_PROPERTIES))
            )
        self.values[name] = value

    def plan(self, instrument):
        """
        {"bid": (price, size) or None, "ask": ...} for the current
        properties.

        @raise BadValue: for a side with a size but no price, a price off
            the tick grid, or a crossed quote.
        """
        plan = {}
        for side in ("bid", "ask"):
            size = self.values.get(side + "_size") or 0
            price = self.values.get(side + "_price")
            if not size:
                plan[side] = None
                continue
            if price is None:
                raise BadValue("quote %r has a %s_size but no %s_price" % (self.quoteId, side, side))
            if not instrument.onTick(price):
                raise BadValue("the %s_price of quote %r is not on the tick grid" % (side, self.quoteId))
            plan[side] = (price, size)
        if plan["bid"] is None and plan["ask"] is None:
            raise BadValue("quote %r has no side with a size" % (self.quoteId,))
        if plan["bid"] and plan["ask"] and plan["bid"][0] >= plan["ask"][0]:
            raise BadValue(
                "quote %r is crossed: bid_price %s is not below ask_price %s"
                % (
                    self.quoteId,
                    instrument.toDecimal(plan["bid"][0]),
                    instrument.toDecimal(plan["ask"][0]),
                )
            )
        return plan
