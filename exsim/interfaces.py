# -*- test-case-name: tests.test_interfaces -*-
"""
Every zope.interface Interface of exsim, in one place.

Third-party plugins provide these and register themselves with
L{exsim.registry.register}.
"""

from zope.interface import Attribute, Interface


class IEngineListener(Interface):
    """
    Receives what an engine does.
    """

    def engineEvents(events):
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
        engine's primitives (L{IEngine.matchNew}, L{IEngine.acceptOrder},
        L{IEngine.fillOrder}, L{IEngine.rejectOrder},
        L{IEngine.cancelUnsolicited}, ...).
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


class IEngine(Interface):
    """
    An order engine: commands in, events out.

    Requests from the wire are C{submitNew}, C{submitCancel} and
    C{submitReplace}; what happens is told to listeners as events.
    Business rejects are events, never exceptions.
    """

    name = Attribute("The engine's name.")
    mode = Attribute("'auto' (match) or 'managed' (hold requests for a test).")
    books = Attribute("{symbol: IBook}.")

    def addBook(instrument, behaviour=None):
        """
        Add a book for an instrument; return it.
        """

    def removeBook(symbol):
        """
        Remove a book; its resting orders are cancelled.
        """

    def getBook(symbol):
        """
        The book of C{symbol}; raise L{exsim.errors.UnknownName} if none.
        """

    def subscribe(listener):
        """
        Deliver every later batch of events to an L{IEngineListener}.
        """

    def unsubscribe(listener):
        """
        Stop delivering events to C{listener}.
        """

    def setProperty(name, value):
        """
        Set an engine property (C{mode}).
        """

    def submitNew(order):
        """
        A new order request.  The engine assigns C{order.orderId}.
        """

    def submitCancel(owner, clOrdId, origClOrdId=None, orderId=None):
        """
        Cancel an order of C{owner}, named by C{origClOrdId} or C{orderId}.
        """

    def submitReplace(
        owner, clOrdId, origClOrdId=None, orderId=None, price=None, quantity=None
    ):
        """
        Modify an order: C{quantity} is the new total order quantity.
        """

    def getOrder(orderId):
        """
        A live (or held) order by exchange id, or None.
        """

    def findOrder(owner, clOrdId):
        """
        A live order by its owner and client order id, or None.
        """

    def matchNew(book, order):
        """
        Primitive: accept C{order} and match it in C{book} by price-time
        priority; rest, cancel or kill the remainder as its type and time
        in force say.
        """

    def acceptOrder(orderId):
        """
        Primitive / managed mode: accept a held order; it rests unmatched.
        """

    def rejectOrder(orderId, text):
        """
        Primitive / managed mode: reject a held order.
        """

    def fillOrder(orderId, quantity, price):
        """
        Primitive / managed mode: execute C{quantity} of an order at
        C{price} against the house.
        """

    def cancelUnsolicited(orderId, reason=None):
        """
        Primitive / managed mode: cancel an order on the venue's initiative.
        """

    def expireDay():
        """
        End of day: expire every DAY order.
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
        Return a Twisted protocol factory serving C{endpoint} (an
        L{exsim.endpoint.Endpoint}, whose C{engine} and C{properties} say
        what to serve).
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
