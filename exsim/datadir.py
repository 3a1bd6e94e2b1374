# -*- test-case-name: tests.test_datadir -*-
"""
The simulator's data directory: where FIX stores, engine journals and
message logs live.

It is set when the simulator starts (C{twistd exsim --data-dir DIR}, or
C{[control] data_dir}; by default the directory twistd runs in) and never
through the management API.  A store, journal or log is named by a path
under it: no absolute path, no C{..}, so that no management client can make
the simulator write, create or read files elsewhere.
"""

import os

from exsim.errors import BadValue


def checkDataName(name, what):
    """
    Check that C{name} names a place under the data directory.

    @raise BadValue: for an absolute path, a C{..} part, or control
        characters.
    @return: C{name}.
    """
    text = str(name)
    if not text.strip():
        raise BadValue("%s must name a directory under the data directory" % (what,))
    if os.path.isabs(text) or text.startswith("~"):
        raise BadValue(
            "%s must be a name under the simulator's data directory, not an absolute path (%r)"
            % (what, text)
        )
    parts = text.replace("\\", "/").split("/")
    if ".." in parts:
        raise BadValue("%s must not leave the simulator's data directory (%r)" % (what, text))
    if any(ord(ch) < 32 for ch in text):
        raise BadValue("%s must be printable text" % (what,))
    return text


def resolve(dataDir, name, what):
    """
    The path of C{name} under C{dataDir} (checked as L{checkDataName}).
    """
    checkDataName(name, what)
    base = os.path.abspath(dataDir)
    path = os.path.abspath(os.path.join(base, name))
    if os.path.commonpath([base, path]) != base:
        raise BadValue("%s must not leave the simulator's data directory (%r)" % (what, name))
    return path
