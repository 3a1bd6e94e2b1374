# -*- test-case-name: tests.test_rfq -*-
"""
The RFQ desk of one engine: requests, quotes and the trades on them,
protocol-neutral.

A requester (an owner key, e.g. C{fix1/CLIENT}) asks for a quote in a
symbol, a quantity and optionally a side (L{RfqDesk.request}).  The desk
tells its listeners (L{exsim.interfaces.IRfqListener}: each FIX endpoint;
those with C{role = dealer} forward the request to their sessions), asks
the book's simulated dealers, and in managed mode waits for the test too
(C{quote_rfq}, C{decline_rfq}).  Each quote (L{RfqDesk.quote}) goes to the
requester; a request no dealer quoted before its deadline is rejected; a
quote expires at its valid-until time.  The requester accepts a quote
(L{RfqDesk.accept}): the engine crosses an order of the requester with
an order of the dealer off the book (C{crossOrders}), so the trade is
reported as any other.

Time is the engine's clock (C{callLater}, C{now}).  Every step is a control
event (C{rfq_request}, C{rfq_quote}, C{rfq_declined}, C{rfq_rejected},
C{rfq_quote_expired}, C{rfq_quote_passed}, C{rfq_trade}).
"""

import random
import weakref
import zlib

from twisted.logger import Logger

from exsim.control.queue import formatPrice
from exsim.errors import BadValue
from exsim.model import Order, OrdType, Side, TimeInForce
from exsim.rfq.settings import settingsOf

#: How many requests a desk remembers: beyond it the oldest finished ones
#: (no longer open, no live quote) and their quotes are forgotten.
MAX_REQUESTS = 10000

#: Request states.
OPEN, CLOSED, REJECTED = "open", "closed", "rejected"
#: Quote states.
LIVE, EXPIRED, ACCEPTED, PASSED = "live", "expired", "accepted", "passed"


class RfqRefused(BadValue):
    """
    A request, quote or acceptance the desk refuses: a L{BadValue} with a
    C{code} a protocol maps to its own reason codes.

    @ivar code: one of C{unknown_symbol}, C{not_rfq}, C{bad_request},
        C{too_late}, C{unknown_request}, C{unknown_quote}, C{bad_quote},
        C{crossed}, C{expired}, C{done}, C{side}, C{quantity}, C{price}.
    """

    def __init__(self, code, text):
        BadValue.__init__(self, text)
        self.code = code


class RfqRequest:
    """
    One request for quote.

    @ivar requestId: the venue's id (C{"R1"}): what dealers and the test
        name.
    @ivar requester: the requester's owner key.
    @ivar clientRequestId: the requester's own id (FIX QuoteReqID).
    @ivar side: a L{Side}, or None for a two-sided request.
    @ivar deadline: the time (seconds) until which dealers may quote.
    @ivar dealers: the responders asked (dealer ids).
    @ivar declined: {dealer id: reason} of the dealers that declined.
    @ivar quotes: the quotes received, in order.
    """

    def __init__(self, requestId, requester, clientRequestId, symbol, side, quantity, deadline):
        self.requestId = requestId
        self.requester = requester
        self.clientRequestId = clientRequestId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.deadline = deadline
        self.state = OPEN
        self.dealers = []
        self.declined = {}
        self.quotes = []
        self.managed = False


class RfqQuote:
    """
    One dealer's quote on a request.  Prices are internal units; a side
    without a size is not quoted.

    @ivar quoteId: the venue's id (C{"Q1"}): what the requester accepts.
    @ivar dealer: the dealer's id (a FIX dealer's owner key, a simulated
        dealer's C{sim1}, or the name the test gave).
    @ivar dealerQuoteId: the dealer's own id (FIX QuoteID), or None.
    """

    def __init__(self, quoteId, request, dealer, bid, bidSize, offer, offerSize, validUntil, dealerQuoteId):
        self.quoteId = quoteId
        self.request = request
        self.dealer = dealer
        self.bidPrice = bid
        self.bidSize = bidSize
        self.offerPrice = offer
        self.offerSize = offerSize
        self.validUntil = validUntil
        self.dealerQuoteId = dealerQuoteId
        self.state = LIVE
        self.tradeId = None

    @property
    def symbol(self):
        return self.request.symbol


class RfqDesk:
    """
    The RFQ workflow of one engine.

    @ivar engine: the engine (its books, clock and C{crossOrders}).
    @ivar report: a callable C{(eventType, **fields)} queuing a control
        event, or None.
    @ivar requests: {request id: L{RfqRequest}}.
    @ivar quotes: {quote id: L{RfqQuote}}.
    """

    log = Logger()

    def __init__(self, engine, report=None, engineName=None):
        self.engine = engine
        self.engineName = engineName or getattr(engine, "name", None)
        self.report = report
        self.requests = {}
        self.quotes = {}
        self._listeners = []
        self._calls = set()
        self._randoms = {}
        self._nextRequest = 1
        self._nextQuote = 1

    # -- listeners and timers ------------------------------------------------

    def subscribe(self, listener):
        """
        Tell an L{exsim.interfaces.IRfqListener} about every step.
        """
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener):
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _tell(self, method, *args):
        results = []
        for listener in list(self._listeners):
            try:
                result = getattr(listener, method)(*args)
            except Exception:
                self.log.failure(
                    "RFQ listener {listener!r} failed in {method}", listener=listener, method=method
                )
                continue
            if result:
                results.extend(result)
        return results

    def _event(self, eventType, **fields):
        if self.report is not None:
            fields["engine"] = self.engineName
            self.report(eventType, **fields)

    def _later(self, seconds, f, *args):
        holder = []

        def run():
            if holder:
                self._calls.discard(holder[0])
            f(*args)

        call = self.engine.callLater(max(0.0, seconds), run)
        if call is not None and call.active():
            holder.append(call)
            self._calls.add(call)
        return call

    def stop(self):
        """
        Cancel every timer (the engine or the simulator is going away).
        """
        for call in list(self._calls):
            if call.active():
                call.cancel()
        self._calls.clear()

    def now(self):
        return self.engine.now()

    # -- lookups ---------------------------------------------------------------

    def book(self, symbol):
        """
        The book of C{symbol} if it takes requests for quote.

        @raise RfqRefused: otherwise.
        """
        book = self.engine.books.get(symbol)
        if book is None:
            raise RfqRefused("unknown_symbol", "unknown symbol %r" % (symbol,))
        if not settingsOf(book).enabled:
            raise RfqRefused("not_rfq", "%s does not take requests for quote (book property rfq)" % (symbol,))
        return book

    def getRequest(self, requestId):
        request = self.requests.get(requestId)
        if request is None:
            raise RfqRefused("unknown_request", "unknown RFQ request %r" % (requestId,))
        return request

    def getQuote(self, quoteId):
        quote = self.quotes.get(quoteId)
        if quote is None:
            raise RfqRefused("unknown_quote", "unknown quote %r" % (quoteId,))
        return quote

    def _text(self, symbol, price):
        if price is None:
            return None
        book = self.engine.books.get(symbol)
        if book is None:
            return str(price)
        return formatPrice(book.instrument, price)

    # -- requests --------------------------------------------------------------

    def request(self, requester, clientRequestId, symbol, side, quantity, deadline=None):
        """
        A request for quote.  Every listener is told (dealer endpoints
        forward it), the book's simulated dealers answer after
        C{rfq_response_delay}, and in managed mode the test may answer; a
        request with no one to answer is rejected at once.

        @param side: a L{Side}, or None (two-sided).
        @param deadline: until when dealers may quote (seconds), default
            now plus the book's C{rfq_request_timeout}.
        @return: the L{RfqRequest}.
        @raise RfqRefused: for an unknown symbol, a book without RFQ, a bad
            quantity or side, or a deadline passed; nothing is made.
        """
        book = self.book(symbol)
        settings = settingsOf(book)
        if type(quantity) is not int or quantity <= 0:
            raise RfqRefused("bad_request", "quantity must be a positive whole number, not %r" % (quantity,))
        if side is not None and not isinstance(side, Side):
            raise RfqRefused("bad_request", "side must be buy, sell or sell_short, not %r" % (side,))
        now = self.now()
        if deadline is None:
            deadline = now + settings.rfq_request_timeout
        elif deadline <= now:
            raise RfqRefused("too_late", "the request's expire time has passed")
        requestId = "R%d" % (self._nextRequest,)
        self._nextRequest += 1
        request = RfqRequest(requestId, requester, clientRequestId, symbol, side, quantity, deadline)
        request.managed = getattr(self.engine, "mode", "auto") == "managed"
        self.requests[requestId] = request
        if len(self.requests) > MAX_REQUESTS:
            self._forget()
        simulated = ["sim%d" % (i,) for i in range(1, settings.rfq_dealers + 1)]
        self._event(
            "rfq_request", request_id=requestId, requester=str(requester),
            client_request_id=clientRequestId, symbol=symbol,
            side=side.name.lower() if side is not None else None, quantity=quantity,
            deadline=deadline,
        )
        forwarded = self._tell("rfqRequested", request)
        request.dealers = forwarded + simulated
        if not request.dealers and not request.managed:
            self._reject(request, "no_dealers", "no dealer to ask for a quote")
            return request
        self._later(deadline - now, self._deadline, request)
        if simulated:
            self._later(settings.rfq_response_delay, self._simulate, request, simulated)
        return request

    def _forget(self):
        """
        Forget the oldest finished requests (and their quotes) until at
        most L{MAX_REQUESTS} are left (open ones and those with a live
        quote are kept).
        """
        excess = len(self.requests) - MAX_REQUESTS
        for requestId, request in list(self.requests.items()):
            if excess <= 0:
                return
            if request.state == OPEN or any(q.state == LIVE for q in request.quotes):
                continue
            del self.requests[requestId]
            for quote in request.quotes:
                self.quotes.pop(quote.quoteId, None)
            excess -= 1

    def _deadline(self, request):
        if request.state != OPEN:
            return
        if not request.quotes:
            self._reject(request, "no_quotes", "no dealer quoted before the deadline")
        else:
            request.state = CLOSED

    def _reject(self, request, code, text):
        request.state = REJECTED
        self._event("rfq_rejected", request_id=request.requestId, reason=code, text=text)
        self._tell("rfqRejected", request, code, text)

    # -- quotes ----------------------------------------------------------------

    def quote(self, requestId, dealer, bid=None, bidSize=None, offer=None, offerSize=None,
              validUntil=None, dealerQuoteId=None):
        """
        A dealer's quote on an open request: it goes to the requester and
        expires at C{validUntil} (default: now plus the book's
        C{rfq_quote_valid_for}).  Prices in internal units; a side is
        quoted with a price and a size.

        @return: the L{RfqQuote}.
        @raise RfqRefused: for an unknown or closed request, a side with a
            price but no size (or the other way round), no side, a price
            off the tick grid, a bid not below the offer, a request side
            not quoted, or a valid-until time passed; nothing changes.
        """
        request = self.getRequest(requestId)
        if request.state != OPEN:
            raise RfqRefused(
                "too_late", "RFQ request %s is %s: it takes no more quotes" % (requestId, request.state)
            )
        if not isinstance(dealer, str) or not dealer.strip() or not dealer.isprintable():
            raise RfqRefused("bad_quote", "dealer must be a printable name, not %r" % (dealer,))
        book = self.book(request.symbol)
        instrument = book.instrument
        sides = []
        for name, price, size in (("bid", bid, bidSize), ("offer", offer, offerSize)):
            if price is None and not size:
                continue
            if price is None or not size:
                raise RfqRefused("bad_quote", "the %s needs both a price and a size" % (name,))
            if type(size) is not int or size <= 0:
                raise RfqRefused("bad_quote", "%s size must be a positive whole number, not %r" % (name, size))
            if type(price) is not int or price <= 0:
                raise RfqRefused("bad_quote", "%s price must be positive" % (name,))
            if price % instrument.tickSize:
                raise RfqRefused(
                    "bad_quote", "%s price %s is not on the tick grid (tick_size %s)"
                    % (name, formatPrice(instrument, price), formatPrice(instrument, instrument.tickSize)),
                )
            sides.append(name)
        if not sides:
            raise RfqRefused("bad_quote", "a quote needs a bid or an offer")
        if bid is not None and offer is not None and bid >= offer:
            raise RfqRefused(
                "crossed", "bid %s is not below offer %s"
                % (formatPrice(instrument, bid), formatPrice(instrument, offer)),
            )
        if request.side is not None:
            wanted = "offer" if request.side is Side.BUY else "bid"
            if wanted not in sides:
                raise RfqRefused(
                    "side", "the request is to %s: quote %s %s"
                    % (request.side.name.lower(), "an" if wanted == "offer" else "a", wanted),
                )
        now = self.now()
        if validUntil is None:
            validUntil = now + settingsOf(book).rfq_quote_valid_for
        elif validUntil <= now:
            raise RfqRefused("expired", "the quote's valid-until time has passed")
        quoteId = "Q%d" % (self._nextQuote,)
        self._nextQuote += 1
        quote = RfqQuote(quoteId, request, dealer.strip(), bid, bidSize or None, offer, offerSize or None,
                         validUntil, dealerQuoteId)
        self.quotes[quoteId] = quote
        request.quotes.append(quote)
        self._event(
            "rfq_quote", request_id=requestId, quote_id=quoteId, dealer=quote.dealer,
            dealer_quote_id=dealerQuoteId, symbol=request.symbol,
            bid_price=self._text(request.symbol, bid), bid_size=quote.bidSize,
            offer_price=self._text(request.symbol, offer), offer_size=quote.offerSize,
            valid_until=validUntil,
        )
        self._tell("rfqQuoted", quote)
        self._later(validUntil - now, self._expire, quote)
        return quote

    def decline(self, requestId, dealer, reason=None):
        """
        A dealer will not quote.  A request every dealer asked declined,
        with no quote, is rejected at once (in managed mode it waits for
        the test until its deadline).

        @raise RfqRefused: for an unknown request.
        """
        request = self.getRequest(requestId)
        if not isinstance(dealer, str) or not dealer.strip():
            raise RfqRefused("bad_quote", "dealer must be a name, not %r" % (dealer,))
        if request.state != OPEN:
            raise RfqRefused(
                "too_late", "RFQ request %s is %s already" % (requestId, request.state)
            )
        request.declined[dealer] = reason
        self._event("rfq_declined", request_id=requestId, dealer=dealer, reason=reason)
        if (
            not request.quotes
            and not request.managed
            and request.dealers
            and all(d in request.declined for d in request.dealers)
        ):
            self._reject(request, "declined", "every dealer declined to quote")

    def _expire(self, quote):
        if quote.state != LIVE:
            return
        quote.state = EXPIRED
        self._event(
            "rfq_quote_expired", request_id=quote.request.requestId, quote_id=quote.quoteId,
            dealer=quote.dealer,
        )
        self._tell("rfqQuoteEnded", quote, EXPIRED)

    def passQuote(self, quoteId, requester):
        """
        The requester will not trade on a quote: the quote ends (the
        dealer is told).

        @raise RfqRefused: for an unknown quote (or one of another
            requester), or one that is not live.
        """
        quote = self._liveQuote(quoteId, requester)
        quote.state = PASSED
        self._event(
            "rfq_quote_passed", request_id=quote.request.requestId, quote_id=quoteId,
            dealer=quote.dealer,
        )
        self._tell("rfqQuoteEnded", quote, PASSED)

    def _liveQuote(self, quoteId, requester):
        quote = self.quotes.get(quoteId)
        if quote is None or quote.request.requester != requester:
            raise RfqRefused("unknown_quote", "unknown quote %r" % (quoteId,))
        if quote.state == LIVE and self.now() >= quote.validUntil:
            self._expire(quote)
        if quote.state == EXPIRED:
            raise RfqRefused("expired", "quote %s expired" % (quoteId,))
        if quote.state != LIVE:
            raise RfqRefused("done", "quote %s was %s already" % (quoteId, quote.state))
        return quote

    # -- trades ----------------------------------------------------------------

    def accept(self, quoteId, requester, clOrdId, side, quantity, price=None,
               timeInForce=TimeInForce.DAY, expireTime=None, userData=None):
        """
        The requester trades on a quote: its order (buying at the offer,
        selling at the bid) and one of the dealer cross off the book.  A
        quote is traded once.

        @param price: a limit the requester gives (internal units): the
            quote's price must be at least as good.
        @return: the trade id, or None if the engine rejected the orders
            (the requester's order was reported rejected).
        @raise RfqRefused: for an unknown, expired or finished quote, a
            side the quote does not have, a quantity above its size, or a
            limit the quote's price does not meet; nothing changes.
        """
        quote = self._liveQuote(quoteId, requester)
        if not isinstance(side, Side):
            raise RfqRefused("side", "side must be buy or sell, not %r" % (side,))
        isBuy = side is Side.BUY
        quotedPrice, size = (quote.offerPrice, quote.offerSize) if isBuy else (quote.bidPrice, quote.bidSize)
        if quotedPrice is None:
            raise RfqRefused(
                "side", "quote %s has no %s to %s" % (quoteId, "offer" if isBuy else "bid", "buy" if isBuy else "sell")
            )
        if type(quantity) is not int or quantity <= 0:
            raise RfqRefused("quantity", "quantity must be a positive whole number, not %r" % (quantity,))
        if quantity > size:
            raise RfqRefused("quantity", "quantity %d exceeds the quote's size %d" % (quantity, size))
        if price is not None and (price < quotedPrice if isBuy else price > quotedPrice):
            raise RfqRefused(
                "price", "the quote's price %s does not meet the limit %s"
                % (self._text(quote.symbol, quotedPrice), self._text(quote.symbol, price)),
            )
        symbol = quote.symbol
        dealerLeg = Order(
            quote.dealer, quote.dealerQuoteId or quote.quoteId, symbol,
            Side.SELL if isBuy else Side.BUY, quantity, quotedPrice, OrdType.LIMIT, TimeInForce.DAY,
        )
        takerLeg = Order(
            requester, clOrdId, symbol, side, quantity, quotedPrice, OrdType.LIMIT, timeInForce,
            expireTime, userData,
        )
        tradeId = self.engine.crossOrders(dealerLeg, takerLeg, quantity, quotedPrice)
        if tradeId is None:
            return None
        quote.state = ACCEPTED
        quote.tradeId = tradeId
        self._event(
            "rfq_trade", request_id=quote.request.requestId, quote_id=quoteId, dealer=quote.dealer,
            requester=str(requester), symbol=symbol, side=side.name.lower(), quantity=quantity,
            price=self._text(symbol, quotedPrice), trade_id=tradeId,
            order_id=takerLeg.orderId, dealer_order_id=dealerLeg.orderId,
        )
        return tradeId

    # -- simulated dealers -----------------------------------------------------

    def _random(self, book):
        """
        The simulated dealers' random generator of C{book}: seeded by its
        C{seed} (the market activity's), else by its symbol.
        """
        rng = self._randoms.get(book.symbol)
        if rng is None:
            seed = getattr(getattr(book, "activity", None), "seed", None)
            if seed is None:
                seed = zlib.crc32(book.symbol.encode("utf-8"))
            rng = self._randoms[book.symbol] = random.Random(seed)
        return rng

    def _simulate(self, request, dealers):
        """
        The simulated dealers answer: each declines with the book's
        C{rfq_decline_rate}, else quotes around the reference price (else
        the last trade price, else the middle of the best bid and offer)
        at C{rfq_spread_ticks} ticks or up to twice that.
        """
        if request.state != OPEN:
            return
        book = self.engine.books.get(request.symbol)
        if book is None:
            return
        settings = settingsOf(book)
        rng = self._random(book)
        tick = book.instrument.tickSize
        middle = book.referencePrice or book.lastPrice
        if middle is None:
            bid, ask = book.bestBid(), book.bestAsk()
            if bid is not None and ask is not None:
                middle = (bid + ask) // 2 // tick * tick
        for dealer in dealers:
            if request.state != OPEN:
                return
            declines = rng.random() < settings.rfq_decline_rate
            spread = settings.rfq_spread_ticks + rng.randrange(settings.rfq_spread_ticks + 1)
            if declines or middle is None:
                self.decline(request.requestId, dealer, "no price" if middle is None else "declined")
                continue
            middle = middle // tick * tick
            bid = middle - spread * tick
            offer = middle + spread * tick
            if request.side is Side.BUY or bid <= 0:
                bid = None
            if request.side not in (None, Side.BUY):
                offer = None
            if bid is None and offer is None:
                self.decline(request.requestId, dealer, "no price")
                continue
            try:
                self.quote(
                    request.requestId, dealer, bid, request.quantity if bid else None,
                    offer, request.quantity if offer else None,
                )
            except RfqRefused as e:
                self.log.warn(
                    "simulated dealer {dealer} cannot quote {request}: {error}",
                    dealer=dealer, request=request.requestId, error=str(e),
                )


_desks = weakref.WeakKeyDictionary()


def deskFor(engine, report=None, engineName=None):
    """
    The L{RfqDesk} of C{engine} (made on first use).  C{report} and
    C{engineName}, when given, replace the desk's.
    """
    desk = _desks.get(engine)
    if desk is None:
        desk = _desks[engine] = RfqDesk(engine, report, engineName)
    else:
        if report is not None:
            desk.report = report
        if engineName is not None:
            desk.engineName = engineName
    return desk


def existingDesk(engine):
    """
    The L{RfqDesk} of C{engine}, or None if it has none yet.
    """
    return _desks.get(engine)
