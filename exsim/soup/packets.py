# -*- test-case-name: tests.test_soup_session -*-
"""
SoupBinTCP 4.0 logical packets: framing, parsing and the fixed layouts of
the session-level packets.

Every packet is a two-byte big-endian length (of what follows it), a
one-byte packet type and a payload.  Numbers in session packets are ASCII
text padded with spaces; this module accepts the padding on either side,
as real clients differ.
"""

import struct

_LENGTH = struct.Struct(">H")
#: The length and type of a packet, packed at once.
_HEADER = struct.Struct(">Hc")

# Packet types sent by the server.
DEBUG = b"+"
LOGIN_ACCEPTED = b"A"
LOGIN_REJECTED = b"J"
SEQUENCED_DATA = b"S"
SERVER_HEARTBEAT = b"H"
END_OF_SESSION = b"Z"

# Packet types sent by the client.
LOGIN_REQUEST = b"L"
UNSEQUENCED_DATA = b"U"
CLIENT_HEARTBEAT = b"R"
LOGOUT_REQUEST = b"O"

#: Login Rejected reason codes.
NOT_AUTHORIZED = b"A"
SESSION_NOT_AVAILABLE = b"S"

#: Size of a Login Request payload: username 6, password 10, requested
#: session 10, requested sequence number 20.
LOGIN_REQUEST_SIZE = 46


class SoupProtocolError(ValueError):
    """
    The peer broke the SoupBinTCP framing or sent a malformed session
    packet.
    """


def packet(packetType, payload=b""):
    """
    Frame one packet.

    @param packetType: the one-byte packet type.
    @param payload: the payload bytes.
    """
    return _LENGTH.pack(len(payload) + 1) + packetType + payload


def sequenced(payload):
    """
    A Sequenced Data packet carrying C{payload}.
    """
    return _HEADER.pack(len(payload) + 1, b"S") + payload


SERVER_HEARTBEAT_PACKET = packet(SERVER_HEARTBEAT)
END_OF_SESSION_PACKET = packet(END_OF_SESSION)
CLIENT_HEARTBEAT_PACKET = packet(CLIENT_HEARTBEAT)
LOGOUT_REQUEST_PACKET = packet(LOGOUT_REQUEST)


def loginAccepted(session, sequenceNumber):
    """
    A Login Accepted packet: the session name (10, padded with spaces on
    the left) and the next sequence number (20, padded on the left).
    """
    return packet(
        LOGIN_ACCEPTED,
        _alpha(session, 10, right=True) + str(int(sequenceNumber)).rjust(20).encode("ascii"),
    )


def loginRejected(reason):
    """
    A Login Rejected packet with C{reason} (L{NOT_AUTHORIZED} or
    L{SESSION_NOT_AVAILABLE}).
    """
    return packet(LOGIN_REJECTED, reason)


def loginRequest(username, password, session="", sequenceNumber=0):
    """
    A Login Request packet, as a client sends it (for tests and tools).
    """
    return packet(
        LOGIN_REQUEST,
        _alpha(username, 6)
        + _alpha(password, 10)
        + _alpha(session, 10, right=True)
        + str(int(sequenceNumber)).rjust(20).encode("ascii"),
    )


def debug(text):
    """
    A Debug packet with human-readable C{text}.
    """
    return packet(DEBUG, text.encode("ascii", "replace"))


def _alpha(value, size, right=False):
    data = value.encode("ascii") if isinstance(value, str) else bytes(value)
    if len(data) > size:
        raise ValueError("%r is longer than %d characters" % (value, size))
    return data.rjust(size) if right else data.ljust(size)


class LoginRequest:
    """
    A parsed Login Request.

    @ivar username: text, padding removed.
    @ivar password: text, padding removed.
    @ivar session: the requested session, text; empty means "the current
        session".
    @ivar sequenceNumber: the requested sequence number (int); 0 means
        "from now on".
    """

    __slots__ = ("username", "password", "session", "sequenceNumber")

    def __init__(self, username, password, session, sequenceNumber):
        self.username = username
        self.password = password
        self.session = session
        self.sequenceNumber = sequenceNumber

    def __repr__(self):
        return "<LoginRequest %r session=%r seq=%d>" % (
            self.username,
            self.session,
            self.sequenceNumber,
        )


_PAD = b" \x00"


def parseLoginRequest(payload):
    """
    Parse a Login Request payload.  Fields may be padded with spaces (or
    NULs) on either side.

    @raise SoupProtocolError: if the size is wrong, a field is not ASCII
        or the sequence number is not a number.
    """
    if len(payload) != LOGIN_REQUEST_SIZE:
        raise SoupProtocolError(
            "Login Request payload must be %d bytes, not %d"
            % (LOGIN_REQUEST_SIZE, len(payload))
        )
    try:
        username = payload[0:6].strip(_PAD).decode("ascii")
        password = payload[6:16].strip(_PAD).decode("ascii")
        session = payload[16:26].strip(_PAD).decode("ascii")
    except UnicodeDecodeError:
        raise SoupProtocolError("Login Request fields must be ASCII")
    text = payload[26:46].strip(_PAD)
    if not text:
        sequenceNumber = 0
    elif text.isdigit():
        sequenceNumber = int(text)
    else:
        raise SoupProtocolError("requested sequence number %r is not a number" % (text,))
    return LoginRequest(username, password, session, sequenceNumber)


class PacketReader:
    """
    Split a byte stream into packets.  Does no I/O: feed it what
    C{dataReceived} gets.

    @ivar maxLength: the largest packet length accepted; a longer one is a
        protocol error (nothing legitimate sent to a server is that long).
    """

    def __init__(self, maxLength=4096):
        self.maxLength = maxLength
        self._buffer = b""
        #: The bytes of the packets the last L{feed} returned.
        self.complete = b""

    def feed(self, data):
        """
        Add C{data}; return the complete packets as a list of (packet
        type (one byte), payload) tuples.  C{complete} is then their bytes,
        as they came.

        @raise SoupProtocolError: for a zero or oversized packet length.
        """
        buffer = self._buffer + data if self._buffer else data
        end = len(buffer)
        offset = 0
        packets = []
        append = packets.append
        maxLength = self.maxLength
        while end - offset >= 2:
            length = (buffer[offset] << 8) | buffer[offset + 1]
            if length == 0 or length > maxLength:
                self._buffer = b""
                raise SoupProtocolError(
                    "bad packet length %d (1 to %d allowed)" % (length, maxLength)
                )
            stop = offset + 2 + length
            if stop > end:
                break
            append((buffer[offset + 2 : offset + 3], buffer[offset + 3 : stop]))
            offset = stop
        self._buffer = buffer[offset:] if offset < end else b""
        self.complete = buffer[:offset]
        return packets

    @property
    def pending(self):
        """
        How many bytes of an incomplete packet are buffered.
        """
        return len(self._buffer)
