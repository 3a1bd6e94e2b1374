# -*- test-case-name: tests.test_matching -*-
"""
The checks of an off-book cross (C{crossOrders} of both engines: an
accepted RFQ quote), made before anything changes.

Pure: no reactor, no I/O.
"""

from exsim.errors import BadValue


def checkCross(passive, aggressor, quantity, price):
    """
    Check the terms of a cross of two new orders.

    @raise BadValue: for orders of one side or of two books, a quantity
        that is not a positive whole number at most either order's, a price
        that is not a positive whole number (internal units), or no price
        at all.
    """
    if passive.symbol != aggressor.symbol:
        raise BadValue(
            "a cross needs two orders of one book, not %r and %r" % (passive.symbol, aggressor.symbol)
        )
    if passive.isBuy == aggressor.isBuy:
        raise BadValue("a cross needs a buy order and a sell order")
    if quantity is not None:
        if type(quantity) is not int or quantity <= 0:
            raise BadValue("cross quantity must be a positive whole number, not %r" % (quantity,))
        for order in (passive, aggressor):
            if type(order.quantity) is int and quantity > order.quantity:
                raise BadValue(
                    "cross quantity %d exceeds an order's quantity %d" % (quantity, order.quantity)
                )
    if price is None:
        price = passive.price if passive.price is not None else aggressor.price
        if price is None:
            raise BadValue("a cross of two orders without a price needs a price")
    if type(price) is not int or price <= 0:
        raise BadValue("cross price must be positive")
