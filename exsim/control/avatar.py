# -*- test-case-name: tests.test_control -*-
"""
The control avatar: one C{perspective_<operation>} per management
operation, each a thin call of the L{exsim.service.Simulator} method of
the same name.
"""

import inspect

from twisted.internet import defer
from twisted.logger import Logger
from twisted.spread import pb

from exsim.control import OPERATIONS
from exsim.errors import BadValue, ExsimError


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

    def _call(self, name, *args, **kwargs):
        operation = getattr(self.simulator, name)
        try:
            inspect.signature(operation).bind(*args, **kwargs)
        except TypeError as e:
            return defer.fail(
                BadValue("%s%s: %s" % (name, _signature(operation), e))
            )
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
    setattr(ControlAvatar, "perspective_" + _name, _perspective(_name))
del _name
