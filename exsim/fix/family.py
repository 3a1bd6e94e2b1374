# -*- test-case-name: tests.test_fix_orders -*-
"""
The C{fix} protocol family: what C{create_endpoint(name, engine, "fix")}
builds.

An endpoint's properties are the session layer's (L{exsim.fix.settings})
plus the application's own:

 - C{role}: C{order_entry} (default: orders, status requests, market
   data and requests for quote), C{drop_copy} (a copy of every
   ExecutionReport of the engine, no order entry), C{market_data} (market
   data requests only) or C{dealer} (order entry whose sessions are also
   asked for quotes: L{exsim.fix.rfq});
 - C{cancel_on_disconnect}: cancel a session's live orders when it logs
   out or its connection drops (default no);
 - C{market_data}: whether an order-entry endpoint also answers
   MarketDataRequests (default yes);
 - C{stp_group}: the self-trade prevention group of its sessions' orders
   (default none: each session is its own party).
"""

from zope.interface import implementer

from exsim.errors import BadValue
from exsim.fix.settings import parseBool
from exsim.interfaces import IProtocolFamily
from exsim.sessioncontrol import parseStpGroup

ROLES = ("order_entry", "drop_copy", "market_data", "dealer")


def parseRole(value):
    text = str(value).strip().lower().replace("-", "_")
    if text not in ROLES:
        raise BadValue("role must be one of %s, not %r" % (", ".join(ROLES), value))
    return text


#: The application's properties and their parsers.
APPLICATION_PROPERTIES = {
    "role": parseRole,
    "cancel_on_disconnect": parseBool("cancel_on_disconnect"),
    "market_data": parseBool("market_data"),
    "stp_group": parseStpGroup,
}

#: Their defaults.
APPLICATION_DEFAULTS = {
    "role": "order_entry",
    "cancel_on_disconnect": False,
    "market_data": True,
    "stp_group": None,
}


def buildApplication(endpoint):
    """
    The L{exsim.interfaces.IFixApplication} for an endpoint's C{role}.
    """
    properties = endpoint.properties
    role = properties.get("role", APPLICATION_DEFAULTS["role"])
    if role == "drop_copy":
        from exsim.fix.dropcopy import DropCopy

        return DropCopy(endpoint)
    from exsim.fix.marketdata import MarketData

    if role == "market_data":
        return MarketData(endpoint)
    from exsim.fix.orders import OrderEntry

    marketData = None
    if properties.get("market_data", APPLICATION_DEFAULTS["market_data"]):
        marketData = MarketData(endpoint)
    return OrderEntry(endpoint, marketData)


@implementer(IProtocolFamily)
class FixFamily:
    """
    FIX 4.0-4.4 and FIXT.1.1 (FIX.5.0SP2) endpoints.
    """

    name = "fix"
    #: C{users} entries may name the CompIDs a user logs on as.
    userCompIds = True

    def _sessionProperties(self):
        from exsim.fix import settings

        return settings.PROPERTIES

    def propertyNames(self):
        return tuple(self._sessionProperties()) + tuple(APPLICATION_PROPERTIES)

    def parseProperty(self, name, value):
        parser = APPLICATION_PROPERTIES.get(name)
        if parser is None:
            parser = self._sessionProperties().get(name)
        if parser is None:
            raise BadValue(
                "unknown fix endpoint property %r (known: %s)"
                % (name, ", ".join(sorted(self.propertyNames())))
            )
        return parser(value)

    def buildFactory(self, endpoint):
        from exsim.fix.factory import FixFactory

        return FixFactory(endpoint, buildApplication(endpoint))


#: The family registered as C{"fix"}.
family = FixFamily()
