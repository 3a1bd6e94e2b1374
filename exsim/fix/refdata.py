# -*- test-case-name: tests.test_fix_refdata -*-
"""
FIX reference data: SecurityListRequest (x) answered with SecurityList (y),
SecurityDefinitionRequest (c) with SecurityDefinition (d), from the
instruments of the endpoint's engine (L{exsim.instruments}).

Each instrument is given by Symbol (55), SecurityID (48) and
SecurityIDSource (22) when it has them, SecurityDesc (107, its name),
Currency (15), RoundLot (561, its lot size) from FIX.4.3, MinPriceIncrement
(969, its tick size) from FIX.5.0, and its tick table as TickRules (1205)
in a SecurityList from FIX.5.0SP1, each where the version defines the
field.  Order-entry and market-data endpoints answer these; a
SecurityList is sent in fragments of L{FRAGMENT} instruments.
"""

import itertools

from exsim.fix.convert import formatPrice
from exsim.fix.versions import profileFor
from exsim.instruments import findSecurity

#: Message types answered here.
MESSAGE_TYPES = frozenset(["x", "c"])

#: Instruments per SecurityList message.
FRAGMENT = 100

#: SecurityListRequestType (559) codes.
LIST_BY_SYMBOL = "0"
LIST_ALL = "4"

#: SecurityRequestResult (560) codes.
VALID = "0"
UNSUPPORTED = "1"
NOT_FOUND = "2"

#: SecurityResponseType (323) codes.
ACCEPT = "1"
REJECT = "5"
NO_MATCH = "6"

_responseIds = itertools.count(1)


def answer(engine, session, message):
    """
    Answer a SecurityListRequest or SecurityDefinitionRequest of
    C{session} from the books of C{engine}.

    @return: True if C{message} was one of them (and answered); False for
        any other message type, or a version that has no such message.
    """
    msgType = message.msgType
    profile = profileFor(session.beginString, session.applVerId)
    if msgType == "x" and profile.rank >= 43:
        _securityList(engine, session, message, profile)
        return True
    if msgType == "c" and profile.rank >= 42:
        _securityDefinition(engine, session, message, profile)
        return True
    return False


def _missing(session, message, tag):
    session.sendSessionReject(
        message.seqNum, 1, "Required tag missing", refTagId=tag, refMsgType=message.msgType
    )


def namedBooks(engine, message):
    """
    The books a request names by Symbol (55) or SecurityID (48, with
    SecurityIDSource 22): [] if it names none that exists, None if it
    names nothing.
    """
    symbol = message.get(55)
    securityId = message.get(48)
    if securityId:
        found = findSecurity(engine, securityId, message.get(22) or None)
        if found is None or (symbol and symbol != "[N/A]" and symbol != found):
            return []
        return [engine.books[found]]
    if symbol:
        book = engine.books.get(symbol)
        return [] if book is None else [book]
    return None


def instrumentFields(instrument, profile, inList):
    """
    The fields of one instrument, in the order of the version's
    dictionary.
    """
    fields = [(55, instrument.symbol)]
    if instrument.securityId is not None:
        fields.append((48, instrument.securityId))
        if instrument.securityIdSource is not None:
            fields.append((22, instrument.securityIdSource))
    rank = profile.rank
    scale = instrument.priceScale
    if rank >= 50:
        fields.append((969, formatPrice(instrument.tickSize, scale)))
    if instrument.name is not None:
        fields.append((107, instrument.name))
    currency = [(15, instrument.currency)] if instrument.currency is not None else []
    if rank >= 51:
        if inList:
            table = instrument.tickTable
            if table is not None:
                fields.append((1205, str(len(table))))
                for index, (low, tick) in enumerate(table):
                    fields.append((1206, formatPrice(low, scale)))
                    if index + 1 < len(table):
                        fields.append((1207, formatPrice(table[index + 1][0], scale)))
                    fields.append((1208, formatPrice(tick, scale)))
            fields.append((561, str(instrument.lotSize)))
        fields.extend(currency)
    else:
        fields.extend(currency)
        if rank >= 43:
            fields.append((561, str(instrument.lotSize)))
    return fields


def _securityList(engine, session, message, profile):
    reqId = message.get(320)
    if not reqId:
        return _missing(session, message, 320)
    requestType = message.get(559)
    responseId = str(next(_responseIds))
    head = [(320, reqId), (322, responseId)]
    # (SecurityList has no Text field: SecurityRequestResult says it all.)
    if requestType == LIST_ALL:
        books = [engine.books[symbol] for symbol in sorted(engine.books)]
    elif requestType == LIST_BY_SYMBOL:
        books = namedBooks(engine, message)
        if books is None:
            return session.sendApp("y", head + [(560, UNSUPPORTED)])
    else:
        return session.sendApp("y", head + [(560, UNSUPPORTED)])
    if not books:
        return session.sendApp("y", head + [(560, NOT_FOUND)])
    fragments = [books[i:i + FRAGMENT] for i in range(0, len(books), FRAGMENT)]
    for index, fragment in enumerate(fragments):
        fields = head + [(560, VALID), (393, str(len(books)))]
        if profile.rank >= 44:
            fields.append((893, "Y" if index + 1 == len(fragments) else "N"))
        fields.append((146, str(len(fragment))))
        for book in fragment:
            fields.extend(instrumentFields(book.instrument, profile, True))
        session.sendApp("y", fields)


def _securityDefinition(engine, session, message, profile):
    reqId = message.get(320)
    if not reqId:
        return _missing(session, message, 320)
    requestType = message.get(321)
    responseId = str(next(_responseIds))
    head = [(320, reqId), (322, responseId)]
    if requestType not in ("0", "1"):
        fields = head + [(323, REJECT)]
        if profile.rank == 42:
            fields.append((393, "0"))
        fields.append((58, "SecurityRequestType %s is not supported (0 or 1; a SecurityListRequest "
                           "lists securities)" % (requestType,)))
        return session.sendApp("d", fields)
    books = namedBooks(engine, message)
    if not books:
        fields = head + [(323, NO_MATCH)]
        if profile.rank == 42:
            fields.append((393, "0"))
        fields.append((58, "no such instrument" if books == [] else
                       "name the instrument by Symbol (55) or SecurityID (48)"))
        return session.sendApp("d", fields)
    fields = head + [(323, ACCEPT)]
    if profile.rank == 42:
        fields.append((393, "1"))
    fields.extend(instrumentFields(books[0].instrument, profile, False))
    session.sendApp("d", fields)
