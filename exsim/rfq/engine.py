# -*- test-case-name: tests.test_rfq -*-
"""
The C{rfq} engine class: a venue that trades by request for quote only,
and the C{rfq_only} behaviour its books have.

An L{RfqEngine} is the matching engine whose every book takes requests
for quote (book property C{rfq}, always on) and refuses orders that do not
accept a quote: a trade on a quote is an off-book cross
(C{crossOrders}), which no behaviour sees.  A matching engine's book can
be the same with C{rfq = yes} and C{behaviour = rfq_only}.
"""

from exsim.engine.behaviours import Behaviour
from exsim.engine.matching import MatchingEngine
from exsim.model import RejectReason
from exsim.rfq.settings import settingsOf


class RfqOnly(Behaviour):
    """
    Every new order is rejected: the book trades on quotes only.
    """

    name = "rfq_only"
    parameters = {}

    def handleNew(self, engine, book, order):
        engine.rejectOrder(
            order.orderId,
            "%s trades by request for quote only: accept a quote (OrdType D with a QuoteID)"
            % (book.symbol,),
            RejectReason.BEHAVIOUR,
        )


class RfqEngine(MatchingEngine):
    """
    A matching engine whose books trade by request for quote only.
    """

    #: Every book takes requests (C{rfq = no} is refused).
    rfqOnly = True

    def addBook(self, instrument, behaviour=None):
        book = MatchingEngine.addBook(self, instrument, RfqOnly() if behaviour is None else behaviour)
        settingsOf(book).enabled = True
        book.properties["rfq"] = True
        return book
