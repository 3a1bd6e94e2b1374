# -*- test-case-name: tests.test_rfq -*-
"""
Request for quote: a client asks for a price in an instrument and size,
dealers answer with quotes, the client trades on one.

The workflow is protocol-neutral (L{exsim.rfq.desk}: requests, quotes,
their deadlines and validity on the engine's clock, simulated dealers);
wire protocols translate it (L{exsim.fix.rfq}: QuoteRequest, Quote,
QuoteRequestReject, QuoteStatusReport, QuoteResponse, NewOrderSingle of
OrdType D).  A trade on a quote is an off-book cross in the engine
(C{crossOrders}), so every protocol, the drop copy and the control events
report it as any trade.

RFQ is on for every book of an engine of class C{rfq}
(L{exsim.rfq.engine.RfqEngine}: RFQ only) and for a book of any engine
with the book property C{rfq = yes} (a venue with both an order book and
RFQ).  The book properties are L{exsim.rfq.settings.PROPERTIES}.
"""
