# -*- test-case-name: tests.test_fix_marketdata -*-
"""
FIX market data: MarketDataRequest (V) answered with
MarketDataSnapshotFullRefresh (W), then, for a subscription,
MarketDataIncrementalRefresh (X) after every engine command that changed
the book or traded; MarketDataRequestReject (Y) for what is not offered.

The book is published aggregated by price level: bids (269=0) and offers
(269=1) with their total size (271) and order count (346), and trades
(269=2).  MarketDepth (264) 0 is the full book, N the best N levels per
side; a level entering the best N shows as new, one leaving it as deleted.
MDUpdateType (265) 1 (default) streams X; 0 sends a new W instead.

The trading phases (L{exsim.engine.phases}) add the opening and closing
prices of the auctions (269=4 and 5, MDEntrySize the auction's quantity),
and during a call the indicative uncross: auction clearing price (269=Q,
FIX.5.0+: the indicative price and paired quantity) and imbalance (269=A,
FIX.4.4+: the indicative price, the imbalance quantity, and Text C{buy},
C{sell} or C{none}); updates follow the call's indicative events (new,
changed, and deleted when the call ends).
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.events import AuctionUncrossed, BookChanged, Indicative, PhaseChanged, Trade
from exsim.fix import refdata, status
from exsim.fix.convert import formatPrice
from exsim.fix.versions import profileFor
from exsim.interfaces import IEngineEvents, IEngineListener, IFixApplication
from exsim.roles import roleOf

#: MDReqRejReason (281) codes.
UNKNOWN_SYMBOL = "0"
DUPLICATE_MD_REQ_ID = "1"
UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE = "4"
UNSUPPORTED_MARKET_DEPTH = "5"
UNSUPPORTED_MD_UPDATE_TYPE = "6"
UNSUPPORTED_AGGREGATED_BOOK = "7"
UNSUPPORTED_MD_ENTRY_TYPE = "8"

BID, OFFER, TRADE = "0", "1", "2"
OPENING_PRICE, CLOSING_PRICE = "4", "5"
IMBALANCE, AUCTION_PRICE = "A", "Q"
_SUPPORTED_TYPES = frozenset([BID, OFFER, TRADE, OPENING_PRICE, CLOSING_PRICE])
#: The MDEntryTypes a version supports, by its profile's rank.
_TYPES_FROM = ((44, IMBALANCE), (50, AUCTION_PRICE))
#: Auction -> the MDEntryType of its price.
_AUCTION_PRICE_TYPES = {"opening": OPENING_PRICE, "closing": CLOSING_PRICE}


def supportedTypes(rank):
    """
    The MDEntryTypes published to a version (by its profile's rank).
    """
    return _SUPPORTED_TYPES.union(code for since, code in _TYPES_FROM if rank >= since)


class Subscription:
    """
    One MDReqID of one session on one symbol.

    @ivar sent: {True (bids) / False (offers): {price: (size, count)}} as
        last published to the subscriber.
    """

    __slots__ = (
        "session", "mdReqId", "symbol", "depth", "types", "incremental", "sent", "auction",
    )

    def __init__(self, session, mdReqId, symbol, depth, types, incremental):
        self.session = session
        self.mdReqId = mdReqId
        self.symbol = symbol
        self.depth = depth
        self.types = types
        self.incremental = incremental
        self.sent = {True: {}, False: {}}
        #: {MDEntryType Q or A: (price, size, text)} as last published.
        self.auction = {}


@implementer(IFixApplication, IEngineListener)
class MarketData:
    """
    Answers MarketDataRequests of the sessions of one endpoint from its
    engine's books.
    """

    log = Logger()

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.engine = roleOf(endpoint.engine, IEngineEvents, "FIX market data")
        self.reactor = endpoint.reactor
        #: {symbol: [Subscription]}
        self._bySymbol = {}
        #: {session key: {MDReqID: [Subscription]}}
        self._bySession = {}
        # Subscribed to the engine only while a subscription of a session
        # is live (L{_listen}): an order-entry endpoint's market data
        # costs its engine's batches nothing until it is asked for.
        # SecurityStatusRequest, TradingSessionStatusRequest (a market
        # data endpoint's own; an order-entry endpoint's application
        # answers them itself).
        self.status = status.TradingStatus(endpoint, endpoint.engine)

    def shutdown(self):
        self.engine.unsubscribe(self)
        self.status.shutdown()
        self._bySymbol.clear()
        self._bySession.clear()

    def sessionLoggedOn(self, session):
        pass

    def canForget(self, session):
        """
        A market-data session has nothing waiting for it once logged out.
        """
        return True

    def sessionLoggedOut(self, session):
        """
        Subscriptions end with the connection.
        """
        self.status.sessionLoggedOut(session)
        for subs in self._bySession.pop(session.key, {}).values():
            for sub in subs:
                self._drop(sub)

    def _drop(self, sub):
        subs = self._bySymbol.get(sub.symbol)
        if subs is not None and sub in subs:
            subs.remove(sub)
            if not subs:
                del self._bySymbol[sub.symbol]
                self._listen()

    # -- requests ------------------------------------------------------------

    def fromApp(self, session, message):
        if message.msgType != "V":
            if message.msgType in refdata.MESSAGE_TYPES:
                return refdata.answer(self.engine, session, message)
            if message.msgType in status.MESSAGE_TYPES:
                return self.status.answer(session, message)
            return False
        profile = profileFor(session.beginString, session.applVerId)
        if profile.rank < 42:
            return False
        get = message.get
        mdReqId = get(262)
        if not mdReqId:
            session.sendSessionReject(
                message.seqNum, 1, "Required tag missing", refTagId=262, refMsgType="V"
            )
            return True
        requestType = get(263)
        mine = self._bySession.setdefault(session.key, {})
        if requestType == "2":
            for sub in mine.pop(mdReqId, ()):
                self._drop(sub)
            return True
        if requestType not in ("0", "1"):
            return self._reject(
                session, mdReqId, UNSUPPORTED_SUBSCRIPTION_REQUEST_TYPE,
                "SubscriptionRequestType %s is not supported" % (requestType,),
            )
        if mdReqId in mine:
            return self._reject(
                session, mdReqId, DUPLICATE_MD_REQ_ID,
                "MDReqID %s is already subscribed" % (mdReqId,),
            )
        try:
            depth = int(get(264, "0"))
        except ValueError:
            depth = -1
        if depth < 0:
            return self._reject(
                session, mdReqId, UNSUPPORTED_MARKET_DEPTH, "MarketDepth must be 0 or more"
            )
        updateType = get(265, "1")
        if updateType not in ("0", "1"):
            return self._reject(
                session, mdReqId, UNSUPPORTED_MD_UPDATE_TYPE,
                "MDUpdateType %s is not supported" % (updateType,),
            )
        if get(266, "Y") != "Y":
            return self._reject(
                session, mdReqId, UNSUPPORTED_AGGREGATED_BOOK,
                "only the aggregated book (266=Y) is published",
            )
        types = message.getAll(269)
        if not types:
            types = [BID, OFFER]
        supported = supportedTypes(profile.rank)
        unsupported = [t for t in types if t not in supported]
        if unsupported:
            return self._reject(
                session, mdReqId, UNSUPPORTED_MD_ENTRY_TYPE,
                "MDEntryType %s is not supported (supported: %s)"
                % (",".join(unsupported), ",".join(sorted(supported))),
            )
        symbols = message.getAll(55)
        if not symbols:
            return self._reject(session, mdReqId, UNKNOWN_SYMBOL, "no symbol requested")
        books = self.engine.books
        unknown = [s for s in symbols if s not in books]
        if unknown:
            return self._reject(
                session, mdReqId, UNKNOWN_SYMBOL, "unknown symbol %s" % (",".join(unknown),)
            )
        typeSet = frozenset(types)
        subs = []
        for symbol in symbols:
            sub = Subscription(session, mdReqId, symbol, depth, typeSet, updateType == "1")
            self._snapshot(sub, profile)
            subs.append(sub)
        if requestType == "1":
            mine[mdReqId] = subs
            for sub in subs:
                self._bySymbol.setdefault(sub.symbol, []).append(sub)
            self._listen()
        return True

    def _listen(self):
        """
        Follow the engine's events while some subscription is live, and
        only then.
        """
        if self._bySymbol:
            self.engine.subscribe(self)
        else:
            self.engine.unsubscribe(self)

    def _reject(self, session, mdReqId, reason, text):
        session.sendApp("Y", [(262, mdReqId), (281, reason), (58, text)])
        return True

    # -- publishing ----------------------------------------------------------

    def _levels(self, book, isBuy, depth):
        levels = book.depth(isBuy, depth or None)
        return {price: (qty, count) for price, qty, count in levels if qty > 0}

    def _snapshot(self, sub, profile):
        """
        Send a W with the subscription's current view and remember it.
        """
        book = self.engine.books.get(sub.symbol)
        scale = book.instrument.priceScale
        entries = []
        for isBuy, code in ((True, BID), (False, OFFER)):
            if code not in sub.types:
                continue
            levels = self._levels(book, isBuy, sub.depth)
            sub.sent[isBuy] = levels
            for price in sorted(levels, reverse=isBuy):
                qty, count = levels[price]
                entries.append((code, price, qty, count))
        if TRADE in sub.types and book.lastPrice is not None:
            entries.append((TRADE, book.lastPrice, getattr(book, "lastQuantity", None), None))
        prices = getattr(book, "auctionPrices", {})
        for auction, code in _AUCTION_PRICE_TYPES.items():
            if code in sub.types and auction in prices:
                entries.append((code,) + prices[auction] + (None,))
        auction = sub.auction = self._auctionView(sub)
        for code in (AUCTION_PRICE, IMBALANCE):
            if code in auction:
                price, size, text = auction[code]
                entries.append((code, price, size, None, text))
        fields = [(262, sub.mdReqId), (55, sub.symbol)]
        if profile.rank >= 52:
            # LastUpdateTime: FIX.5.0SP2's W (not FIX.5.0's or SP1's).
            fields.append((779, profile.stamp(self.reactor.seconds())))
        fields.append((268, str(len(entries))))
        for entry in entries:
            code, price, qty, count = entry[:4]
            fields.append((269, code))
            fields.append((270, formatPrice(price, scale)))
            if qty is not None:
                fields.append((271, str(qty)))
            if count is not None:
                fields.append((346, str(count)))
            if len(entry) > 4 and entry[4] is not None:
                fields.append((58, entry[4]))
        sub.session.sendApp("W", fields)

    def _auctionView(self, sub):
        """
        The indicative uncross entries (Q, A) C{sub} asks for, of its book
        in a call now: {MDEntryType: (price, size, text)}.
        """
        if AUCTION_PRICE not in sub.types and IMBALANCE not in sub.types:
            return {}
        indicative = getattr(self.engine, "indicative", None)
        result = indicative(sub.symbol) if indicative is not None else None
        if result is None or result.price is None:
            return {}
        view = {}
        if AUCTION_PRICE in sub.types:
            view[AUCTION_PRICE] = (result.price, result.paired, None)
        if IMBALANCE in sub.types:
            side = result.imbalanceSide
            view[IMBALANCE] = (
                result.price, result.imbalance, "none" if side is None else side.name.lower(),
            )
        return view

    def engineEvents(self, events):
        bySymbol = self._bySymbol
        if not bySymbol:
            return
        touched = {}
        for event in events:
            cls = event.__class__
            if cls is BookChanged:
                if event.symbol in bySymbol:
                    entry = touched.get(event.symbol)
                    if entry is None:
                        entry = touched[event.symbol] = [set(), [], []]
                    entry[0].add(event.isBuy)
            elif cls is Trade:
                if event.symbol in bySymbol:
                    entry = touched.get(event.symbol)
                    if entry is None:
                        entry = touched[event.symbol] = [set(), [], []]
                    entry[1].append(event)
            elif cls is AuctionUncrossed or cls is Indicative or cls is PhaseChanged:
                # The trading phases (not on the continuous hot path).
                if event.symbol in bySymbol:
                    entry = touched.get(event.symbol)
                    if entry is None:
                        entry = touched[event.symbol] = [set(), [], []]
                    entry[2].append(event)
        if not touched:
            return
        books = self.engine.books
        for symbol, (sides, trades, phaseEvents) in touched.items():
            book = books.get(symbol)
            if book is None:
                continue
            for sub in list(bySymbol.get(symbol, ())):
                try:
                    self._publish(sub, book, sides, trades, phaseEvents)
                except Exception:
                    self.log.failure("market data for {symbol} failed", symbol=symbol)

    def _publish(self, sub, book, sides, trades, phaseEvents=()):
        session = sub.session
        profile = profileFor(session.beginString, session.applVerId)
        types = sub.types
        auctionEntries = self._auctionEntries(sub, phaseEvents) if phaseEvents else ()
        if not sub.incremental:
            relevant = (TRADE in types and trades) or any(
                (BID if isBuy else OFFER) in types for isBuy in sides
            ) or auctionEntries
            if relevant:
                self._snapshot(sub, profile)
            return
        scale = book.instrument.priceScale
        entries = []
        for isBuy in (True, False):
            code = BID if isBuy else OFFER
            if isBuy not in sides or code not in types:
                continue
            before = sub.sent[isBuy]
            after = self._levels(book, isBuy, sub.depth)
            for price in before:
                if price not in after:
                    entries.append(("2", code, price, 0, 0))
            for price in sorted(after, reverse=isBuy):
                value = after[price]
                old = before.get(price)
                if old is None:
                    entries.append(("0", code, price) + value)
                elif old != value:
                    entries.append(("1", code, price) + value)
            sub.sent[isBuy] = after
        if TRADE in types:
            for trade in trades:
                entries.append(("0", TRADE, trade.price, trade.quantity, None))
        entries.extend(auctionEntries)
        if not entries:
            return
        symbol = sub.symbol
        fields = [(262, sub.mdReqId), (268, str(len(entries)))]
        for entry in entries:
            action, code, price, qty, count = entry[:5]
            fields.append((279, action))
            fields.append((269, code))
            fields.append((55, symbol))
            fields.append((270, formatPrice(price, scale)))
            if action != "2":
                fields.append((271, str(qty)))
                if count is not None:
                    fields.append((346, str(count)))
                if len(entry) > 5:
                    fields.append((58, entry[5]))
        session.sendApp("X", fields)

    def _auctionEntries(self, sub, phaseEvents):
        """
        The incremental entries (action, type, price, size, count[, text])
        of the trading-phase events of a batch for C{sub}: auction prices,
        and the indicative uncross as it changed (deleted once the call is
        over).
        """
        entries = []
        types = sub.types
        for event in phaseEvents:
            if event.__class__ is AuctionUncrossed:
                code = _AUCTION_PRICE_TYPES.get(event.auction)
                if code in types and event.price is not None:
                    entries.append(("0", code, event.price, event.quantity, None))
        if AUCTION_PRICE in types or IMBALANCE in types:
            before = sub.auction
            after = self._auctionView(sub)
            for code in (AUCTION_PRICE, IMBALANCE):
                old = before.get(code)
                new = after.get(code)
                if new is None:
                    if old is not None:
                        entries.append(("2", code, old[0], 0, None))
                elif new != old:
                    action = "0" if old is None else "1"
                    price, size, text = new
                    entry = (action, code, price, size, None)
                    entries.append(entry if text is None else entry + (text,))
            sub.auction = after
        return entries
