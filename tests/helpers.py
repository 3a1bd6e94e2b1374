"""
Shared helpers for the engine tests.
"""

from exsim.engine.matching import MatchingEngine
from exsim.model import Instrument, Order, OrdType, Side, TimeInForce


class Recorder:
    """
    An engine listener keeping every event, and the batches.
    """

    def __init__(self):
        self.events = []
        self.batches = []

    def engineEvents(self, events):
        self.batches.append(list(events))
        self.events.extend(events)

    def take(self):
        events, self.events = self.events, []
        return events

    def types(self):
        return [e.type for e in self.events]

    def of(self, type):
        return [e for e in self.events if e.type == type]


def engineWithBook(symbol="AAPL", clock=None, tick=100, engineClass=MatchingEngine):
    """
    An engine of C{engineClass} (the fast engine by default) with one book
    and a L{Recorder} subscribed.

    @return: (engine, book, recorder)
    """
    engine = engineClass("e1", clock)
    book = engine.addBook(Instrument(symbol, tickSize=tick))
    recorder = Recorder()
    engine.subscribe(recorder)
    return engine, book, recorder


def P(text):
    """
    A decimal price text to internal units.
    """
    return Instrument("X").toInternal(text)


def limit(owner, clOrdId, side, quantity, price, tif=TimeInForce.DAY, symbol="AAPL", **kw):
    return Order(
        owner,
        clOrdId,
        symbol,
        Side.BUY if side == "buy" else Side.SELL,
        quantity,
        P(price),
        OrdType.LIMIT,
        tif,
        **kw
    )


def market(owner, clOrdId, side, quantity, tif=TimeInForce.DAY, symbol="AAPL"):
    return Order(
        owner,
        clOrdId,
        symbol,
        Side.BUY if side == "buy" else Side.SELL,
        quantity,
        None,
        OrdType.MARKET,
        tif,
    )
