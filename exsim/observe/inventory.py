# -*- test-case-name: tests.test_inspect -*-
"""
What a simulator has, as plain dicts: its engines, books, endpoints and
live orders, and every property of each with its value in force (defaults
included).  The management operations C{list_engines}, C{list_books},
C{list_endpoints}, C{get_properties}, C{list_orders} and C{get_order}
(L{Inspection}, a base of L{exsim.service.Simulator}) and the web view
read the simulator through here.

Engines only keep what matching needs; the one thing an order lacks for
a person looking at it, the time it entered, is noted by an
L{EngineNotes} listener on each engine.
"""

from collections import defaultdict, deque
from decimal import Decimal
from enum import Enum

from zope.interface import implementer

from exsim import registry, sessioncontrol
from exsim.control.queue import PAGE_SIZE, formatAverage, formatPrice
from exsim.engine import events as ev
from exsim.errors import BadValue, NotFound, UnknownName
from exsim.interfaces import IEngineListener
from exsim.model import T_SYMBOL
from exsim.observe.messagelog import DIRECTIONS
from exsim.policy.runner import DEFAULT_REJECT_TEXT

#: What C{get_properties} takes as its C{kind}.
KINDS = ("engine", "book", "endpoint", "session")

#: Messages one C{get_messages} call returns at most.
MAX_MESSAGES = 1000


def plain(value):
    """
    C{value} as what Perspective Broker and JSON both carry: None, a
    boolean, a number, text, or a list or dict of these.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return value.name.lower()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


#: Kept for the web view, for each book: the orders entered last (its
#: page shows 20) and the trades.  Per book rather than one ring of an
#: engine's orders, so that a quiet book keeps its last orders however busy
#: the others are, and so that few finished orders are held: an order held
#: long after it finished is freed late, when its memory has gone cold
#: (one ring of 1,000 orders cost 3.5 % of the time of a gateway's order).
RECENT_ORDERS = 20
RECENT_TRADES = 100

_ACCEPTED = ev.Accepted
_REQUEST = ev.OrderRequest
#: The events an order enters an engine with.
_ENTRIES = frozenset([_ACCEPTED, _REQUEST])


def _recentOrders():
    """
    The orders entered last on a book (L{EngineNotes.recent}), none yet.
    """
    return deque(maxlen=RECENT_ORDERS)


_TRADE = ev.Trade


@implementer(IEngineListener)
class EngineNotes:
    """
    What one engine does not keep but a person looking at it wants: the
    time each order entered it (its C{Accepted}, or its C{OrderRequest}
    when held in managed mode), noted on the order itself
    (L{exsim.model.Order.entered}, so it goes when the order goes), and
    the orders entered last on each book (L{RECENT_ORDERS}, finished ones
    too).

    It looks at the first event of each batch only: an order enters in
    the first event of its command's batch.  (A batch of several commands,
    as the two sides of a house quote, notes its first order; the others
    have no entry time.)  A class test a batch, one clock reading, one
    attribute set and one append per new order: what the engine's
    delivery pays (no dict of times by order id to prune).
    """

    def __init__(self, engine, clock):
        self.engine = engine
        # (The clock's reading, at hand: read once per new order.)
        self._seconds = clock.seconds
        #: {symbol: the orders entered last on its book, oldest first}.
        self.recent = defaultdict(_recentOrders)

    def engineEvents(self, events):
        first = events[0]
        if first.__class__ in _ENTRIES:
            order = first.order
            if order.entered is None:
                order.entered = self._seconds()
                self.recent[order.terms[T_SYMBOL]].append(order)

    def recentOrders(self, symbol, count=20):
        """
        The last C{count} orders entered on a book, newest first (finished
        ones too).
        """
        result = []
        for order in reversed(self.recent.get(symbol, ())):
            if len(result) >= count:
                break
            result.append(order)
        return result


@implementer(IEngineListener)
class TradeTape:
    """
    The last L{RECENT_TRADES} trades of each book of one engine, with
    their times: the web view's tape.  Subscribed only while the web view
    runs (it looks at every event of every batch).
    """

    def __init__(self, engine, clock):
        self.engine = engine
        self.clock = clock
        #: {symbol: deque of (time, L{exsim.engine.events.Trade})}
        self.trades = {}

    def engineEvents(self, events):
        now = None
        for event in events:
            if event.__class__ is _TRADE:
                if now is None:
                    now = self.clock.seconds()
                tape = self.trades.get(event.symbol)
                if tape is None:
                    tape = self.trades[event.symbol] = deque(maxlen=RECENT_TRADES)
                tape.append((now, event))

    def recent(self, symbol, count=RECENT_TRADES):
        """
        The last C{count} trades of a book, newest first, as (time,
        L{exsim.engine.events.Trade}).
        """
        tape = self.trades.get(symbol)
        if not tape:
            return []
        return list(reversed(tape))[:count]


def _count(value, what, maximum=PAGE_SIZE):
    """
    A C{max_count} argument: None is C{maximum}.
    """
    if value is None:
        return maximum
    try:
        number = value if type(value) is int else int(str(value).strip())
    except ValueError:
        raise BadValue("%s must be a whole number, not %r" % (what, value))
    if number <= 0:
        raise BadValue("%s must be positive, not %r" % (what, value))
    return min(number, maximum)


def _orderId(value, what="an order id"):
    if isinstance(value, bool):
        raise BadValue("%s must be a whole number, not %r" % (what, value))
    try:
        return value if type(value) is int else int(str(value).strip())
    except ValueError:
        raise BadValue("%s must be a whole number, not %r" % (what, value))


def _text(instrument, price):
    return None if price is None else formatPrice(instrument, price)


class Inspection:
    """
    The inspection operations of L{exsim.service.Simulator} (which
    inherits them): they read, never change.

    Uses the simulator's C{engines}, C{endpoints}, C{bookEngines},
    C{bookSymbols}, C{engineClasses}, C{engineNotes}, C{journals},
    C{policies} and C{events}.
    """

    # -- lookups -----------------------------------------------------------

    def _inspectedEngine(self, name):
        try:
            return self.engine(name)
        except UnknownName:
            raise NotFound("unknown engine %r (list_engines names them)" % (name,))

    def _inspectedBook(self, name):
        try:
            return self.book(name)
        except UnknownName:
            raise NotFound("unknown book %r (list_books names them)" % (name,))

    def _inspectedEndpoint(self, name):
        try:
            return self.endpoint(name)
        except UnknownName:
            raise NotFound("unknown endpoint %r (list_endpoints names them)" % (name,))

    def _bookNames(self, engineName):
        """
        {symbol: book name} of the books of an engine.
        """
        return {
            self.bookSymbols[book]: book
            for book, engine in self.bookEngines.items()
            if engine == engineName
        }

    def noteEngine(self, simulator, kind, name, thing):
        """
        An observer of created things (L{exsim.service.Simulator.observers}):
        a new engine gets its L{EngineNotes}.
        """
        if kind == "engine":
            old = self.engineNotes.get(name)
            if old is not None:
                old.engine.unsubscribe(old)
            notes = self.engineNotes[name] = EngineNotes(thing, self.reactor)
            thing.subscribe(notes)

    # -- describing --------------------------------------------------------

    def describeOrder(self, engineName, order, bookName=None):
        """
        A live order as C{list_orders} and C{get_order} give it.
        """
        engine = self.engines[engineName]
        book = engine.books.get(order.symbol)
        instrument = book.instrument if book is not None else None
        if bookName is None:
            bookName = self._bookNames(engineName).get(order.symbol)
        pendingKinds = getattr(engine, "pendingKinds", None)
        held = list(pendingKinds(order.orderId)) if pendingKinds is not None else []
        result = {
            "order_id": order.orderId,
            "engine": engineName,
            "book": bookName,
            "symbol": order.symbol,
            "owner": str(order.owner),
            "cl_ord_id": plain(order.clOrdId),
            "side": order.side.name.lower(),
            "price": _text(instrument, order.price) if instrument is not None else plain(order.price),
            "quantity": order.quantity,
            "leaves_qty": order.leavesQty,
            "cum_qty": order.cumQty,
            "avg_px": formatAverage(instrument, order.notional, order.cumQty) if instrument is not None else None,
            "status": order.status.name.lower(),
            "order_type": order.ordType.name.lower(),
            "time_in_force": order.timeInForce.name.lower(),
            "expire_time": order.expireTime,
            "resting": bool(order.resting),
            "held": held,
            "entry_time": order.entered,
        }
        extra = order.extra
        if extra is not None:
            # The advanced terms (issue 13), as the house order properties
            # name them; a midpoint peg's price is where it is pegged now,
            # its limit is peg_limit.
            result.update({
                "stop_price": _text(instrument, extra.stopPx) if instrument is not None else extra.stopPx,
                "triggered": bool(extra.triggered),
                "display_quantity": extra.displayQty,
                "min_quantity": extra.minQty,
                "post_only": bool(extra.postOnly),
                "stp_id": plain(extra.stpId),
                "peg_limit": _text(instrument, extra.cap) if instrument is not None else extra.cap,
            })
        return result

    def describeBook(self, name):
        """
        One book as C{list_books} gives it.
        """
        engine, book = self._inspectedBook(name)
        instrument = book.instrument
        bids = book.depth(True, 1)
        asks = book.depth(False, 1)
        activity = getattr(book, "activity", None)
        result = {
            "book": name,
            "engine": self.bookEngines[name],
            "symbol": book.symbol,
            "behaviour": getattr(book.behaviour, "name", None),
            "phase": _phase(book),
            "activity": activity.level if activity is not None else "none",
            "best_bid": _text(instrument, bids[0][0]) if bids else None,
            "best_bid_qty": bids[0][1] if bids else None,
            "best_ask": _text(instrument, asks[0][0]) if asks else None,
            "best_ask_qty": asks[0][1] if asks else None,
            "last": _text(instrument, book.lastPrice),
            "last_quantity": book.lastQuantity,
            "volume": book.volume,
            "trades": getattr(book, "tradeCount", None),
            "orders": book.orderCount(),
            "tick_size": str(instrument.toDecimal(instrument.tickSize)),
        }
        # While halted (or its opening delayed), why: as get_book says.
        if getattr(book, "phase", None) == "halted":
            result["halt_reason"] = getattr(book, "haltReason", None)
            result["paused"] = getattr(book, "paused", False)
        if getattr(book, "openingDelayed", False):
            result["opening_delayed"] = True
            result["delay_reason"] = getattr(book, "delayReason", None)
        return result

    def describeEndpoint(self, name):
        """
        One endpoint as C{list_endpoints} gives it.
        """
        endpoint = self._inspectedEndpoint(name)
        sessions = sessioncontrol.sessionsOf(endpoint)
        states = [handle.state for handle in sessions]
        address = None
        if endpoint.port is not None:
            host = endpoint.port.getHost()
            address = [getattr(host, "host", None), getattr(host, "port", None)]
        limit = getattr(endpoint, "limit", None)
        return {
            "endpoint": name,
            "engine": self._engineNameOf(endpoint.engine),
            "protocol": endpoint.protocolName,
            "listen": endpoint.properties.get("listen"),
            "address": address,
            "state": "listening" if endpoint.port is not None else "stopped",
            "sessions": sum(1 for s in states if s == sessioncontrol.ACTIVE),
            "sessions_known": len(states),
            "connections": limit.open if limit is not None and endpoint.port is not None else 0,
        }

    def _engineNameOf(self, engine):
        for name, e in self.engines.items():
            if e is engine:
                return name
        return getattr(engine, "name", None)

    # -- properties --------------------------------------------------------

    def engineProperties(self, name):
        engine = self._inspectedEngine(name)
        result = {"class": self.engineClasses.get(name)}
        result.update(engine.properties())
        journal = self.journals.get(name)
        result["journal"] = getattr(journal, "path", None) if journal is not None else None
        result["journal_sync"] = self._journalSync.get(name, "none")
        runner = self.policies.get(name)
        result["policy"] = runner.name if runner is not None else "hold"
        result["reject_text"] = runner.rejectText if runner is not None else DEFAULT_REJECT_TEXT
        return plain(result)

    def bookProperties(self, name):
        engine, book = self._inspectedBook(name)
        instrument = book.instrument
        stored = dict(book.properties)
        result = {
            "engine": self.bookEngines[name],
            "symbol": book.symbol,
            "behaviour": getattr(book.behaviour, "name", None),
            "tick_size": str(instrument.toDecimal(instrument.tickSize)),
            "reference_price": _text(instrument, book.referencePrice),
        }
        limits = getattr(book, "limits", None)
        settings = getattr(limits, "settings", {})
        from exsim.engine.limits import PROPERTIES as LIMITS

        for limit in LIMITS:
            value = settings.get(limit)
            if value is not None and limit != "max_order_quantity":
                value = _text(instrument, value)
            result[limit] = value
        # Order types and protections (issue 13).
        result["self_trade_prevention"] = getattr(book, "stp", "none")
        result["post_only_action"] = getattr(book, "postOnlyAction", "reject")
        # Every behaviour's parameters: the behaviour's own value in force,
        # else what was set for another behaviour, else the default.
        current = {}
        properties = getattr(book.behaviour, "properties", None)
        if properties is not None:
            current = properties()
        for factory in registry.entries("behaviour").values():
            for param, spec in getattr(factory, "parameters", {}).items():
                if param in current:
                    result[param] = current[param]
                elif param not in result:
                    result[param] = stored.get(param, spec[1] if isinstance(spec, tuple) else None)
        # The market activity and market maker (defaults when never set).
        from exsim.engine import activity as activityModule
        from exsim.engine import marketmaker

        activity = getattr(book, "activity", None)
        if activity is None:
            activity = activityModule.Activity(engine, book)
        result.update(activity.properties())
        if activity.marketMaker is None:
            for param, (_, default) in marketmaker.PARAMETERS.items():
                result[param] = default
        # Request for quote (parsed values, defaults when never set).
        from exsim.rfq.settings import RfqSettings

        result.update((getattr(book, "rfq", None) or RfqSettings()).properties())
        # Whatever else was set (a plugin's book properties, ...).
        for key, value in stored.items():
            result.setdefault(key, value)
        for key in registry.names("book_property"):
            result.setdefault(key, None)
        phase = _phase(book)
        if phase is not None:
            result["phase"] = phase
        return plain(result)

    def endpointProperties(self, name):
        endpoint = self._inspectedEndpoint(name)
        properties = endpoint.properties
        users = properties.get("users")
        result = {
            "engine": self._engineNameOf(endpoint.engine),
            "protocol": endpoint.protocolName,
            "listen": properties.get("listen"),
            # Names only: passwords stay in the simulator.
            "users": sorted(users) if users else [],
            "max_connections": properties.get("max_connections"),
        }
        defaults = protocolDefaults(endpoint.protocol)
        for key in endpoint.protocol.propertyNames():
            result[key] = properties.get(key, defaults.get(key))
        for key, value in properties.items():
            if key not in result:
                result[key] = value
        return plain(result)

    def sessionProperties(self, name):
        try:
            handle = self._session(name)
        except UnknownName as e:
            raise NotFound(str(e))
        return plain(handle.describe())

    # -- the operations ----------------------------------------------------

    def list_engines(self):
        """
        Every engine, sorted by name.

        @return: one dict per engine: C{engine} (its name), C{class},
            C{mode}, C{books} (their names), C{endpoints} (the endpoints
            that use it), C{live_orders} (resting or held).
        """
        result = []
        for name in sorted(self.engines):
            engine = self.engines[name]
            liveCount = getattr(engine, "liveCount", None)
            result.append({
                "engine": name,
                "class": self.engineClasses.get(name),
                "mode": plain(getattr(engine, "mode", None)),
                "books": sorted(b for b, e in self.bookEngines.items() if e == name),
                "endpoints": sorted(n for n, e in self.endpoints.items() if e.engine is engine),
                "live_orders": liveCount() if liveCount is not None else len(engine.liveOrders()),
            })
        return result

    def list_books(self, engine=None):
        """
        Every book (of C{engine}, if given), sorted by name.

        @return: one dict per book: C{book}, C{engine}, C{symbol},
            C{behaviour}, C{phase}, C{activity}, C{best_bid} and
            C{best_bid_qty}, C{best_ask} and C{best_ask_qty}, C{last} and
            C{last_quantity}, C{volume}, C{trades}, C{orders} (resting),
            C{tick_size}; while halted C{halt_reason} and C{paused}, while
            its opening is delayed C{opening_delayed} and
            C{delay_reason}.  Prices are decimal text, or None.
        """
        if engine is not None:
            self._inspectedEngine(engine)
        return [
            self.describeBook(name)
            for name in sorted(self.bookEngines)
            if engine is None or self.bookEngines[name] == engine
        ]

    def list_endpoints(self, engine=None):
        """
        Every endpoint (of C{engine}, if given), sorted by name.

        @return: one dict per endpoint: C{endpoint}, C{engine},
            C{protocol}, C{listen} (its endpoint string), C{address}
            (C{[host, port]} bound, or None), C{state} (C{listening} or
            C{stopped}), C{sessions} (active now), C{sessions_known}
            (every session C{list_sessions} lists), C{connections} (open
            now, logged on or not).
        """
        if engine is not None:
            wanted = self._inspectedEngine(engine)
        return [
            self.describeEndpoint(name)
            for name in sorted(self.endpoints)
            if engine is None or self.endpoints[name].engine is wanted
        ]

    def get_properties(self, kind, name):
        """
        Every property of one thing with its value in force, defaults
        included: C{kind} is C{engine}, C{book}, C{endpoint} or
        C{session}, C{name} its name (a session's id for a session).
        Prices are decimal text; an endpoint's C{users} are listed by name
        only (passwords are never returned).

        @return: a dict {property: value}.
        """
        getter = {
            "engine": self.engineProperties,
            "book": self.bookProperties,
            "endpoint": self.endpointProperties,
            "session": self.sessionProperties,
        }.get(kind if isinstance(kind, str) else None)
        if getter is None:
            raise BadValue("unknown kind %r (known: %s)" % (kind, ", ".join(KINDS)))
        return getter(name)

    def list_orders(self, book, owner=None, after=None, max_count=None):
        """
        The live orders (resting, or held in managed mode) of a book,
        oldest first: of C{owner} only if given (an owner as events name
        it, e.g. C{fix1/CLIENT}, C{ouch1/trader}, C{house}), with an order
        id above C{after} if given, and at most C{max_count} (at most 1000
        a call; the Python clients fetch every page when C{max_count} is
        None).

        @return: one dict per order: C{order_id}, C{engine}, C{book},
            C{symbol}, C{owner}, C{cl_ord_id}, C{side}, C{price} (decimal
            text, None for a market order), C{quantity}, C{leaves_qty},
            C{cum_qty}, C{avg_px}, C{status}, C{order_type},
            C{time_in_force}, C{expire_time}, C{resting} (in the book
            now), C{held} (kinds of requests held for it: C{new},
            C{cancel}, C{replace}), C{entry_time} (seconds since the
            epoch; None for an order restored from a journal).  An order
            with advanced terms (stop, iceberg, hidden, post-only, minimum
            quantity, midpoint peg, self-trade prevention id) also has
            C{stop_price}, C{triggered}, C{display_quantity},
            C{min_quantity}, C{post_only}, C{stp_id} and C{peg_limit} (a
            peg's limit; its C{price} is where it is pegged now).
        """
        engine, b = self._inspectedBook(book)
        engineName = self.bookEngines[book]
        count = _count(max_count, "max_count")
        if after is not None:
            after = _orderId(after, "after")
        if owner is not None and not isinstance(owner, str):
            raise BadValue("owner must be text such as 'fix1/CLIENT', not %r" % (owner,))
        symbol = b.symbol
        result = []
        for order in engine.liveOrders():
            if order.symbol != symbol or order.isDone:
                continue
            if after is not None and order.orderId <= after:
                continue
            if owner is not None and str(order.owner) != owner:
                continue
            result.append(self.describeOrder(engineName, order, book))
            if len(result) >= count:
                break
        return result

    def get_order(self, order_id, engine=None):
        """
        One live order (resting, or held in managed mode) by its exchange
        order id, on C{engine} or, when None, on the one engine that has
        it; as L{list_orders} gives it.
        """
        orderId = _orderId(order_id)
        if engine is not None:
            eng = self._inspectedEngine(engine)
            order = eng.getOrder(orderId)
            if order is None or order.isDone:
                raise NotFound("engine %r has no live order %r" % (engine, order_id))
            return self.describeOrder(engine, order)
        found = []
        for name in sorted(self.engines):
            order = self.engines[name].getOrder(orderId)
            if order is not None and not order.isDone:
                found.append((name, order))
        if not found:
            raise NotFound("no engine has a live order %r" % (order_id,))
        if len(found) > 1:
            raise BadValue(
                "order %r is live on engines %s: name the engine"
                % (order_id, ", ".join(n for n, _ in found))
            )
        return self.describeOrder(*found[0])

    def get_messages(self, session, last=100, direction=None):
        """
        The last C{last} messages (at most 1000) of a session, in or out
        (C{direction} C{in} or C{out}; both if None), oldest first,
        decoded: each a dict with C{time}, C{direction}, C{protocol},
        C{msg_type}, C{name} (the message's name), C{fields} (C{[tag, name,
        value]} for FIX, names from the data dictionary; C{[None, name,
        value]} for OUCH and ITCH) and C{raw} (FIX with C{|} for SOH;
        SoupBinTCP packets in hexadecimal, with C{packet} and
        C{packet_name}); FIX adds C{seq_num}.  Passwords are masked.  A
        session keeps its last C{message_log_size} messages (the endpoint
        property, 10,000 by default), across reconnects.
        """
        from exsim.observe import decode

        try:
            handle = self._session(session)
        except UnknownName as e:
            raise NotFound(str(e))
        count = _count(last, "last", MAX_MESSAGES)
        if direction is not None and direction not in DIRECTIONS:
            raise BadValue("direction must be in, out or None, not %r" % (direction,))
        journal = journalOf(handle)
        if journal is None:
            return []
        result = []
        cache = {}
        for entry in reversed(journal.entries(None, direction)):
            messages = decode.decodeEntry(journal.protocol, entry, cache)
            result.extend(reversed(messages))
            if len(result) >= count:
                break
        result = result[:count]
        result.reverse()
        return result

    def start_web(self, listen="tcp:8790:interface=127.0.0.1"):
        """
        Start the web view (the C{[web]} section does it at start-up): a
        read-only look at the simulator in a browser, behind HTTP Basic
        authentication with the management service's users; C{listen} is
        an endpoint string (C{tcp:0:...} picks a port; C{ssl:...} with
        C{privateKey} and C{certKey} serves HTTPS).  C{WrongState} if
        it already runs, or if the simulator has no management service.

        @return: C{(host, port)} bound.
        """
        from exsim.observe.web.server import startWeb

        return startWeb(self, listen)

    def peek_events(self, max_count=None, after=None):
        """
        Queued events as C{get_events} returns them, but left in the
        queue: up to C{max_count} of them (at most 1000 a call; the Python
        clients fetch every page when C{max_count} is None), oldest first,
        with an event id above C{after} if given.  Tools that only look use
        this, so that they take nothing from the test that reads the queue
        (C{exsimctl follow} follows events as they happen instead).
        """
        return self.events.peek(max_count, after)


def journalOf(handle):
    """
    The L{exsim.observe.messagelog.MessageLog} of a session handle
    (L{exsim.interfaces.IControlledSession}): its FIX session's or OUCH
    session's, else its connection's.
    """
    for holder in (getattr(handle, "session", None), getattr(handle, "owner", None),
                   getattr(handle, "connection", None)):
        journal = getattr(holder, "journal", None)
        if journal is not None:
            return journal
    return None


def _phase(book):
    """
    The trading phase of a book, as text, when the engine has phases.
    """
    phase = getattr(book, "phase", None)
    if phase is None:
        phase = book.properties.get("phase")
    return plain(phase) if phase is not None else None


def protocolDefaults(family):
    """
    {property: default} of an endpoint protocol family: its own
    C{propertyDefaults()} if it has one, else what the built-in families
    use.
    """
    own = getattr(family, "propertyDefaults", None)
    if own is not None:
        return dict(own())
    name = getattr(family, "name", None)
    defaults = {}
    if name == "fix":
        from exsim.fix import family as fixFamily
        from exsim.fix import settings

        defaults.update(settings.DEFAULTS)
        defaults.update(fixFamily.APPLICATION_DEFAULTS)
    elif name in ("ouch", "itch"):
        from exsim.soup import ouch, session

        defaults.update(sessioncontrol.ENDPOINT_DEFAULTS)
        defaults.update({
            "session": "1",
            "heartbeat_interval": session.DEFAULT_HEARTBEAT_INTERVAL,
            "idle_timeout": session.DEFAULT_IDLE_TIMEOUT,
            "timezone": ouch.DEFAULT_TIMEZONE,
        })
        if name == "ouch":
            defaults["cancel_on_disconnect"] = False
    return defaults
