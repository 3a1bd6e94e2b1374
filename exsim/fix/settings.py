# -*- test-case-name: tests.test_fix_session -*-
"""
The session properties of a FIX endpoint: their parsers and defaults.

C{PROPERTIES} maps each name to a parser taking a value as text (as sim.ini
gives it) or as a number/boolean, and returning the normalised value or
raising L{exsim.errors.BadValue} with a clear message.  Values already
normalised parse to themselves.
"""

from exsim import sessioncontrol
from exsim.datadir import checkDataName
from exsim.errors import BadValue
from exsim.fix.dictionary import APPL_VER_IDS, APPL_VER_NAMES, BEGIN_STRINGS
from exsim.values import parseBoolean

ANY = "*"


def parseBool(name):
    def parse(value):
        return parseBoolean(name, value)

    return parse


def parseNumber(name, minimum=0, integer=False, maximum=None):
    def parse(value):
        if isinstance(value, bool):
            raise BadValue("%s must be a number, not %r" % (name, value))
        try:
            number = int(value) if integer else float(value)
            if not integer and number == int(number):
                number = int(number)
        except (TypeError, ValueError, OverflowError):
            raise BadValue(
                "%s must be %s, not %r"
                % (name, "an integer" if integer else "a number", value)
            )
        if number < minimum or (maximum is not None and number > maximum):
            raise BadValue(
                "%s must be between %s and %s, not %r"
                % (name, minimum, "any" if maximum is None else maximum, value)
            )
        return number

    return parse


def _compId(name, text):
    if not text or any(c in text for c in "\x01=|") or not text.isprintable():
        raise BadValue("%s: %r is not a valid CompID" % (name, text))
    return text


def parseSenderCompId(value):
    """
    Our CompID, or C{*}: answer as whatever TargetCompID the counterparty
    logs on to.
    """
    text = str(value).strip()
    return text if text == ANY else _compId("sender_comp_id", text)


def parseTargetCompId(value):
    """
    The counterparty CompIDs accepted: a tuple, or C{*} for any.
    """
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    else:
        items = [v.strip() for v in str(value).split(",")]
    items = [v for v in items if v]
    if not items:
        raise BadValue("target_comp_id must be a CompID, a comma list, or *")
    if ANY in items:
        return ANY
    return tuple(_compId("target_comp_id", v) for v in items)


def parseBeginString(value):
    """
    The BeginStrings accepted, as a tuple.
    """
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    else:
        items = [v.strip() for v in str(value).split(",")]
    items = [v for v in items if v]
    if not items:
        raise BadValue("begin_string must name at least one FIX version")
    for v in items:
        if v not in BEGIN_STRINGS:
            raise BadValue(
                "begin_string %r is not supported (supported: %s)"
                % (v, ", ".join(BEGIN_STRINGS))
            )
    return tuple(dict.fromkeys(items))


def parseApplVerId(value):
    """
    The DefaultApplVerID of FIXT.1.1 sessions: C{7}, C{8}, C{9} or
    C{FIX.5.0}, C{FIX.5.0SP1}, C{FIX.5.0SP2}.
    """
    text = str(value).strip()
    text = APPL_VER_NAMES.get(text, text)
    if text not in APPL_VER_IDS:
        raise BadValue(
            "default_appl_ver_id must be one of %s or %s, not %r"
            % (", ".join(sorted(APPL_VER_IDS)), ", ".join(APPL_VER_NAMES), value)
        )
    return text


def parseStore(value):
    """
    C{memory}, or the name of a directory for a file store, under the
    simulator's data directory (see L{exsim.service.Simulator.dataPath}).
    """
    text = str(value).strip()
    if not text:
        raise BadValue("store must be 'memory' or a directory")
    if text != "memory":
        checkDataName(text, "store")
    return text


PROPERTIES = {
    "sender_comp_id": parseSenderCompId,
    "target_comp_id": parseTargetCompId,
    "begin_string": parseBeginString,
    "default_appl_ver_id": parseApplVerId,
    "store": parseStore,
    "store_sync": parseBool("store_sync"),
    "store_limit": parseNumber("store_limit", minimum=1, integer=True),
    "max_logged_out_sessions": parseNumber("max_logged_out_sessions", minimum=0, integer=True),
    "reset_on_logon": parseBool("reset_on_logon"),
    "reset_on_logout": parseBool("reset_on_logout"),
    "reset_on_disconnect": parseBool("reset_on_disconnect"),
    "sending_time_tolerance": parseNumber("sending_time_tolerance"),
    "check_fields_have_values": parseBool("check_fields_have_values"),
    "validate_user_defined_fields": parseBool("validate_user_defined_fields"),
    "check_field_order": parseBool("check_field_order"),
    "max_message_size": parseNumber("max_message_size", minimum=64, integer=True),
    "min_heartbeat_interval": parseNumber("min_heartbeat_interval", integer=True),
    "max_heartbeat_interval": parseNumber("max_heartbeat_interval", integer=True),
    "logon_timeout": parseNumber("logon_timeout"),
    "logout_timeout": parseNumber("logout_timeout"),
}
# Session control: latency, seed, throttle, throttle_action, accept_logons.
PROPERTIES.update(sessioncontrol.ENDPOINT_PROPERTIES)

DEFAULTS = {
    "sender_comp_id": "EXSIM",
    "target_comp_id": ANY,
    "begin_string": BEGIN_STRINGS,
    "default_appl_ver_id": "9",
    "store": "memory",
    "store_sync": False,
    "store_limit": 100000,
    "max_logged_out_sessions": 1000,
    "reset_on_logon": False,
    "reset_on_logout": False,
    "reset_on_disconnect": False,
    "sending_time_tolerance": 120,
    "check_fields_have_values": True,
    "validate_user_defined_fields": True,
    "check_field_order": True,
    "max_message_size": 65536,
    "min_heartbeat_interval": 0,
    "max_heartbeat_interval": 3600,
    "logon_timeout": 10,
    "logout_timeout": 2,
}
DEFAULTS.update(sessioncontrol.ENDPOINT_DEFAULTS)


def get(endpoint, name):
    """
    The value of a session property of C{endpoint}, or its default.
    """
    return endpoint.properties.get(name, DEFAULTS[name])
