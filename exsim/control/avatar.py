# -*- test-case-name: tests.test_control -*-
"""
The control avatar: one C{perspective_<operation>} per management
operation, each a thin call of the L{exsim.service.Simulator} method of
the same name.
"""

import inspect
import json

from twisted.internet import defer
from twisted.logger import Logger
from twisted.spread import pb

from exsim.control import OPERATIONS
from exsim.errors import BadValue, ExsimError
from exsim.listening import checkListen

#: Most bytes of one get_events answer (Banana refuses strings over
#: 640 KiB).
EVENTS_LIMIT = 512 * 1024


class ControlAvatar(pb.Avatar):
    """
    What a logged-in management client talks to.

    Errors reach the caller as L{exsim.errors.ExsimError}s (L{pb.Error}
    subclasses) with a message saying what was wrong; anything unexpected
    is logged here and reported as an internal error, never as a
    traceback.
    """

    log = Logger()

    def __init__(self, simulator, avatarId):
        self.simulator = simulator
        self.avatarId = avatarId
        self.followers = []

    def logout(self):
        """
        The client is gone: stop what it followed.
        """
        followers, self.followers = self.followers, []
        for follower in followers:
            follower.stop()

    def perspective_follow_events(self, observer):
        """
        Send every later control event to C{observer} (a
        L{pb.Referenceable} of the client), as C{observer.events(text)}
        calls carrying JSON lists, until the client disconnects (for
        C{exsimctl follow}).  Nothing is taken from the queue.
        """
        from exsim.observe.follow import EventFollower

        def send(events):
            return observer.callRemote("events", json.dumps(events, separators=(",", ":")))

        self.followers.append(
            EventFollower(self.simulator.events, self.simulator.reactor, send)
        )

    def _call(self, name, *args, **kwargs):
        operation = getattr(self.simulator, name)
        try:
            bound = inspect.signature(operation).bind(*args, **kwargs)
        except TypeError as e:
            return defer.fail(
                BadValue("%s%s: %s" % (name, _signature(operation), e))
            )
        listen = _listenOf(name, bound.arguments)
        if listen is not None:
            try:
                checkListen(listen, getattr(self.simulator, "allowListen", ()))
            except BadValue:
                return defer.fail()
        self.log.debug("{user} {operation}{args}", user=self.avatarId, operation=name, args=args)
        d = defer.maybeDeferred(operation, *args, **kwargs)
        return d.addErrback(self._ebInternal, name)

    def _ebInternal(self, failure, name):
        if failure.check(ExsimError):
            return failure
        self.log.failure("management operation {operation} failed", failure, operation=name)
        raise ExsimError(
            "internal error in %s: %s (see the simulator's log)"
            % (name, failure.getErrorMessage())
        )

    def perspective_get_events(self, *args, **kwargs):
        """
        C{get_events}, as the contract says: a list of event dicts.
        """
        return self._call("get_events", *args, **kwargs)

    def perspective_get_events_json(self, *args, **kwargs):
        """
        C{get_events} as one JSON text, for our own clients: Banana decodes
        a long list of dicts slowly (quadratic in the message size), one
        string fast.  The clients decode it back to the list of dicts.
        """
        d = self._call("get_events", *args, **kwargs)
        return d.addCallback(self._encodeEvents)

    def perspective_peek_events_json(self, *args, **kwargs):
        """
        C{peek_events} as one JSON text (as L{perspective_get_events_json});
        nothing is taken from the queue, so an answer too long is cut short.
        """
        d = self._call("peek_events", *args, **kwargs)
        return d.addCallback(self._encodePeeked)

    def _encodePeeked(self, events):
        text = json.dumps(events, separators=(",", ":"))
        while len(text) > EVENTS_LIMIT and len(events) > 1:
            events = events[: len(events) // 2]
            text = json.dumps(events, separators=(",", ":"))
        return text

    def perspective_get_messages_json(self, *args, **kwargs):
        """
        C{get_messages} as one JSON text; an answer too long for one
        message keeps the newest messages.
        """
        d = self._call("get_messages", *args, **kwargs)
        return d.addCallback(self._encodeNewest)

    def _encodeNewest(self, messages):
        text = json.dumps(messages, separators=(",", ":"))
        while len(text) > EVENTS_LIMIT and len(messages) > 1:
            messages = messages[len(messages) // 2:]
            text = json.dumps(messages, separators=(",", ":"))
        return text

    def _encodeEvents(self, events):
        text = json.dumps(events, separators=(",", ":"))
        if len(text) <= EVENTS_LIMIT or len(events) <= 1:
            return text
        # Too long for one answer: send the first part, keep the rest.
        keep = len(events) // 2
        self.simulator.events.putBack(events[keep:])
        return self._encodeEvents(events[:keep])

    def perspective_list_operations(self):
        """
        The names of the operations, for clients and C{exsimctl}.
        """
        return list(OPERATIONS)

    def perspective_describe(self, name):
        """
        C{name}'s signature and documentation (for C{exsimctl help}).
        """
        if name not in OPERATIONS:
            raise BadValue("unknown operation %r" % (name,))
        operation = getattr(self.simulator, name)
        return "%s%s\n%s" % (name, _signature(operation), inspect.getdoc(operation) or "")


def _listenOf(name, arguments):
    """
    The endpoint string a management operation would listen on, if any.
    """
    if name == "create_endpoint":
        return (arguments.get("properties") or {}).get("listen")
    if name == "set_protocol_property" and arguments.get("name") == "listen":
        return arguments.get("value")
    if name == "start_web":
        return arguments.get("listen")
    return None


def _signature(operation):
    return str(inspect.signature(operation))


def _perspective(name):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = "perspective_" + name
    method.__qualname__ = "ControlAvatar.perspective_" + name
    method.__doc__ = "Run the management operation C{%s}." % (name,)
    return method


for _name in OPERATIONS:
    if "perspective_" + _name not in ControlAvatar.__dict__:
        setattr(ControlAvatar, "perspective_" + _name, _perspective(_name))
del _name
