# -*- test-case-name: tests.test_model -*-
"""
The exception hierarchy of exsim.

Every error meant for a user derives from L{ExsimError}, which is a
L{twisted.spread.pb.Error}: raised inside a management operation it reaches
the remote caller as itself, with its message, rather than as an opaque
remote traceback.
"""

from twisted.spread.pb import Error as _PBError


class ExsimError(_PBError):
    """
    Base class of every exsim error.
    """

    def __str__(self):
        return self.args[0] if len(self.args) == 1 else super().__str__()


class BadValue(ExsimError, ValueError):
    """
    A value (a property, an argument) is not acceptable.
    """


class UnknownName(ExsimError, KeyError):
    """
    A name (engine, book, endpoint, order, ...) does not exist.
    """

    def __str__(self):
        return self.args[0]


class UnknownSession(UnknownName, BadValue):
    """
    No session has this id (a L{BadValue} too: the argument is wrong).
    """


class NotFound(UnknownName, BadValue):
    """
    An argument of an inspection operation (C{get_properties},
    C{list_orders}, C{get_messages}, ...) names nothing: an L{UnknownName},
    and a L{BadValue} too.
    """


class DuplicateName(ExsimError):
    """
    A name that must be unique is already taken.
    """


class WrongState(ExsimError):
    """
    The operation does not fit the current state of its target.
    """


class Timeout(ExsimError, TimeoutError):
    """
    What was awaited did not come in time: an event (C{wait_for_event}),
    or the simulator's answer to a call.
    """


class ConfigError(ExsimError):
    """
    A configuration file is wrong; the message names the file and the line.
    """

    def __init__(self, message, filename=None, lineno=None):
        if filename is not None:
            where = filename if lineno is None else "%s:%d" % (filename, lineno)
            message = "%s: %s" % (where, message)
        ExsimError.__init__(self, message)
        self.filename = filename
        self.lineno = lineno
