# -*- test-case-name: tests.test_journal -*-
"""
The engine journal: what an engine acknowledged, on disk, so that a
restarted simulator has the same live orders.

Engine property C{journal} names a directory; the engine's journal is the
file C{<engine>.journal} in it.  It is an engine listener, the first one:
every batch of events is written (and, by the C{journal_sync} policy,
synced) before any protocol reports it, so nothing a client saw
acknowledged is missing from it.

One JSON object a line.  The first line names the format; then one record
per order event: the order's terms and its state after the event (its
snapshot), and what kind of event it was; and C{{"day": 1}} at the end of a
day.  Read back, the last record of each order says its state: the live
ones are restored (resting ones in their time priority: the order of their
last C{add} records), and the client order ids of the finished ones stay
used (until the next end of day), so a duplicate is still refused.  The
order, execution and trade id counters continue after the highest seen.

What survives a restart with a journal: live orders (resting, held, or
accepted and not resting), with their fills so far and their protocol
fields (FIX Account, OUCH firm...) and advanced terms (stop price and
whether it triggered, display and minimum quantity, post-only, self-trade
prevention id, a peg's limit: waiting stops wait again, pegs are priced
again); the client order ids of the day; the id counters.  What does not: held cancel and replace requests (the order is
back in its state before the request: the client asks again), the last
price and volume of each book, background activity's orders (the activity
starts afresh), and books or endpoints (the configuration creates those).

Each restart rewrites the file with only what it restored, so it never
grows beyond one day's events.

Sync policies (C{journal_sync}): C{none} (written and flushed to the
operating system after each batch: survives the simulator being killed,
not the machine losing power), C{batch} (fsync once per batch, before
anything is reported), C{always} (fsync after every record).
"""

import json
import os

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine import events as ev
from exsim.errors import BadValue
from exsim.interfaces import IEngineListener
from exsim.model import (
    DONE_STATUSES,
    T_EXTRA,
    T_OWNER,
    AdvancedTerms,
    Order,
    OrdStatus,
    OrdType,
    Side,
    TimeInForce,
)
from exsim.owners import isBackground

MAGIC = {"exsim_journal": 1}
SUFFIX = ".journal"
SYNC_POLICIES = ("none", "batch", "always")

_KINDS = {
    ev.Accepted: "acc",
    ev.Rejected: "rej",
    ev.Added: "add",
    ev.Filled: "fill",
    ev.Cancelled: "canc",
    ev.Expired: "exp",
    ev.Replaced: "repl",
    ev.PendingChange: "pend",
    ev.OrderRequest: "req",
}

#: Classes of C{Order.userData} a journal may write and read back, by
#: name: each has C{__slots__} of plain values (text, numbers, bytes,
#: None).  Protocols register theirs (L{registerUserData}).
_USER_DATA = {}


def registerUserData(cls):
    """
    Let the journal keep C{Order.userData} of class C{cls}.
    """
    _USER_DATA["%s.%s" % (cls.__module__, cls.__qualname__)] = cls
    return cls


class JournalError(BadValue):
    """
    A journal file cannot be read.
    """


def parseSync(value):
    text = str(value).strip().lower()
    if text not in SYNC_POLICIES:
        raise BadValue(
            "journal_sync must be one of %s, not %r" % (", ".join(SYNC_POLICIES), value)
        )
    return text


def _plain(value):
    if type(value) is bytes:
        return {"$b": value.decode("latin-1")}
    if hasattr(value, "value") and type(value).__module__ == "exsim.model":
        return {"$e": type(value).__name__, "v": value.value}
    return value


_ENUMS = {cls.__name__: cls for cls in (Side, OrdType, TimeInForce, OrdStatus)}


def _unplain(value):
    if type(value) is dict:
        if "$b" in value:
            return value["$b"].encode("latin-1")
        if "$e" in value:
            return _ENUMS[value["$e"]](value["v"])
    return value


def _userData(data):
    if data is None:
        return None
    name = "%s.%s" % (type(data).__module__, type(data).__qualname__)
    if name not in _USER_DATA:
        return None
    return {"$c": name, "f": {slot: _plain(getattr(data, slot, None)) for slot in type(data).__slots__}}


def _readUserData(record):
    if record is None:
        return None
    cls = _USER_DATA.get(record.get("$c"))
    if cls is None:
        return None
    data = cls.__new__(cls)
    for slot, value in record["f"].items():
        if slot in cls.__slots__:
            setattr(data, slot, _unplain(value))
    return data


def orderRecord(kind, event, order):
    """
    The record of one order event: terms, and state after the event.
    """
    record = {
        "k": kind,
        "o": order.orderId,
        "own": str(order.owner),
        "sym": order.symbol,
        "side": order.side.value,
        "ty": order.ordType.value,
        "tif": order.timeInForce.value,
        "x": order.expireTime,
        "c": event.clOrdId,
        "p": event.orderPrice if kind == "fill" else event.price,
        "q": event.orderQuantity if kind == "fill" else event.quantity,
        "cq": event.cumQty,
        "lq": event.leavesQty,
        "n": event.notional,
        "st": event.status.value,
    }
    execId = getattr(event, "execId", None)
    if execId is not None:
        record["e"] = execId
    tradeId = getattr(event, "tradeId", None)
    if tradeId is not None:
        record["tr"] = tradeId
    if kind == "repl":
        record["oc"] = event.origClOrdId
        record["lp"] = bool(event.lostPriority and event.wasResting)
    extra = order.terms[T_EXTRA]
    if extra is not None:
        # The advanced terms (issue 13), in each record: a replace may
        # change the stop price, a trigger the state.
        record["a"] = [
            extra.stopPx, extra.displayQty, extra.minQty, extra.postOnly, extra.stpId,
            extra.cap, extra.triggered,
        ]
    if kind in ("acc", "req", "add"):
        data = _userData(order.userData)
        if data is not None:
            record["u"] = data
    return record


@implementer(IEngineListener)
class Journal:
    """
    The journal of one engine: a listener writing its events.

    @ivar path: the file.
    @ivar sync: the sync policy.
    @ivar restored: what L{read} found when it was opened (a L{State}).
    """

    log = Logger()

    def __init__(self, engine, directory, sync="none"):
        self.engine = engine
        self.sync = parseSync(sync)
        directory = str(directory)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            raise BadValue("journal directory %r cannot be made: %s" % (directory, e.strerror))
        self.path = os.path.join(directory, engine.name + SUFFIX)
        self.restored = read(self.path) if os.path.exists(self.path) else State()
        self._file = None
        self._compact()
        #: The books whose orders were restored, and whether the client
        #: order ids were (see L{exsim.service.Simulator}).
        self.restoredBooks = set()
        self.restoredIds = False

    def _compact(self):
        """
        Rewrite the file with only the state read, atomically.
        """
        temporary = self.path + ".new"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(json.dumps(MAGIC) + "\n")
            for line in self.restored.records():
                f.write(json.dumps(line, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)
        self._file = open(self.path, "a", encoding="utf-8")

    #: While true (the journal's own orders being restored), events are
    #: not written: they are already in the file.
    muted = False

    def engineEvents(self, events):
        if self.muted:
            return
        lines = []
        for event in events:
            cls = event.__class__
            kind = _KINDS.get(cls)
            if kind is None:
                if cls is ev.DayEnded:
                    lines.append('{"day":1}')
                continue
            order = event.order
            if isBackground(order.terms[T_OWNER]):
                continue
            if kind == "req" and event.kind != "new":
                continue
            lines.append(json.dumps(orderRecord(kind, event, order), separators=(",", ":")))
            if self.sync == "always":
                self._write(lines)
                lines = []
        if lines:
            self._write(lines)

    def _write(self, lines):
        f = self._file
        f.write("\n".join(lines) + "\n")
        f.flush()
        if self.sync != "none":
            os.fsync(f.fileno())

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


class State:
    """
    What a journal says: the last record of every order, the client order
    ids used, and the highest ids seen.
    """

    def __init__(self):
        self.orders = {}
        self.ranks = {}
        self.used = {}
        self.maxOrderId = self.maxExecId = self.maxTradeId = 0
        self._rank = 0

    def apply(self, record):
        if record.get("day"):
            # End of day: finished orders' ids are forgotten.
            self.used = {}
            return
        self._rank += 1
        orderId = record["o"]
        kind = record["k"]
        previous = self.orders.get(orderId)
        if previous is not None:
            for key in ("u",):
                if key in previous and key not in record:
                    record[key] = previous[key]
            record["r"] = previous.get("r", False)
        else:
            record.setdefault("r", False)
        if kind == "add":
            record["r"] = True
            self.ranks[orderId] = self._rank
        elif kind == "repl":
            if record.get("lp"):
                record["r"] = False
            self.used[(record["own"], record["oc"])] = orderId
        self.used[(record["own"], record["c"])] = orderId
        self.maxOrderId = max(self.maxOrderId, orderId)
        self.maxExecId = max(self.maxExecId, record.get("e", 0))
        self.maxTradeId = max(self.maxTradeId, record.get("tr", 0))
        if OrdStatus(record["st"]) in DONE_STATUSES:
            self.orders.pop(orderId, None)
            self.ranks.pop(orderId, None)
        else:
            self.orders[orderId] = record

    def live(self, symbol=None):
        """
        The live orders' last records (of one book, if C{symbol}): resting
        ones in time priority, then the others by order id.
        """
        records = [r for r in self.orders.values() if symbol is None or r["sym"] == symbol]
        resting = sorted((r for r in records if r["r"]), key=lambda r: self.ranks[r["o"]])
        others = sorted((r for r in records if not r["r"]), key=lambda r: r["o"])
        return resting + others

    def usedIds(self, symbol=None):
        """
        (owner, client order id, order id) of every id used, of one book's
        orders if C{symbol} (ids of orders whose book is unknown: all).
        """
        return [(owner, clOrdId, orderId) for (owner, clOrdId), orderId in self.used.items()]

    def records(self):
        """
        Records that say this state again (for a compacted file).
        """
        for record in self.live():
            record = dict(record)
            if record["r"]:
                record["k"] = "add"
            yield record
        live = {(r["own"], r["c"]) for r in self.orders.values()}
        for (owner, clOrdId), orderId in self.used.items():
            if (owner, clOrdId) not in live:
                yield {
                    "k": "used", "o": orderId, "own": owner, "c": clOrdId,
                    "st": OrdStatus.FILLED.value,
                }
        yield {"k": "ids", "o": self.maxOrderId, "e": self.maxExecId, "tr": self.maxTradeId,
               "st": OrdStatus.FILLED.value, "own": "", "c": ""}


def read(path):
    """
    Replay a journal file into a L{State}.

    @raise JournalError: naming the file and line of a bad record.  A last
        line cut short (the simulator killed while writing it) is ignored.
    """
    state = State()
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines or not lines[0].strip():
        return state
    try:
        header = json.loads(lines[0])
    except ValueError:
        header = None
    if header != MAGIC:
        raise JournalError("%s:1: not an exsim journal" % (path,))
    last = len(lines) - 1
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if record.get("k") in ("used", "ids"):
                _applySpecial(state, record)
            else:
                state.apply(record)
        except (ValueError, KeyError, TypeError) as e:
            if number >= last:
                # The tail of a write the simulator did not finish.
                break
            raise JournalError("%s:%d: bad record (%s)" % (path, number, e))
    return state


def _applySpecial(state, record):
    if record["k"] == "used":
        state.used[(record["own"], record["c"])] = record["o"]
        state.maxOrderId = max(state.maxOrderId, record["o"])
    else:
        state.maxOrderId = max(state.maxOrderId, record["o"])
        state.maxExecId = max(state.maxExecId, record["e"])
        state.maxTradeId = max(state.maxTradeId, record["tr"])


def orderOf(record):
    """
    A live L{Order} rebuilt from its last record.  An order with advanced
    terms gets them back; a midpoint peg's price is its limit again (the
    engine prices it when it restores it), a stop remembers whether it
    triggered.
    """
    ordType = OrdType(record["ty"])
    price = record["p"]
    extra = None
    advanced = record.get("a")
    if advanced is not None:
        stopPx, displayQty, minQty, postOnly, stpId, cap, triggered = advanced
        extra = AdvancedTerms(stopPx, displayQty, minQty, bool(postOnly), stpId)
        extra.triggered = bool(triggered)
        if ordType is OrdType.PEGGED:
            price = cap
    order = Order(
        record["own"], record["c"], record["sym"], Side(record["side"]), record["q"],
        price, ordType, TimeInForce(record["tif"]), record.get("x"),
        _readUserData(record.get("u")), extra,
    )
    order.orderId = record["o"]
    order.cumQty = record["cq"]
    order.leavesQty = record["lq"]
    order.notional = record["n"]
    status = OrdStatus(record["st"])
    if status in (OrdStatus.PENDING_CANCEL, OrdStatus.PENDING_REPLACE):
        # The held request is not restored: the order is as it was.
        status = OrdStatus.PARTIALLY_FILLED if order.cumQty else OrdStatus.NEW
    order.status = status
    # Whether it rested: the engine puts it back in the book if so.
    order.resting = bool(record.get("r"))
    return order
