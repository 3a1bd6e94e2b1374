# -*- test-case-name: tests.test_messagelog -*-
"""
Decoding what a message journal (L{exsim.observe.messagelog}) kept, when
someone asks: C{get_messages}, the web view, the log files.

A FIX message becomes its fields as C{[tag, name, value]}, names from the
data dictionary of its version (L{exsim.fix.dictionary}); a SoupBinTCP
packet its packet type and, for OUCH 4.2 and ITCH 5.0 messages, their
fields by name as C{[None, name, value]}.  Each message also comes as raw
text: FIX with C{|} for SOH, SoupBinTCP in hexadecimal.  Passwords are
masked.  Nothing here raises on garbage: what cannot be decoded is shown
as it is.
"""

import re
import struct
from decimal import Decimal

from exsim.soup import itch50, ouch42

#: What stands for a password.
MASK = "********"

# -- FIX ------------------------------------------------------------------------

#: A FIX message starts after another's last SOH (or at the start).
_FIX_START = re.compile(rb"(?<=\x01)(?=8=FIX)")

#: Password (554) and NewPassword (925).
_FIX_PASSWORDS = re.compile(rb"((?:^|\x01)(?:554|925)=)[^\x01]*")

_SECRET_TAGS = frozenset([554, 925])


def splitFix(data):
    """
    The FIX messages in C{data} (one write may hold several); text that
    is not a message stays as one piece.
    """
    return [piece for piece in _FIX_START.split(data) if piece]


def maskFix(message):
    """
    C{message} with its passwords masked.
    """
    if b"554=" not in message and b"925=" not in message:
        return message
    return _FIX_PASSWORDS.sub(lambda m: m.group(1) + MASK.encode(), message)


def _dictionaryFor(pairs, cache):
    from exsim.fix import dictionary

    begin = next((v for t, v in pairs if t == 8), None)
    applVerId = next((v for t, v in pairs if t == 1128), None)
    key = (begin, applVerId)
    if key not in cache:
        try:
            if begin == "FIXT.1.1":
                cache[key] = dictionary.forVersion(begin, applVerId or "9")
            else:
                cache[key] = dictionary.forVersion(begin)
        except Exception:
            cache[key] = None
    return cache[key]


def _fixPairs(message):
    pairs = []
    for part in message.split(b"\x01"):
        if not part:
            continue
        tag, sep, value = part.partition(b"=")
        text = value.decode("latin-1")
        try:
            number = int(tag) if sep else None
        except ValueError:
            number = None
        if number is None:
            pairs.append((None, part.decode("latin-1")))
        else:
            pairs.append((number, text))
    return pairs


def decodeFix(message, cache=None):
    """
    One FIX message as C{{"msg_type", "name", "seq_num", "fields",
    "raw"}}.
    """
    cache = {} if cache is None else cache
    message = maskFix(message)
    pairs = _fixPairs(message)
    d = _dictionaryFor(pairs, cache)
    fields = []
    msgType = None
    seqNum = None
    for tag, value in pairs:
        name = None
        if tag is not None and d is not None:
            spec = d.fields.get(tag)
            name = spec.name if spec is not None else None
        if tag == 35 and msgType is None:
            msgType = value
        elif tag == 34 and seqNum is None and value.isdigit():
            seqNum = int(value)
        fields.append([tag, name, value])
    typeName = None
    if d is not None and msgType is not None:
        spec = d.messages.get(msgType)
        typeName = spec.name if spec is not None else None
    return {
        "msg_type": msgType,
        "name": typeName,
        "seq_num": seqNum,
        "fields": fields,
        "raw": message.decode("latin-1").replace("\x01", "|"),
    }


# -- SoupBinTCP, OUCH, ITCH -----------------------------------------------------

PACKET_NAMES = {
    b"+": "Debug",
    b"A": "Login Accepted",
    b"J": "Login Rejected",
    b"S": "Sequenced Data",
    b"H": "Server Heartbeat",
    b"Z": "End of Session",
    b"L": "Login Request",
    b"U": "Unsequenced Data",
    b"R": "Client Heartbeat",
    b"O": "Logout Request",
}

OUCH_INBOUND = {
    b"O": ("Enter Order", ("token", "side", "shares", "stock", "price", "time_in_force", "firm",
                           "display", "capacity", "iso", "minimum_quantity", "cross_type",
                           "customer_type")),
    b"U": ("Replace Order", ("existing_token", "replacement_token", "shares", "price",
                             "time_in_force", "display", "iso", "minimum_quantity")),
    b"X": ("Cancel Order", ("token", "shares")),
    b"M": ("Modify Order", ("token", "side", "shares")),
}

OUCH_OUTBOUND_NAMES = {
    b"S": "System Event", b"A": "Accepted", b"U": "Replaced", b"C": "Canceled",
    b"E": "Executed", b"B": "Broken Trade", b"J": "Rejected", b"P": "Cancel Pending",
    b"I": "Cancel Reject",
}

ITCH_NAMES = {
    b"S": "System Event", b"R": "Stock Directory", b"H": "Stock Trading Action",
    b"A": "Add Order", b"F": "Add Order (MPID)", b"E": "Order Executed",
    b"C": "Order Executed With Price", b"X": "Order Cancel", b"D": "Order Delete",
    b"U": "Order Replace", b"P": "Trade", b"B": "Broken Trade",
}

_PRICES = frozenset(["price", "execution_price"])

_LENGTH = struct.Struct(">H")


def splitSoup(data):
    """
    The SoupBinTCP packets in C{data} as (packet type, payload); bytes that
    do not make a packet come last as C{(None, bytes)}.
    """
    packets = []
    offset = 0
    end = len(data)
    while end - offset >= 3:
        (length,) = _LENGTH.unpack_from(data, offset)
        stop = offset + 2 + length
        if length == 0 or stop > end:
            break
        packets.append((data[offset + 2:offset + 3], data[offset + 3:stop]))
        offset = stop
    if offset < end:
        packets.append((None, data[offset:]))
    return packets


def _value(name, raw):
    if isinstance(raw, bytes):
        return raw.rstrip(b" ").decode("latin-1")
    if name in _PRICES:
        return str(Decimal(raw) / 10000)
    return raw


def _fields(names, values):
    return [[None, name, _value(name, raw)] for name, raw in zip(names, values)]


def _ouchInbound(payload):
    entry = OUCH_INBOUND.get(payload[:1])
    if entry is None:
        return None, []
    name, names = entry
    try:
        values = ouch42.decode(payload)[1:]
    except Exception:
        return name, []
    return name, _fields(names, values)


def _ouchOutbound(payload):
    from exsim.testing.ouch import OUTBOUND_FIELDS

    msgType = payload[:1]
    names = OUTBOUND_FIELDS.get(msgType)
    layout = ouch42.OUTBOUND.get(msgType)
    if names is None or layout is None or len(payload) != layout.size:
        return OUCH_OUTBOUND_NAMES.get(msgType), []
    return OUCH_OUTBOUND_NAMES[msgType], _fields(names, layout.unpack(payload)[1:])


def _itch(payload):
    from exsim.testing.itch import FIELDS

    msgType = payload[:1]
    names = FIELDS.get(msgType)
    try:
        values = itch50.decode(payload) if names is not None else None
    except Exception:
        values = None
    if values is None:
        return ITCH_NAMES.get(msgType), []
    head = [[None, "stock_locate", values[1]], [None, "tracking_number", values[2]],
            [None, "timestamp", values[3]]]
    return ITCH_NAMES[msgType], head + _fields(names, values[4:])


def _session(packetType, payload):
    """
    The fields of a session-level packet.
    """
    if packetType == b"L" and len(payload) == 46:
        return [
            [None, "username", payload[0:6].strip().decode("latin-1")],
            [None, "password", MASK],
            [None, "session", payload[16:26].strip().decode("latin-1")],
            [None, "sequence_number", payload[26:46].strip().decode("latin-1")],
        ]
    if packetType == b"A" and len(payload) == 30:
        return [
            [None, "session", payload[0:10].strip().decode("latin-1")],
            [None, "sequence_number", payload[10:30].strip().decode("latin-1")],
        ]
    if packetType == b"J":
        return [[None, "reason", payload.decode("latin-1")]]
    if packetType == b"+":
        return [[None, "text", payload.decode("latin-1")]]
    return []


def _rawSoup(packetType, payload):
    if packetType is None:
        return payload.hex()
    if packetType == b"L" and len(payload) == 46:
        payload = payload[:6] + b"*" * 10 + payload[16:]
    return (_LENGTH.pack(len(payload) + 1) + packetType + payload).hex()


def decodeSoup(protocol, packetType, payload):
    """
    One SoupBinTCP packet as C{{"packet", "packet_name", "msg_type",
    "name", "fields", "raw"}}.
    """
    result = {
        "packet": packetType.decode("latin-1") if packetType is not None else None,
        "packet_name": PACKET_NAMES.get(packetType, "not a packet") if packetType is not None else "not a packet",
        "msg_type": None,
        "name": None,
        "fields": [],
        "raw": _rawSoup(packetType, payload),
    }
    if packetType == b"U" and payload:
        result["msg_type"] = payload[:1].decode("latin-1")
        if protocol == "ouch":
            result["name"], result["fields"] = _ouchInbound(payload)
    elif packetType == b"S" and payload:
        result["msg_type"] = payload[:1].decode("latin-1")
        if protocol == "ouch":
            result["name"], result["fields"] = _ouchOutbound(payload)
        elif protocol == "itch":
            result["name"], result["fields"] = _itch(payload)
    elif packetType is not None:
        result["fields"] = _session(packetType, payload)
    return result


# -- journal entries ------------------------------------------------------------


def messagesOf(protocol, data):
    """
    The messages of one journal entry's data, undecoded: FIX messages
    (bytes), or SoupBinTCP (packet type, payload) pairs.
    """
    if protocol == "fix":
        return splitFix(data)
    if isinstance(data, tuple):
        return [data]
    return splitSoup(data)


def decodeEntry(protocol, entry, cache=None):
    """
    The messages of one journal entry C{(time, direction, data)}, decoded:
    a list of dicts with C{time}, C{direction} and C{protocol} besides the
    decoded fields.
    """
    seconds, direction, data = entry
    result = []
    for message in messagesOf(protocol, data):
        if protocol == "fix":
            decoded = decodeFix(message, cache)
        else:
            decoded = decodeSoup(protocol, *message)
        decoded["time"] = seconds
        decoded["direction"] = direction
        decoded["protocol"] = protocol
        result.append(decoded)
    return result


def fileLines(protocol, direction, data):
    """
    The lines a message log file gets for one entry's data (bytes,
    without the time and the newline): FIX messages as they are
    (passwords masked), SoupBinTCP ones decoded.
    """
    if protocol == "fix":
        return [maskFix(message) for message in splitFix(data)]
    lines = []
    for packetType, payload in messagesOf(protocol, data):
        decoded = decodeSoup(protocol, packetType, payload)
        words = [decoded["packet_name"]]
        if decoded["name"]:
            words.append(decoded["name"])
        elif decoded["msg_type"]:
            words.append(decoded["msg_type"])
        words.extend("%s=%s" % (name, value) for _, name, value in decoded["fields"])
        if not decoded["fields"] and payload and (packetType is None or decoded["msg_type"]):
            words.append("raw=" + decoded["raw"])
        line = " ".join(str(w) for w in words)
        lines.append(line.replace("\n", " ").replace("\r", " ").encode("utf-8", "replace"))
    return lines
