"""
An example policy plugin: round lots only.

A policy answers the requests a managed engine holds (see docs/policies.rst).
This one rejects a new order whose quantity is not a whole number of lots
of 100, fills a round lot in full at its limit price, and leaves cancels and
replaces held for the test.

Use it from Python before the simulator starts (``exsim.API().create_server()``
passes what was registered on to the simulator it starts)::

    import exsim
    from policy_plugin import RoundLots

    exsim.register("policy", "round_lots", RoundLots)
    server = exsim.API().create_server()
    server.create_engine("e1")
    server.set_engine_property("e1", "mode", "managed")
    server.set_engine_property("e1", "policy", "round_lots")

tests/test_policy.py loads this file and runs it over FIX.
"""

from zope.interface import implementer

from exsim.interfaces import IPolicy
from exsim.policy import HOLD, Fill, Reject

LOT = 100


@implementer(IPolicy)
class RoundLots:
    """
    Reject odd lots, fill round lots, hold everything else.
    """

    name = "round_lots"

    def answer(self, request, book):
        """
        @param request: the held request (exsim.policy.Request: kind,
            order id, symbol, side, quantity, price, owner, ...).
        @param book: the book of its symbol (exsim.interfaces.IBook).
        @return: an answer, or HOLD.
        """
        if request.kind != "new":
            return HOLD
        if request.quantity % LOT:
            return Reject("quantity %d is not a multiple of %d" % (request.quantity, LOT))
        if request.price is None:
            # A market order: the test decides.
            return HOLD
        return Fill()
