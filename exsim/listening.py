# -*- test-case-name: tests.test_listening -*-
"""
What every wire listener and connection of the simulator gets.

The listen backlog: Twisted's default is 50, so 1,000 clients logging on
at once saw SYNs dropped and retried after a second (14.3 s for all of
them, against 0.14 s with a backlog of 1,024).

Nagle's algorithm: off on every wire connection.  A report written while
an earlier one waits for its ACK would otherwise wait too (delayed ACKs:
up to 40 ms); measured with fills arriving from other sessions, ack
latency p50 was 9.3 ms with it on, 0.77 ms with it off.
"""

import ipaddress
import os
import re

from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import ITCPTransport

from exsim.errors import BadValue

#: The listen backlog where the endpoint string gives none.
DEFAULT_BACKLOG = 1024

#: Endpoint types whose strings take a C{backlog} argument.
_BACKLOG_TYPES = ("tcp", "tcp6", "ssl", "unix")


def withBacklog(description, backlog=DEFAULT_BACKLOG):
    """
    C{description} (a server endpoint string) with C{backlog=} added when
    its type takes one and it names none.
    """
    kind = description.split(":", 1)[0].strip().lower()
    if kind not in _BACKLOG_TYPES or "backlog=" in description:
        return description
    return "%s:backlog=%d" % (description.rstrip(":"), backlog)


#: Arguments of server endpoint strings that name files (TLS).
_FILE_ARGUMENTS = ("privateKey", "certKey", "extraCertChain", "dhParameters")


def _arguments(description):
    """
    The C{name=value} arguments of an endpoint string (colons escaped with
    a backslash stay in values).
    """
    parts = re.split(r"(?<!\\):", description)
    result = []
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        if sep:
            result.append((name.strip(), value.replace("\\:", ":")))
    return result


def _problem(description, error):
    """
    What is wrong with a server endpoint string that L{serverFromString}
    could not build, in one line: the file that cannot be read, or the
    TLS problem.
    """
    if isinstance(error, ImportError):
        return "TLS needs pyOpenSSL (pip install 'twisted[tls]'): %s" % (error,)
    arguments = _arguments(description)
    kind = description.split(":", 1)[0].strip().lower()
    if kind == "ssl" and "privateKey" not in dict(arguments):
        return (
            "a TLS endpoint needs privateKey=KEYFILE (and certKey=CERTFILE unless the "
            "key file holds both): %s" % (error,)
        )
    for name, value in arguments:
        if name in _FILE_ARGUMENTS and not os.access(value, os.R_OK):
            reason = "no such file" if not os.path.exists(value) else "not readable"
            return "%s file %s: %s" % (name, value, reason)
    files = ", ".join("%s %s" % item for item in arguments if item[0] in _FILE_ARGUMENTS)
    detail = str(error) or type(error).__name__
    if type(error).__module__.startswith("OpenSSL"):
        # pyOpenSSL's errors are lists of (library, function, reason).
        reasons = [r[-1] for r in getattr(error, "args", [[]])[0] if isinstance(r, tuple)]
        detail = "not a PEM certificate and private key (%s)" % (
            ", ".join(r for r in reasons if r) or detail,
        )
    return "%s: %s" % (files, detail) if files else detail


def serverEndpoint(reactor, description):
    """
    L{serverFromString} with a large default backlog (L{withBacklog}).

    @raise BadValue: (a C{ValueError}) naming the file at fault when a TLS
        endpoint's certificate or key cannot be read or used, or when TLS
        is not installed.
    """
    try:
        return serverFromString(reactor, withBacklog(description))
    except (ValueError, TypeError, KeyError):
        raise
    except Exception as e:
        raise BadValue(_problem(description, e))


def allInterfaces(description):
    """
    Whether a server endpoint string listens on every interface (a TCP
    or TLS port with no C{interface}, or the interface C{0.0.0.0} or
    C{::}).
    """
    kind = description.split(":", 1)[0].strip().lower()
    if kind not in ("tcp", "tcp6", "ssl"):
        return False
    interface = dict(_arguments(description)).get("interface", "")
    return interface.strip() in ("", "0.0.0.0", "::", "[::]")


def noDelay(transport):
    """
    Turn Nagle's algorithm off on C{transport} if it is a TCP connection
    (TLS over TCP included); anything else is left alone.
    """
    if ITCPTransport.providedBy(transport):
        transport.setTcpNoDelay(True)
        return True
    setTcpNoDelay = getattr(transport, "setTcpNoDelay", None)
    if setTcpNoDelay is not None:
        try:
            setTcpNoDelay(True)
        except (AttributeError, NotImplementedError, OSError):
            return False
        return True
    return False


#: Endpoint types the management API may listen with.
_API_TYPES = ("tcp", "tcp6", "ssl")


def _splitDescription(description):
    """
    The colon-separated parts of an endpoint string (a backslash escapes
    a colon), and its keyword arguments.
    """
    parts, current, escaped = [], [], False
    for ch in description:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    keywords = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
    return parts, keywords


def isLoopback(host):
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def checkListen(description, allowed=()):
    """
    Refuse a listener the management API asks for unless it binds to the
    loopback interface, or to one the configuration allows (C{[control]
    allow_listen}: interfaces, or C{*} for any).  A configuration file may
    listen anywhere; a management client may not open the venue to the
    network by itself.

    @raise BadValue: saying why.
    """
    text = str(description).strip()
    parts, keywords = _splitDescription(text)
    kind = parts[0].strip().lower()
    if kind not in _API_TYPES:
        raise BadValue(
            "the management API may listen only with %s endpoints, not %r"
            % ("/".join(_API_TYPES), kind)
        )
    if "*" in allowed:
        return
    interface = keywords.get("interface")
    if interface is None:
        raise BadValue(
            "listen %r binds every interface: add interface=127.0.0.1 (the management API "
            "listens on loopback only unless [control] allow_listen names the interface)" % (text,)
        )
    if isLoopback(interface) or interface in allowed:
        return
    raise BadValue(
        "listen %r: the management API listens on loopback only unless [control] allow_listen "
        "names the interface (%s)" % (text, interface)
    )
