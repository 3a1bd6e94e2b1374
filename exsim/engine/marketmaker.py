# -*- test-case-name: tests.test_marketmaker -*-
"""
The built-in market-maker policy of a book.

With C{market_maker = yes} a book keeps a two-sided house quote: a bid and
an ask of C{mm_size} each, C{mm_spread_ticks} ticks apart around the
reference price (see L{exsim.engine.activity.referenceOf}).  Every
C{mm_refresh} seconds of the engine's clock, and at once after one of its
sides trades, the quote is refreshed: a side whose price is off or whose
remaining size is short is replaced (one cancel/replace, so the book never
shows a gap: the side changes atomically), a side that traded in full or
was cancelled is entered again.

Quote orders are DAY limit orders of the book's house owner
(C{"house/<symbol>"}) with client order ids C{Q1}, C{Q2}, ...; they are
entered with C{neverHeld=True} so managed mode never holds them.  Turning
the policy off (or deleting the book) cancels the quote.
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.activity import (
    positive,
    positiveInt,
    quotePrices,
    referenceOf,
    submitHouse,
    yesNo,
)
from exsim.engine.events import Filled
from exsim.interfaces import IActivity, IEngineListener

#: {property: (parser, default)}
PARAMETERS = {
    "market_maker": (yesNo, False),
    "mm_spread_ticks": (positiveInt, 2),
    "mm_size": (positiveInt, 500),
    "mm_refresh": (positive, 1.0),
}


@implementer(IActivity, IEngineListener)
class MarketMaker:
    """
    A two-sided quote kept around the reference price of one book.

    @ivar bid: the bid L{Order} (possibly finished), or C{None}.
    @ivar ask: the ask L{Order} (possibly finished), or C{None}.
    @ivar refreshes: how many times the quote was checked.
    """

    log = Logger()

    def __init__(self, activity):
        self.activity = activity
        self.engine = activity.engine
        self.book = activity.book
        self.owner = activity.owner
        self.bid = None
        self.ask = None
        self.refreshes = 0
        self._values = {name: default for name, (_, default) in PARAMETERS.items()}
        self._timer = None
        self._soon = None
        self._running = False
        self._nextId = 1

    @property
    def enabled(self):
        return self._values["market_maker"]

    @property
    def running(self):
        return self._running

    def setProperty(self, name, value):
        """
        Set C{market_maker} (starts or stops the policy) or a parameter
        (applied at once when running).
        """
        parsed = PARAMETERS[name][0](name, value)
        if name == "market_maker":
            if parsed:
                # Check for a clock before saying yes.
                self.activity.clock
            self._values[name] = parsed
            if parsed:
                self.start()
            else:
                self.stop()
            return
        self._values[name] = parsed
        if self._running:
            if name == "mm_refresh":
                self._scheduleTimer()
            self.refresh()

    def get(self, name):
        return self._values[name]

    def properties(self):
        return dict(self._values)

    # -- IActivity -------------------------------------------------------------

    def start(self):
        """
        Start quoting (at once, if there is a reference price).
        """
        self._values["market_maker"] = True
        if self._running:
            return
        self._running = True
        self.engine.subscribe(self)
        self.log.info("market maker on {symbol} started", symbol=self.book.symbol)
        self.refresh()
        self._scheduleTimer()

    def stop(self):
        """
        Stop quoting and cancel the quote.
        """
        self._values["market_maker"] = False
        for call in (self._timer, self._soon):
            if call is not None and call.active():
                call.cancel()
        self._timer = self._soon = None
        if not self._running:
            return
        self._running = False
        self.engine.unsubscribe(self)
        for order in (self.bid, self.ask):
            if order is not None and order.resting and not order.isDone:
                self.engine.submitCancel(
                    self.owner, self._newId(), origClOrdId=order.clOrdId, neverHeld=True
                )
        self.bid = self.ask = None
        self.log.info("market maker on {symbol} stopped", symbol=self.book.symbol)

    # -- timers ----------------------------------------------------------------

    def _scheduleTimer(self):
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = self.activity.clock.callLater(self.get("mm_refresh"), self._onTimer)

    def _onTimer(self):
        self._timer = None
        if not self._running:
            return
        self._safeRefresh()
        if self._running and self._timer is None:
            self._scheduleTimer()

    def _onSoon(self):
        self._soon = None
        if self._running:
            self._safeRefresh()

    def _safeRefresh(self):
        try:
            self.refresh()
        except Exception:
            self.log.failure("market maker on {symbol} failed", symbol=self.book.symbol)

    def engineEvents(self, events):
        """
        After one of the quote's sides trades, refresh the quote as soon as
        the engine is done (a zero-delay call on the clock).
        """
        if self._soon is not None:
            return
        owner = self.owner
        for event in events:
            if (
                event.__class__ is Filled
                and event.order.owner == owner
                and event.clOrdId[:1] == "Q"
            ):
                self._soon = self.activity.clock.callLater(0, self._onSoon)
                return

    # -- quoting ---------------------------------------------------------------

    def _newId(self):
        clOrdId = "Q%d" % (self._nextId,)
        self._nextId += 1
        return clOrdId

    def refresh(self):
        """
        Bring both sides of the quote to the target prices and size.
        """
        if not self._running:
            return
        self.refreshes += 1
        reference = referenceOf(self.book)
        if reference is None:
            return
        tick = self.book.instrument.tickSize
        bidPrice, askPrice = quotePrices(reference, tick, self.get("mm_spread_ticks"))
        ask = self.ask
        if ask is not None and not ask.isDone and askPrice > ask.price:
            # Moving up: the ask first, so the new bid never meets the old
            # ask (and the other way round when moving down).
            self.ask = self._side(ask, False, askPrice)
            self.bid = self._side(self.bid, True, bidPrice)
        else:
            self.bid = self._side(self.bid, True, bidPrice)
            self.ask = self._side(self.ask, False, askPrice)

    def _side(self, order, isBuy, price):
        size = self.get("mm_size")
        engine = self.engine
        if order is not None and order.isDone:
            order = None
        if price <= 0:
            if order is not None:
                engine.submitCancel(
                    self.owner, self._newId(), origClOrdId=order.clOrdId, neverHeld=True
                )
            return None
        if order is None:
            return submitHouse(
                engine, self.owner, self._newId(), self.book.symbol, isBuy, size, price
            )
        if order.price != price or order.leavesQty != size:
            engine.submitReplace(
                self.owner,
                self._newId(),
                origClOrdId=order.clOrdId,
                price=price,
                quantity=order.cumQty + size,
                neverHeld=True,
            )
        return order
