# -*- test-case-name: tests.test_interfaces -*-
"""
Every zope.interface Interface of exsim, in one place.

Third-party plugins provide these and register themselves with
L{exsim.registry.register}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable

from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    from exsim.engine.events import EngineEvent
    from exsim.model import CancelReason, Instrument, Order


class IEngineListener(Interface):
    """
    Receives what an engine does.
    """

    def engineEvents(events: list[EngineEvent]) -> None:
        """
        A batch of events produced by one engine command, in order.

        @param events: a list of L{exsim.engine.events.EngineEvent}.  The
            list belongs to the engine, which never changes it once
            delivered: a listener may keep it, but must not change it.
        """


class IBook(Interface):
    """
    The resting orders of one instrument, in price-time priority.
    """

    instrument = Attribute("The L{exsim.model.Instrument} traded.")
    symbol = Attribute("The instrument's symbol.")
    behaviour = Attribute("The L{IBehaviour} deciding how orders are handled.")
    lastPrice = Attribute("Price of the last trade (internal units) or None.")
    referencePrice = Attribute("Reference price (internal units) or None.")
    properties = Attribute("The book properties set so far, by name.")

    def bestBid():
        """
        The highest bid price, or None.
        """

    def bestAsk():
        """
        The lowest ask price, or None.
        """

    def depth(isBuy, levels=10):
        """
        Up to C{levels} levels of one side, best first, as (price,
        quantity, order count) tuples.
        """

    def orders(isBuy=None):
        """
        The live resting orders in priority order.
        """

    def validateInternalState():
        """
        Raise AssertionError if an invariant of the book does not hold.
        """


class IBehaviour(Interface):
    """
    An instrument type: decides what happens to a new order on a book.
    """

    name = Attribute("The behaviour's registered name.")

    def handleNew(engine, book, order):
        """
        Process a new, valid order (already given its order id).  Use the
        engine's primitives (C{engine} provides L{IMatchingPrimitives}:
        C{matchNew}, C{acceptOrder}, C{fillOrder}, C{rejectOrder},
        C{cancelUnsolicited}, ...).
        """

    def setProperty(name, value):
        """
        Set one of the behaviour's parameters.

        @raise exsim.errors.BadValue: for an unknown name or a bad value.
        """

    def properties():
        """
        The behaviour's parameters as a {name: value} dict.
        """


class IEngineEvents(Interface):
    """
    The events of an engine, for listeners (every wire protocol, the control
    event queue, market data, drop copy).
    """

    name = Attribute("The engine's name.")
    books = Attribute(
        "{symbol: IBook} (read only): listeners read a book's instrument "
        "(price scale) and depth."
    )

    def subscribe(listener: IEngineListener, first: bool = False) -> None:
        """
        Deliver every later batch of events to an L{IEngineListener}
        (before every other listener if C{first}: the engine journal).
        """

    def unsubscribe(listener: IEngineListener) -> None:
        """
        Stop delivering events to C{listener}.
        """


class IOrderEntry(IEngineEvents):
    """
    Order entry, as a wire protocol (FIX, OUCH) uses it: requests in, what
    happens told to listeners as events.  Business rejects are events
    (L{exsim.engine.events.Rejected}, L{exsim.engine.events.CancelRejected}),
    never exceptions.
    """

    def submitNew(order: Order) -> Order:
        """
        A new order request (an L{exsim.model.Order} of the caller's
        owner).  The engine assigns C{order.orderId}.

        @return: C{order}.
        """

    def submitCancel(
        owner: Hashable, clOrdId: str, origClOrdId: str | None = None, orderId: int | None = None
    ) -> None:
        """
        Cancel an order of C{owner}, named by C{origClOrdId} or C{orderId}.
        """

    def submitReplace(
        owner: Hashable,
        clOrdId: str,
        origClOrdId: str | None = None,
        orderId: int | None = None,
        price: int | None = None,
        quantity: int | None = None,
    ) -> None:
        """
        Modify an order: C{quantity} is the new total order quantity.
        """

    def getOrder(orderId: int) -> Order | None:
        """
        A live (or held) order by exchange id, or None.
        """

    def findOrder(owner: Hashable, clOrdId: str) -> Order | None:
        """
        A live order by its owner and client order id, or None.
        """

    def hasLiveOrders(owner: Hashable) -> bool:
        """
        Whether C{owner} has a live (or held) order: a session without any
        may be forgotten when it logs out.
        """

    def cancelAll(
        owner: Hashable | None = None, symbol: str | None = None, reason: CancelReason | None = None
    ) -> int:
        """
        Cancel every live order of C{owner} (every owner if None) on the
        book of C{symbol} (every book if None), in one batch of events; for
        cancel on disconnect, C{reason} is
        L{exsim.model.CancelReason.DISCONNECT}.  (The engines of exsim also
        take C{side}: only the orders of that L{exsim.model.Side}.)

        @return: how many orders were cancelled.
        """

    def now() -> float:
        """
        The engine's clock reading (seconds since the epoch).
        """


class ISelfTradePrevention(Interface):
    """
    An engine whose books prevent self-trades (book property
    C{self_trade_prevention}) between the orders of one party: one owner,
    or owners in one C{stp_group} (an endpoint's or session's property).
    """

    def setStpGroup(owner, group):
        """
        Put C{owner}'s orders in self-trade prevention group C{group}
        (text), or in none (None).
        """


class IMatchingPrimitives(Interface):
    """
    What a behaviour (L{IBehaviour.handleNew}) and the managed-mode answers
    do to an order: the engine's primitives.  Each produces the events a
    real venue would report.
    """

    def matchNew(book, order, accept=True):
        """
        Accept C{order} (unless C{accept} is false: accepted already) and
        match it in C{book} by price-time priority; rest, cancel or kill
        the remainder as its type and time in force say.
        """

    def acceptOrder(orderId, rest=True):
        """
        Accept a held order; it rests unmatched (unless C{rest} is false).
        """

    def restOrder(orderId):
        """
        Put an accepted order that is not resting on its book.
        """

    def rejectOrder(orderId, text=None, reason=None):
        """
        Reject a held order, with a L{exsim.model.RejectReason}
        (C{OTHER} if None).
        """

    def fillOrder(orderId, quantity, price, aggressor=False):
        """
        Execute C{quantity} of an order at C{price} against the house
        (C{aggressor}: the order took liquidity).

        @raise exsim.errors.BadValue: for a quantity or price out of range.
        """

    def cancelUnsolicited(orderId, reason=None):
        """
        Cancel an order on the venue's initiative.
        """

    def callLater(delay, f, *args):
        """
        Run C{f(*args)} after C{delay} seconds of the engine's clock, then
        deliver the events it produced.
        """


class IManagedOrders(IMatchingPrimitives):
    """
    Managed mode: requests from the wire are held (events
    C{order_request}) until the test answers them with these.
    """

    def pendingKinds(orderId):
        """
        The kinds (C{"new"}, C{"cancel"}, C{"replace"}) of the requests held
        for an order.
        """

    def acceptCancel(orderId):
        """
        Carry out a held cancel request.
        """

    def rejectCancel(orderId, text=None):
        """
        Refuse a held cancel request (an OrderCancelReject on the wire).
        """

    def acceptReplace(orderId):
        """
        Carry out a held replace request.
        """

    def rejectReplace(orderId, text=None):
        """
        Refuse a held replace request.
        """


class IHouseOrders(Interface):
    """
    The venue's own orders and quotes (management operations
    C{submit_order}, C{submit_quote}, C{match_orders}): never held in
    managed mode.
    """

    def submitNew(order, neverHeld=False):
        """
        A new order; C{neverHeld}: not held in managed mode.
        """

    def submitCancel(owner, clOrdId, origClOrdId=None, orderId=None, neverHeld=False):
        """
        Cancel an order; C{neverHeld}: not held in managed mode.
        """

    def submitReplace(
        owner, clOrdId, origClOrdId=None, orderId=None, price=None, quantity=None,
        neverHeld=False,
    ):
        """
        Modify an order; C{neverHeld}: not held in managed mode.
        """

    def matchOrders(orderIdA, orderIdB, quantity=None, price=None):
        """
        Trade two live orders of opposite sides against each other.

        @return: the trade id.
        """

    def crossOrders(passive, aggressor, quantity=None, price=None):
        """
        An off-book trade (an accepted RFQ quote): two new orders of
        opposite sides on one book are accepted and trade against each
        other at once, without touching the book (C{aggressor} took
        liquidity); if either is not valid as a new order both are
        rejected.  Never held in managed mode.

        @return: the trade id, or None if the orders were rejected.
        """

    def batch():
        """
        A context manager: the events of every command run in it are
        delivered as one batch at its end.
        """


class IMarketPhases(Interface):
    """
    Trading phases, auctions and halts of an engine's books (see
    L{exsim.engine.phases}).  A book has a C{phase} attribute (a name of
    L{exsim.engine.phases.PHASES}).
    """

    def setPhase(symbol, phase, reason=None):
        """
        Move a book to C{phase}; leaving a call uncrosses it.

        @raise exsim.errors.BadValue: for an unknown phase.
        """

    def haltBook(symbol, reason=None, pause=None):
        """
        Halt a book (with C{pause}: a trading pause).  The book keeps
        C{haltReason} and C{paused} while halted.

        @raise exsim.errors.WrongState: if it is halted already.
        """

    def resumeBook(symbol):
        """
        End a book's halt (back to the phase it interrupted) or its opening
        delay (it opens).

        @raise exsim.errors.WrongState: if it is neither halted nor
            delayed.
        """

    def delayOpen(symbol, reason=None):
        """
        Delay the opening of a book in C{pre_open} until L{resumeBook}
        (C{openingDelayed}, C{delayReason} on the book).

        @raise exsim.errors.WrongState: if it is not in C{pre_open} or
            delayed already.
        """

    def stopTimers():
        """
        Stop the schedules and every timer of the phases (the simulator
        stops or the engine is deleted).
        """

    def marketPhase():
        """
        The phase the engine's schedule (engine property C{schedule})
        gives now, or None if it has none.
        """

    def indicative(symbol):
        """
        Where a book in a call would uncross now (an
        L{exsim.engine.events.Indicative}), or None outside a call.
        """


class IEngineAdmin(Interface):
    """
    Administration of an engine: its books, properties and day.
    """

    name = Attribute("The engine's name.")
    mode = Attribute("'auto' (match) or 'managed' (hold requests for a test).")
    books = Attribute("{symbol: IBook}.")
    clock = Attribute("The engine's IReactorTime, or None.")

    def setProperty(name, value):
        """
        Set an engine property (C{mode}, ...).

        @raise exsim.errors.BadValue: for an unknown name or a bad value.
        """

    def properties():
        """
        The engine properties as {name: value}.
        """

    def addBook(instrument: Instrument, behaviour: IBehaviour | None = None) -> IBook:
        """
        Add a book for an instrument; return it.
        """

    def removeBook(symbol):
        """
        Remove a book; its resting orders are cancelled.
        """

    def getBook(symbol: str) -> IBook:
        """
        The book of C{symbol}; raise L{exsim.errors.UnknownName} if none.
        """

    def setBookProperty(symbol, name, value):
        """
        Set a book property (C{behaviour}, C{tick_size}, ...).

        @raise exsim.errors.BadValue: for an unknown name or a bad value.
        """

    def setCarried(key, quantity, price):
        """
        Bound order quantities and prices by what a protocol attached to
        the engine (an endpoint named C{key}) can carry; both None detach
        it.
        """

    def liveOrders() -> list[Order]:
        """
        Every live order (resting or held), oldest first.
        """

    def restoreOrders(orders, usedIds=(), nextIds=(0, 0, 0)):
        """
        Put back what an engine journal recorded: live C{orders} (resting
        ones, C{order.resting} true, in time priority first; they rest
        again, with C{Added} and C{BookChanged} events), the client order ids used (C{usedIds}:
        (owner, client order id, order id)), and the highest (order,
        execution, trade) ids used.
        """

    def expireDay():
        """
        End of day: expire every DAY order.
        """


class IEngine(IOrderEntry, IManagedOrders, IHouseOrders, IEngineAdmin):
    """
    A complete engine, as C{create_engine} takes it: every role above.
    An engine class registered with C{exsim.register("engine", name,
    factory)} must provide this; callers take the role they need of it
    once (L{IOrderEntry} at an endpoint's start, L{IManagedOrders} for the
    managed-mode answers, ...).
    """


class IPolicy(Interface):
    """
    A policy of managed mode (engine property C{policy}): answers the
    requests it wants to and leaves the others held for the test.  Register
    a factory (called with no arguments) with C{exsim.register("policy",
    name, factory)}; see L{exsim.policy}.
    """

    name = Attribute("The policy's registered name.")

    def answer(request, book):
        """
        Decide about one held request.

        @param request: the L{exsim.policy.answers.Request} held.
        @param book: the L{IBook} of its symbol.
        @return: an L{exsim.policy.answers.Answer} (L{Accept
            <exsim.policy.answers.Accept>}, C{Reject}, C{Fill}, C{Delay}),
            or C{HOLD} or None to leave the request held.  Called while
            the engine delivers events: it must not call the engine.
        """


class IRfqListener(Interface):
    """
    Told about the steps of an engine's request-for-quote workflow
    (L{exsim.rfq.desk.RfqDesk}): each FIX endpoint of the engine is one.
    """

    def rfqRequested(request):
        """
        A new L{exsim.rfq.desk.RfqRequest}.  A dealer endpoint forwards it
        to its dealers.

        @return: the ids of the dealers it was forwarded to (possibly
            empty).
        """

    def rfqQuoted(quote):
        """
        A dealer quoted (an L{exsim.rfq.desk.RfqQuote}): tell the requester.
        """

    def rfqRejected(request, code, text):
        """
        A request ends without a quote (no dealer, every dealer declined,
        the deadline passed): tell the requester.
        """

    def rfqQuoteEnded(quote, status):
        """
        A live quote ended without a trade: C{status} C{"expired"} (tell
        the requester and the dealer) or C{"passed"} (the requester passed:
        tell the dealer).
        """


class IActivity(Interface):
    """
    Background order flow on one book.
    """

    def start():
        """
        Begin generating orders.
        """

    def stop():
        """
        Stop generating orders; the book stays consistent.
        """


class IProtocolFamily(Interface):
    """
    A wire protocol that an endpoint can speak (C{fix}, C{ouch}, C{itch},
    or a third party's).
    """

    name = Attribute("The protocol name used in create_endpoint.")

    def buildFactory(endpoint):
        """
        Return an L{IEndpointFactory} serving C{endpoint} (an
        L{exsim.endpoint.Endpoint}, whose C{engine} and C{properties} say
        what to serve).

        A family may also have C{maxQuantity} and C{maxPrice} attributes
        (internal price units): the largest its messages carry.  The
        engine then rejects any order beyond them, whatever protocol it
        came from, so that every feed can publish what was accepted.
        """

    def propertyNames():
        """
        The names of the properties this protocol accepts (besides the
        common C{listen} and C{users}).
        """

    def parseProperty(name, value):
        """
        Check and normalise one property value (values may come as text,
        as sim.ini gives them, or as numbers).

        @return: the normalised value.
        @raise exsim.errors.BadValue: with a message saying what is wrong.
        """


class IEndpointFactory(Interface):
    """
    The protocol factory an L{IProtocolFamily} builds for an endpoint.
    """

    def buildProtocol(addr):
        """
        A protocol for a new connection (as Twisted's factories).
        """

    def propertyChanged(name, value):
        """
        An endpoint property changed (its value normalised by the family)
        while the factory serves: apply it where it applies.
        """

    def shutdown():
        """
        The endpoint is closing: end every connection as the protocol does
        (FIX Logout, SoupBinTCP End of Session) and stop following the
        engine.

        @return: None, or a Deferred firing when done.
        """


class IFixSession(Interface):
    """
    One FIX session (a counterparty CompID on an endpoint) as the
    application layer sees it.  Its sequence numbers and message store
    outlive any single connection.
    """

    key = Attribute(
        "The owner key of orders entered on this session: the text "
        "'<endpoint name>/<counterparty CompID>', stable across reconnects."
    )
    beginString = Attribute("BeginString in use, e.g. 'FIX.4.2' or 'FIXT.1.1'.")
    applVerId = Attribute(
        "ApplVerID code for FIXT.1.1 sessions ('9' for FIX.5.0SP2), else None."
    )
    senderCompId = Attribute("Our CompID (tag 49 on what we send).")
    targetCompId = Attribute("The counterparty's CompID (tag 56 on what we send).")
    endpoint = Attribute("The L{exsim.endpoint.Endpoint} serving the session.")
    loggedOn = Attribute("True while a logon is established.")

    def sendApp(msgType, fields):
        """
        Send an application message.  The session adds the standard header
        and trailer, gives it the next MsgSeqNum and stores it for resend.
        While no connection is logged on the message is still numbered and
        stored, and reaches the counterparty by resend after it logs on.

        @param msgType: text, e.g. C{"8"}.
        @param fields: body fields in order, as (tag, value) pairs; values
            are text, bytes, ints or Decimals.
        """

    def sendBusinessReject(refSeqNum, refMsgType, reason, text, refId=None):
        """
        Send a BusinessMessageReject (35=j).
        """

    def sendSessionReject(refSeqNum, reason, text, refTagId=None, refMsgType=None):
        """
        Send a session-level Reject (35=3).
        """


class IFixEncodedSession(IFixSession):
    """
    An L{IFixSession} that also takes application message bodies already
    encoded, for the hot path of order entry.
    """

    def sendEncoded(msgType, body):
        """
        Like L{IFixSession.sendApp}, with the body already encoded.

        @param msgType: bytes, e.g. C{b"8"}.
        @param body: the body fields as C{tag=value SOH} bytes, in order.
        @return: the MsgSeqNum used.
        """


class IFixApplication(Interface):
    """
    The application layer behind FIX sessions: order entry, drop copy,
    market data.
    """

    def sessionLoggedOn(session):
        """
        An L{IFixSession} completed its logon.
        """

    def sessionLoggedOut(session):
        """
        An L{IFixSession}'s connection ended (logout or disconnect).
        """

    def fromApp(session, message):
        """
        A valid, in-sequence application message arrived.  C{message} has
        C{msgType} (text), C{seqNum} (int), C{get(tag, default=None)}
        (text), C{getAll(tag)} (list of text, for repeating groups),
        C{pick(tags)} (the first value (bytes, or None if missing) of each
        of a tuple of tags, as a tuple), C{pickText(tags)} (the same as
        text, as C{get} gives it, in a list), C{pairs} (list of (int tag,
        bytes value)) and C{raw} (bytes).

        @return: True if handled; false makes the session answer with a
            BusinessMessageReject (unsupported message type).
        """

    def shutdown():
        """
        The endpoint is closing: stop following the engine.  Called once.
        """


class IControlledSession(Interface):
    """
    One session of an endpoint, as the session-control management
    operations see it (C{list_sessions}, C{disconnect_session},
    C{logout_session}, C{send_raw}, C{inject_fault},
    C{set_session_property}).  Arguments reach these methods checked.
    """

    sessionId = Attribute("The session's id: stable for its life, e.g. 'fix1/CLIENT'.")
    protocol = Attribute("The protocol family's name: 'fix', 'ouch', 'itch'.")
    state = Attribute("'logging_on', 'active', 'logging_out' or 'disconnected'.")

    def describe():
        """
        The session as a plain dict (what C{list_sessions} returns).
        """

    def disconnect():
        """
        Close the connection at once, without a logout.
        """

    def logout(text=None):
        """
        Log out on the venue's initiative (FIX Logout with C{text};
        SoupBinTCP End of Session), then close.
        """

    def sendRaw(data):
        """
        Write C{data} (bytes or text, see L{exsim.sessioncontrol.rawBytes})
        as it is: no framing, no sequencing.
        """

    def injectFault(fault, count):
        """
        Make the session misbehave: one of L{exsim.sessioncontrol.FAULTS}.

        @raise BadValue: for a fault this protocol does not have, or a
            count the session cannot honour.
        """

    def setProperty(name, value):
        """
        Set a session property (L{exsim.sessioncontrol.SESSION_PROPERTIES},
        its value already parsed).
        """
