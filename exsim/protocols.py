# -*- test-case-name: tests.test_service -*-
"""
The built-in wire protocols, registered by name on first use.

Each entry names the module attribute holding an
L{exsim.interfaces.IProtocolFamily}; the module is imported only when the
protocol is first looked up.
"""

BUILTIN = {
    "fix": "exsim.fix.family:family",
    "ouch": "exsim.soup.ouch:family",
    "itch": "exsim.soup.itch:family",
}


def registerBuiltins(table):
    for name, path in BUILTIN.items():
        table.setdefault(name, path)


def resolve(value):
    """
    Import a C{"module:attribute"} reference; return anything else as is.
    """
    if not isinstance(value, str):
        return value
    import importlib

    module, _, attribute = value.partition(":")
    return getattr(importlib.import_module(module), attribute)
