# -*- test-case-name: tests.test_fix_status -*-
"""
FIX trading status: TradingSessionStatusRequest (g) answered with
TradingSessionStatus (h), SecurityStatusRequest (e) with SecurityStatus
(f), from the trading phases of the endpoint's engine
(L{exsim.engine.phases}); with SubscriptionRequestType (263) 1 the session
also gets an unsolicited h (UnsolicitedIndicator 325=Y) whenever the
market's phase changes and an unsolicited f whenever the book's does,
until it sends 263=2 with the same request id or its connection ends.

The trading session (TradingSessionID 336, C{1}: the day) is in the phase
of the engine's schedule (engine property C{schedule}); without one, in
the phase every book shares, or C{continuous}.  TradSesStatus (340):
C{closed}, C{post_close} 3 (closed), C{pre_open} 4 (pre-open),
C{continuous} 2 (open), C{halted} 1 (halted), C{closing_auction} 5
(pre-close).

SecurityTradingStatus (326) of a book: C{halted} 2 (trading halt; a
pause too); C{continuous} 3 (resume) after a halt, else 17 (ready to
trade); C{pre_open} 21 (pre-open; before FIX.4.4 the opening imbalance:
7 buy, 8 sell, 12 none), 1 (opening delay) while its opening is delayed;
C{closing_auction} 24 (pre-cross; before FIX.5.0SP1 the closing
imbalance: 9 buy, 10 sell, 13 none); C{post_close} 26 (post-close;
18 before FIX.5.0SP2); C{closed} 18 (not available for trading).  The
halt or delay reason goes in Text (58) where the version has it, and in
HaltReason (327) when FIX has a code for it, in the update and in every
later snapshot while it lasts.

Order-entry and market-data endpoints answer these (L{TradingStatus} is
created by their applications and follows the engine only while some
session subscribes).
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.events import MarketPhaseChanged, OpeningDelayed, PhaseChanged
from exsim.engine.phases import (
    CLOSED,
    CLOSING_AUCTION,
    CONTINUOUS,
    HALTED,
    POST_CLOSE,
    PRE_OPEN,
)
from exsim.fix.convert import formatPrice
from exsim.fix.dictionary import forVersion
from exsim.fix.refdata import namedBooks
from exsim.fix.versions import profileFor
from exsim.interfaces import IEngineListener, IMarketPhases
from exsim.model import Side

#: Message types answered here.
MESSAGE_TYPES = frozenset(["e", "g"])

#: The one trading session: the day (TradingSessionID 1).
TRADING_SESSION = "1"

#: Phase -> TradSesStatus (340).
SESSION_STATUS = {
    CLOSED: "3",
    PRE_OPEN: "4",
    CONTINUOUS: "2",
    HALTED: "1",
    CLOSING_AUCTION: "5",
    POST_CLOSE: "3",
}

#: SubscriptionRequestType (263).
SNAPSHOT = "0"
SUBSCRIBE = "1"
UNSUBSCRIBE = "2"

#: BusinessRejectReason (380) codes.
_UNKNOWN_SECURITY = "2"
_OTHER = "0"


def marketPhase(engine):
    """
    The phase of an engine's trading session: its schedule's, else the one
    every book shares, else C{continuous}.
    """
    phases = IMarketPhases(engine, None)
    phase = phases.marketPhase() if phases is not None else None
    if phase is not None:
        return phase
    seen = {getattr(book, "phase", CONTINUOUS) for book in engine.books.values()}
    if len(seen) == 1:
        return seen.pop()
    return CONTINUOUS


def securityTradingStatus(dictionary, book, old=None, imbalanceSide=None):
    """
    SecurityTradingStatus (326) of C{book} now, for a version's
    C{dictionary}; C{old} is the phase it came from (None if unknown),
    C{imbalanceSide} the side of its indicative imbalance in a call.
    """
    phase = getattr(book, "phase", CONTINUOUS)

    def known(code, fallback):
        if dictionary is None or dictionary.hasEnum(326, code):
            return code
        return fallback

    if phase is HALTED:
        return "2"
    if phase is CONTINUOUS:
        return "3" if old is HALTED else "17"
    if phase is PRE_OPEN:
        if getattr(book, "openingDelayed", False):
            return "1"
        if dictionary is None or dictionary.hasEnum(326, "21"):
            return "21"
        # Before FIX.4.4: the opening imbalance (market imbalance buy,
        # sell, none).
        if imbalanceSide is Side.BUY:
            return "7"
        return "8" if imbalanceSide is Side.SELL else "12"
    if phase is CLOSING_AUCTION:
        if dictionary is None or dictionary.hasEnum(326, "24"):
            return "24"
        if imbalanceSide is Side.BUY:
            return "9"
        return "10" if imbalanceSide is Side.SELL else "13"
    if phase is POST_CLOSE:
        return known("26", "18")
    return "18"


#: Halt reasons (Nasdaq trading action codes, FIX names) -> HaltReason
#: (327) as HaltReasonChar (FIX.4.2 to FIX.5.0SP1) and as HaltReasonInt
#: (FIX.5.0SP2).
HALT_REASONS = {
    "t1": ("P", "4"),
    "news pending": ("P", "4"),
    "t2": ("D", "0"),
    "news dissemination": ("D", "0"),
    "news released": ("D", "0"),
    "t12": ("M", "3"),
    "additional information": ("M", "3"),
    "additional information requested": ("M", "3"),
    "order imbalance": ("I", "2"),
    "imbalance": ("I", "2"),
    "order influx": ("E", "1"),
    "equipment changeover": ("X", "5"),
}


def haltReasonCode(dictionary, reason):
    """
    HaltReason (327) for a halt or delay C{reason} in a version's
    C{dictionary}, or None (a reason FIX has no code for, or none).
    """
    if not reason or dictionary is None:
        return None
    codes = HALT_REASONS.get(reason.strip().lower())
    if codes is None:
        return None
    for code in codes:
        if dictionary.hasEnum(327, code):
            return code
    return None


def statusText(book, reason=None):
    """
    The Text (58) of a book's SecurityStatus: its phase, and while it is
    halted or its opening delayed, the pause and the reason (C{reason}, or
    the one the book keeps).
    """
    phase = getattr(book, "phase", CONTINUOUS)
    text = "trading phase %s" % (phase,)
    if phase is HALTED:
        if getattr(book, "paused", False):
            text += " (paused)"
        reason = reason if reason is not None else getattr(book, "haltReason", None)
        if reason and reason != "schedule":
            text += ": %s" % (reason,)
    elif getattr(book, "openingDelayed", False):
        text += ": opening delayed"
        reason = getattr(book, "delayReason", None)
        if reason:
            text += ": %s" % (reason,)
    return text


def sessionHaltReason(engine):
    """
    The halt reason of a market whose every book is halted for one
    reason, else None.
    """
    reasons = set()
    for book in engine.books.values():
        if getattr(book, "phase", CONTINUOUS) is not HALTED:
            return None
        reasons.add(getattr(book, "haltReason", None))
    return reasons.pop() if len(reasons) == 1 else None


def fitted(dictionary, msgType, fields):
    """
    The fields of C{fields} that a version's C{dictionary} defines for
    C{msgType} (older versions lack tags added later).
    """
    spec = dictionary.messages.get(msgType) if dictionary is not None else None
    if spec is None:
        return fields
    return [(tag, value) for tag, value in fields if tag in spec.tags]


def _dictionaryOf(session):
    return forVersion(session.beginString, session.applVerId)


class _Subscription:
    __slots__ = ("session", "reqId", "symbol", "tradingSessionId")

    def __init__(self, session, reqId, symbol=None, tradingSessionId=None):
        self.session = session
        self.reqId = reqId
        self.symbol = symbol
        self.tradingSessionId = tradingSessionId


@implementer(IEngineListener)
class TradingStatus:
    """
    Answers the trading status requests of the sessions of one endpoint
    and keeps their subscriptions.

    @ivar engine: the endpoint's engine.
    """

    log = Logger()

    def __init__(self, endpoint, engine):
        self.endpoint = endpoint
        self.engine = engine
        self.reactor = endpoint.reactor
        self._phases = IMarketPhases(engine, None)
        #: {(session key, "e" or "g", request id): _Subscription}
        self._subscriptions = {}
        self._following = False
        #: The session phase last published to subscribers of h.
        self._sessionPhase = None

    # -- subscriptions -----------------------------------------------------

    def _follow(self):
        if self._subscriptions and not self._following:
            self.engine.subscribe(self)
            self._following = True
            self._sessionPhase = marketPhase(self.engine)
        elif not self._subscriptions and self._following:
            self.engine.unsubscribe(self)
            self._following = False

    def sessionLoggedOut(self, session):
        """
        Subscriptions end with the connection.
        """
        for key in [k for k in self._subscriptions if k[0] == session.key]:
            del self._subscriptions[key]
        self._follow()

    def shutdown(self):
        self._subscriptions.clear()
        self._follow()

    # -- requests ------------------------------------------------------------

    def answer(self, session, message):
        """
        Answer a SecurityStatusRequest or TradingSessionStatusRequest.

        @return: True if C{message} was one (and answered), False for any
            other message type or a version without them (before FIX.4.2).
        """
        msgType = message.msgType
        if msgType not in MESSAGE_TYPES:
            return False
        if profileFor(session.beginString, session.applVerId).rank < 42:
            return False
        if msgType == "g":
            self._tradingSessionRequest(session, message)
        else:
            self._securityRequest(session, message)
        return True

    def _missing(self, session, message, tag):
        session.sendSessionReject(
            message.seqNum, 1, "Required tag missing", refTagId=tag, refMsgType=message.msgType
        )

    def _subscription(self, session, message, reqTag):
        """
        The request id and SubscriptionRequestType of a request, or None
        once it is answered (a missing field, an unsubscribe, a type that
        is not 0, 1 or 2).
        """
        reqId = message.get(reqTag)
        if not reqId:
            self._missing(session, message, reqTag)
            return None
        requestType = message.get(263)
        if requestType is None:
            self._missing(session, message, 263)
            return None
        key = (session.key, message.msgType, reqId)
        if requestType == UNSUBSCRIBE:
            self._subscriptions.pop(key, None)
            self._follow()
            return None
        if requestType not in (SNAPSHOT, SUBSCRIBE):
            session.sendSessionReject(
                message.seqNum, 5, "Value is incorrect (out of range) for this tag",
                refTagId=263, refMsgType=message.msgType,
            )
            return None
        return reqId, requestType, key

    def _tradingSessionRequest(self, session, message):
        answer = self._subscription(session, message, 335)
        if answer is None:
            return
        reqId, requestType, key = answer
        tradingSessionId = message.get(336) or TRADING_SESSION
        sub = _Subscription(session, reqId, None, tradingSessionId)
        self._sendTradingSession(sub, marketPhase(self.engine), False)
        if requestType == SUBSCRIBE:
            self._subscriptions[key] = sub
            self._follow()

    def _securityRequest(self, session, message):
        answer = self._subscription(session, message, 324)
        if answer is None:
            return
        reqId, requestType, key = answer
        books = namedBooks(self.engine, message)
        if not books:
            session.sendBusinessReject(
                message.seqNum, "e", _UNKNOWN_SECURITY if books == [] else _OTHER,
                "unknown security" if books == [] else
                "name the instrument by Symbol (55) or SecurityID (48)",
                refId=reqId,
            )
            return
        sub = _Subscription(session, reqId, books[0].symbol)
        self._sendSecurity(sub, books[0], None, None, False)
        if requestType == SUBSCRIBE:
            self._subscriptions[key] = sub
            self._follow()

    # -- messages ------------------------------------------------------------

    def _sendTradingSession(self, sub, phase, unsolicited):
        session = sub.session
        profile = profileFor(session.beginString, session.applVerId)
        fields = [
            (335, sub.reqId),
            (336, sub.tradingSessionId),
            (325, "Y" if unsolicited else "N"),
            (340, SESSION_STATUS.get(phase, "2")),
        ]
        if profile.rank >= 50:
            fields.append((60, profile.stamp(self.reactor.seconds())))
        text = "trading phase %s" % (phase,)
        reason = sessionHaltReason(self.engine) if phase is HALTED else None
        if reason:
            text += ": %s" % (reason,)
        fields.append((58, text))
        session.sendApp("h", fitted(_dictionaryOf(session), "h", fields))

    def _sendSecurity(self, sub, book, old, reason, unsolicited):
        session = sub.session
        profile = profileFor(session.beginString, session.applVerId)
        dictionary = _dictionaryOf(session)
        instrument = book.instrument
        fields = [(324, sub.reqId), (55, book.symbol)]
        if instrument.securityId is not None:
            fields.append((48, instrument.securityId))
            if instrument.securityIdSource is not None:
                fields.append((22, instrument.securityIdSource))
        side = None
        if self._phases is not None and getattr(book, "call", None) is not None:
            indicative = self._phases.indicative(book.symbol)
            side = None if indicative is None else indicative.imbalanceSide
        fields.append((325, "Y" if unsolicited else "N"))
        fields.append((326, securityTradingStatus(dictionary, book, old, side)))
        phase = getattr(book, "phase", CONTINUOUS)
        if phase is HALTED:
            code = haltReasonCode(
                dictionary, reason if reason is not None else getattr(book, "haltReason", None)
            )
        elif getattr(book, "openingDelayed", False):
            code = haltReasonCode(dictionary, getattr(book, "delayReason", None))
        else:
            code = None
        if code is not None:
            fields.append((327, code))
        if book.lastPrice is not None:
            fields.append((31, formatPrice(book.lastPrice, instrument.priceScale)))
        fields.append((60, profile.stamp(self.reactor.seconds())))
        fields.append((58, statusText(book, reason)))
        session.sendApp("f", fitted(dictionary, "f", fields))

    # -- engine events -------------------------------------------------------

    def engineEvents(self, events):
        changed = None
        for event in events:
            cls = event.__class__
            if cls is PhaseChanged or cls is MarketPhaseChanged or cls is OpeningDelayed:
                if changed is None:
                    changed = []
                changed.append(event)
        if changed is None:
            return
        books = self.engine.books
        for event in changed:
            cls = event.__class__
            if cls is MarketPhaseChanged:
                continue
            book = books.get(event.symbol)
            if book is None:
                continue
            old = event.old if cls is PhaseChanged else None
            for sub in list(self._subscriptions.values()):
                if sub.symbol == event.symbol:
                    try:
                        self._sendSecurity(sub, book, old, event.reason, True)
                    except Exception:
                        self.log.failure("SecurityStatus of {symbol} failed", symbol=event.symbol)
        phase = marketPhase(self.engine)
        if phase != self._sessionPhase:
            self._sessionPhase = phase
            for sub in list(self._subscriptions.values()):
                if sub.symbol is None:
                    try:
                        self._sendTradingSession(sub, phase, True)
                    except Exception:
                        self.log.failure("TradingSessionStatus failed")
