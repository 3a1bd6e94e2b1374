# -*- test-case-name: tests.test_engine_model -*-
"""
Hypothesis stateful tests of the engines.

L{FastVersusReference}, the differential test: random command sequences
go to the fast engine (L{exsim.engine.matching.MatchingEngine}) and to the
reference engine (L{exsim.engine.reference.ReferenceEngine}); both must
deliver the same events (same classes, every field, same order, same
batches), give the same answers (results and exceptions), and end each
step in the same state, with every invariant of both holding
(C{validateInternalState}).  The commands cover every rule: new orders of
every type and time in force (valid or not), cancels and replaces by order
id or client order id (of the right owner, another or none), managed mode
(with and without a Pending New acknowledgement) and every answer to a
held request, fills and trades the test makes
(C{fillOrder}, C{matchOrders}), off-book crosses (C{crossOrders}), every behaviour and its parameters, book
bounds and what attached protocols carry, GTD expiry on the clock, the end
of the day, cancel all, books removed and added again, and batches.  Times
never tie: clock steps are multiples of half a second, behaviour delays
and GTD lifetimes are not (a tie between two of an engine's timers would
leave their order to how each engine schedules them).

L{EngineVersusModel}: the fast engine against a tiny naive model written
in this file: the same trades, order states and book.
"""

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from exsim.engine.events import BookChanged
from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.model import AdvancedTerms, Instrument, OrdStatus, OrdType, Order, Side, TimeInForce
from tests.helpers import Recorder, engineWithBook, fuzzExamples

TICK = 100
SYMBOLS = ("T", "U")
OWNERS = ("s1", "s2", "house")
GOOD_PRICES = st.integers(min_value=97, max_value=103).map(lambda p: p * TICK)
PRICES = st.one_of(GOOD_PRICES, st.sampled_from([0, 150, -TICK]))
GOOD_QUANTITIES = st.integers(min_value=1, max_value=25)
QUANTITIES = st.integers(min_value=-1, max_value=25)
SIDES = st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT])
TIFS = st.sampled_from(
    [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD,
     TimeInForce.AT_OPEN, TimeInForce.AT_CLOSE]
)
#: GTD lifetimes (seconds from now): not multiples of half a second.
LIFETIMES = st.sampled_from([0.1, 1.1, 2.3, -0.9])
#: Clock steps.
STEPS = st.sampled_from([0.5, 1.0, 2.5])
ANSWERS = st.sampled_from(
    ["acceptOrder", "rejectOrder", "fillOrder", "cancelUnsolicited", "acceptCancel",
     "rejectCancel", "acceptReplace", "rejectReplace", "restOrder"]
)
BEHAVIOURS = st.sampled_from(
    ["standard", "standard", "auto_fill", "auto_partial", "auto_reject", "auto_cancel",
     "partial_then_cancel"]
)
ADVANCED_TYPES = st.sampled_from(
    [OrdType.LIMIT, OrdType.LIMIT, OrdType.LIMIT, OrdType.MARKET, OrdType.STOP,
     OrdType.STOP_LIMIT, OrdType.PEGGED, OrdType.PEGGED]
)
ADVANCED_KINDS = st.sampled_from(
    ["stop", "stop", "iceberg", "iceberg", "hidden", "postOnly", "minimum", "peg", "peg",
     "stpOnly"]
)
STP_MODES = st.sampled_from(
    ["none", "cancel_newest", "cancel_oldest", "cancel_both", "decrement", "bad"]
)
BOOK_PROPERTIES = st.sampled_from(
    [("fill_fraction", "0.25"), ("fill_fraction", "1"), ("cancel_delay", "0"),
     ("cancel_delay", "0.7"), ("cancel_delay", "1.7"), ("reference_price", "1.00"),
     ("tick_size", "0.02"), ("tick_size", "0.01"), ("max_order_quantity", "20"),
     ("max_order_quantity", "none"), ("min_price", "0.98"), ("max_price", "1.02"),
     ("min_price", ""), ("max_price", "none"), ("halt_accepts_orders", "yes"),
     ("halt_accepts_orders", "yes"),
     ("halt_accepts_orders", "no"), ("reopen_with_auction", "no"),
     ("reopen_with_auction", "yes"), ("post_close_accepts", "yes"),
     ("post_close_accepts", "no")]
)
#: Trading phases, the continuous one and the calls more often.
PHASES = st.sampled_from(
    ["continuous", "continuous", "continuous", "pre_open", "pre_open", "pre_open",
     "closing_auction", "closing_auction", "halted", "post_close", "closed", "lunch"]
)


def describe(event):
    """
    An event as plain values: its class and every field, an order by its
    order id.
    """
    fields = []
    for name in type(event).__slots__:
        value = getattr(event, name)
        if isinstance(value, Order):
            value = ("order", value.orderId)
        fields.append((name, value))
    return (type(event).__name__, fields)


def orderState(order):
    extra = order.extra
    if extra is not None:
        extra = tuple(getattr(extra, name) for name in AdvancedTerms.__slots__ if name != "seq")
    return (
        order.orderId, order.clOrdId, order.price, order.quantity, order.cumQty,
        order.leavesQty, order.notional, order.status, order.resting, extra,
    )


class FastVersusReference(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.sides = []
        for engineClass in (MatchingEngine, ReferenceEngine):
            clock = Clock()
            clock.advance(1000)
            engine = engineClass("e1", clock)
            engine.setProperty("timezone", "UTC")
            for symbol in SYMBOLS:
                engine.addBook(Instrument(symbol, tickSize=TICK))
            recorder = Recorder()
            engine.subscribe(recorder)
            self.sides.append((engine, clock, recorder, {}))
        self.ids = 0
        self.clOrdIds = []
        self.steps = 0

    # -- running commands on both engines ------------------------------------

    def both(self, command):
        """
        Run C{command(engine, orders)} on each engine; both must answer
        alike and deliver the same events.
        """
        self.steps += 1
        answers = []
        for engine, clock, recorder, orders in self.sides:
            try:
                answers.append(("result", command(engine, orders)))
            except Exception as e:
                answers.append(("raised", type(e), str(e)))
        assert answers[0] == answers[1], answers
        fast, reference = [
            [[describe(e) for e in batch] for batch in recorder.batches]
            for engine, clock, recorder, orders in self.sides
        ]
        for i, (a, b) in enumerate(zip(fast, reference)):
            assert a == b, (i, a, b)
        assert len(fast) == len(reference), (fast, reference)
        for engine, clock, recorder, orders in self.sides:
            recorder.batches.clear()
            recorder.events.clear()

    def _newClOrdId(self):
        self.ids += 1
        clOrdId = "c%d" % (self.ids,)
        self.clOrdIds.append(clOrdId)
        return clOrdId

    def _clOrdId(self, data):
        if self.clOrdIds and data.draw(st.integers(0, 9)) == 9:
            return data.draw(st.sampled_from(self.clOrdIds[-10:]))
        return self._newClOrdId()

    def now(self):
        return self.sides[0][1].seconds()

    def _target(self, data):
        """
        An order id to act on: mostly a live order's, else one of a
        finished order, or now and then one that never was.
        """
        live = [o.orderId for o in self.sides[0][0].liveOrders()]
        known = sorted(self.sides[0][3])
        choice = data.draw(st.integers(0, 9))
        if live and choice < 7:
            return data.draw(st.sampled_from(live))
        if known and choice < 9:
            return data.draw(st.sampled_from(known[-15:]))
        return data.draw(st.sampled_from([0, 999999, "7", "x"]))

    # -- commands --------------------------------------------------------------

    def _submit(
        self, owner, clOrdId, symbol, side, quantity, price, ordType, tif, expireTime=None,
        terms=None,
    ):
        def command(engine, orders):
            extra = None if terms is None else AdvancedTerms(**terms)
            order = Order(
                owner, clOrdId, symbol, side, quantity, price, ordType, tif, expireTime,
                extra=extra,
            )
            engine.submitNew(order, neverHeld=owner == "house")
            orders[order.orderId] = order
            return order.orderId

        self.both(command)

    @rule(
        data=st.data(), owner=st.sampled_from(OWNERS), symbol=st.sampled_from(SYMBOLS),
        side=SIDES, price=GOOD_PRICES, quantity=GOOD_QUANTITIES,
        tif=st.sampled_from(
            [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD, TimeInForce.AT_OPEN,
             TimeInForce.AT_CLOSE]
        ),
        lifetime=LIFETIMES,
    )
    def newLimit(self, data, owner, symbol, side, price, quantity, tif, lifetime):
        """
        A limit order that may rest.
        """
        expireTime = self.now() + lifetime if tif is TimeInForce.GTD else None
        self._submit(
            owner, self._clOrdId(data), symbol, side, quantity, price, OrdType.LIMIT, tif,
            expireTime,
        )

    @rule(
        data=st.data(), owner=st.sampled_from(OWNERS), symbol=st.sampled_from(SYMBOLS),
        side=SIDES, price=st.one_of(st.none(), GOOD_PRICES), quantity=GOOD_QUANTITIES,
        tif=st.sampled_from(
            [TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY, TimeInForce.AT_OPEN,
             TimeInForce.AT_CLOSE]
        ),
    )
    def newAggressive(self, data, owner, symbol, side, price, quantity, tif):
        """
        An IOC or FOK limit order, or a market order (no price).
        """
        ordType = OrdType.MARKET if price is None else OrdType.LIMIT
        self._submit(owner, self._clOrdId(data), symbol, side, quantity, price, ordType, tif)

    @rule(
        data=st.data(), owner=st.sampled_from(OWNERS),
        symbol=st.sampled_from(SYMBOLS + ("Z",)), side=SIDES,
        ordType=st.sampled_from([OrdType.LIMIT, OrdType.MARKET]),
        price=st.one_of(GOOD_PRICES, st.sampled_from([None, 0, 150, -TICK])),
        quantity=st.integers(-1, 25), tif=TIFS, lifetime=LIFETIMES,
    )
    def newAny(self, data, owner, symbol, side, ordType, price, quantity, tif, lifetime):
        """
        Any order, valid or not.
        """
        expireTime = None
        if tif is TimeInForce.GTD:
            expireTime = data.draw(st.sampled_from([None, self.now() + lifetime]))
        self._submit(
            owner, self._clOrdId(data), symbol, side, quantity, price, ordType, tif, expireTime
        )

    @rule(
        data=st.data(), owners=st.tuples(st.sampled_from(OWNERS), st.sampled_from(OWNERS)),
        symbols=st.sampled_from([("T", "T"), ("U", "U"), ("T", "U"), ("Z", "Z")]),
        passiveSide=SIDES, sameSide=st.integers(0, 9),
        prices=st.tuples(PRICES, PRICES), quantities=st.tuples(QUANTITIES, QUANTITIES),
        quantity=st.one_of(st.none(), st.integers(0, 26)), price=st.one_of(st.none(), PRICES),
    )
    def cross(self, data, owners, symbols, passiveSide, sameSide, prices, quantities, quantity, price):
        """
        An off-book cross of two new orders (valid or not, terms that
        cross or not).
        """
        if sameSide == 0:
            aggressorSide = passiveSide
        else:
            aggressorSide = Side.SELL if passiveSide is Side.BUY else Side.BUY
        clOrdIds = (self._clOrdId(data), self._clOrdId(data))

        def command(engine, orders):
            passive, aggressor = [
                Order(owner, clOrdId, symbol, side, qty, px, OrdType.LIMIT, TimeInForce.DAY)
                for owner, clOrdId, symbol, side, qty, px in zip(
                    owners, clOrdIds, symbols, (passiveSide, aggressorSide), quantities, prices
                )
            ]
            result = engine.crossOrders(passive, aggressor, quantity, price)
            for order in (passive, aggressor):
                if order.orderId:
                    orders[order.orderId] = order
            return result

        self.both(command)

    @rule(
        data=st.data(), owner=st.sampled_from(OWNERS), symbol=st.sampled_from(SYMBOLS),
        side=SIDES, kind=ADVANCED_KINDS, price=GOOD_PRICES, quantity=GOOD_QUANTITIES,
        tif=st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC]),
        lifetime=LIFETIMES, stpId=st.sampled_from([None, None, "x", "y"]),
    )
    def newAdvanced(self, data, owner, symbol, side, kind, price, quantity, tif, lifetime, stpId):
        """
        A valid order with advanced terms (mostly): stop, stop-limit,
        iceberg, hidden, post-only, minimum quantity, midpoint peg, self-
        trade prevention id.
        """
        terms = {"stpId": stpId}
        ordType = OrdType.LIMIT
        if kind == "stop":
            ordType = data.draw(st.sampled_from([OrdType.STOP, OrdType.STOP_LIMIT]))
            terms["stopPx"] = data.draw(GOOD_PRICES)
            if ordType is OrdType.STOP:
                price = None
        elif kind == "iceberg":
            terms["displayQty"] = data.draw(st.integers(1, quantity))
        elif kind == "hidden":
            terms["displayQty"] = 0
            terms["minQty"] = data.draw(st.one_of(st.none(), st.integers(1, quantity)))
        elif kind == "postOnly":
            terms["postOnly"] = True
            if tif is TimeInForce.IOC:
                tif = TimeInForce.DAY
        elif kind == "minimum":
            terms["minQty"] = data.draw(st.integers(1, quantity))
            if data.draw(st.booleans()):
                ordType, price = OrdType.MARKET, None
                tif = TimeInForce.IOC
        elif kind == "peg":
            ordType = OrdType.PEGGED
            price = data.draw(st.one_of(st.none(), GOOD_PRICES))
            terms["minQty"] = data.draw(st.one_of(st.none(), st.none(), st.integers(1, quantity)))
        expireTime = self.now() + lifetime if tif is TimeInForce.GTD else None
        self._submit(
            owner, self._clOrdId(data), symbol, side, quantity, price, ordType, tif,
            expireTime, terms,
        )

    @rule(
        data=st.data(), owner=st.sampled_from(OWNERS), symbol=st.sampled_from(SYMBOLS),
        side=SIDES, kind=ADVANCED_KINDS, price=GOOD_PRICES, quantity=GOOD_QUANTITIES,
        tif=st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC]),
        lifetime=LIFETIMES, stpId=st.sampled_from([None, None, "x", "y"]),
    )
    def newAdvancedAgain(self, data, owner, symbol, side, kind, price, quantity, tif, lifetime, stpId):
        """
        (L{newAdvanced}, twice as often as the other rules.)
        """
        self.newAdvanced(data, owner, symbol, side, kind, price, quantity, tif, lifetime, stpId)

    @rule(
        data=st.data(), owner=st.sampled_from(OWNERS), symbol=st.sampled_from(SYMBOLS),
        side=SIDES, ordType=ADVANCED_TYPES, price=st.one_of(st.none(), GOOD_PRICES, st.just(150)),
        quantity=st.integers(0, 25), tif=TIFS, lifetime=LIFETIMES,
        stopPx=st.one_of(st.none(), GOOD_PRICES, st.just(150)),
        display=st.one_of(st.none(), st.integers(0, 26)),
        minQty=st.one_of(st.none(), st.integers(0, 26)), postOnly=st.booleans(),
        stpId=st.sampled_from([None, "x", 7]),
    )
    def newAdvancedAny(
        self, data, owner, symbol, side, ordType, price, quantity, tif, lifetime, stopPx,
        display, minQty, postOnly, stpId,
    ):
        """
        An order with any advanced terms, valid or not.
        """
        expireTime = self.now() + lifetime if tif is TimeInForce.GTD else None
        terms = dict(
            stopPx=stopPx, displayQty=display, minQty=minQty, postOnly=postOnly, stpId=stpId
        )
        self._submit(
            owner, self._clOrdId(data), symbol, side, quantity, price, ordType, tif,
            expireTime, terms,
        )

    @rule(symbol=st.sampled_from(SYMBOLS), mode=STP_MODES)
    def selfTradePrevention(self, symbol, mode):
        self.both(
            lambda engine, orders: engine.setBookProperty(symbol, "self_trade_prevention", mode)
        )

    @rule(symbol=st.sampled_from(SYMBOLS), action=st.sampled_from(["reject", "slide", "x"]))
    def postOnlyAction(self, symbol, action):
        self.both(lambda engine, orders: engine.setBookProperty(symbol, "post_only_action", action))

    @rule(owner=st.sampled_from(OWNERS), group=st.sampled_from([None, "g1", "g2"]))
    def stpGroup(self, owner, group):
        self.both(lambda engine, orders: engine.setStpGroup(owner, group))

    @rule(data=st.data(), byId=st.booleans(), ownerChoice=st.integers(0, 6))
    def cancel(self, data, byId, ownerChoice):
        orderId, owner, origClOrdId = self._request(data, byId, ownerChoice)
        clOrdId = self._clOrdId(data)
        self.both(
            lambda engine, orders: engine.submitCancel(
                owner, clOrdId, origClOrdId=origClOrdId, orderId=orderId,
                neverHeld=owner == "house",
            )
        )

    @rule(
        data=st.data(), byId=st.booleans(), ownerChoice=st.integers(0, 6),
        price=st.one_of(st.none(), PRICES), quantity=st.one_of(st.none(), QUANTITIES),
        sameId=st.integers(0, 5),
    )
    def replace(self, data, byId, ownerChoice, price, quantity, sameId):
        orderId, owner, origClOrdId = self._request(data, byId, ownerChoice)
        if sameId == 5 and origClOrdId is not None:
            clOrdId = origClOrdId
        else:
            clOrdId = self._clOrdId(data)
        stopPx = None
        if data.draw(st.integers(0, 3)) == 3:
            stopPx = data.draw(PRICES)
        kw = {} if stopPx is None else {"stopPx": stopPx}
        self.both(
            lambda engine, orders: engine.submitReplace(
                owner, clOrdId, origClOrdId=origClOrdId, orderId=orderId, price=price,
                quantity=quantity, neverHeld=owner == "house", **kw
            )
        )

    def _request(self, data, byId, ownerChoice):
        """
        (order id, owner, original client order id) of a cancel or
        replace: by order id or by client order id (the target's current
        one, or one it had before), from its owner, another or none.
        """
        target = self._target(data)
        order = self.sides[0][3].get(target)
        owner = order.owner if order is not None else "s1"
        if ownerChoice == 6:
            owner = data.draw(st.sampled_from(OWNERS))
        elif ownerChoice == 5 and byId:
            owner = None
        if byId:
            return target, owner, None
        clOrdId = order.clOrdId if order is not None else "nope"
        if ownerChoice == 4 and self.clOrdIds:
            clOrdId = data.draw(st.sampled_from(self.clOrdIds[-10:]))
        return None, owner, clOrdId

    @rule(mode=st.sampled_from(["auto", "managed"]))
    def mode(self, mode):
        self.both(lambda engine, orders: engine.setProperty("mode", mode))

    @rule(ack=st.sampled_from(["none", "pending_new", "PENDING_NEW", "bogus"]))
    def managedAck(self, ack):
        self.both(lambda engine, orders: engine.setProperty("managed_ack", ack))
        self.both(lambda engine, orders: engine.properties())

    @rule(
        data=st.data(), answer=ANSWERS, quantity=st.integers(0, 25), price=PRICES,
        text=st.sampled_from([None, "no"]),
    )
    def answer(self, data, answer, quantity, price, text):
        held = sorted(self.sides[0][0].pendingRequests())
        if held and data.draw(st.integers(0, 3)) < 3:
            orderId = data.draw(st.sampled_from(held))
        else:
            orderId = self._target(data)

        def command(engine, orders):
            method = getattr(engine, answer)
            if answer == "fillOrder":
                return method(orderId, quantity, price)
            if answer in ("rejectOrder", "rejectCancel", "rejectReplace"):
                return method(orderId, text)
            return method(orderId)

        self.both(command)

    @rule(
        data=st.data(), quantity=st.one_of(st.none(), st.integers(0, 25)),
        price=st.one_of(st.none(), PRICES),
    )
    def matchOrders(self, data, quantity, price):
        a = self._target(data)
        b = self._target(data)
        self.both(lambda engine, orders: engine.matchOrders(a, b, quantity, price))

    @rule(symbol=st.sampled_from(SYMBOLS), behaviour=BEHAVIOURS)
    def behaviour(self, symbol, behaviour):
        self.both(lambda engine, orders: engine.setBookProperty(symbol, "behaviour", behaviour))

    @rule(symbol=st.sampled_from(SYMBOLS), nameValue=BOOK_PROPERTIES)
    def bookProperty(self, symbol, nameValue):
        name, value = nameValue
        self.both(lambda engine, orders: engine.setBookProperty(symbol, name, value))

    @rule(step=STEPS)
    def advance(self, step):
        self.both(lambda engine, orders: engine.clock.advance(step))

    @rule(
        key=st.sampled_from(["ouch1", "itch1"]),
        bounds=st.sampled_from([(None, None), (22, None), (None, 10200), (24, 10100)]),
    )
    def carried(self, key, bounds):
        """
        An endpoint that can carry only so much attaches (or detaches).
        """
        self.both(lambda engine, orders: engine.setCarried(key, *bounds))

    @rule(
        owner=st.sampled_from((None,) + OWNERS),
        symbol=st.sampled_from((None,) + SYMBOLS + ("Z",)),
        side=st.sampled_from([None, None, Side.BUY, Side.SELL]),
    )
    def cancelAll(self, owner, symbol, side):
        self.both(lambda engine, orders: engine.cancelAll(owner, symbol, side=side))

    @rule(symbol=st.sampled_from(SYMBOLS), phase=PHASES)
    def phase(self, symbol, phase):
        """
        A trading phase (or a name that is none): leaving a call uncrosses.
        """
        self.both(lambda engine, orders: engine.setBookProperty(symbol, "phase", phase))

    @rule(
        data=st.data(), symbol=st.sampled_from(SYMBOLS),
        call=st.sampled_from(["pre_open", "closing_auction", "halted"]),
        end=st.sampled_from(["continuous", "post_close", "closed"]),
        count=st.integers(1, 8),
    )
    def auction(self, data, symbol, call, end, count):
        """
        A call with a few orders (limit or market, some crossing, some
        At the Opening or At the Close), then the uncross.
        """
        self.both(lambda engine, orders: engine.setBookProperty(symbol, "phase", call))
        for _ in range(count):
            ordType = data.draw(st.sampled_from([OrdType.LIMIT, OrdType.LIMIT, OrdType.MARKET]))
            price = data.draw(GOOD_PRICES) if ordType is OrdType.LIMIT else None
            tif = data.draw(
                st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.AT_OPEN, TimeInForce.AT_CLOSE])
            )
            self._submit(
                data.draw(st.sampled_from(OWNERS)), self._newClOrdId(), symbol,
                data.draw(SIDES), data.draw(GOOD_QUANTITIES), price, ordType, tif,
            )
        self.both(lambda engine, orders: engine.setBookProperty(symbol, "phase", end))

    @rule(symbol=st.sampled_from(SYMBOLS), reason=st.sampled_from([None, "news"]))
    def halt(self, symbol, reason):
        self.both(lambda engine, orders: engine.haltBook(symbol, reason))

    @rule(symbol=st.sampled_from(SYMBOLS))
    def resume(self, symbol):
        self.both(lambda engine, orders: engine.resumeBook(symbol))

    @rule(
        data=st.data(), symbol=st.sampled_from((None,) + SYMBOLS),
        offsets=st.lists(st.integers(1, 40), min_size=1, max_size=4, unique=True),
    )
    def schedule(self, data, symbol, offsets):
        """
        A schedule (the engine's, or a book's own) with entries a few
        seconds from now, or none.
        """
        if data.draw(st.integers(0, 4)) == 4:
            text = "none"
        else:
            now = int(self.now())
            entries = []
            for offset in sorted(offsets):
                at = (now + offset) % 86400
                phase = data.draw(PHASES.filter(lambda p: p != "lunch"))
                entries.append("%s %02d:%02d:%02d" % (phase, at // 3600, at // 60 % 60, at % 60))
            text = ", ".join(entries)

        def command(engine, orders):
            if symbol is None:
                return engine.setProperty("schedule", text)
            return engine.setBookProperty(symbol, "schedule", text)

        self.both(command)

    @precondition(lambda self: self.steps % 17 == 16)
    @rule()
    def endOfDay(self):
        self.both(lambda engine, orders: engine.expireDay())

    @precondition(lambda self: self.steps % 23 == 22)
    @rule(symbol=st.sampled_from(SYMBOLS))
    def bookAgain(self, symbol):
        """
        Remove a book (its orders are cancelled) and add it again.
        """

        def command(engine, orders):
            engine.removeBook(symbol)
            engine.addBook(Instrument(symbol, tickSize=TICK))

        self.both(command)

    @rule(data=st.data(), owner=st.sampled_from(OWNERS), price=GOOD_PRICES, quantity=GOOD_QUANTITIES)
    def batch(self, data, owner, price, quantity):
        """
        Two orders crossing each other, delivered as one batch.
        """
        buyId, sellId = self._newClOrdId(), self._newClOrdId()

        def command(engine, orders):
            with engine.batch():
                for clOrdId, side in ((buyId, Side.BUY), (sellId, Side.SELL)):
                    order = Order(owner, clOrdId, "T", side, quantity, price)
                    engine.submitNew(order, neverHeld=owner == "house")
                    orders[order.orderId] = order

        self.both(command)

    # -- after every step ------------------------------------------------------

    @invariant()
    def sameState(self):
        (fast, _, _, fastOrders), (reference, _, _, referenceOrders) = self.sides
        for book in fast.books.values():
            book.validateInternalState()
        assert fast.liveCount() == len(fast.liveOrders())
        reference.validateInternalState()
        assert [orderState(o) for o in fast.liveOrders()] == [
            orderState(o) for o in reference.liveOrders()
        ]
        assert sorted(fastOrders) == sorted(referenceOrders)
        for orderId, order in fastOrders.items():
            assert orderState(order) == orderState(referenceOrders[orderId])
        assert fast.pendingRequests() == reference.pendingRequests()
        for order in fast.liveOrders():
            assert fast.pendingKinds(order.orderId) == reference.pendingKinds(order.orderId)
        assert sorted(fast.books) == sorted(reference.books)
        for symbol, book in fast.books.items():
            other = reference.books[symbol]
            for isBuy in (True, False):
                assert book.depth(isBuy, None) == other.depth(isBuy, None)
                assert book.hiddenDepth(isBuy, None) == other.hiddenDepth(isBuy, None)
            assert [o.orderId for o in book.waitingStops()] == [o.orderId for o in other.waitingStops()]
            assert [o.orderId for o in book.orders()] == [o.orderId for o in other.orders()]
            assert (book.bestBid(), book.bestAsk()) == (other.bestBid(), other.bestAsk())
            assert (
                book.lastPrice, book.lastQuantity, book.volume, book.tradeCount,
                book.referencePrice, book.instrument.tickSize, book.behaviour.name,
            ) == (
                other.lastPrice, other.lastQuantity, other.volume, other.tradeCount,
                other.referencePrice, other.instrument.tickSize, other.behaviour.name,
            )
            assert (book.phase, book.call, book.resumePhase) == (
                other.phase, other.call, other.resumePhase
            )
            for name in ("marketOrders", "parked"):
                assert [o.orderId for o in getattr(book, name) if not o.isDone] == [
                    o.orderId for o in getattr(other, name)
                ], name
            assert describe(fast.indicative(symbol) or BookChanged(0, 0, 0, 0, 0)) == describe(
                reference.indicative(symbol) or BookChanged(0, 0, 0, 0, 0)
            )


#: EXSIM_FUZZ_EXAMPLES=N runs it longer (see docs/architecture.rst).
FastVersusReference.TestCase.settings = settings(
    max_examples=fuzzExamples(200), stateful_step_count=60, deadline=None
)


class FastVersusReferenceTests(TestCase):
    def test_randomSequences(self):
        FastVersusReference.TestCase("runTest").runTest()


class FoundByTheDifferentialTestTests(TestCase):
    """
    Sequences L{FastVersusReference} once found the engines disagree on,
    as plain steps (the same comparison: every event of every batch, and
    the same state after each step).
    """

    def test_replaceCrossingInACallOfASpecialBook(self):
        """
        A resting order replaced to a price that crosses the book during a
        call rests at its new price in a book with self-trade prevention
        (a special book, the fast engine's slow paths) as in any other:
        during a call orders rest crossing or not.  (The fast engine took
        it out and never put it back: no L{Added}, an order lost off the
        book, issue 13's full-suite failure.)
        """
        for phase in ("pre_open", "closing_auction"):
            machine = FastVersusReference()
            machine.selfTradePrevention("T", "cancel_newest")
            machine._submit("s1", "c1", "T", Side.BUY, 5, 9800, OrdType.LIMIT, TimeInForce.DAY)
            machine._submit("s2", "c2", "T", Side.SELL, 20, 10100, OrdType.LIMIT, TimeInForce.DAY)
            machine.phase("T", phase)
            machine.sameState()
            machine.both(
                lambda engine, orders: engine.submitReplace(
                    "s2", "c3", origClOrdId="c2", price=9700, quantity=4
                )
            )
            machine.sameState()
            for engine, clock, recorder, orders in machine.sides:
                book = engine.books["T"]
                self.assertEqual(
                    [(o.clOrdId, o.price, o.leavesQty) for o in book.orders(False)],
                    [("c3", 9700, 4)],
                )


# -- the fast engine against a naive model -------------------------------------

MODEL_PRICES = st.integers(min_value=98, max_value=102).map(lambda p: p * TICK)
MODEL_QUANTITIES = st.integers(min_value=1, max_value=20)
MODEL_OWNERS = st.sampled_from(["s1", "s2", "s3"])
MODEL_TIFS = st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK])


class RefOrder:
    def __init__(self, orderId, owner, clOrdId, isBuy, price, quantity, market, tif):
        self.orderId = orderId
        self.owner = owner
        self.clOrdId = clOrdId
        self.isBuy = isBuy
        self.price = price
        self.quantity = quantity
        self.cum = 0
        self.leaves = quantity
        self.market = market
        self.tif = tif
        self.status = "new"
        self.seq = None


class NaiveModel:
    """
    The naive model: lists sorted on demand, nothing clever.
    """

    def __init__(self):
        self.resting = []
        self.live = {}  # (owner, clOrdId) -> RefOrder
        self.used = set()
        self.orders = {}
        self.trades = []
        self.seq = 0
        self.nextId = 1

    def _contra(self, order):
        side = [o for o in self.resting if o.isBuy != order.isBuy]
        if order.isBuy:
            side.sort(key=lambda o: (o.price, o.seq))
        else:
            side.sort(key=lambda o: (-o.price, o.seq))
        return side

    def _acceptable(self, order, contra):
        if order.market:
            return True
        return contra.price <= order.price if order.isBuy else contra.price >= order.price

    def _finish(self, order, status):
        order.status = status
        if order in self.resting:
            self.resting.remove(order)
        self.live.pop((order.owner, order.clOrdId), None)
        self.used.add((order.owner, order.clOrdId))

    def _match(self, order):
        for contra in self._contra(order):
            if not order.leaves or not self._acceptable(order, contra):
                break
            qty = min(order.leaves, contra.leaves)
            for o in (order, contra):
                o.cum += qty
                o.leaves -= qty
            buy, sell = (order, contra) if order.isBuy else (contra, order)
            self.trades.append((contra.price, qty, buy.orderId, sell.orderId))
            if not contra.leaves:
                self._finish(contra, "filled")
            else:
                contra.status = "partial"
        if order.cum:
            order.status = "partial" if order.leaves else "filled"
        if not order.leaves:
            self._finish(order, "filled")

    def _rest(self, order):
        if order.market or order.tif in (TimeInForce.IOC, TimeInForce.FOK):
            order.leaves = 0
            self._finish(order, "cancelled")
        else:
            self.seq += 1
            order.seq = self.seq
            self.resting.append(order)

    def new(self, owner, clOrdId, isBuy, price, quantity, market, tif):
        orderId = self.nextId
        self.nextId += 1
        order = RefOrder(orderId, owner, clOrdId, isBuy, price, quantity, market, tif)
        self.orders[orderId] = order
        key = (owner, clOrdId)
        if key in self.live or key in self.used:
            order.status = "rejected"
            order.leaves = 0
            return order
        self.live[key] = order
        if tif is TimeInForce.FOK:
            available = sum(c.leaves for c in self._contra(order) if self._acceptable(order, c))
            if available < quantity:
                order.leaves = 0
                self._finish(order, "cancelled")
                return order
        self._match(order)
        if order.leaves:
            self._rest(order)
        return order

    def cancel(self, owner, origClOrdId):
        order = self.live.get((owner, origClOrdId))
        if order is None:
            return "too_late" if (owner, origClOrdId) in self.used else "unknown_order"
        order.leaves = 0
        self._finish(order, "cancelled")
        return None

    def cancelById(self, orderId):
        order = self.orders[orderId]
        if order.status not in ("new", "partial"):
            return "too_late"
        order.leaves = 0
        self._finish(order, "cancelled")
        return None

    def replace(self, owner, clOrdId, origClOrdId, price, quantity):
        order = self.live.get((owner, origClOrdId))
        if order is None:
            return "too_late" if (owner, origClOrdId) in self.used else "unknown_order"
        if clOrdId != origClOrdId and ((owner, clOrdId) in self.live or (owner, clOrdId) in self.used):
            return "duplicate_order"
        del self.live[(owner, origClOrdId)]
        self.used.add((owner, origClOrdId))
        order.clOrdId = clOrdId
        self.live[(owner, clOrdId)] = order
        newLeaves = quantity - order.cum
        if newLeaves <= 0:
            order.leaves = 0
            order.quantity = max(quantity, order.cum)
            self._finish(order, "filled")
            return None
        if price == order.price and quantity <= order.quantity:
            order.leaves = newLeaves
            order.quantity = quantity
            return None
        self.resting.remove(order)
        order.price = price
        order.quantity = quantity
        order.leaves = newLeaves
        self._match(order)
        if order.leaves:
            self._rest(order)
        return None

    def depth(self, isBuy):
        levels = {}
        for o in self.resting:
            if o.isBuy == isBuy:
                q, c = levels.get(o.price, (0, 0))
                levels[o.price] = (q + o.leaves, c + 1)
        prices = sorted(levels, reverse=isBuy)
        return [(p,) + levels[p] for p in prices]


_STATUS = {
    OrdStatus.NEW: "new",
    OrdStatus.PARTIALLY_FILLED: "partial",
    OrdStatus.FILLED: "filled",
    OrdStatus.CANCELLED: "cancelled",
    OrdStatus.REJECTED: "rejected",
}


class EngineVersusModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.engine, self.book, self.recorder = engineWithBook("T", tick=TICK)
        self.ref = NaiveModel()
        self.ids = 0
        self.engineOrders = {}

    def _clOrdId(self):
        self.ids += 1
        return "c%d" % self.ids

    @rule(owner=MODEL_OWNERS, isBuy=st.booleans(), price=MODEL_PRICES, quantity=MODEL_QUANTITIES, tif=MODEL_TIFS, reuse=st.booleans())
    def newLimit(self, owner, isBuy, price, quantity, tif, reuse):
        clOrdId = "c%d" % self.ids if reuse and self.ids else self._clOrdId()
        order = Order(owner, clOrdId, "T", Side.BUY if isBuy else Side.SELL, quantity, price, OrdType.LIMIT, tif)
        self.engine.submitNew(order)
        ref = self.ref.new(owner, clOrdId, isBuy, price, quantity, False, tif)
        assert order.orderId == ref.orderId
        self.engineOrders[order.orderId] = order

    @rule(owner=MODEL_OWNERS, isBuy=st.booleans(), quantity=MODEL_QUANTITIES)
    def newMarket(self, owner, isBuy, quantity):
        clOrdId = self._clOrdId()
        order = Order(owner, clOrdId, "T", Side.BUY if isBuy else Side.SELL, quantity, None, OrdType.MARKET)
        self.engine.submitNew(order)
        self.ref.new(owner, clOrdId, isBuy, None, quantity, True, TimeInForce.DAY)
        self.engineOrders[order.orderId] = order

    @rule(data=st.data(), byId=st.booleans())
    def cancel(self, data, byId):
        if not self.engineOrders:
            return
        orderId = data.draw(st.sampled_from(sorted(self.engineOrders)))
        target = self.engineOrders[orderId]
        owner, clOrdId = target.owner, target.clOrdId
        self.recorder.take()
        if byId:
            self.engine.submitCancel(owner, self._clOrdId(), orderId=orderId)
            expected = self.ref.cancelById(orderId)
        else:
            self.engine.submitCancel(owner, self._clOrdId(), origClOrdId=clOrdId)
            expected = self.ref.cancel(owner, clOrdId)
        rejects = self.recorder.of("cancel_rejected")
        assert [r.reason.value for r in rejects] == ([expected] if expected else []), (rejects, expected)

    @rule(data=st.data(), price=MODEL_PRICES, quantity=MODEL_QUANTITIES)
    def replace(self, data, price, quantity):
        live = sorted(o.orderId for o in self.engineOrders.values() if o.resting)
        if not live:
            return
        target = self.engineOrders[data.draw(st.sampled_from(live))]
        owner, orig = target.owner, target.clOrdId
        clOrdId = self._clOrdId()
        self.recorder.take()
        self.engine.submitReplace(owner, clOrdId, origClOrdId=orig, price=price, quantity=quantity)
        expected = self.ref.replace(owner, clOrdId, orig, price, quantity)
        rejects = self.recorder.of("cancel_rejected")
        assert [r.reason.value for r in rejects] == ([expected] if expected else []), (rejects, expected)

    @rule(data=st.data(), delta=st.integers(min_value=-5, max_value=5))
    def amend(self, data, delta):
        """
        A quantity change at the same price: priority kept on a decrease,
        lost on an increase.
        """
        live = sorted(o.orderId for o in self.engineOrders.values() if o.resting)
        if not live:
            return
        target = self.engineOrders[data.draw(st.sampled_from(live))]
        quantity = max(1, target.quantity + delta)
        owner, orig, price = target.owner, target.clOrdId, target.price
        clOrdId = self._clOrdId()
        self.engine.submitReplace(owner, clOrdId, origClOrdId=orig, quantity=quantity)
        assert self.ref.replace(owner, clOrdId, orig, price, quantity) is None

    @invariant()
    def sameState(self):
        self.book.validateInternalState()
        trades = []
        for batch in self.recorder.batches:
            trades.extend(
                (t.price, t.quantity, t.buyOrderId, t.sellOrderId) for t in batch if t.type == "trade"
            )
        assert trades == self.ref.trades, (trades, self.ref.trades)
        last = trades[-1][:2] if trades else (None, None)
        assert (self.book.lastPrice, self.book.lastQuantity) == last, (self.book.lastPrice, self.book.lastQuantity, last)
        assert self.book.volume == sum(t[1] for t in trades)
        assert self.book.tradeCount == len(trades)
        assert self.book.depth(True, None) == self.ref.depth(True)
        assert self.book.depth(False, None) == self.ref.depth(False)
        for orderId, order in self.engineOrders.items():
            ref = self.ref.orders[orderId]
            assert (_STATUS[order.status], order.cumQty, order.leavesQty) == (ref.status, ref.cum, ref.leaves), (order, vars(ref))


EngineVersusModel.TestCase.settings = settings(
    max_examples=fuzzExamples(200), stateful_step_count=50, deadline=None
)


class EngineVersusModelTests(TestCase):
    def test_randomSequences(self):
        EngineVersusModel.TestCase("runTest").runTest()
