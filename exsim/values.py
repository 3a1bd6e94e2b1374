# -*- test-case-name: tests.test_model -*-
"""
Parsers of property values shared by every layer.  Values may come as text
(as sim.ini gives them) or as Python values (from the management API).
"""

from exsim.errors import BadValue

_TRUE = frozenset(["yes", "y", "true", "on", "1"])
_FALSE = frozenset(["no", "n", "false", "off", "0"])


def parseBoolean(name, value):
    """
    Parse C{yes}/C{no} (also C{true}/C{false}, C{on}/C{off}, C{y}/C{n},
    C{1}/C{0}, and Python booleans).

    @raise BadValue: naming C{name}, for anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue("%s must be yes or no, not %r" % (name, value))


def formatSeconds(seconds):
    """
    A number of seconds as the shortest text that parses back to it
    (C{2}, C{0.005}).
    """
    text = repr(float(seconds))
    return text[:-2] if text.endswith(".0") else text
