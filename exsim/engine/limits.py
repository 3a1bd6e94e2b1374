# -*- test-case-name: tests.test_hardening -*-
"""
The bounds of what an order may carry: its quantity and its price.

A venue accepts only what every one of its protocols can publish: an order
FIX accepts with a quantity of ten billion would be acknowledged and then
never reach an ITCH feed, whose share fields are 32 bits.  So the engine
refuses quantities and prices outside what every protocol attached to it
can carry (L{Limits.carry}, told by each endpoint), and a book may narrow
that further with its properties C{max_order_quantity}, C{min_price} and
C{max_price}.

Pure: no reactor, no I/O.
"""

from exsim.errors import BadValue
from exsim.model import RejectReason

#: What an engine accepts when no protocol narrows it: quantities of up to
#: 15 digits and internal prices of up to 18 (as the FIX decoder bounds
#: them), so that every number in the engine converts to text.
MAX_QUANTITY = 10**15 - 1
MAX_PRICE = 10**18 - 1

#: The book properties of this module.
PROPERTIES = ("max_order_quantity", "min_price", "max_price")


class Limits:
    """
    The quantity and price bounds of one book.

    @ivar maxQuantity: the largest order quantity accepted.
    @ivar minPrice: the lowest price accepted (internal units, at least 1).
    @ivar maxPrice: the highest price accepted (internal units).
    @ivar settings: the book's own bounds, as set ({property: value};
        prices in internal units).
    """

    __slots__ = ("maxQuantity", "minPrice", "maxPrice", "settings")

    def __init__(self):
        self.settings = {}
        self.maxQuantity = MAX_QUANTITY
        self.minPrice = 1
        self.maxPrice = MAX_PRICE

    def update(self, carried):
        """
        Recompute the bounds from the book's settings and C{carried}, the
        (quantity, price) bounds of the protocols attached (None where
        nothing narrows).
        """
        quantity, price = carried
        settings = self.settings
        self.maxQuantity = _least(MAX_QUANTITY, quantity, settings.get("max_order_quantity"))
        self.maxPrice = _least(MAX_PRICE, price, settings.get("max_price"))
        self.minPrice = max(1, settings.get("min_price") or 1)

    def check(self, quantity, price):
        """
        Whether an order's quantity and (limit) price are within bounds.

        @param quantity: a positive int.
        @param price: a positive int, or None (no price to check).
        @return: None, or (L{RejectReason}, text).
        """
        if quantity > self.maxQuantity:
            return RejectReason.BAD_QUANTITY, (
                "quantity %d exceeds the maximum order quantity %d"
                % (quantity, self.maxQuantity)
            )
        if price is not None and not self.minPrice <= price <= self.maxPrice:
            return RejectReason.BAD_PRICE, "price is outside the book's price range"
        return None

    def checkPrice(self, price, what="price"):
        """
        Raise L{BadValue} if C{price} (an int) is outside the bounds: for
        prices the test gives (fills, matches).
        """
        if not self.minPrice <= price <= self.maxPrice:
            raise BadValue(
                "%s %d is outside the book's price range %d to %d (internal units)"
                % (what, price, self.minPrice, self.maxPrice)
            )

    def properties(self):
        """
        The book's own bounds as {property: value} (internal units).
        """
        return dict(self.settings)


def _least(*values):
    return min(v for v in values if v is not None)


def parseQuantityBound(value):
    """
    A C{max_order_quantity} value: a whole number from 1 to L{MAX_QUANTITY}.

    @raise BadValue: otherwise.
    """
    text = str(value).strip()
    if len(text) > 15 or not text.isdigit() or not 0 < int(text) <= MAX_QUANTITY:
        raise BadValue(
            "max_order_quantity must be a whole number from 1 to %d, not %r"
            % (MAX_QUANTITY, value)
        )
    return int(text)


class Carriers:
    """
    The bounds of the protocols attached to one engine, by key (an
    endpoint's name): the engine's bound is the narrowest.
    """

    def __init__(self):
        self._bounds = {}

    def set(self, key, quantity, price):
        """
        Attach (or, with both None, detach) the bounds of C{key}.
        """
        if quantity is None and price is None:
            self._bounds.pop(key, None)
        else:
            self._bounds[key] = (quantity, price)

    def bounds(self):
        """
        (quantity, price): the narrowest of every attached protocol (None
        where none narrows).
        """
        quantities = [q for q, _ in self._bounds.values() if q is not None]
        prices = [p for _, p in self._bounds.values() if p is not None]
        return (min(quantities) if quantities else None, min(prices) if prices else None)
