# -*- test-case-name: tests.test_orderentry -*-
"""
What every order-entry endpoint does whatever its wire protocol (FIX order
entry, OUCH): it follows its engine (the L{exsim.interfaces.IOrderEntry}
role), sends the engine's events about an order to the session that owns
the order, and cancels a session's live orders when its connection ends
if the endpoint's C{cancel_on_disconnect} property says so.

A protocol mixes L{OrderRouting} into the object that serves its sessions
and gives it:

 - a route per session (L{OrderRouting.attach}), by the session's
   L{exsim.owners.Owner}: whatever the protocol needs to answer (the FIX
   session and its version's encoders, the OUCH session);
 - handlers by engine event class (L{OrderRouting.startRouting}): for the
   events about an order, for those that name their owner instead (a
   cancel or replace refused), and for the rest it wants (end of day);
 - optionally a function to work out once per order what the events of
   that order share (FIX: the price scale of its book and the report
   time), since an order's events come together.
"""

from zope.interface import implementer

from exsim.engine.delivery import Failures
from exsim.interfaces import IEngineListener, IOrderEntry
from exsim.model import T_OWNER, CancelReason
from exsim.roles import roleOf


@implementer(IEngineListener)
class OrderRouting:
    """
    The protocol-neutral half of an order-entry endpoint (a mixin; see the
    module's docstring).  The class mixing it in provides C{endpoint} and
    C{reactor} and calls L{startRouting} when it is made.

    @ivar engine: the endpoint's engine, as L{IOrderEntry}.
    @ivar failures: the L{Failures} of its delivery of engine events.
    """

    def startRouting(self, what, orderHandlers, ownerHandlers=None, otherHandlers=None,
                     prepareRoute=None):
        """
        Take the engine's order-entry role and follow its events.

        @param what: what this is, for the error if the engine has no such
            role ("FIX order entry").
        @param orderHandlers: {engine event class: function(target, event)}
            for the events about an order (those with an C{order}), called
            for the orders of attached owners.  C{target} is the owner's
            route, or what C{prepareRoute} made of it.
        @param ownerHandlers: {engine event class: function(route, event)}
            for events that name their owner (C{event.owner}) instead.
        @param otherHandlers: {engine event class: function(event)} for any
            other event the protocol wants.
        @param prepareRoute: None, or a function(route, terms) giving the
            target of the events of an order with these C{terms}.
        @raise exsim.errors.BadValue: if the engine has no order-entry
            role.
        """
        self.failures = Failures(self)
        self.engine = roleOf(self.endpoint.engine, IOrderEntry, what)
        #: {Owner: route}
        self._routes = {}
        self._deliveryTime = None
        self._orderHandlers = dict(orderHandlers)
        self._ownerHandlers = dict(ownerHandlers or {})
        self._otherHandlers = dict(otherHandlers or {})
        for cls in self._ownerHandlers:
            self._otherHandlers[cls] = self._routeByOwner
        self._prepareRoute = prepareRoute
        self.engine.subscribe(self)

    def followEngine(self):
        """
        Follow the engine's events (again, after L{leaveEngine}).
        """
        self.engine.subscribe(self)

    def leaveEngine(self):
        """
        Stop following the engine's events (the endpoint is closing).
        """
        self.engine.unsubscribe(self)

    # -- sessions ----------------------------------------------------------

    def attach(self, owner, route):
        """
        Send the engine's events about the orders of C{owner} (an
        L{exsim.owners.Owner}) to C{route} from now on.
        """
        self._routes[owner] = route

    def detach(self, owner):
        """
        Send nothing more about the orders of C{owner}.
        """
        self._routes.pop(owner, None)

    def routeOf(self, owner):
        """
        The route of C{owner} (an L{exsim.owners.Owner} or its text), or
        None.
        """
        return self._routes.get(owner)

    def sessionEnded(self, owner):
        """
        The connection of C{owner}'s session ended: cancel its live orders
        if the endpoint's C{cancel_on_disconnect} property is set.
        """
        if self.endpoint.properties.get("cancel_on_disconnect"):
            self.cancelOrdersOf(owner)

    def cancelOrdersOf(self, owner, reason=CancelReason.DISCONNECT):
        """
        Cancel every live order of C{owner}, each with an unsolicited
        cancel for C{reason}.
        """
        self.engine.cancelAll(owner, reason=reason)

    # -- engine events -----------------------------------------------------

    def deliveryTime(self):
        """
        The reactor's time, read once per delivery of events (every report
        of one delivery carries the same time).
        """
        seconds = self._deliveryTime
        if seconds is None:
            seconds = self._deliveryTime = self.reactor.seconds()
        return seconds

    def engineEvents(self, events):
        routes = self._routes
        if not routes:
            return
        self._deliveryTime = None
        orderHandlers = self._orderHandlers
        otherHandlers = self._otherHandlers
        prepare = self._prepareRoute
        # The target of the last order's terms (owner, symbol, ...): an
        # order's events come together.
        lastTerms = target = None
        while events:
            event = None
            try:
                for event in events:
                    cls = event.__class__
                    handler = orderHandlers.get(cls)
                    if handler is None:
                        handler = otherHandlers.get(cls)
                        if handler is not None:
                            handler(event)
                        continue
                    terms = event.order.terms
                    if terms is not lastTerms:
                        lastTerms = terms
                        target = routes.get(terms[T_OWNER])
                        if target is not None and prepare is not None:
                            target = prepare(target, terms)
                    if target is not None:
                        handler(target, event)
            except Exception:
                events = self.failures.failed(events, event)
                lastTerms = None
            else:
                return

    def _routeByOwner(self, event):
        """
        Hand an event that names its owner (C{event.owner}) to its handler
        with the owner's route, if it has one.
        """
        route = self._routes.get(event.owner)
        if route is not None:
            self._ownerHandlers[event.__class__](route, event)
