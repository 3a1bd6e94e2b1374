# -*- test-case-name: tests.test_model -*-
"""
Names that configuration may use, and the plugins behind them.

C{exsim.register(kind, name, factory)} adds a third-party engine class,
behaviour, protocol or policy; from then on the name is accepted wherever
names of that kind are (C{create_engine}, the C{behaviour} book property,
C{create_endpoint}, C{sim.ini}).  The built-in names are registered the
same way, on first use.
"""

from exsim.errors import BadValue, DuplicateName

KINDS = ("engine", "behaviour", "protocol", "policy", "book_property")

_registry = {kind: {} for kind in KINDS}
_builtinsLoaded = False


def register(kind, name, factory, replace=False):
    """
    Make C{factory} available under C{name}.

    @param kind: one of L{KINDS}: C{"engine"} (a callable C{(name, clock)}
        returning an L{exsim.interfaces.IEngine}), C{"behaviour"} (a
        callable returning an L{exsim.interfaces.IBehaviour}),
        C{"protocol"} (an L{exsim.interfaces.IProtocolFamily}),
        C{"policy"} (a callable with no arguments returning an
        L{exsim.interfaces.IPolicy}), or C{"book_property"} (a callable
        C{(engine, book, name, value)} handling one extra book property).
    @param replace: allow replacing an existing registration.
    @raise DuplicateName: if the name is taken and C{replace} is false.
    """
    _loadBuiltins()
    if kind not in _registry:
        raise BadValue("unknown plugin kind %r (one of %s)" % (kind, ", ".join(KINDS)))
    if not name or not isinstance(name, str):
        raise BadValue("a plugin name must be a non-empty string")
    table = _registry[kind]
    if name in table and not replace:
        raise DuplicateName("%s %r is already registered" % (kind, name))
    table[name] = factory


def unregister(kind, name):
    """
    Forget a registration (for tests).
    """
    _registry[kind].pop(name, None)


def lookup(kind, name):
    """
    The factory registered as C{name}.

    @raise BadValue: naming the known names, if there is none.
    """
    _loadBuiltins()
    table = _registry[kind]
    try:
        factory = table[name]
    except (KeyError, TypeError):
        raise BadValue(
            "unknown %s %r (known: %s)" % (kind, name, ", ".join(sorted(table)))
        )
    if isinstance(factory, str):
        from exsim.protocols import resolve

        factory = table[name] = resolve(factory)
    return factory


def names(kind):
    _loadBuiltins()
    return sorted(_registry[kind])


def entries(kind):
    """
    A copy of the {name: factory} table of one kind.
    """
    _loadBuiltins()
    return dict(_registry[kind])


def _loadBuiltins():
    global _builtinsLoaded
    if _builtinsLoaded:
        return
    _builtinsLoaded = True
    from exsim.engine import behaviours, matching, reference

    _registry["engine"].setdefault("matching", matching.MatchingEngine)
    _registry["engine"].setdefault("reference", reference.ReferenceEngine)
    for cls in behaviours.BUILTIN:
        _registry["behaviour"].setdefault(cls.name, cls)
    from exsim.rfq import engine as rfq

    _registry["engine"].setdefault("rfq", rfq.RfqEngine)
    _registry["behaviour"].setdefault(rfq.RfqOnly.name, rfq.RfqOnly)
    from exsim.policy import builtin as policies

    for cls in policies.BUILTIN:
        _registry["policy"].setdefault(cls.name, cls)
    from exsim import protocols

    protocols.registerBuiltins(_registry["protocol"])
    from exsim import instruments  # noqa: F401 (registers its book properties)
    from exsim.engine import activity  # noqa: F401 (registers its book properties)
    from exsim.rfq import settings as rfqSettings

    rfqSettings.registerBuiltins()
