# -*- test-case-name: tests.test_rfq -*-
"""
The RFQ book properties: C{rfq} (on or off), the simulated dealers
(C{rfq_dealers}, C{rfq_spread_ticks}, C{rfq_response_delay},
C{rfq_decline_rate}; seeded by the book's C{seed}), and the default
lifetimes (C{rfq_request_timeout}, C{rfq_quote_valid_for}).

Each is a C{book_property} handler (L{exsim.registry}); the parsed values
live on the book (C{book.rfq}, an L{RfqSettings}).
"""

from exsim.errors import BadValue
from exsim.values import parseBoolean

#: The most simulated dealers a book may have.
MAX_DEALERS = 50

#: The longest time a request or a quote may last (a day).
MAX_SECONDS = 86400.0


def _whole(name, minimum, maximum):
    def parse(value):
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            number = None
        if number is None or not minimum <= number <= maximum:
            raise BadValue(
                "%s must be a whole number from %d to %d, not %r" % (name, minimum, maximum, value)
            )
        return number

    return parse


def _seconds(name, positive):
    def parse(value):
        try:
            number = float(str(value).strip())
        except (TypeError, ValueError):
            number = None
        if (
            number is None
            or number != number
            or not (0 < number if positive else 0 <= number)
            or number > MAX_SECONDS
        ):
            raise BadValue(
                "%s must be a number of seconds %s and at most %d, not %r"
                % (name, "above 0" if positive else "from 0", MAX_SECONDS, value)
            )
        return number

    return parse


def _rate(value):
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 <= number <= 1:
        raise BadValue("rfq_decline_rate must be a number from 0 to 1, not %r" % (value,))
    return number


#: {property: (parser, default)}, in the order the documentation lists them.
PROPERTIES = {
    "rfq": (lambda value: parseBoolean("rfq", value), False),
    "rfq_dealers": (_whole("rfq_dealers", 0, MAX_DEALERS), 0),
    "rfq_spread_ticks": (_whole("rfq_spread_ticks", 1, 1000000), 2),
    "rfq_response_delay": (_seconds("rfq_response_delay", False), 0.5),
    "rfq_decline_rate": (_rate, 0.0),
    "rfq_request_timeout": (_seconds("rfq_request_timeout", True), 10.0),
    "rfq_quote_valid_for": (_seconds("rfq_quote_valid_for", True), 30.0),
}


class RfqSettings:
    """
    The RFQ settings of one book (its C{rfq} attribute).

    @ivar enabled: whether the book takes requests.
    """

    def __init__(self, enabled=False):
        self.enabled = enabled
        for name, (parse, default) in PROPERTIES.items():
            if name != "rfq":
                setattr(self, name, default)

    def properties(self):
        result = {"rfq": self.enabled}
        for name in PROPERTIES:
            if name != "rfq":
                result[name] = getattr(self, name)
        return result


def settingsOf(book):
    """
    The L{RfqSettings} of C{book} (made on first use; RFQ off).
    """
    settings = getattr(book, "rfq", None)
    if settings is None:
        settings = book.rfq = RfqSettings()
    return settings


def setRfqProperty(engine, book, name, value):
    """
    The C{book_property} handler of every RFQ property.

    @raise BadValue: for a bad value (nothing changes), or C{rfq = no} on
        a book of an engine of class C{rfq}.
    """
    parse, default = PROPERTIES[name]
    parsed = parse(value)
    settings = settingsOf(book)
    if name == "rfq":
        if not parsed and getattr(engine, "rfqOnly", False):
            raise BadValue("every book of an rfq engine takes requests for quote: rfq cannot be no")
        settings.enabled = parsed
    else:
        setattr(settings, name, parsed)


def registerBuiltins():
    """
    Register the RFQ book properties (unless a plugin took a name).
    """
    from exsim import registry

    known = registry.entries("book_property")
    for name in PROPERTIES:
        if name not in known:
            registry.register("book_property", name, setRfqProperty)
