# -*- test-case-name: tests.test_ctl -*-
"""
C{exsimctl}: run one management operation against a running simulator and
print its result as JSON.

    exsimctl --connect tcp:127.0.0.1:8789 --user admin get_book AAPL
    exsimctl -p admin create_order o1 AAPL -k side=buy -k price=150 -k quantity=10
    exsimctl -p admin list
    exsimctl -p admin help fill_order

Arguments are passed as text (the simulator accepts text wherever
sim.ini does); C{-k name=value} passes a keyword argument.  The password
comes from C{--password}, else the C{EXSIM_PASSWORD} environment
variable, else a prompt.
"""

import argparse
import getpass
import json
import os
import re
import sys

from twisted.cred.error import UnauthorizedLogin

from exsim.errors import ExsimError

DEFAULT_CONNECT = "tcp:127.0.0.1:8789"


def _parser():
    parser = argparse.ArgumentParser(
        prog="exsimctl",
        description="Run one exsim management operation and print its result as JSON.",
        epilog="'exsimctl list' names every operation; 'exsimctl help OPERATION' describes one.",
    )
    parser.add_argument("--connect", "-c", default=DEFAULT_CONNECT,
                        help="client endpoint string of the management service (default %(default)s)")
    parser.add_argument("--user", "-u", default="admin", help="user name (default %(default)s)")
    parser.add_argument("--password", "-p", default=None,
                        help="password (default: $EXSIM_PASSWORD, else a prompt)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer")
    parser.add_argument("--keyword", "-k", action="append", default=[], metavar="NAME=VALUE",
                        help="a keyword argument of the operation (repeatable)")
    parser.add_argument("operation", help="an operation name, 'list' or 'help'")
    parser.add_argument("arguments", nargs="*", help="the operation's arguments, as text")
    return parser


def _password(options, environ, stdin):
    if options.password is not None:
        return options.password
    if environ.get("EXSIM_PASSWORD") is not None:
        return environ["EXSIM_PASSWORD"]
    if stdin is not None and stdin.isatty():
        return getpass.getpass("password for %s: " % (options.user,))
    raise SystemExit("exsimctl: no password: give --password or set EXSIM_PASSWORD")


def main(argv=None, stdout=None, stderr=None, environ=None, stdin=None):
    """
    Run C{exsimctl}.

    @return: the exit status: 0 on success, 1 for an error from the
        simulator or the connection, 2 for bad usage.
    """
    from exsim.client import API

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    stdin = sys.stdin if stdin is None else stdin
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    from exsim.control import OPERATIONS

    if options.operation not in OPERATIONS + ("list", "help"):
        stderr.write(
            "exsimctl: unknown operation %r (try 'exsimctl list')\n" % (options.operation,)
        )
        return 2
    keywords = {}
    for item in options.keyword:
        name, sep, value = item.partition("=")
        if not sep or not name:
            stderr.write("exsimctl: -k needs NAME=VALUE, not %r\n" % (item,))
            return 2
        keywords[name] = value
    try:
        password = _password(options, environ, stdin)
    except SystemExit as e:
        stderr.write("%s\n" % (e.code,))
        return 2
    try:
        connection = API(timeout=options.timeout).connect(options.connect, options.user, password)
    except UnauthorizedLogin:
        stderr.write("exsimctl: login refused: wrong user name or password\n")
        return 1
    except ExsimError as e:
        stderr.write("exsimctl: %s\n" % (e,))
        return 1
    except Exception as e:
        stderr.write("exsimctl: cannot connect to %s: %s\n" % (options.connect, e))
        return 1
    try:
        if options.operation == "list":
            result = connection.call("list_operations")
            stdout.write("\n".join(result) + "\n")
            return 0
        if options.operation == "help":
            if len(options.arguments) != 1:
                stderr.write("exsimctl: help takes one operation name\n")
                return 2
            stdout.write(plainText(connection.call("describe", options.arguments[0])) + "\n")
            return 0
        result = connection.call(options.operation, *options.arguments, **keywords)
    except ExsimError as e:
        stderr.write("exsimctl: %s: %s\n" % (options.operation, e))
        return 1
    finally:
        connection.close()
    # Every result is JSON, None too ("null"): a script can tell success
    # from silence.
    stdout.write(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return 0


_MARKUP = re.compile(r"[CLIBMEU]\{([^{}]*)\}")
_FIELDS = {"param": "", "keyword": "", "return": "Returns", "raise": "Raises"}


def plainText(doc):
    """
    An operation's epytext documentation as plain text for a terminal:
    C{C{x}}, C{L{x}} and the like become C{x}; C{@param name: text}
    becomes C{name: text}, C{@return: text} C{Returns: text}, C{@raise E:
    text} C{Raises E: text}; C{@type} and C{@rtype} lines are dropped.
    """
    previous = None
    while previous != doc:
        previous, doc = doc, _MARKUP.sub(lambda m: m.group(1).split("<")[0].strip(), doc)
    lines = []
    skipping = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith("@"):
            field, _, text = stripped[1:].partition(":")
            kind, _, name = field.partition(" ")
            skipping = kind in ("type", "rtype", "ivar", "cvar", "var")
            if skipping:
                continue
            label = _FIELDS.get(kind, kind.capitalize())
            if kind in ("param", "keyword"):
                line = "  %s: %s" % (name, text.strip())
            else:
                line = "%s%s: %s" % (label, " " + name if name else "", text.strip())
        elif skipping and stripped and line[:1].isspace():
            continue
        else:
            skipping = False
        lines.append(line)
    return "\n".join(lines)


def run():
    """
    The C{exsimctl} console script.
    """
    sys.exit(main())


if __name__ == "__main__":
    run()
