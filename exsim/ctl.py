# -*- test-case-name: tests.test_ctl -*-
"""
C{exsimctl}: run one management operation against a running simulator and
print its result as JSON.

    exsimctl --connect tcp:127.0.0.1:8789 --user admin get_book AAPL
    exsimctl -p admin create_order o1 AAPL -k side=buy -k price=150 -k quantity=10
    exsimctl -p admin list
    exsimctl -p admin help fill_order
    exsimctl -p admin ls                    # engines, books, endpoints, sessions
    exsimctl -p admin show book AAPL        # every property (engine, book, endpoint, session)
    exsimctl -p admin orders AAPL           # live orders (-k owner=fix1/CLIENT)
    exsimctl -p admin follow                # events as they happen, one JSON line each

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
        epilog="'exsimctl list' names every operation; 'exsimctl help OPERATION' describes one. "
        "Besides operations: 'ls' (everything, as a tree), 'show KIND NAME' (every property of "
        "an engine, book, endpoint or session), 'orders BOOK' (its live orders; -k owner=...), "
        "'follow' (events as they happen, one JSON line each, until interrupted; -k count=N, "
        "-k seconds=S).",
    )
    parser.add_argument("--connect", "-c", default=DEFAULT_CONNECT,
                        help="client endpoint string of the management service (default %(default)s)")
    parser.add_argument("--user", "-u", default="admin", help="user name (default %(default)s)")
    parser.add_argument("--password", "-p", default=None,
                        help="password (default: $EXSIM_PASSWORD, else a prompt)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer")
    parser.add_argument("--keyword", "-k", action="append", default=[], metavar="NAME=VALUE",
                        help="a keyword argument of the operation (repeatable)")
    parser.add_argument("operation", help="an operation name, or list, help, ls, show, orders, follow")
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

    if options.operation not in OPERATIONS + COMMANDS:
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
        command = _COMMANDS.get(options.operation)
        if command is not None:
            return command(connection, options.arguments, keywords, stdout, stderr)
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


#: The commands that are not operations.
COMMANDS = ("list", "help", "ls", "show", "orders", "follow")


def _usage(stderr, text):
    stderr.write("exsimctl: %s\n" % (text,))
    return 2


def _price(price, quantity):
    if price is None:
        return "-"
    return "%s x %s" % (price, quantity)


def _ls(connection, arguments, keywords, stdout, stderr):
    """
    C{exsimctl ls}: engines, their books and endpoints, and the endpoints'
    sessions, as a tree.
    """
    if arguments or keywords:
        return _usage(stderr, "ls takes no arguments")
    engines = connection.list_engines()
    books = {}
    for book in connection.list_books():
        books.setdefault(book["engine"], []).append(book)
    endpoints = {}
    for endpoint in connection.list_endpoints():
        endpoints.setdefault(endpoint["engine"], []).append(endpoint)
    sessions = {}
    for session in connection.list_sessions():
        sessions.setdefault(session["endpoint"], []).append(session)
    lines = []
    for engine in engines:
        lines.append(
            "engine %s  (class %s, mode %s, %d live orders)"
            % (engine["engine"], engine["class"], engine["mode"], engine["live_orders"])
        )
        for book in books.get(engine["engine"], []):
            lines.append(
                "  book %s  symbol %s  bid %s  ask %s  last %s  volume %s  orders %s  %s%s"
                % (
                    book["book"], book["symbol"],
                    _price(book["best_bid"], book["best_bid_qty"]),
                    _price(book["best_ask"], book["best_ask_qty"]),
                    book["last"] if book["last"] is not None else "-",
                    book["volume"], book["orders"], book["behaviour"],
                    "" if book["phase"] is None else "  " + book["phase"],
                )
            )
        for endpoint in endpoints.get(engine["engine"], []):
            address = endpoint["address"]
            lines.append(
                "  endpoint %s  (%s)  %s%s  %d active session(s)"
                % (
                    endpoint["endpoint"], endpoint["protocol"], endpoint["state"],
                    " on %s:%s" % tuple(address) if address else "", endpoint["sessions"],
                )
            )
            for session in sessions.get(endpoint["endpoint"], []):
                detail = []
                if session.get("next_in_seq") is not None:
                    detail.append("in %s out %s" % (session["next_in_seq"], session["next_out_seq"]))
                if session.get("next_seq") is not None:
                    detail.append("next %s" % (session["next_seq"],))
                lines.append(
                    "    session %s  %s  peer %s%s"
                    % (
                        session["session"], session["state"], session["peer"] or "-",
                        "  " + "  ".join(detail) if detail else "",
                    )
                )
    stdout.write("\n".join(lines) + ("\n" if lines else ""))
    return 0


def _show(connection, arguments, keywords, stdout, stderr):
    """
    C{exsimctl show KIND NAME}: every property, as JSON.
    """
    if len(arguments) != 2 or keywords:
        return _usage(stderr, "show takes a kind (engine, book, endpoint, session) and a name")
    result = connection.get_properties(*arguments)
    stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


_ORDER_COLUMNS = (
    ("order_id", "ORDER ID"), ("owner", "OWNER"), ("cl_ord_id", "CLORDID"), ("side", "SIDE"),
    ("price", "PRICE"), ("quantity", "QTY"), ("leaves_qty", "LEAVES"), ("cum_qty", "CUM"),
    ("status", "STATUS"), ("order_type", "TYPE"), ("time_in_force", "TIF"),
    ("entry_time", "ENTERED (UTC)"),
)


def _orders(connection, arguments, keywords, stdout, stderr):
    """
    C{exsimctl orders BOOK [-k owner=OWNER]}: the live orders, as a table.
    """
    unknown = set(keywords) - {"owner"}
    if len(arguments) != 1 or unknown:
        return _usage(stderr, "orders takes a book name (and -k owner=OWNER)")
    import time

    orders = connection.list_orders(arguments[0], keywords.get("owner"))
    rows = [[title for _, title in _ORDER_COLUMNS]]
    for order in orders:
        row = []
        for key, _ in _ORDER_COLUMNS:
            value = order.get(key)
            if key == "entry_time" and value is not None:
                value = time.strftime("%H:%M:%S", time.gmtime(value)) + (".%03d" % (int(value * 1000) % 1000,))
            row.append("-" if value is None else str(value))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(_ORDER_COLUMNS))]
    for row in rows:
        stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    return 0


def _follow(connection, arguments, keywords, stdout, stderr):
    """
    C{exsimctl follow [-k count=N] [-k seconds=S]}: events as they happen,
    one JSON line each, until interrupted.
    """
    unknown = set(keywords) - {"count", "seconds"}
    if arguments or unknown:
        return _usage(stderr, "follow takes no arguments (but -k count=N, -k seconds=S)")
    try:
        count = int(keywords["count"]) if "count" in keywords else None
        seconds = float(keywords["seconds"]) if "seconds" in keywords else None
    except ValueError:
        return _usage(stderr, "follow: count must be a whole number and seconds a number")

    def show(event):
        stdout.write(json.dumps(event, separators=(", ", ": ")) + "\n")
        stdout.flush()

    connection.follow(show, count, seconds)
    return 0


_COMMANDS = {"ls": _ls, "show": _show, "orders": _orders, "follow": _follow}


def run():
    """
    The C{exsimctl} console script.
    """
    sys.exit(main())


if __name__ == "__main__":
    run()
