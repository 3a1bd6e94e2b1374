# -*- test-case-name: tests.test_testing_soup -*-
"""
An OUCH 4.2 client for tests (blocking), over SoupBinTCP 4.0:

    client = OuchClient(host, port, "trader", "secret")
    client.login()
    client.enter_order("o1", "buy", 100, "AAPL", "150.25")
    accepted = client.wait_for("A", token="o1")
    client.cancel_order("o1")
    client.wait_for("C", token="o1")
    client.logout()

Every message the venue sends is an L{OuchMessage}: a dict of named
fields (text stripped of padding, prices as L{Decimal}) with a
C{msg_type}.
"""

import struct
import time
from decimal import Decimal

from exsim.soup import ouch42, packets
from exsim.testing._wire import BlockingClient, ConnectionClosed

__all__ = ["OuchClient", "OuchMessage", "SoupClient", "SoupLoginRejected"]

PRICE_SCALE = 10000

#: Outbound message type -> the names of its fields (after the type).
OUTBOUND_FIELDS = {
    b"S": ("timestamp", "event_code"),
    b"A": ("timestamp", "token", "side", "shares", "stock", "price", "time_in_force", "firm",
           "display", "order_reference", "capacity", "iso", "minimum_quantity", "cross_type",
           "order_state", "bbo_weight_indicator"),
    b"U": ("timestamp", "token", "side", "shares", "stock", "price", "time_in_force", "firm",
           "display", "order_reference", "capacity", "iso", "minimum_quantity", "cross_type",
           "order_state", "previous_token", "bbo_weight_indicator"),
    b"C": ("timestamp", "token", "decrement_shares", "reason"),
    b"E": ("timestamp", "token", "shares", "price", "liquidity", "match_number"),
    b"B": ("timestamp", "token", "match_number", "reason"),
    b"J": ("timestamp", "token", "reason"),
    b"P": ("timestamp", "token"),
    b"I": ("timestamp", "token"),
}

SIDES = {"buy": b"B", "sell": b"S", "sell_short": b"T", "short": b"T", "sell_short_exempt": b"E"}


class SoupLoginRejected(ConnectionClosed):
    """
    The venue answered the Login Request with Login Rejected.

    @ivar reason: C{"A"} (not authorized) or C{"S"} (session not
        available).
    """

    def __init__(self, reason):
        ConnectionClosed.__init__(
            self,
            "login rejected: %s"
            % {"A": "not authorized", "S": "session not available"}.get(reason, reason),
        )
        self.reason = reason


def toPrice(value):
    """
    A price (decimal text or a number) as OUCH's integer with four
    implied decimals.
    """
    scaled = Decimal(str(value)) * PRICE_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError("price %r has more than four decimals" % (value,))
    return int(scaled)


def _value(name, raw):
    if isinstance(raw, bytes):
        return raw.rstrip(b" ").decode("latin-1")
    if name == "price":
        return Decimal(raw) / PRICE_SCALE
    return raw


class OuchMessage(dict):
    """
    One decoded message: its fields by name; C{msg_type} is its type
    (text); C{raw} the payload.
    """

    def __init__(self, msgType, fields, raw=b""):
        dict.__init__(self, fields)
        self["type"] = msgType
        self.msg_type = msgType
        self.raw = raw

    def __repr__(self):
        return "<OuchMessage %s %s>" % (
            self.msg_type,
            " ".join("%s=%r" % (k, v) for k, v in self.items() if k not in ("type", "timestamp")),
        )


def decodeOuch(payload):
    """
    An outbound OUCH 4.2 payload as an L{OuchMessage}.
    """
    msgType = payload[:1]
    names = OUTBOUND_FIELDS.get(msgType)
    if names is None:
        return OuchMessage(msgType.decode("latin-1"), {"payload": payload[1:]}, payload)
    try:
        values = ouch42.OUTBOUND[msgType].unpack(payload)[1:]
    except struct.error:
        return OuchMessage(msgType.decode("latin-1"), {"payload": payload[1:]}, payload)
    return OuchMessage(
        msgType.decode("latin-1"),
        {name: _value(name, raw) for name, raw in zip(names, values)},
        payload,
    )


class SoupClient(BlockingClient):
    """
    A SoupBinTCP 4.0 client: logs in, sends heartbeats when idle, turns
    Sequenced Data into messages (with C{decode}).

    @ivar session: the session name the venue accepted the login for.
    @ivar sequence: the sequence number of the next Sequenced Data.
    """

    heartbeatInterval = 1.0

    def __init__(self, host, port, username, password, session="", sequence=1, timeout=10.0,
                 tls=None, server_hostname=None, clock=None):
        self._clock = clock or time.monotonic
        self.username = username
        self.password = password
        self.requestedSession = session
        self.requestedSequence = sequence
        self.session = None
        self.sequence = None
        self.ended = False
        self._reader = packets.PacketReader(65535)
        self._lastSent = self._clock()
        BlockingClient.__init__(self, host, port, timeout, tls, server_hostname)

    def decode(self, payload):
        raise NotImplementedError()

    def _send(self, data):
        BlockingClient._send(self, data)
        self._lastSent = self._clock()

    def _feed(self, data):
        messages = []
        for packetType, payload in self._reader.feed(data):
            if packetType == b"S":
                self.sequence += 1
                messages.append(self.decode(payload))
            elif packetType == b"A":
                self.session = payload[:10].strip().decode("latin-1")
                self.sequence = self.accepted_sequence = int(payload[10:30].strip() or b"1")
            elif packetType == b"J":
                self.rejected = payload.decode("latin-1")
            elif packetType == b"Z":
                self.ended = True
        return messages

    def _tick(self):
        if not self.closed and self.session is not None:
            if self._clock() - self._lastSent >= self.heartbeatInterval:
                self._send(packets.CLIENT_HEARTBEAT_PACKET)

    rejected = None

    def login(self, timeout=None):
        """
        Send the Login Request and wait for the answer.

        @return: (session, the sequence number of the first message it
            sends).
        @raise SoupLoginRejected: if the venue rejects it.
        """
        self._send(packets.loginRequest(
            self.username, self.password, self.requestedSession, self.requestedSequence
        ))
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while self.session is None:
            if self.rejected is not None:
                raise SoupLoginRejected(self.rejected)
            if self.closed:
                raise ConnectionClosed("the venue closed the connection before answering the login")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectionClosed("no answer to the login in time")
            self.poll(min(remaining, 1.0))
        return self.session, self.accepted_sequence

    def send_unsequenced(self, payload):
        """
        Send an Unsequenced Data packet.
        """
        self._send(packets.packet(packets.UNSEQUENCED_DATA, payload))

    def logout(self):
        """
        Send a Logout Request and close the connection.
        """
        if not self.closed:
            try:
                self._send(packets.LOGOUT_REQUEST_PACKET)
            except OSError:
                pass
        self.close()


class OuchClient(SoupClient):
    """
    An OUCH 4.2 order-entry client (see the module's docstring).
    Prices are decimal text or numbers; sides C{buy}, C{sell},
    C{sell_short} or the OUCH letter.
    """

    def decode(self, payload):
        return decodeOuch(payload)

    def enter_order(self, token, side, shares, stock, price, time_in_force=ouch42.TIF_MARKET_HOURS,
                    firm="", display="Y", capacity="A", iso="N", minimum_quantity=0,
                    cross_type="N", customer_type=" "):
        """
        Send an Enter Order (O).  C{price} C{None} sends a market order.
        """
        if isinstance(side, str):
            side = SIDES.get(side.lower()) or side.encode("ascii")
        self.send_unsequenced(ouch42.enterOrder(
            token, side, int(shares), stock,
            ouch42.MARKET_PRICE if price is None else toPrice(price),
            int(time_in_force), firm, _byte(display), _byte(capacity), _byte(iso),
            int(minimum_quantity), _byte(cross_type), _byte(customer_type),
        ))
        return token

    def replace_order(self, existing, replacement, shares, price,
                      time_in_force=ouch42.TIF_MARKET_HOURS, display="Y", iso="N",
                      minimum_quantity=0):
        """
        Send a Replace Order (U).
        """
        self.send_unsequenced(ouch42.replaceOrder(
            existing, replacement, int(shares),
            ouch42.MARKET_PRICE if price is None else toPrice(price),
            int(time_in_force), _byte(display), _byte(iso), int(minimum_quantity),
        ))
        return replacement

    def cancel_order(self, token, shares=0):
        """
        Send a Cancel Order (X): C{shares} is what is to remain (0 cancels
        the whole order).
        """
        self.send_unsequenced(ouch42.cancelOrder(token, int(shares)))
        return token


def _byte(value):
    return value if isinstance(value, bytes) else str(value).encode("ascii")
