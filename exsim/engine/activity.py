# -*- test-case-name: tests.test_activity -*-
"""
Background order flow: a live-looking market on a book.

A book's C{activity} property (C{none}, C{slow}, C{fast}) starts an
L{Activity}: a few simple agents, in the spirit of the noise, value and
market-maker agents of agent-based market simulators (ABIDES and the
like), entering ordinary house orders into the book:

 - the I{reference price} (the fundamental value) follows a geometric
   Gaussian random walk with relative standard deviation C{volatility} per
   square root of a second; a test may move it at any time by setting
   C{reference_price};
 - I{liquidity providers} add passive limit orders on a random side
   (favouring the thinner side) at a random depth within C{depth_levels}
   ticks of the touch that C{spread_ticks} places around the reference;
   a passive order never crosses the book;
 - I{cancellers} keep the depth steady: once the activity has more than
   three orders per level per side resting, every new order comes with
   the cancel of a random older one; orders left on the wrong side of the
   reference, or too far from it, are cancelled at once;
 - I{takers} send marketable IOC orders: a value taker buys the asks below
   the reference (sells the bids above it); otherwise a noise taker hits
   the best bid or lifts the best offer at random.  Client orders trade
   with all of them.

Rates (C{order_rate}, C{trade_rate}) are per second; the work is done in
batches on a timer every C{activity_interval} seconds of the engine's
clock, so the reactor stays responsive.  Everything random comes from one
C{random.Random(seed)}: the same seed, configuration, clock and client
orders give the same sequence of orders.  No wall-clock time is read.

Background orders are DAY limit orders of the owner C{"house/<symbol>"},
entered with C{neverHeld=True} so managed mode never holds them.  Stopping
the activity cancels its resting orders; the book stays consistent.

The optional market maker (L{exsim.engine.marketmaker}) lives on the same
object, C{book.activity}.
"""

import math
import random
import zlib

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.phases import CLOSING_AUCTION, CONTINUOUS, PRE_OPEN
from exsim.errors import BadValue
from exsim.interfaces import IActivity
from exsim.model import Order, OrdType, Side, TimeInForce
from exsim.owners import activityOwner
from exsim.values import parseBoolean

LEVELS = ("none", "slow", "fast")

#: Orders per level per side the cancellers keep resting.
ORDERS_PER_LEVEL = 3

#: Passive and taker quantities are C{order_size} times 1 to this.
MAX_LOTS = 5


# -- value parsers -------------------------------------------------------------


def _number(name, value):
    if isinstance(value, bool):
        raise BadValue("%s must be a number, not %r" % (name, value))
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        raise BadValue("%s must be a number, not %r" % (name, value))
    if not math.isfinite(number):
        raise BadValue("%s must be a finite number, not %r" % (name, value))
    return number


def _integer(name, value):
    if isinstance(value, bool):
        raise BadValue("%s must be a whole number, not %r" % (name, value))
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        raise BadValue("%s must be a whole number, not %r" % (name, value))


def positiveInt(name, value):
    """
    Parse a whole number above zero.

    @raise BadValue: naming the property.
    """
    number = _integer(name, value)
    if number <= 0:
        raise BadValue("%s must be a positive whole number, not %r" % (name, value))
    return number


def nonNegative(name, value):
    """
    Parse a finite number at or above zero.
    """
    number = _number(name, value)
    if number < 0:
        raise BadValue("%s must not be negative, not %r" % (name, value))
    return number


def positive(name, value):
    """
    Parse a finite number above zero.
    """
    number = _number(name, value)
    if number <= 0:
        raise BadValue("%s must be above zero, not %r" % (name, value))
    return number


yesNo = parseBoolean


def _level(name, value):
    text = str(value).strip().lower()
    if text not in LEVELS:
        raise BadValue("activity must be one of none, slow, fast, not %r" % (value,))
    return text


def _seed(name, value):
    return _integer(name, value)


#: {property: (parser, default)}; a default of C{None} depends on the level.
PARAMETERS = {
    "volatility": (nonNegative, 0.0002),
    "spread_ticks": (positiveInt, 2),
    "depth_levels": (positiveInt, 5),
    "order_size": (positiveInt, 100),
    "order_rate": (nonNegative, None),
    "trade_rate": (nonNegative, None),
    "activity_interval": (positive, None),
}

#: Defaults that depend on the activity level.
LEVEL_DEFAULTS = {
    "slow": {"order_rate": 2.0, "trade_rate": 0.2, "activity_interval": 0.25},
    "fast": {"order_rate": 400.0, "trade_rate": 20.0, "activity_interval": 0.01},
}


# -- prices --------------------------------------------------------------------


def referenceOf(book):
    """
    The price a book's agents work around: its reference price, else the
    last trade price, else the middle of its best prices, else C{None}.
    """
    if book.referencePrice is not None:
        return book.referencePrice
    if book.lastPrice is not None:
        return book.lastPrice
    bid, ask = book.bestBid(), book.bestAsk()
    if bid is not None and ask is not None:
        return (bid + ask) // 2
    return bid if ask is None else ask


def onGrid(price, tick):
    """
    C{price} rounded to the nearest multiple of C{tick}, at least one tick.
    """
    return max(tick, (price + tick // 2) // tick * tick)


def quotePrices(reference, tick, spreadTicks):
    """
    The best bid and ask, C{spreadTicks} ticks apart, around a reference.

    @return: C{(bid, ask)}; C{bid} may be zero or negative for a reference
        within a few ticks of zero (then there is no bid to make).
    """
    bid = onGrid(reference, tick) - (spreadTicks // 2) * tick
    return bid, bid + spreadTicks * tick


def submitHouse(engine, owner, clOrdId, symbol, isBuy, quantity, price,
                timeInForce=TimeInForce.DAY):
    """
    Enter a house limit order directly (managed mode never holds it).

    @return: the L{Order}.
    """
    order = Order(
        owner,
        clOrdId,
        symbol,
        Side.BUY if isBuy else Side.SELL,
        quantity,
        price,
        OrdType.LIMIT,
        timeInForce,
    )
    engine.submitNew(order, neverHeld=True)
    return order


# -- the activity --------------------------------------------------------------


@implementer(IActivity)
class Activity:
    """
    The background order flow (and market maker) of one book.

    @ivar level: C{"none"}, C{"slow"} or C{"fast"}.
    @ivar owner: the owner of every order entered here.
    @ivar marketMaker: the L{exsim.engine.marketmaker.MarketMaker}, once
        one of its properties was set.
    @ivar ordersSent: new orders entered so far (passive and taker).
    @ivar cancelsSent: cancels sent so far.
    """

    log = Logger()

    def __init__(self, engine, book, seed=None):
        self.engine = engine
        self.book = book
        self.owner = activityOwner(book.symbol)
        self.level = "none"
        self.marketMaker = None
        self.seed = zlib.crc32(book.symbol.encode("utf-8")) if seed is None else seed
        self.random = random.Random(self.seed)
        self.ordersSent = 0
        self.cancelsSent = 0
        self._explicit = {}
        self._call = None
        self._due = None
        self._last = None
        self._value = None
        self._written = None
        self._dueOrders = 0.0
        self._dueTrades = 0.0
        self._nextId = 1
        self._live = []
        self._running = False

    # -- properties ------------------------------------------------------------

    def setProperty(self, name, value):
        """
        Set C{activity}, C{seed}, a flow parameter (L{PARAMETERS}) or a
        market-maker property.

        @raise BadValue: for a bad value or an unknown name.
        """
        from exsim.engine import marketmaker

        if name == "activity":
            self.setLevel(_level(name, value))
        elif name == "seed":
            self.seed = _seed(name, value)
            self.random.seed(self.seed)
        elif name in PARAMETERS:
            self._explicit[name] = PARAMETERS[name][0](name, value)
            if name == "activity_interval" and self._running:
                self._schedule()
        elif name in marketmaker.PARAMETERS:
            if self.marketMaker is None:
                self.marketMaker = marketmaker.MarketMaker(self)
            self.marketMaker.setProperty(name, value)
        else:
            raise BadValue("unknown activity property %r" % (name,))

    def get(self, name):
        """
        The value in force of a flow parameter.
        """
        if name in self._explicit:
            return self._explicit[name]
        default = PARAMETERS[name][1]
        if default is None:
            default = LEVEL_DEFAULTS.get(self.level, LEVEL_DEFAULTS["slow"])[name]
        return default

    def properties(self):
        """
        Every activity property and its value in force.
        """
        result = {name: self.get(name) for name in PARAMETERS}
        result["activity"] = self.level
        result["seed"] = self.seed
        if self.marketMaker is not None:
            result.update(self.marketMaker.properties())
        return result

    @property
    def clock(self):
        clock = getattr(self.engine, "clock", None)
        if clock is None:
            raise BadValue(
                "engine %r has no clock: it cannot run activity"
                % (getattr(self.engine, "name", "?"),)
            )
        return clock

    # -- IActivity -------------------------------------------------------------

    @property
    def running(self):
        """
        Whether the background flow is running.
        """
        return self._running

    def setLevel(self, level):
        """
        Switch to C{level}: C{"none"} stops the flow (cancelling its
        orders); C{"slow"} or C{"fast"} starts it, or changes its pace.
        """
        if level not in LEVELS:
            raise BadValue("activity must be one of none, slow, fast, not %r" % (level,))
        if level != "none":
            self.clock
        self.level = level
        if level == "none":
            self._stopFlow()
        else:
            self._startFlow()

    def start(self):
        """
        Start the flow at the current level (C{slow} if it is C{none}) and
        the market maker if it is enabled.
        """
        self.setLevel("slow" if self.level == "none" else self.level)
        if self.marketMaker is not None and self.marketMaker.enabled:
            self.marketMaker.start()

    def stop(self):
        """
        Stop the flow and the market maker and cancel their resting orders.
        The parameters and the random state are kept for a restart.
        """
        self.level = "none"
        self._stopFlow()
        if self.marketMaker is not None:
            self.marketMaker.stop()

    def _startFlow(self):
        if not self._running:
            self._running = True
            self._last = self.clock.seconds()
            self.log.info(
                "activity {pace} on {symbol} started (seed {seed})",
                pace=self.level,
                symbol=self.book.symbol,
                seed=self.seed,
            )
            self.step(0.0)
        self._schedule()

    def _stopFlow(self):
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if not self._running:
            return
        self._running = False
        self._last = None
        self._dueOrders = self._dueTrades = 0.0
        live, self._live = self._live, []
        for order in live:
            if order.resting and not order.isDone:
                self._cancel(order)
        self.log.info("activity on {symbol} stopped", symbol=self.book.symbol)

    def _schedule(self, restart=True):
        """
        Schedule the next batch.  Batches fall on a fixed grid of the
        clock, shifted by a per-book phase, so the books of one reactor
        take turns rather than all running at once.
        """
        if self._call is not None and self._call.active():
            self._call.cancel()
        interval = self.get("activity_interval")
        now = self.clock.seconds()
        if restart or self._due is None:
            due = now + interval * self._phase()
        else:
            due = self._due + interval
            if due <= now:
                due += math.ceil((now - due) / interval) * interval
                if due <= now:
                    due += interval
        self._due = due
        self._call = self.clock.callLater(max(0.0, due - now), self._tick)

    def _phase(self):
        """
        This book's share of the interval: the golden-ratio sequence over
        the engine's books, which spreads any number of them evenly.
        """
        books = getattr(self.engine, "books", None) or {}
        try:
            index = list(books).index(self.book.symbol)
        except ValueError:
            index = zlib.crc32(self.book.symbol.encode("utf-8"))
        return ((index + 1) * 0.6180339887498949) % 1.0

    def _tick(self):
        self._call = None
        if not self._running:
            return
        now = self.clock.seconds()
        elapsed = now - self._last
        self._last = now
        try:
            self.step(elapsed)
        except Exception:
            self.log.failure("activity on {symbol} failed", symbol=self.book.symbol)
        if self._running and self._call is None:
            self._schedule(restart=False)

    # -- the agents ------------------------------------------------------------

    def _newId(self):
        clOrdId = "A%d" % (self._nextId,)
        self._nextId += 1
        return clOrdId

    def step(self, elapsed):
        """
        Run the agents for C{elapsed} seconds of the clock: walk the
        reference price, then enter the orders and cancels due.

        The flow follows the book's trading phase: all of it in the
        continuous phase; passive orders only (no takers) in a call
        (C{pre_open}, C{closing_auction}); nothing in the others
        (C{closed}, C{halted}, C{post_close}).
        """
        phase = getattr(self.book, "phase", CONTINUOUS)
        takers = phase is CONTINUOUS
        if not takers:
            self._dueTrades = 0.0
            if phase is not PRE_OPEN and phase is not CLOSING_AUCTION:
                self._dueOrders = 0.0
                return
        reference = self._walk(elapsed)
        if reference is None:
            return
        tick = self.book.instrument.tickSize
        bidTop, askTop = quotePrices(reference, tick, self.get("spread_ticks"))
        self._cancelStale(bidTop, askTop, tick)
        self._dueOrders += elapsed * self.get("order_rate")
        if takers:
            self._dueTrades += elapsed * self.get("trade_rate")
        orders = int(self._dueOrders)
        trades = int(self._dueTrades)
        self._dueOrders -= orders
        self._dueTrades -= trades
        # A late timer (a busy reactor) catches up at most this far; the
        # rest of the backlog is dropped rather than starving the clients.
        interval = self.get("activity_interval")
        cap = int(4 * interval * self.get("order_rate")) + 1
        if orders > cap:
            orders, self._dueOrders = cap, 0.0
        cap = int(4 * interval * self.get("trade_rate")) + 1
        if trades > cap:
            trades, self._dueTrades = cap, 0.0
        target = 2 * ORDERS_PER_LEVEL * self.get("depth_levels")
        rng = self.random
        while orders or trades:
            if rng.random() * (orders + trades) < trades:
                trades -= 1
                self._take(reference, tick)
            else:
                orders -= 1
                self._addPassive(bidTop, askTop, tick)
                if len(self._live) > target:
                    self._cancelRandom()

    def _walk(self, elapsed):
        book = self.book
        current = referenceOf(book)
        if current is None:
            return None
        if current != self._written:
            # Set by a test (or the first step): restart the walk there.
            self._value = float(current)
        volatility = self.get("volatility")
        if volatility and elapsed > 0:
            self._value *= math.exp(
                volatility * math.sqrt(elapsed) * self.random.gauss(0.0, 1.0)
            )
        tick = book.instrument.tickSize
        price = onGrid(int(round(self._value)), tick)
        book.referencePrice = self._written = price
        return price

    def _size(self):
        return self.get("order_size") * self.random.randint(1, MAX_LOTS)

    def _submit(self, isBuy, price, quantity, timeInForce=TimeInForce.DAY):
        self.ordersSent += 1
        return submitHouse(
            self.engine, self.owner, self._newId(), self.book.symbol, isBuy,
            quantity, price, timeInForce,
        )

    def _cancel(self, order):
        self.cancelsSent += 1
        self.engine.submitCancel(
            self.owner, self._newId(), origClOrdId=order.clOrdId, neverHeld=True
        )

    def _addPassive(self, bidTop, askTop, tick, isBuy=None, depth=None):
        book = self.book
        rng = self.random
        if isBuy is None:
            bids, asks = len(book.bids), len(book.asks)
            isBuy = rng.random() * (bids + asks + 2) < asks + 1
        if depth is None:
            depth = rng.randrange(self.get("depth_levels"))
        quantity = self._size()
        if isBuy:
            price = bidTop - depth * tick
            best = book.bestAsk()
            if best is not None and price >= best:
                price = best - tick
        else:
            price = askTop + depth * tick
            best = book.bestBid()
            if best is not None and price <= best:
                price = best + tick
        if price <= 0:
            return
        order = self._submit(isBuy, price, quantity)
        if order.resting:
            self._live.append(order)

    def _take(self, reference, tick):
        book = self.book
        bid, ask = book.bestBid(), book.bestAsk()
        if ask is not None and ask < reference:
            isBuy, limit = True, reference - tick
        elif bid is not None and bid > reference:
            isBuy, limit = False, reference + tick
        else:
            isBuy = self.random.random() < 0.5
            limit = ask if isBuy else bid
            if limit is None:
                return
        self._submit(isBuy, limit, self._size(), TimeInForce.IOC)

    def _cancelStale(self, bidTop, askTop, tick):
        """
        Forget finished orders; cancel those on the wrong side of the
        reference or too deep; fill an empty side with a ladder.
        """
        far = (self.get("depth_levels") + 2) * tick
        live = []
        bids = asks = 0
        for order in self._live:
            if order.isDone or not order.resting:
                continue
            price = order.price
            if order.isBuy:
                if price >= askTop or price < bidTop - far:
                    self._cancel(order)
                    continue
                bids += 1
            else:
                if price <= bidTop or price > askTop + far:
                    self._cancel(order)
                    continue
                asks += 1
            live.append(order)
        self._live = live
        for isBuy, count in ((True, bids), (False, asks)):
            if not count:
                for depth in range(self.get("depth_levels")):
                    self._addPassive(bidTop, askTop, tick, isBuy, depth)

    def _cancelRandom(self):
        live = self._live
        rng = self.random
        while live:
            index = rng.randrange(len(live))
            order = live[index]
            live[index] = live[-1]
            live.pop()
            if order.resting and not order.isDone:
                self._cancel(order)
                return

    def liveOrders(self):
        """
        The flow's orders resting in the book now.
        """
        return [o for o in self._live if o.resting and not o.isDone]


# -- book properties -----------------------------------------------------------


def activityOf(engine, book):
    """
    The L{Activity} of C{book}, created (stopped) on first use.
    """
    activity = getattr(book, "activity", None)
    if activity is None:
        activity = book.activity = Activity(engine, book)
    return activity


def stopAll(engine):
    """
    Stop the activity and market maker of every book of C{engine} (for a
    simulator that stops: no timer is left on the reactor).
    """
    for book in list(getattr(engine, "books", {}).values()):
        activity = getattr(book, "activity", None)
        if activity is not None:
            activity.stop()


def setActivityProperty(engine, book, name, value):
    """
    The C{book_property} handler of every activity and market-maker
    property.
    """
    activityOf(engine, book).setProperty(name, value)


def propertyNames():
    """
    Every book property handled here.
    """
    from exsim.engine import marketmaker

    return ("activity", "seed") + tuple(PARAMETERS) + tuple(marketmaker.PARAMETERS)


def registerBuiltins():
    """
    Register the activity book properties (unless a plugin took a name).
    """
    from exsim import registry

    known = registry.entries("book_property")
    for name in propertyNames():
        if name not in known:
            registry.register("book_property", name, setActivityProperty)


registerBuiltins()
