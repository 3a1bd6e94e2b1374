# -*- test-case-name: tests.test_matching -*-
"""
The fast engine's indexes: live orders by order id (L{OrderIndex}) and
each owner's client order ids (L{ClientIds}).

Pure: no reactor, no I/O.  L{exsim.engine.matching.MatchingEngine}'s hot
paths read these structures inline (a new order's slot, a cancel's
lookup and removal, a finished order's removal in C{_finish}); every other
use goes through the methods here.  tests.test_matching.OrderIndexTests
holds the inline copies to the same ids and counts.
"""

from exsim.model import T_OWNER

CHUNK_BITS = 12
CHUNK = 1 << CHUNK_BITS
CHUNK_MASK = CHUNK - 1
#: A complete chunk with fewer live orders than this is retired (its
#: survivors move to a dict).  At this many, a chunk (8 bytes an id) and
#: the dict (about 45 bytes an order) take about the same memory.
SPARSE = CHUNK // 8
#: How many order ids of the index one step of a client order id copy
#: reads (see L{ClientIds}).
CHUNK_SLICE = 256
#: The size of a generation of client order ids, per owner: a client order
#: id is a duplicate (and too late to cancel) for at least this many later
#: new orders of its owner, and until the end of the day.
ID_GENERATION = 500000


def _byOrderId(order):
    return order.orderId


class OrderIndex:
    """
    Live orders by order id: chunks of L{CHUNK} consecutive ids (8 bytes an
    order, where a dict takes about 40), and a dict for the few survivors
    of chunks that have mostly emptied.  A chunk's last item counts its ids
    gone (finished orders, and ids never used: rejected orders), so that a
    new order need not count itself.

    @ivar chunks: {id >> CHUNK_BITS: [order or None] * CHUNK + [gone]}.
        The dict is never replaced (the engine keeps a reference).
    @ivar overflow: {order id: order} of retired chunks' survivors (never
        replaced either).
    @ivar newest: the chunk new ids go to, kept at hand, or None.
    """

    def __init__(self):
        self.chunks = {}
        self.overflow = {}
        self.newest = None

    def get(self, orderId):
        """
        The live order C{orderId} (an int), or None.
        """
        chunk = self.chunks.get(orderId >> CHUNK_BITS)
        if chunk is not None:
            return chunk[orderId & CHUNK_MASK]
        return self.overflow.get(orderId)

    def add(self, order):
        """
        Index a new order, its id the next one (the engine's hot path does
        this inline).
        """
        orderId = order.orderId
        index = orderId & CHUNK_MASK
        chunk = self.newest
        if chunk is None or not index:
            chunk = self.chunks.get(orderId >> CHUNK_BITS)
            if chunk is None:
                # The ids before this one in the chunk are gone already
                # (rejected, or 0, which is never used).
                chunk = self.chunks[orderId >> CHUNK_BITS] = [None] * CHUNK + [index]
            self.newest = chunk
        chunk[index] = order

    def skip(self, orderId):
        """
        C{orderId} was never used (its order was rejected): it counts as
        gone.  If it was the first of a chunk, the next order's chunk is a
        new one: the next order looks its chunk up.
        """
        chunk = self.chunks.get(orderId >> CHUNK_BITS)
        if chunk is not None:
            chunk[CHUNK] += 1
        self.newest = None

    def remove(self, orderId, nextOrderId):
        """
        Take a finished order out of the index; retire its chunk if few
        live orders are left in it (and it is not the newest).

        @return: whether it was there.
        """
        chunk = self.chunks.get(orderId >> CHUNK_BITS)
        if chunk is None:
            return self.overflow.pop(orderId, None) is not None
        index = orderId & CHUNK_MASK
        if chunk[index] is None:
            return False
        chunk[index] = None
        gone = chunk[CHUNK] = chunk[CHUNK] + 1
        if gone > CHUNK - SPARSE and orderId >> CHUNK_BITS < nextOrderId >> CHUNK_BITS:
            self.retire(orderId >> CHUNK_BITS)
        return True

    def retire(self, key):
        """
        A chunk of order ids has few live orders left: move them to the
        overflow dict and free the chunk (at most SPARSE moves).
        """
        chunk = self.chunks.pop(key)
        overflow = self.overflow
        for order in chunk[:CHUNK]:
            if order is not None:
                overflow[order.orderId] = order

    def live(self):
        """
        Every live order, by order id.
        """
        result = []
        for chunk in list(self.chunks.values()):
            result.extend(o for o in chunk[:CHUNK] if o is not None)
        result.extend(self.overflow.values())
        result.sort(key=_byOrderId)
        return result

    def count(self, nextOrderId):
        """
        The number of live orders (ids below C{nextOrderId} were given).
        """
        newest = nextOrderId >> CHUNK_BITS
        used = nextOrderId & CHUNK_MASK
        return sum(
            (used if key == newest else CHUNK) - chunk[CHUNK]
            for key, chunk in self.chunks.items()
        ) + len(self.overflow)

    def liveOf(self, owner, end):
        """
        Yield lists of C{owner}'s live orders with ids below C{end}, at
        most L{CHUNK_SLICE} order ids' worth at a time (a live order may
        come twice).
        """
        chunks = self.chunks
        for key in sorted(chunks):
            if key > end >> CHUNK_BITS:
                break
            chunk = chunks.get(key)
            if chunk is None:
                # Retired meanwhile: its orders are in the overflow dict,
                # read last.
                continue
            for start in range(0, CHUNK, CHUNK_SLICE):
                yield [
                    order
                    for order in chunk[start:start + CHUNK_SLICE]
                    if order is not None and order.terms[T_OWNER] == owner
                ]
        overflow = list(self.overflow.values())
        for start in range(0, len(overflow), CHUNK_SLICE):
            yield [
                order
                for order in overflow[start:start + CHUNK_SLICE]
                if order.terms[T_OWNER] == owner
            ]

    def put(self, order):
        """
        Index a restored order, whatever its id (see L{recount}).

        @return: its chunk's key.
        """
        orderId = order.orderId
        key = orderId >> CHUNK_BITS
        chunk = self.chunks.get(key)
        if chunk is None:
            chunk = self.chunks[key] = [None] * CHUNK + [0]
        chunk[orderId & CHUNK_MASK] = order
        return key

    def recount(self, keys, nextOrderId):
        """
        After L{put}: each chunk of C{keys} counts its ids gone again
        (those below C{nextOrderId} that no live order holds).
        """
        newest = nextOrderId >> CHUNK_BITS
        for key in keys:
            chunk = self.chunks[key]
            used = CHUNK if key < newest else nextOrderId & CHUNK_MASK
            chunk[CHUNK] = used - sum(1 for o in chunk[:CHUNK] if o is not None)
        self.newest = None


class ClientIds:
    """
    The client order ids of one owner, live and finished alike, each mapped
    to its order id: C{ids} (the current generation) and C{old} (the one
    before).  An id maps to a live order when the order id is live and the
    order still has that client order id (a replace gives it a new one).

    So a new order costs one lookup (and one in C{old}), and an order that
    finishes costs none: the order id index alone says it is gone.

    When C{ids} reaches C{limit} entries, it becomes C{old} and a new
    generation starts, and the one before is dropped.  Orders from C{start}
    on came in the current generation, so their ids are in C{ids}; the ids
    of older orders still live are first copied to C{ids} (C{copy}: a
    slice of the order id index per new order, so that no single order
    pays for it), as late as possible, when few of them are left: no live
    order is ever forgotten.  While at least half the ids could belong to
    live orders (the engine's), a generation grows instead (a new one would
    free little): an owner keeps at most about two generations, each at
    most L{ID_GENERATION} or twice the engine's live orders.
    """

    __slots__ = ("ids", "old", "start", "copy", "limit")

    def __init__(self):
        self.ids = {}
        self.old = {}
        self.start = 0
        self.copy = None
        self.limit = ID_GENERATION

    def used(self, clOrdId):
        """
        Whether C{clOrdId} was used (for a live order or a finished one)
        within the remembered generations.
        """
        return clOrdId in self.ids or clOrdId in self.old

    def orderIdOf(self, clOrdId):
        """
        The order id C{clOrdId} was last given to, or None.
        """
        orderId = self.ids.get(clOrdId)
        if orderId is None:
            orderId = self.old.get(clOrdId)
        return orderId

    def maintain(self, owner, index, nextOrderId):
        """
        C{ids} reached C{limit}: copy the next few live orders' ids to it
        (from C{index}), or start a new generation.
        """
        copy = self.copy
        if copy is None:
            ids = self.ids
            if 2 * index.count(nextOrderId) >= len(ids):
                # Mostly live orders' ids (which a new generation would
                # have to copy): this generation grows instead.
                self.limit = len(ids) + ID_GENERATION // 2
                return
            if self.start:
                # Every new order takes a step until the copy is done.
                self.copy = index.liveOf(owner, self.start)
                self.limit = 0
                return
        else:
            orders = next(copy, None)
            if orders is not None:
                ids = self.ids
                for order in orders:
                    ids[order.clOrdId] = order.orderId
                return
            self.copy = None
        self.old = self.ids
        self.ids = {}
        self.start = nextOrderId
        self.limit = ID_GENERATION
