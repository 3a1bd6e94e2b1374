# -*- test-case-name: tests.test_interfaces -*-
"""
Taking the role a caller needs of a plugin (an engine, mostly), once, at
configuration or logon time: L{exsim.interfaces} splits the engine's
contract into roles, and a third-party engine may provide only some.
"""

from exsim.errors import BadValue


def roleOf(thing, interface, what):
    """
    C{thing} as a provider of C{interface} (itself, or an adapter
    registered for it).

    @param what: what needs the role, for the error ("FIX order entry").
    @raise BadValue: naming the thing and the interface if it has no such
        role.
    """
    provider = interface(thing, None)
    if provider is None:
        raise BadValue(
            "%s needs %s, which %s %r (%s) does not provide"
            % (
                what,
                interface.__name__,
                "engine" if hasattr(thing, "books") else "object",
                getattr(thing, "name", thing),
                type(thing).__name__,
            )
        )
    return provider
