# -*- test-case-name: tests.test_matching -*-
"""
Book properties: one place for what C{set_book_property} does to a book,
used by both engines (L{exsim.engine.matching} and
L{exsim.engine.reference}).

Pure: no reactor, no I/O.
"""

from exsim import registry
from exsim.engine import phases
from exsim.engine.behaviours import parameterNames
from exsim.engine.limits import PROPERTIES as LIMIT_PROPERTIES
from exsim.engine.limits import parseQuantityBound
from exsim.engine.ordertypes import BOOK_PROPERTIES as ORDER_TYPE_PROPERTIES
from exsim.engine.ordertypes import parseBookProperty
from exsim.errors import BadValue

#: The properties every book has, besides behaviour parameters and those
#: plugins register.
BUILTIN = (
    ("behaviour", "tick_size", "reference_price")
    + tuple(LIMIT_PROPERTIES)
    + tuple(ORDER_TYPE_PROPERTIES)
    + tuple(phases.BOOK_PROPERTIES)
)


def positivePrice(instrument, name, value):
    """
    A positive decimal price property in C{instrument}'s internal units.

    @raise BadValue: otherwise.
    """
    try:
        price = instrument.toInternal(value)
    except BadValue:
        price = 0
    if price <= 0:
        raise BadValue(
            "%s must be a positive decimal with at most %d decimal places, not %r"
            % (name, len(str(instrument.priceScale)) - 1, value)
        )
    return price


def setLimit(book, name, value, carried):
    """
    Set (or, with C{none} or an empty value, clear) one of a book's
    bounds: C{max_order_quantity}, C{min_price}, C{max_price}; C{carried}
    is what the engine's protocols carry (L{exsim.engine.limits.Carriers}).
    """
    settings = book.limits.settings
    if value is None or str(value).strip().lower() in ("", "none"):
        settings.pop(name, None)
    elif name == "max_order_quantity":
        settings[name] = parseQuantityBound(value)
    else:
        price = positivePrice(book.instrument, name, value)
        low = price if name == "min_price" else settings.get("min_price")
        high = price if name == "max_price" else settings.get("max_price")
        if low is not None and high is not None and low > high:
            raise BadValue("min_price must not exceed max_price")
        settings[name] = price
    book.limits.update(carried)


def setBookProperty(engine, book, name, value, carried):
    """
    Set a book property: C{behaviour}, C{tick_size}, C{reference_price},
    a bound, C{self_trade_prevention}, C{post_only_action} (see
    L{exsim.engine.ordertypes}), a trading phase property (see
    L{exsim.engine.phases}), a parameter of any behaviour, or one a plugin registered
    (C{book_property}, e.g. C{activity}); remember it in
    C{book.properties}.

    @param engine: the engine (a registered handler is given it).
    @param carried: the bounds of the engine's protocols.
    @raise BadValue: for an unknown name or a bad value; nothing changes.
    """
    instrument = book.instrument
    if name == "behaviour":
        behaviour = registry.lookup("behaviour", str(value).strip())()
        # Parameters set before apply to the new behaviour.
        for param, stored in book.properties.items():
            if param in getattr(behaviour, "parameters", {}):
                behaviour.setProperty(param, stored)
        book.behaviour = behaviour
        value = behaviour.name
    elif name == "tick_size":
        instrument.tickSize = positivePrice(instrument, name, value)
    elif name == "reference_price":
        book.referencePrice = positivePrice(instrument, name, value)
    elif name in LIMIT_PROPERTIES:
        setLimit(book, name, value, carried)
    elif name == "self_trade_prevention":
        value = book.stp = parseBookProperty(name, value)
    elif name == "post_only_action":
        value = book.postOnlyAction = parseBookProperty(name, value)
    elif name in phases.BOOK_PROPERTIES:
        # The trading phases: each engine has its rules (its
        # _setPhaseProperty, from exsim.engine.phases.PhaseControl).
        value = engine._setPhaseProperty(book, name, value)
    elif name in parameterNames():
        if name in getattr(book.behaviour, "parameters", {}):
            book.behaviour.setProperty(name, value)
        else:
            # Checked now by a behaviour that knows the name, and kept for
            # when the book switches to it.
            for factory in registry.entries("behaviour").values():
                if name in getattr(factory, "parameters", {}):
                    factory().setProperty(name, value)
                    break
    else:
        handlers = registry.entries("book_property")
        handler = handlers.get(name)
        if handler is None:
            known = list(BUILTIN) + sorted(parameterNames()) + sorted(handlers)
            raise BadValue("unknown book property %r (known: %s)" % (name, ", ".join(known)))
        handler(engine, book, name, value)
    book.properties[name] = value
