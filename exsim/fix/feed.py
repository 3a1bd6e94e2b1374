# -*- test-case-name: tests.test_fix_feed -*-
"""
Live FIX market data mirrored into books (C{create_feed}, C{delete_feed},
C{get_feed}, the C{[feed:NAME]} section).

exsim connects to a FIX market-data source as an initiator
(L{FeedProtocol}: Logon with ResetSeqNumFlag, heartbeats and test
requests), asks for the full depth of its symbols with incremental
updates (MarketDataRequest: SubscriptionRequestType 1, MarketDepth 0,
MDUpdateType 1, bids, offers and trades), and mirrors each snapshot (W)
and incremental refresh (X) into the engine's books of those symbols
(L{Mirror}): one order of the owner C{feed/<name>} per price level, of
the level's size, entered through the engine's house-order role, so it
trades with the applications' orders like any order.  What clients take of
a level stays taken: a level shows the source's size minus what clients
took at that price, never less than nothing (a conflict is counted when
that makes it smaller).  Trades move the book's last price.

The feed reconnects when the source drops, after a delay that doubles
from C{reconnect_delay} up to C{max_reconnect_delay}; its mirrored orders
are cancelled meanwhile (they would be stale) and the next snapshot brings
them back.  Each change of state is a C{feed_state} control event.
"""

import itertools
from decimal import Decimal, InvalidOperation

from twisted.internet.endpoints import clientFromString
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from exsim.errors import BadValue, ExsimError
from exsim.fix import codec
from exsim.fix.utctime import formatUTCTimestamp
from exsim.interfaces import IEngineAdmin, IHouseOrders, IOrderEntry
from exsim.model import Order, OrdStatus, Side
from exsim.owners import feedOwner
from exsim.roles import roleOf
from exsim.values import parseBoolean

#: The versions a feed speaks.
BEGIN_STRINGS = ("FIX.4.2", "FIX.4.3", "FIX.4.4", "FIXT.1.1")

#: DefaultApplVerID codes of FIXT.1.1 by name.
APPL_VER_IDS = {"FIX.5.0": "7", "FIX.5.0SP1": "8", "FIX.5.0SP2": "9", "7": "7", "8": "8", "9": "9"}

#: Seconds to wait for the answer to a Logon.
LOGON_TIMEOUT = 10.0

#: States of a feed, as C{feed_state} events report them.
CONNECTING = "connecting"
LOGGING_ON = "logging_on"
SUBSCRIBED = "subscribed"
DISCONNECTED = "disconnected"
STOPPED = "stopped"

#: Counters of a feed, in the order get_feed lists them.
COUNTERS = (
    "connections", "messages", "snapshots", "updates", "orders", "trades", "conflicts",
    "rejected", "gaps",
)

BID, OFFER, TRADE = "0", "1", "2"

#: The largest MDEntrySize taken (more is counted as rejected).
MAX_SIZE = 10**12


def _compId(name, value):
    text = str(value).strip()
    if not text or any(c in text for c in "\x01=|") or not text.isprintable():
        raise BadValue("%s must be a CompID (printable, no '=' or '|'), not %r" % (name, value))
    return text


def _seconds(name, minimum, maximum):
    def parse(value):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if isinstance(value, bool) or number is None or not minimum <= number <= maximum:
            raise BadValue("%s must be seconds from %s to %s, not %r" % (name, minimum, maximum, value))
        return number

    return parse


def _symbols(value):
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    symbols = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if not text.isprintable() or "|" in text:
            raise BadValue("symbols must be printable, not %r" % (item,))
        if text not in symbols:
            symbols.append(text)
    if not symbols:
        raise BadValue("symbols must name at least one symbol (a comma list)")
    return tuple(symbols)


def _beginString(value):
    text = str(value).strip()
    if text not in BEGIN_STRINGS:
        raise BadValue("begin_string must be one of %s, not %r" % (", ".join(BEGIN_STRINGS), value))
    return text


def _applVerId(value):
    code = APPL_VER_IDS.get(str(value).strip())
    if code is None:
        raise BadValue("default_appl_ver_id must be 7, 8 or 9 (or FIX.5.0, FIX.5.0SP1, FIX.5.0SP2), not %r" % (value,))
    return code


def _text(name):
    def parse(value):
        text = str(value)
        if not text.isprintable() or "|" in text:
            raise BadValue("%s must be printable text, not %r" % (name, value))
        return text

    return parse


def _depth(value):
    try:
        depth = int(str(value).strip())
    except ValueError:
        depth = -1
    if isinstance(value, bool) or depth < 0:
        raise BadValue("depth must be 0 (the full book) or a number of levels, not %r" % (value,))
    return depth


#: A feed's properties: {name: (parser, default)}.
PROPERTIES = {
    "connect": (str, None),
    "symbols": (_symbols, None),
    "sender_comp_id": (lambda v: _compId("sender_comp_id", v), "EXSIM"),
    "target_comp_id": (lambda v: _compId("target_comp_id", v), "SOURCE"),
    "begin_string": (_beginString, "FIX.4.4"),
    "default_appl_ver_id": (_applVerId, "9"),
    "heartbeat_interval": (_seconds("heartbeat_interval", 1, 3600), 30.0),
    "username": (_text("username"), None),
    "password": (_text("password"), None),
    "depth": (_depth, 0),
    "reconnect_delay": (_seconds("reconnect_delay", 0.01, 3600), 1.0),
    "max_reconnect_delay": (_seconds("max_reconnect_delay", 0.01, 86400), 30.0),
    "trades": (lambda v: parseBoolean("trades", v), True),
}


def parseProperties(properties):
    """
    Check a feed's properties.

    @return: {name: value} with every default filled in.
    @raise BadValue: for an unknown name, a bad value or a missing
        C{connect} or C{symbols}.
    """
    values = {}
    for name, value in properties.items():
        if name not in PROPERTIES:
            raise BadValue(
                "unknown feed property %r (known: %s)" % (name, ", ".join(PROPERTIES))
            )
        values[name] = PROPERTIES[name][0](value)
    for name in ("connect", "symbols"):
        if values.get(name) in (None, ""):
            raise BadValue("a feed needs a %r property" % (name,))
    for name, (_, default) in PROPERTIES.items():
        values.setdefault(name, default)
    if values["max_reconnect_delay"] < values["reconnect_delay"]:
        raise BadValue("max_reconnect_delay must not be below reconnect_delay")
    return values


class Mirror:
    """
    The mirrored levels of one book: one order of the feed's owner per
    price level.

    @ivar levels: {isBuy: {price: [engine order or None, the source's size,
        shares clients took]}}.
    """

    def __init__(self, feed, book):
        self.feed = feed
        self.book = book
        self.symbol = book.symbol
        self.levels = {True: {}, False: {}}

    def apply(self, changes, snapshot):
        """
        Bring the levels to what the source says.

        @param changes: [(isBuy, price, size)]: size 0 removes the level.
        @param snapshot: whether C{changes} is the whole book (levels not
            in it go).
        """
        # A level named twice in one message: the last entry says what it
        # is (whatever order the two passes below apply them in).
        final = {}
        for isBuy, price, size in changes:
            final[isBuy, price] = size
        if snapshot:
            for isBuy in (True, False):
                for price in self.levels[isBuy]:
                    final.setdefault((isBuy, price), 0)
        # Decreases and removals first, then increases and new levels: the
        # mirror never crosses itself on the way.
        later = []
        for (isBuy, price), size in final.items():
            level = self.levels[isBuy].get(price)
            if level is None or size >= level[1]:
                later.append((isBuy, price, size))
            else:
                self._set(isBuy, price, size)
        for isBuy, price, size in later:
            self._set(isBuy, price, size)

    def _set(self, isBuy, price, size):
        feed = self.feed
        levels = self.levels[isBuy]
        level = levels.get(price)
        if level is None:
            if size > 0:
                order = self._enter(isBuy, price, size)
                if order is not None:
                    levels[price] = [order, size, 0]
            return
        order = level[0]
        leaves = 0 if order is None or order.isDone else order.leavesQty
        expected = max(0, level[1] - level[2])
        if leaves != expected:
            level[2] += expected - leaves
        if size <= 0:
            del levels[price]
            if leaves:
                feed.cancel(order)
            return
        level[1] = size
        wanted = max(0, size - level[2])
        if level[2] and wanted < size and wanted != leaves:
            feed.counts["conflicts"] += 1
        if wanted == leaves:
            return
        if wanted == 0:
            feed.cancel(order)
        elif leaves == 0:
            level[0] = self._enter(isBuy, price, wanted)
        else:
            feed.resize(order, order.cumQty + wanted)

    def _enter(self, isBuy, price, size):
        return self.feed.enter(self.symbol, Side.BUY if isBuy else Side.SELL, price, size)

    def clear(self):
        """
        Cancel every mirrored order (the source is gone).
        """
        for levels in self.levels.values():
            for order, _, _ in levels.values():
                if order is not None and not order.isDone and order.leavesQty:
                    self.feed.cancel(order)
            levels.clear()

    def liveOrders(self):
        return sum(
            1 for levels in self.levels.values() for order, _, _ in levels.values()
            if order is not None and not order.isDone and order.leavesQty
        )


class Feed:
    """
    One live feed: its connection (with reconnection), the mirrors of its
    books and its counts.

    @ivar state: L{CONNECTING}, L{LOGGING_ON}, L{SUBSCRIBED},
        L{DISCONNECTED} or L{STOPPED}.
    """

    log = Logger()

    def __init__(self, name, engineName, engine, properties, reactor, report):
        self.name = name
        self.engineName = engineName
        self.engine = engine
        self.properties = properties
        self.reactor = reactor
        self.report = report
        self.owner = feedOwner(name)
        self._house = roleOf(engine, IHouseOrders, "a feed")
        self._orderEntry = roleOf(engine, IOrderEntry, "a feed")
        admin = roleOf(engine, IEngineAdmin, "a feed")
        self.mirrors = {}
        for symbol in properties["symbols"]:
            self.mirrors[symbol] = Mirror(self, admin.getBook(symbol))
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.state = None
        self.text = None
        self.protocol = None
        self._failures = 0
        self._retry = None
        self._connecting = None
        self._serial = itertools.count(1)
        self._requests = itertools.count(1)
        self.mdReqId = None
        try:
            self._endpoint = clientFromString(reactor, properties["connect"])
        except (ValueError, TypeError, KeyError) as e:
            raise BadValue("bad connect endpoint %r: %s" % (properties["connect"], e))

    # -- state -----------------------------------------------------------------

    def _setState(self, state, text=None):
        self.state = state
        self.text = text
        fields = {"feed": self.name, "state": state, "text": text}
        if state == CONNECTING:
            fields["attempt"] = max(1, self._failures)
        self.report("feed_state", **fields)
        self.log.info(
            "feed {feed}: {state}{text}", feed=self.name, state=state,
            text="" if text is None else " (%s)" % (text,),
        )

    def describe(self):
        """
        The feed as a plain dict (what C{get_feed} returns).
        """
        result = {
            "feed": self.name,
            "engine": self.engineName,
            "connect": self.properties["connect"],
            "symbols": list(self.properties["symbols"]),
            "state": self.state,
            "text": self.text,
            "live_orders": sum(m.liveOrders() for m in self.mirrors.values()),
        }
        result.update(self.counts)
        return result

    # -- connection ------------------------------------------------------------

    def start(self):
        self._connect()

    def _connect(self):
        self._retry = None
        self._setState(CONNECTING)
        factory = Factory.forProtocol(lambda: FeedProtocol(self))
        d = self._connecting = self._endpoint.connect(factory)
        d.addCallbacks(self._connected, self._connectFailed)

    def _connected(self, protocol):
        self._connecting = None
        self.counts["connections"] += 1

    def _connectFailed(self, failure):
        self._connecting = None
        if self.state == STOPPED:
            return
        self._lost(failure.getErrorMessage())

    def _lost(self, text, subscribed=False):
        """
        The connection ended (or never was): cancel the mirrored orders
        and try again later.
        """
        self.protocol = None
        for mirror in self.mirrors.values():
            self.clearMirror(mirror)
        if self.state == STOPPED:
            return
        # Attempts since the last good session: the first retry waits
        # reconnect_delay, each one after a failure twice as long.
        self._failures = 1 if subscribed else self._failures + 1
        delay = min(
            self.properties["reconnect_delay"] * 2 ** (self._failures - 1),
            self.properties["max_reconnect_delay"],
        )
        self._setState(DISCONNECTED, "%s; reconnecting in %g s" % (text, delay))
        self._retry = self.reactor.callLater(delay, self._connect)

    def clearMirror(self, mirror):
        with self._house.batch():
            mirror.clear()

    def stop(self):
        """
        Log out, disconnect, cancel the mirrored orders; no reconnection.
        """
        if self.state == STOPPED:
            return
        self._setState(STOPPED)
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        if self._connecting is not None:
            self._connecting.cancel()
        if self.protocol is not None:
            self.protocol.logout("feed deleted")
        for mirror in self.mirrors.values():
            self.clearMirror(mirror)

    # -- the session's news ------------------------------------------------------

    def loggedOn(self, protocol):
        self.protocol = protocol
        self.mdReqId = "%s-%d" % (self.name, next(self._requests))
        protocol.subscribe(self.mdReqId)

    def marketData(self, message):
        """
        A snapshot (W) or incremental refresh (X) arrived.
        """
        self.counts["messages"] += 1
        if message.msgType == "W":
            self._snapshot(message)
        else:
            self._incremental(message)

    def gap(self):
        """
        Messages were lost: ask for a fresh snapshot.
        """
        self.counts["gaps"] += 1
        if self.protocol is not None:
            old = self.mdReqId
            self.mdReqId = "%s-%d" % (self.name, next(self._requests))
            self.protocol.unsubscribe(old)
            self.protocol.subscribe(self.mdReqId)

    def rejected(self, text):
        self._setState(self.state, text)

    # -- market data -------------------------------------------------------------

    def _entries(self, message, first):
        """
        The repeating group of C{message} as dicts, each starting at tag
        C{first}.
        """
        entries = []
        inside = False
        for tag, value in message.pairs:
            if tag == 268:
                inside = True
                continue
            if not inside:
                continue
            if tag == first:
                entries.append({})
            if entries and tag not in entries[-1]:
                entries[-1][tag] = value.decode("latin-1")
        return entries

    def _price(self, mirror, text):
        try:
            return mirror.book.instrument.toInternal(text)
        except BadValue:
            return None

    def _size(self, text):
        """
        MDEntrySize as a whole number of shares (missing: 0), or None when
        it is not one.
        """
        if text is None:
            return 0
        try:
            size = Decimal(text.strip())
        except InvalidOperation:
            return None
        if not size.is_finite() or size < 0 or size > MAX_SIZE or size != size.to_integral_value():
            return None
        return int(size)

    def _snapshot(self, message):
        symbol = message.get(55)
        mirror = self.mirrors.get(symbol)
        if mirror is None:
            return
        self.counts["snapshots"] += 1
        changes = []
        trade = None
        for entry in self._entries(message, 269):
            kind = entry.get(269)
            price = self._price(mirror, entry.get(270))
            size = self._size(entry.get(271))
            if price is None or size is None:
                self.counts["rejected"] += 1
                continue
            if kind in (BID, OFFER):
                changes.append((kind == BID, price, size))
            elif kind == TRADE:
                trade = (price, size)
        with self._house.batch():
            mirror.apply(changes, snapshot=True)
        if trade is not None:
            self._print(mirror, trade[0], trade[1], False)
        if self.protocol is not None:
            self.protocol.subscribed = True
        if self.state != SUBSCRIBED:
            self._setState(SUBSCRIBED)

    def _incremental(self, message):
        changes = {}
        trades = []
        symbol = None
        for entry in self._entries(message, 279):
            symbol = entry.get(55, symbol)
            mirror = self.mirrors.get(symbol)
            if mirror is None:
                continue
            kind = entry.get(269)
            action = entry.get(279)
            price = self._price(mirror, entry.get(270))
            size = self._size(entry.get(271))
            if price is None or size is None:
                self.counts["rejected"] += 1
                continue
            self.counts["updates"] += 1
            if kind in (BID, OFFER):
                changes.setdefault(symbol, []).append((kind == BID, price, 0 if action == "2" else size))
            elif kind == TRADE and action != "2":
                trades.append((mirror, price, size))
        with self._house.batch():
            for symbol, items in changes.items():
                self.mirrors[symbol].apply(items, snapshot=False)
        for mirror, price, size in trades:
            self._print(mirror, price, size, True)

    def _print(self, mirror, price, size, counted):
        """
        A trade at the source: the book's last price moves (its volume too,
        for a new trade); nothing is published.
        """
        book = mirror.book
        book.lastPrice = price
        book.lastQuantity = size
        if counted:
            book.volume += size
            self.counts["trades"] += 1

    # -- orders -----------------------------------------------------------------

    def enter(self, symbol, side, price, size):
        order = Order(self.owner, "%s:%d" % (self.name, next(self._serial)), symbol, side, size, price)
        self._house.submitNew(order, neverHeld=True)
        if order.status is OrdStatus.REJECTED:
            self.counts["rejected"] += 1
            return None
        self.counts["orders"] += 1
        return order

    def cancel(self, order):
        self._house.submitCancel(self.owner, order.clOrdId, orderId=order.orderId, neverHeld=True)

    def resize(self, order, quantity):
        self._house.submitReplace(
            self.owner, order.clOrdId, orderId=order.orderId, quantity=quantity, neverHeld=True,
        )


class FeedProtocol(Protocol):
    """
    A FIX initiator session for one connection of a L{Feed}: Logon (with
    ResetSeqNumFlag, so each connection starts at 1), heartbeats and test
    requests, a MarketDataRequest once logged on, and the market data
    handed to the feed.  Messages lost (a sequence gap) make the feed ask
    for a fresh snapshot rather than a resend.
    """

    log = Logger()

    def __init__(self, feed):
        self.feed = feed
        self.properties = feed.properties
        self.clock = feed.reactor
        self.framer = codec.Framer()
        self.nextOut = 1
        self.nextIn = 1
        self.loggedOn = False
        self.subscribed = False
        self._loggingOut = False
        self._timers = []
        self._lastSent = self._lastReceived = 0.0
        self._testRequest = None
        self._heartbeatCall = None
        self._logonCall = None

    def connectionMade(self):
        feed = self.feed
        feed.protocol = self
        feed._setState(LOGGING_ON)
        properties = self.properties
        body = [(98, "0"), (108, "%g" % (properties["heartbeat_interval"],)), (141, "Y")]
        if properties["username"] is not None:
            body.append((553, properties["username"]))
        if properties["password"] is not None:
            body.append((554, properties["password"]))
        if properties["begin_string"] == "FIXT.1.1":
            body.append((1137, properties["default_appl_ver_id"]))
        self._lastReceived = self.clock.seconds()
        self.send("A", body)
        self._logonCall = self.clock.callLater(LOGON_TIMEOUT, self._logonTimeout)

    def _logonTimeout(self):
        self._logonCall = None
        if not self.loggedOn:
            self._drop("no answer to the Logon in %g s" % (LOGON_TIMEOUT,))

    def send(self, msgType, body):
        properties = self.properties
        now = self.clock.seconds()
        header = [
            (49, properties["sender_comp_id"]), (56, properties["target_comp_id"]),
            (34, str(self.nextOut)), (52, formatUTCTimestamp(now)),
        ]
        self.nextOut += 1
        self._lastSent = now
        self.transport.write(codec.encode(properties["begin_string"], msgType, header, body))

    def subscribe(self, mdReqId):
        properties = self.properties
        body = [
            (262, mdReqId), (263, "1"), (264, str(properties["depth"])), (265, "1"), (266, "Y"),
        ]
        types = [BID, OFFER] + ([TRADE] if properties["trades"] else [])
        body.append((267, str(len(types))))
        body.extend((269, t) for t in types)
        symbols = properties["symbols"]
        body.append((146, str(len(symbols))))
        body.extend((55, s) for s in symbols)
        self.send("V", body)

    def unsubscribe(self, mdReqId):
        body = [(262, mdReqId), (263, "2"), (264, "0"), (267, "1"), (269, BID), (146, "0")]
        self.send("V", body)

    def logout(self, text=None):
        if self.transport is None or self._loggingOut:
            return
        self._loggingOut = True
        if self.loggedOn:
            self.send("5", [] if text is None else [(58, text)])
            # The source answers with its Logout; if not, close anyway.
            self._closeCall = self.clock.callLater(2.0, self.transport.loseConnection)
        else:
            self.transport.loseConnection()

    def _drop(self, text):
        self.log.warn("feed {feed}: {text}", feed=self.feed.name, text=text)
        self._reason = text
        self.transport.loseConnection()

    _reason = None
    _closeCall = None

    def dataReceived(self, data):
        try:
            items = self.framer.messages(data)
        except codec.Oversized:
            self._drop("a message over the size limit")
            return
        for item in items:
            if isinstance(item, codec.Message):
                try:
                    self._received(item)
                except ExsimError as e:
                    self.log.warn("feed {feed}: {error}", feed=self.feed.name, error=str(e))
                if self.transport is None or self.transport.disconnecting:
                    return
            else:
                self.log.warn("feed {feed}: garbled data dropped", feed=self.feed.name)

    def _received(self, message):
        self._lastReceived = self.clock.seconds()
        self._testRequest = None
        msgType = message.msgType
        seq = message.seqNum
        if msgType == "A":
            if self.loggedOn:
                return
            self.loggedOn = True
            self.nextIn = (seq or 1) + 1
            if self._logonCall is not None and self._logonCall.active():
                self._logonCall.cancel()
            self._logonCall = None
            self._startHeartbeats()
            self.feed.loggedOn(self)
            return
        if msgType == "5":
            text = message.get(58)
            if not self._loggingOut:
                self._loggingOut = True
                if self.loggedOn:
                    self.send("5", [])
            self._reason = "logged out%s" % (": " + text if text else "",)
            self.transport.loseConnection()
            return
        if not self.loggedOn:
            return
        if msgType == "4":
            newSeq = message.get(36)
            if newSeq is not None and newSeq.isdigit():
                if int(newSeq) > self.nextIn and message.get(123) != "Y":
                    self.feed.gap()
                self.nextIn = int(newSeq)
            return
        if seq is not None:
            if seq > self.nextIn:
                self.feed.gap()
            elif seq < self.nextIn:
                if message.get(43) == "Y":
                    return
                self._drop("MsgSeqNum %d lower than expected %d" % (seq, self.nextIn))
                return
            self.nextIn = seq + 1
        if msgType in ("W", "X"):
            self.feed.marketData(message)
        elif msgType == "1":
            self.send("0", [(112, message.get(112) or "")])
        elif msgType == "2":
            # Nothing of ours needs resending: a SequenceReset (reset
            # mode) to what comes next.
            self.send("4", [(36, str(self.nextOut + 1))])
        elif msgType == "Y":
            self.feed.rejected("MarketDataRequestReject: %s" % (message.get(58) or message.get(281),))
        elif msgType in ("3", "j"):
            self.feed.rejected("%s: %s" % ("Reject" if msgType == "3" else "BusinessMessageReject", message.get(58)))

    def _startHeartbeats(self):
        interval = self.properties["heartbeat_interval"]
        self._heartbeatCall = self.clock.callLater(min(1.0, interval), self._beat)

    def _beat(self):
        self._heartbeatCall = None
        if self.transport is None or self.transport.disconnecting:
            return
        now = self.clock.seconds()
        interval = self.properties["heartbeat_interval"]
        silent = now - self._lastReceived
        if silent > interval * 1.2 + 1:
            if self._testRequest is None:
                self._testRequest = "T%d" % (int(now),)
                self.send("1", [(112, self._testRequest)])
            elif silent > 2 * interval * 1.2 + 2:
                self._drop("the source is silent (no answer to a TestRequest)")
                return
        if now - self._lastSent >= interval:
            self.send("0", [])
        self._heartbeatCall = self.clock.callLater(min(1.0, interval), self._beat)

    def connectionLost(self, reason):
        for call in (self._heartbeatCall, self._logonCall, self._closeCall):
            if call is not None and call.active():
                call.cancel()
        self._heartbeatCall = self._logonCall = self._closeCall = None
        text = self._reason or reason.getErrorMessage()
        self.feed._lost(text, subscribed=self.subscribed)
