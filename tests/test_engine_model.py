# -*- test-case-name: tests.test_engine_model -*-
"""
A hypothesis stateful test: random command sequences go to the engine and
to a tiny naive reference model; both must produce the same trades, order
states and book, and the book's invariants must hold after every step.
"""

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from twisted.trial.unittest import TestCase

from exsim.model import OrdStatus, OrdType, Order, Side, TimeInForce
from tests.helpers import engineWithBook

TICK = 100
PRICES = st.integers(min_value=98, max_value=102).map(lambda p: p * TICK)
QUANTITIES = st.integers(min_value=1, max_value=20)
OWNERS = st.sampled_from(["s1", "s2", "s3"])
TIFS = st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK])


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


class Reference:
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


class EngineVersusReference(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.engine, self.book, self.recorder = engineWithBook("T", tick=TICK)
        self.ref = Reference()
        self.ids = 0
        self.engineOrders = {}

    def _clOrdId(self):
        self.ids += 1
        return "c%d" % self.ids

    @rule(owner=OWNERS, isBuy=st.booleans(), price=PRICES, quantity=QUANTITIES, tif=TIFS, reuse=st.booleans())
    def newLimit(self, owner, isBuy, price, quantity, tif, reuse):
        clOrdId = "c%d" % self.ids if reuse and self.ids else self._clOrdId()
        order = Order(owner, clOrdId, "T", Side.BUY if isBuy else Side.SELL, quantity, price, OrdType.LIMIT, tif)
        self.engine.submitNew(order)
        ref = self.ref.new(owner, clOrdId, isBuy, price, quantity, False, tif)
        assert order.orderId == ref.orderId
        self.engineOrders[order.orderId] = order

    @rule(owner=OWNERS, isBuy=st.booleans(), quantity=QUANTITIES)
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

    @rule(data=st.data(), price=PRICES, quantity=QUANTITIES)
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


EngineVersusReference.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None
)


class EngineVersusReferenceTests(TestCase):
    def test_randomSequences(self):
        EngineVersusReference.TestCase("runTest").runTest()
