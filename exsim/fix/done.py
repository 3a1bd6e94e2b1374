# -*- test-case-name: tests.test_fix_orders -*-
"""
Finished FIX orders, remembered for OrderStatusRequests and for
OrderCancelRejects of orders that are too late to cancel.
"""

from exsim.fix.reports import OrderData
from exsim.model import T_OWNER, Order, OrdStatus

#: How many finished orders per engine are remembered for status requests
#: and cancel rejects, in two generations.
DONE_MEMORY = 200000

#: Records of a generation let go that are freed per record added: a
#: generation is gone long before the next one fills.
DROP_STEP = 4

DONE_STATUSES = frozenset(
    [OrdStatus.FILLED, OrdStatus.CANCELLED, OrdStatus.REJECTED, OrdStatus.EXPIRED]
)

#: Every L{OrdStatus} and its index, for L{DoneOrders} records.
_STATUS_LIST = tuple(OrdStatus)
_STATUS_INDEX = {status: index for index, status in enumerate(_STATUS_LIST)}


class DoneOrders:
    """
    Finished orders by owner and ClOrdID, in two generations of up to
    C{limit} each (the older is dropped when the newer fills).

    An order is kept as a tuple of plain values (its shared C{terms} and
    its status as indexes), which the garbage collector stops tracking: a
    few hundred thousand remembered L{Order}s made every full collection
    walk them all.  L{get} gives back an equal L{Order}.
    """

    def __init__(self, limit):
        self.limit = limit
        #: {owner: {ClOrdID: record}} of this generation and the one before.
        self._records = {}
        self._oldRecords = {}
        self._count = 0
        #: The terms tuples of this generation's records (which keeps
        #: them alive), and their indexes by identity (a terms tuple is
        #: shared by many orders; hashing its seven items every time
        #: costs more than its id).
        self._terms = []
        self._termIndex = {}
        self._oldTerms = []
        #: Records maps of generations let go, emptied little by little.
        self._dropping = []

    def __len__(self):
        return sum(len(r) for r in self._records.values()) + sum(
            len(r) for r in self._oldRecords.values()
        )

    def records(self):
        """
        Every record kept (for tests).
        """
        for generation in (self._records, self._oldRecords):
            for records in generation.values():
                yield from records.values()

    def add(self, order):
        """
        Remember C{order} (finished) as it is now.
        """
        terms = order.terms
        index = self._termIndex.get(id(terms))
        if index is None:
            index = self._termIndex[id(terms)] = len(self._terms)
            self._terms.append(terms)
        data = order.userData
        if data is not None:
            if type(data) is OrderData:
                data = (data.account, data.expireTime, data.expireDate)
            else:
                data = (data,)
        records = self._records.get(terms[T_OWNER])
        if records is None:
            records = self._records[terms[T_OWNER]] = {}
        clOrdId = order.clOrdId
        records[clOrdId] = (
            order.orderId,
            clOrdId,
            index,
            order.price,
            order.quantity,
            order.cumQty,
            order.leavesQty,
            order.notional,
            _STATUS_INDEX[order.status],
            data,
        )
        self._count += 1
        if self._dropping:
            self._dropSome()
        if self._count >= self.limit:
            # The generation before is let go a few records per record
            # added (L{_dropSome}), not at once: freeing 200,000 records
            # in one go stalled every session for some 50 ms.
            self._dropping.extend(self._oldRecords.values())
            self._oldRecords = self._records
            self._oldTerms = self._terms
            self._records = {}
            self._count = 0
            self._terms = []
            self._termIndex = {}

    def _dropSome(self):
        """
        Free up to L{DROP_STEP} records of generations let go.
        """
        dropping = self._dropping
        records = dropping[-1]
        for _ in range(DROP_STEP):
            if not records:
                dropping.pop()
                return
            records.popitem()

    def get(self, owner, clOrdId):
        """
        The finished order C{clOrdId} of C{owner} (an L{Order}), or None.
        """
        records = self._records.get(owner)
        record = records.get(clOrdId) if records is not None else None
        terms = self._terms
        if record is None:
            records = self._oldRecords.get(owner)
            record = records.get(clOrdId) if records is not None else None
            if record is None:
                return None
            terms = self._oldTerms
        (orderId, clOrdId, index, price, quantity, cumQty, leavesQty, notional, status,
         data) = record
        order = Order.__new__(Order)
        order.orderId = orderId
        order.clOrdId = clOrdId
        order.terms = terms[index]
        order.price = price
        order.quantity = quantity
        order.cumQty = cumQty
        order.leavesQty = leavesQty
        order.notional = notional
        order.status = _STATUS_LIST[status]
        if data is not None:
            data = OrderData(*data) if len(data) == 3 else data[0]
        order.userData = data
        order.resting = False
        order.entered = None
        return order

