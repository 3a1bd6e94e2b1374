# -*- test-case-name: tests.test_fix_dropcopy -*-
"""
FIX drop copy: an endpoint with C{role = drop_copy} sends each of its
sessions a copy of every ExecutionReport its engine produces, for the
orders of every session and protocol (and the house orders of the control
API, owner C{"house"}), in engine order, and accepts no application
message.  Background activity orders (owner C{"house/<symbol>"}) stand for
the rest of the market and are not copied.

A copy has the same ExecID (17) and OrderID (37) as the report the order's
owner got, in the drop-copy session's own FIX version, and names the
owner (C{"<endpoint>/<CompID>"}, or C{"house"}): ClientID (109) up to
FIX.4.2, a Parties block (453=1, 448=owner, 447=D, 452=3) from FIX.4.3.
A drop-copy session keeps receiving (stored for resend) while it is not
connected, so a client that logs on again without resetting sequence
numbers gets what it missed.
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.delivery import Failures
from exsim.fix.reports import ER_BUILDERS
from exsim.fix.versions import profileFor
from exsim.interfaces import IEngineEvents, IEngineListener, IFixApplication
from exsim.owners import Owner
from exsim.roles import roleOf

# (Bound once: CPython 3.11 makes a bound method on every call of a method
# of a name imported from another module.)
_builderOf = ER_BUILDERS.get


@implementer(IFixApplication, IEngineListener)
class DropCopy:
    """
    The drop-copy application of a FIX endpoint.

    @ivar sessions: {session key: session} of every session that logged on.
    """

    log = Logger()

    def __init__(self, endpoint):
        self.failures = Failures(self)
        self.endpoint = endpoint
        self.engine = roleOf(endpoint.engine, IEngineEvents, "a FIX drop copy")
        self.reactor = endpoint.reactor
        self.sessions = {}
        self._targets = ()
        self.engine.subscribe(self)

    def shutdown(self):
        self.engine.unsubscribe(self)

    def sessionLoggedOn(self, session):
        self.sessions[session.key] = session
        self._targets = tuple(
            (s, profileFor(s.beginString, s.applVerId)) for s in self.sessions.values()
        )

    def sessionLoggedOut(self, session):
        pass

    def fromApp(self, session, message):
        """
        A drop copy takes no order entry or any other application message.
        """
        return False

    def engineEvents(self, events):
        targets = self._targets
        if not targets:
            return
        seconds = None
        books = self.engine.books
        while events:
            event = None
            try:
                for event in events:
                    builder = _builderOf(event.__class__)
                    if builder is None:
                        continue
                    if seconds is None:
                        seconds = self.reactor.seconds()
                    order = event.order
                    owner = order.owner
                    if owner.__class__ is Owner and owner.isBackground:
                        # Background activity (and replayed or mirrored
                        # orders) stands for the rest of the market,
                        # whose reports no drop copy of ours would ever carry.
                        continue
                    book = books.get(order.symbol)
                    scale = book.instrument.priceScale if book is not None else 10000
                    owner = str(owner)
                    built = {}
                    for session, profile in targets:
                        fields = built.get(profile)
                        if fields is None:
                            fields = builder(profile, event, scale, profile.stamp(seconds))
                            if profile.parties:
                                fields.extend([(453, "1"), (448, owner), (447, "D"), (452, "3")])
                            else:
                                fields.append((109, owner))
                            built[profile] = fields
                        session.sendApp("8", fields)
            except Exception:
                events = self.failures.failed(events, event)
            else:
                return
