# -*- test-case-name: tests.test_behaviours -*-
"""
Instrument types: what a book does with a new order.

Chosen per book with the C{behaviour} book property; each behaviour's
parameters are book properties too.

 - C{standard}: match by price-time priority in the book.
 - C{auto_fill}: every order fills in full at once, at its limit price (a
   market order at the book's reference price, else the last trade price;
   with neither it is rejected).
 - C{auto_partial}: C{fill_fraction} (default 0.5) of each order fills at
   once, rounded down; the rest is matched and rests as in C{standard}.
 - C{auto_reject}: every order is rejected with C{reject_text}.
 - C{auto_cancel}: orders are matched and rest as in C{standard}; whatever
   still rests after C{cancel_delay} seconds (default 1) is cancelled
   unsolicited.
 - C{partial_then_cancel}: C{fill_fraction} fills at once, the remainder
   is cancelled after C{cancel_delay} seconds (default 0: at once).
"""

from zope.interface import implementer

from exsim.errors import BadValue
from exsim.interfaces import IBehaviour
from exsim.model import OrdType, RejectReason


def _fraction(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadValue("fill_fraction must be a number, not %r" % (value,))
    if not 0 < number <= 1:
        raise BadValue("fill_fraction must be above 0 and at most 1, not %r" % (value,))
    return number


def _delay(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadValue("cancel_delay must be a number of seconds, not %r" % (value,))
    if not number >= 0:
        raise BadValue("cancel_delay must not be negative, not %r" % (value,))
    return number


def _text(value):
    return str(value)


@implementer(IBehaviour)
class Behaviour:
    """
    Base: parameters with parsers and defaults, in C{parameters}.
    """

    name = None
    #: {name: (parser, default)}
    parameters = {}

    def __init__(self, **params):
        self._values = {name: default for name, (_, default) in self.parameters.items()}
        for name, value in params.items():
            self.setProperty(name, value)

    def setProperty(self, name, value):
        if name not in self.parameters:
            raise BadValue(
                "behaviour %s has no parameter %r (known: %s)"
                % (self.name, name, ", ".join(sorted(self.parameters)) or "none")
            )
        self._values[name] = self.parameters[name][0](value)

    def properties(self):
        return dict(self._values)

    def handleNew(self, engine, book, order):
        raise NotImplementedError()

    def _fillPrice(self, book, order):
        if order.ordType is OrdType.LIMIT:
            return order.price
        if book.referencePrice is not None:
            return book.referencePrice
        return book.lastPrice

    def _acceptAndFillPart(self, engine, book, order):
        """
        Accept C{order} and fill C{fill_fraction} of it (rounded down) at
        once, against the house.
        """
        price = self._fillPrice(book, order)
        quantity = int(order.leavesQty * self._values["fill_fraction"])
        engine.acceptOrder(order.orderId, rest=False)
        if price is not None and quantity:
            engine.fillOrder(order.orderId, quantity, price, aggressor=True)


class Standard(Behaviour):
    name = "standard"
    parameters = {}

    def handleNew(self, engine, book, order):
        engine.matchNew(book, order)


class AutoFill(Behaviour):
    name = "auto_fill"
    parameters = {}

    def handleNew(self, engine, book, order):
        price = self._fillPrice(book, order)
        if price is None:
            engine.rejectOrder(
                order.orderId, "no reference price for a market order", RejectReason.BEHAVIOUR
            )
            return
        engine.acceptOrder(order.orderId, rest=False)
        engine.fillOrder(order.orderId, order.leavesQty, price, aggressor=True)


class AutoPartial(Behaviour):
    name = "auto_partial"
    parameters = {"fill_fraction": (_fraction, 0.5)}

    def handleNew(self, engine, book, order):
        self._acceptAndFillPart(engine, book, order)
        if order.leavesQty:
            engine.matchNew(book, order, accept=False)


class AutoReject(Behaviour):
    name = "auto_reject"
    parameters = {"reject_text": (_text, "rejected by exsim (auto_reject)")}

    def handleNew(self, engine, book, order):
        engine.rejectOrder(order.orderId, self._values["reject_text"], RejectReason.BEHAVIOUR)


class AutoCancel(Behaviour):
    name = "auto_cancel"
    parameters = {"cancel_delay": (_delay, 1.0)}

    def handleNew(self, engine, book, order):
        engine.matchNew(book, order)
        if order.leavesQty and not order.isDone:
            _cancelLater(engine, order, self._values["cancel_delay"])


class PartialThenCancel(Behaviour):
    name = "partial_then_cancel"
    parameters = {"fill_fraction": (_fraction, 0.5), "cancel_delay": (_delay, 0.0)}

    def handleNew(self, engine, book, order):
        self._acceptAndFillPart(engine, book, order)
        if order.leavesQty:
            delay = self._values["cancel_delay"]
            if delay:
                # The remainder rests (unmatched) until it is cancelled.
                engine.restOrder(order.orderId)
            _cancelLater(engine, order, delay)


def _cancelLater(engine, order, delay):
    orderId = order.orderId
    if delay <= 0:
        engine.cancelUnsolicited(orderId)
    else:
        engine.callLater(delay, engine.cancelUnsolicited, orderId)


BUILTIN = [Standard, AutoFill, AutoPartial, AutoReject, AutoCancel, PartialThenCancel]


def parameterNames():
    """
    Every parameter name of every registered behaviour.
    """
    from exsim import registry

    result = set()
    for factory in registry.entries("behaviour").values():
        result.update(getattr(factory, "parameters", {}))
    return result
