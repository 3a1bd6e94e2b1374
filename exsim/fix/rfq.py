# -*- test-case-name: tests.test_fix_rfq -*-
"""
Request for quote over FIX: the FIX side of L{exsim.rfq.desk}, part of the
order-entry application of an endpoint (L{exsim.fix.orders.OrderEntry}).

From a requester: QuoteRequest (R), one instrument, with OrderQty and
optionally Side and ExpireTime (the deadline for quotes); it is answered
by Quote (S) messages as dealers quote, or by a QuoteRequestReject (AG)
when it is refused or no dealer quoted before the deadline.  The requester
trades on a quote with a NewOrderSingle of OrdType D (previously quoted)
and the quote's QuoteID (117), or a QuoteResponse (AJ) of QuoteRespType 1
(hit/lift; 6, pass, lets the quote go).  The trade is reported by
ExecutionReports to both sides (and the drop copy) as any trade: the
requester's order fills against an order of the dealer, whose ClOrdID is
the dealer's QuoteID.  A quote that expires is reported to both by a
QuoteStatusReport (AI, QuoteStatus 7).

To a dealer (a session of an endpoint with C{role = dealer}): every
request, as a QuoteRequest with the venue's QuoteReqID.  It answers with a
Quote (S) naming that QuoteReqID (refused with a QuoteStatusReport of
QuoteStatus 5 and a Text), or declines with a QuoteRequestReject (AG).

FIX.4.2 has no AG, AI or AJ: a refused request or a quote refused is a
QuoteAcknowledgement (b, QuoteAckStatus 5 rejected, with
QuoteRejectReason where the version lists the reason), an expired quote a
QuoteCancel (Z), a dealer declines with a QuoteAcknowledgement of status
5, and the requester trades with OrdType D.  Every message is built for
the session's version from its data dictionary: a field the version's
message does not have is left out.
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.errors import BadValue
from exsim.fix import dictionary
from exsim.fix.convert import SIDES, TIME_IN_FORCES, formatPrice, parseQuantity
from exsim.fix.reports import OrderData
from exsim.fix.utctime import parseDateEnd, parseUTCTimestamp
from exsim.interfaces import IRfqListener
from exsim.model import TimeInForce
from exsim.rfq.desk import EXPIRED, LIVE, OPEN, RfqRefused, deskFor

#: QuoteRequestRejectReason (658) of each refusal.
REQUEST_REJECT_REASONS = {
    "unknown_symbol": "1",
    "too_late": "4",
    "not_rfq": "8",
    "no_dealers": "8",
    "no_quotes": "7",
    "declined": "10",
}

#: QuoteRejectReason (300) of each refusal of a quote.
QUOTE_REJECT_REASONS = {
    "unknown_symbol": "1",
    "not_rfq": "1",
    "too_late": "4",
    "expired": "4",
    "unknown_request": "99",
    "unknown_quote": "5",
    "crossed": "7",
    "bad_quote": "8",
    "side": "8",
}

#: QuoteStatus (297) values.
REJECTED, QUOTE_EXPIRED, QUOTE_PASSED = "5", "7", "11"


def _fit(spec, fields):
    """
    The fields of C{fields} the message (or group) C{spec} has, in order;
    a (count tag, [entries]) item is a repeating group whose entries are
    fitted to the group's own specification.
    """
    result = []
    for tag, value in fields:
        if value is None or tag not in spec.tags:
            continue
        group = spec.groups.get(tag)
        if group is not None and isinstance(value, list):
            result.append((tag, len(value)))
            for entry in value:
                result.extend(_fit(group, entry))
        else:
            result.append((tag, value))
    return result


def _timestamp(text, code, what):
    """
    Seconds since the epoch of a UTCTimestamp field, or None if absent.

    @raise RfqRefused: with C{code}, naming C{what}, if it is not one.
    """
    if text is None:
        return None
    seconds = parseUTCTimestamp(text)
    if seconds is None:
        raise RfqRefused(code, "%s is not a UTCTimestamp" % (what,))
    return seconds


def _clean(text):
    """
    Text safe in a FIX field: printable, without SOH, cut to 200 characters.
    """
    text = "".join(ch for ch in str(text) if ch.isprintable())
    return text[:200] or "rejected"


@implementer(IRfqListener)
class FixRfq:
    """
    The RFQ messages of one FIX order-entry application.

    @ivar app: the L{exsim.fix.orders.OrderEntry}.
    @ivar desk: the engine's L{exsim.rfq.desk.RfqDesk}.
    @ivar isDealer: whether the endpoint's role is C{dealer}.
    """

    log = Logger()

    def __init__(self, app):
        self.app = app
        endpoint = app.endpoint
        simulator = getattr(endpoint, "simulator", None)
        self.desk = deskFor(
            endpoint.engine, getattr(simulator, "reportEvent", None), getattr(endpoint, "engineName", None)
        )
        self.desk.subscribe(self)
        self.handlers = {
            "R": self._quoteRequest,
            "S": self._quote,
            "AG": self._dealerDecline,
            "b": self._dealerAcknowledgement,
            "AJ": self._quoteResponse,
        }

    def shutdown(self):
        self.desk.unsubscribe(self)

    @property
    def isDealer(self):
        return self.app.endpoint.properties.get("role") == "dealer"

    # -- helpers -------------------------------------------------------------

    def _dictionary(self, session):
        return dictionary.forVersion(session.beginString, session.applVerId)

    def _send(self, session, msgType, fields):
        """
        Send C{fields} fitted to C{msgType} in the session's version.
        """
        spec = self._dictionary(session).messages.get(msgType)
        if spec is None:
            return False
        session.sendApp(msgType, _fit(spec, fields))
        return True

    def _has(self, session, msgType):
        return self._dictionary(session).messages.get(msgType) is not None

    def _reason(self, session, tag, table, code):
        value = table.get(code, "99")
        if not self._dictionary(session).hasEnum(tag, value):
            return None
        return value

    def _stamp(self, session, seconds=None):
        profile = self.app._profile(session)
        return profile.stamp(self.app.reactor.seconds() if seconds is None else seconds)

    def _scale(self, symbol):
        book = self.desk.engine.books.get(symbol)
        return book.instrument.priceScale if book is not None else 10000

    def hasOpenRequests(self, key):
        """
        Whether the requester C{key} (a session key) has a request for
        quote open, or a quote it may still accept.
        """
        for request in self.desk.requests.values():
            if request.requester == key and (
                request.state == OPEN or any(q.state == LIVE for q in request.quotes)
            ):
                return True
        return False

    def _session(self, owner):
        return self.app.sessions.get(str(owner))

    # -- from requesters -----------------------------------------------------

    def _quoteRequest(self, session, message):
        """
        A QuoteRequest (R): one instrument, OrderQty required.
        """
        get = message.get
        clientId = get(131)
        if not clientId:
            return self.app._missing(session, message, 131)
        symbols = message.getAll(55)
        count = get(146)
        symbol = symbols[0] if symbols else None
        try:
            if count not in (None, "1") or len(symbols) > 1:
                raise RfqRefused("bad_request", "one instrument per QuoteRequest")
            if not symbol:
                raise RfqRefused("bad_request", "Symbol (55) is required")
            sideCode = get(54)
            side = None
            if sideCode is not None:
                side = SIDES.get(sideCode)
                if side is None:
                    raise RfqRefused("bad_request", "unsupported side %s" % (sideCode,))
            qtyText = get(38)
            if qtyText is None:
                raise RfqRefused("bad_request", "OrderQty (38) is required")
            quantity = parseQuantity(qtyText)
            deadline = _timestamp(get(126), "bad_request", "ExpireTime (126)")
            self.desk.request(session.key, clientId, symbol, side, quantity, deadline)
        except RfqRefused as e:
            self._rejectRequest(session, clientId, symbol, e.code, str(e))

    def _rejectRequest(self, session, clientId, symbol, code, text):
        """
        Refuse a request: QuoteRequestReject (AG), else (FIX.4.2) a
        QuoteAcknowledgement (b) of status rejected.
        """
        if self._has(session, "AG"):
            self._send(session, "AG", [
                (131, clientId),
                (658, self._reason(session, 658, REQUEST_REJECT_REASONS, code) or "99"),
                (146, [[(55, symbol or "NONE")]]),
                (58, _clean(text)),
            ])
        else:
            self._send(session, "b", [
                (131, clientId), (297, REJECTED),
                (300, self._reason(session, 300, QUOTE_REJECT_REASONS, code)), (58, _clean(text)),
            ])

    def acceptOrder(self, session, message, symbol=None):
        """
        A NewOrderSingle of OrdType D (previously quoted): trade on the
        quote named by QuoteID (117).  A refusal is an ExecutionReport
        Rejected with the reason.

        @param symbol: the order's symbol as order entry found it (from
            Symbol, or the security's id), else Symbol (55).
        """
        get = message.get
        clOrdId, sideCode, qtyText = get(11), get(54), get(38)
        symbol = symbol or get(55)
        if not clOrdId:
            return self.app._missing(session, message, 11)
        if not symbol:
            return self.app._missing(session, message, 55)
        if sideCode is None:
            return self.app._missing(session, message, 54)
        quantity = parseQuantity(qtyText)
        tif = TIME_IN_FORCES.get(get(59, "0"))
        expireText, expireDate, account = get(126), get(432), get(1)
        expireTime = None
        if expireText is not None:
            expireTime = parseUTCTimestamp(expireText)
        elif expireDate is not None:
            expireTime = parseDateEnd(expireDate)
        data = None
        if account is not None or expireText is not None or expireDate is not None:
            data = OrderData(account, expireText, expireDate)
        try:
            self._trade(
                session, get(117), symbol, SIDES.get(sideCode), clOrdId, quantity, get(44),
                tif, expireTime if tif is TimeInForce.GTD else None, data,
            )
        except RfqRefused as e:
            self.app._localReject(session, message, clOrdId, symbol, sideCode, quantity, _clean(str(e)))

    def _trade(self, session, quoteId, symbol, side, clOrdId, quantity, priceText, tif,
               expireTime=None, data=None):
        if not quoteId:
            raise RfqRefused("unknown_quote", "QuoteID (117) is required to trade on a quote")
        quote = self.desk.quotes.get(quoteId)
        if quote is not None and symbol is not None and quote.symbol != symbol:
            raise RfqRefused("unknown_quote", "quote %s is not for %s" % (quoteId, symbol))
        if side is None:
            raise RfqRefused("side", "unsupported side")
        if tif is None:
            raise RfqRefused("bad_request", "unsupported time in force")
        price = None
        if priceText is not None and quote is not None:
            book = self.desk.engine.books.get(quote.symbol)
            try:
                price = book.instrument.toInternal(priceText)
            except BadValue:
                raise RfqRefused("price", "Price %s is not a price" % (priceText,))
        if type(quantity) is not int:
            raise RfqRefused("quantity", "OrderQty must be a whole number")
        return self.desk.accept(
            quoteId, session.key, clOrdId, side, quantity, price, tif, expireTime, data
        )

    def _quoteResponse(self, session, message):
        """
        A QuoteResponse (AJ): type 1 (hit/lift) trades on the quote, as
        OrdType D does (ClOrdID, else QuoteRespID, names the order); type 6
        (pass) lets it go.  A refused hit is an ExecutionReport Rejected;
        anything else refused, a QuoteStatusReport of status rejected.
        """
        get = message.get
        respId, quoteId, respType = get(693), get(117), get(694)
        if not respId:
            return self.app._missing(session, message, 693)
        if respType == "1":
            clOrdId = get(11) or respId
            sideCode, qtyText = get(54), get(38)
            quote = self.desk.quotes.get(quoteId) if quoteId else None
            symbol = get(55) or (quote.symbol if quote is not None else "NONE")
            quantity = parseQuantity(qtyText) if qtyText is not None else None
            try:
                if sideCode is None:
                    raise RfqRefused("side", "Side (54) is required")
                if quantity is None:
                    raise RfqRefused("quantity", "OrderQty (38) is required")
                self._trade(
                    session, quoteId, get(55), SIDES.get(sideCode), clOrdId, quantity, get(44),
                    TimeInForce.DAY,
                )
            except RfqRefused as e:
                self.app._localReject(
                    session, message, clOrdId, symbol, sideCode or "1", quantity or 0, _clean(str(e))
                )
            return
        try:
            if respType != "6":
                raise RfqRefused("bad_request", "QuoteRespType %s is not supported (1 hit/lift, 6 pass)" % (respType,))
            if not quoteId:
                raise RfqRefused("unknown_quote", "QuoteID (117) is required")
            self.desk.passQuote(quoteId, session.key)
        except RfqRefused as e:
            self._send(session, "AI", [
                (117, quoteId or "NONE"), (693, respId), (297, REJECTED),
                (300, self._reason(session, 300, QUOTE_REJECT_REASONS, e.code)), (58, _clean(str(e))),
            ])

    # -- from dealers ----------------------------------------------------------

    def _quote(self, session, message):
        """
        A dealer's Quote (S) on the venue's QuoteReqID (131).
        """
        get = message.get
        dealerQuoteId = get(117)
        if not dealerQuoteId:
            return self.app._missing(session, message, 117)
        requestId = get(131)
        try:
            if not self.isDealer:
                raise RfqRefused("bad_quote", "only sessions of a dealer endpoint may quote")
            if not requestId:
                raise RfqRefused("unknown_request", "QuoteReqID (131) is required")
            request = self.desk.getRequest(requestId)
            symbol = get(55)
            if symbol is not None and symbol != request.symbol:
                raise RfqRefused("unknown_symbol", "request %s is for %s, not %s" % (requestId, request.symbol, symbol))
            book = self.desk.book(request.symbol)
            values = []
            for tag in (132, 134, 133, 135):
                text = get(tag)
                if text is None:
                    values.append(None)
                elif tag in (132, 133):
                    try:
                        values.append(book.instrument.toInternal(text))
                    except BadValue:
                        raise RfqRefused("bad_quote", "%s is not a price" % (text,))
                else:
                    size = parseQuantity(text)
                    if type(size) is not int:
                        raise RfqRefused("bad_quote", "%s is not a whole quantity" % (text,))
                    values.append(size)
            validUntil = _timestamp(get(62), "bad_quote", "ValidUntilTime (62)")
            bid, bidSize, offer, offerSize = values
            self.desk.quote(requestId, session.key, bid, bidSize, offer, offerSize, validUntil, dealerQuoteId)
        except RfqRefused as e:
            self._rejectQuote(session, requestId, dealerQuoteId, e.code, str(e))

    def _rejectQuote(self, session, requestId, dealerQuoteId, code, text):
        """
        Refuse a dealer's quote: QuoteStatusReport (AI) of status rejected,
        else (FIX.4.2) a QuoteAcknowledgement (b).
        """
        fields = [
            (131, requestId), (117, dealerQuoteId), (297, REJECTED),
            (300, self._reason(session, 300, QUOTE_REJECT_REASONS, code)), (58, _clean(text)),
        ]
        fields = [(tag, value) for tag, value in fields if value is not None]
        if not self._send(session, "AI", fields):
            self._send(session, "b", fields)

    def _dealerDecline(self, session, message):
        """
        A dealer's QuoteRequestReject (AG): it will not quote.
        """
        requestId = message.get(131)
        if not requestId:
            return self.app._missing(session, message, 131)
        self._decline(session, requestId, message.get(58))

    def _dealerAcknowledgement(self, session, message):
        """
        A QuoteAcknowledgement (b) of status rejected on a request: a
        FIX.4.2 dealer declines.  Anything else is ignored.
        """
        requestId = message.get(131)
        if requestId and message.get(297) == REJECTED:
            self._decline(session, requestId, message.get(58))

    def _decline(self, session, requestId, text):
        if not self.isDealer:
            return
        try:
            self.desk.decline(requestId, session.key, text)
        except RfqRefused as e:
            self.log.info(
                "fix {session}: decline of {request} ignored: {error}",
                session=session.key, request=requestId, error=str(e),
            )

    # -- IRfqListener ----------------------------------------------------------

    def rfqRequested(self, request):
        """
        Forward a request to this endpoint's dealers (if it is a dealer
        endpoint), each with the venue's QuoteReqID.

        @return: the session keys it went to.
        """
        if not self.isDealer:
            return []
        dealers = []
        for key, session in list(self.app.sessions.items()):
            if not getattr(session, "loggedOn", False) or key == str(request.requester):
                continue
            entry = [(55, request.symbol)]
            if request.side is not None:
                entry.append((54, request.side.value))
            entry.append((38, request.quantity))
            entry.append((126, self._stamp(session, request.deadline)))
            entry.append((60, self._stamp(session)))
            self._send(session, "R", [(131, request.requestId), (146, [entry])])
            dealers.append(key)
        return dealers

    def rfqQuoted(self, quote):
        """
        A Quote (S) to the requester, with the venue's QuoteID.
        """
        request = quote.request
        session = self._session(request.requester)
        if session is None:
            return
        scale = self._scale(quote.symbol)
        fields = [(131, request.clientRequestId), (117, quote.quoteId), (55, quote.symbol)]
        if request.side is not None:
            fields.append((54, request.side.value))
        fields.append((38, request.quantity))
        if quote.bidPrice is not None:
            fields.append((132, formatPrice(quote.bidPrice, scale)))
        if quote.offerPrice is not None:
            fields.append((133, formatPrice(quote.offerPrice, scale)))
        if quote.bidSize is not None:
            fields.append((134, quote.bidSize))
        if quote.offerSize is not None:
            fields.append((135, quote.offerSize))
        fields.append((62, self._stamp(session, quote.validUntil)))
        fields.append((60, self._stamp(session)))
        self._send(session, "S", fields)

    def rfqRejected(self, request, code, text):
        session = self._session(request.requester)
        if session is not None:
            self._rejectRequest(session, request.clientRequestId, request.symbol, code, text)

    def rfqQuoteEnded(self, quote, status):
        """
        An expired quote: QuoteStatusReport (AI) of status expired to the
        requester (with the venue's QuoteID) and to a FIX dealer (with its
        own), else (FIX.4.2) a QuoteCancel (Z).  A passed quote: AI of
        status pass to the dealer.
        """
        request = quote.request
        targets = []
        if status == EXPIRED:
            targets.append((self._session(request.requester), request.clientRequestId, quote.quoteId))
        dealer = self._session(quote.dealer) if self.isDealer else None
        if dealer is not None and quote.dealerQuoteId is not None:
            targets.append((dealer, request.requestId, quote.dealerQuoteId))
        for session, requestId, quoteId in targets:
            if session is None:
                continue
            if self._has(session, "AI"):
                self._send(session, "AI", [
                    (131, requestId), (117, quoteId),
                    (297, QUOTE_EXPIRED if status == EXPIRED else QUOTE_PASSED),
                    (55, quote.symbol), (60, self._stamp(session)),
                ])
            elif status == EXPIRED:
                self._send(session, "Z", [
                    (131, requestId), (117, quoteId), (298, "1"), (295, [[(55, quote.symbol)]]),
                ])
