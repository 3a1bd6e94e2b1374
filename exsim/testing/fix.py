# -*- test-case-name: tests.test_testing_fix -*-
"""
FIX initiators for tests, built on simplefix (a FIX codec independent of
exsim's own, so that exsim is not tested against itself):

 - L{FixClient}: blocking, on a socket;
 - L{AsyncFixClient}: a Twisted protocol whose waits are Deferreds.

Both log on and out with sequence numbers kept, answer TestRequests and
ResendRequests (with a GapFill), send Heartbeats when idle, keep every
message sent (C{sent}) and received (C{messages}) for assertions, and
offer C{new_order}, C{cancel}, C{replace} and C{status} (the orders
sent are remembered, so a cancel names only the order) and C{wait_for}.

The public methods and their arguments are snake_case, as exsim's
management operations are: they are the tests' vocabulary.
"""

import datetime
import itertools

import simplefix
from twisted.internet import defer, protocol, task
from twisted.logger import Logger

from exsim.testing._wire import (
    BlockingClient,
    ConnectionClosed,
    WaitTimeout,
    describe,
    matcher,
)

__all__ = ["AsyncFixClient", "FixClient", "FixMessage", "FixTimeout", "connectFix"]

#: The wait timeout error (an alias of L{exsim.testing._wire.WaitTimeout}).
FixTimeout = WaitTimeout

#: Side names a test may give (the FIX codes are accepted too).
SIDES = {"buy": "1", "sell": "2", "sell_short": "5", "short": "5"}

#: Time in force names (the FIX codes are accepted too).
TIME_IN_FORCE = {"day": "0", "gtc": "1", "ioc": "3", "fok": "4", "gtd": "6"}

#: ApplVerID of DefaultApplVerID (1137) per FIX 5.0 service pack.
APPL_VER_IDS = {"FIX.5.0": "7", "FIX.5.0SP1": "8", "FIX.5.0SP2": "9"}

_ADMIN = frozenset("0A12345")


class FixMessage:
    """
    One FIX message, as received or sent.

    C{message[tag]} is the first value of C{tag} as text (C{KeyError} if
    absent), C{message.get(tag)} the same or a default, C{values(tag)}
    every value of C{tag} in order; C{pairs} is the list of (tag, text) in
    wire order, C{raw} the bytes.
    """

    __slots__ = ("pairs", "fields", "raw")

    def __init__(self, pairs, raw=b""):
        self.pairs = pairs
        self.raw = raw
        fields = {}
        for tag, value in pairs:
            fields.setdefault(tag, value)
        self.fields = fields

    @classmethod
    def fromSimplefix(cls, message):
        pairs = [
            (int(tag), value.decode("latin-1")) for tag, value in message
        ]
        return cls(pairs, message.encode(raw=True))

    @property
    def msg_type(self):
        """
        The MsgType (35).
        """
        return self.fields.get(35)

    @property
    def seq_num(self):
        """
        The MsgSeqNum (34) as an integer, or C{None}.
        """
        value = self.fields.get(34)
        return int(value) if value is not None and value.isdigit() else None

    def __getitem__(self, tag):
        return self.fields[int(tag)]

    def get(self, tag, default=None):
        return self.fields.get(int(tag), default)

    def __contains__(self, tag):
        return int(tag) in self.fields

    def values(self, tag):
        tag = int(tag)
        return [value for t, value in self.pairs if t == tag]

    def __repr__(self):
        return "<FixMessage %s>" % ("|".join("%d=%s" % pair for pair in self.pairs),)


def _side(side):
    text = str(side).lower()
    return SIDES.get(text, text)


def _tif(timeInForce):
    text = str(timeInForce).lower()
    return TIME_IN_FORCE.get(text, text)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


class FixSessionState:
    """
    The session layer of an initiator, without I/O: encodes messages with
    their header and sequence numbers, decodes what arrives, and answers
    the session's administrative messages.  L{FixClient} and
    L{AsyncFixClient} move its bytes.

    @ivar next_out_seq: the MsgSeqNum of the next message sent.
    @ivar next_in_seq: the MsgSeqNum expected next.
    @ivar messages: every message received.
    @ivar sent: every message sent.
    @ivar logged_on: a Logon was answered and no Logout since.
    """

    def __init__(self, sender_comp_id, target_comp_id, begin_string, heartbeat_interval,
                 username=None, password=None, default_appl_ver_id="FIX.5.0SP2"):
        self.sender_comp_id = sender_comp_id
        self.target_comp_id = target_comp_id
        self.begin_string = begin_string
        self.heartbeat_interval = heartbeat_interval
        self.username = username
        self.password = password
        self.default_appl_ver_id = default_appl_ver_id
        self.next_out_seq = 1
        self.next_in_seq = 1
        self.logged_on = False
        self.logout_sent = False
        self.logout_received = None
        self.sent = []
        self._parser = simplefix.FixParser()
        self._orders = {}
        self._ids = itertools.count(1)
        self.lastSent = 0.0
        self.lastReceived = 0.0
        self._testRequestAt = None

    # -- encoding ------------------------------------------------------------

    def encode(self, msg_type, fields=(), seq_num=None, header=(), now=0.0):
        """
        A message with our header, as bytes; it takes the next sequence
        number unless C{seq_num} is given.
        """
        message = simplefix.FixMessage()
        message.append_pair(8, self.begin_string, header=True)
        message.append_pair(35, msg_type, header=True)
        message.append_pair(49, self.sender_comp_id, header=True)
        message.append_pair(56, self.target_comp_id, header=True)
        if seq_num is None:
            seq_num = self.next_out_seq
            self.next_out_seq += 1
        message.append_pair(34, seq_num, header=True)
        for tag, value in header:
            message.append_pair(tag, value, header=True)
        message.append_pair(52, _now(), header=True)
        for tag, value in fields:
            message.append_pair(tag, value)
        data = message.encode()
        self.sent.append(FixMessage.fromSimplefix(message))
        self.lastSent = now
        return data

    def logon(self, reset_seq_num=False, now=0.0):
        fields = [(98, 0), (108, self.heartbeat_interval)]
        if reset_seq_num:
            self.next_out_seq = self.next_in_seq = 1
            fields.append((141, "Y"))
        if self.username is not None:
            fields.append((553, self.username))
        if self.password is not None:
            fields.append((554, self.password))
        if self.begin_string == "FIXT.1.1":
            version = self.default_appl_ver_id
            fields.append((1137, APPL_VER_IDS.get(version, version)))
        self.logout_sent = False
        self.logout_received = None
        return self.encode("A", fields, now=now)

    def logout(self, text=None, now=0.0):
        self.logout_sent = True
        return self.encode("5", [(58, text)] if text else [], now=now)

    # -- orders --------------------------------------------------------------

    def newClOrdId(self):
        return "%s-%d" % (self.sender_comp_id, next(self._ids))

    def _appFields(self, fields):
        if self.begin_string in ("FIX.4.0", "FIX.4.1", "FIX.4.2"):
            # HandlInst: required before FIX 4.3.
            return [(21, "1")] + fields
        return fields

    def newOrder(self, symbol, side, quantity, price=None, cl_ord_id=None, time_in_force="day",
                 order_type=None, extra=()):
        clOrdId = cl_ord_id or self.newClOrdId()
        if order_type is None:
            order_type = "1" if price is None else "2"
        fields = [(11, clOrdId), (55, symbol), (54, _side(side)), (60, _now()),
                  (38, quantity), (40, order_type)]
        if price is not None:
            fields.append((44, price))
        fields.append((59, _tif(time_in_force)))
        fields.extend(extra)
        self._orders[clOrdId] = {
            "symbol": symbol, "side": _side(side), "quantity": quantity, "price": price,
            "order_type": order_type, "time_in_force": _tif(time_in_force),
        }
        return clOrdId, self._appFields(fields)

    def _order(self, orig):
        try:
            return self._orders[orig]
        except KeyError:
            raise KeyError("no order %r was sent by this client" % (orig,))

    def cancel(self, orig_cl_ord_id, cl_ord_id=None, extra=()):
        order = self._order(orig_cl_ord_id)
        clOrdId = cl_ord_id or self.newClOrdId()
        fields = [(41, orig_cl_ord_id), (11, clOrdId), (55, order["symbol"]),
                  (54, order["side"]), (60, _now()), (38, order["quantity"])]
        fields.extend(extra)
        return clOrdId, fields

    def replace(self, orig_cl_ord_id, quantity=None, price=None, cl_ord_id=None, extra=()):
        order = dict(self._order(orig_cl_ord_id))
        clOrdId = cl_ord_id or self.newClOrdId()
        if quantity is not None:
            order["quantity"] = quantity
        if price is not None:
            order["price"] = price
        fields = [(41, orig_cl_ord_id), (11, clOrdId), (55, order["symbol"]),
                  (54, order["side"]), (60, _now()), (38, order["quantity"]),
                  (40, order["order_type"])]
        if order["price"] is not None:
            fields.append((44, order["price"]))
        fields.append((59, order["time_in_force"]))
        fields.extend(extra)
        self._orders[clOrdId] = order
        return clOrdId, self._appFields(fields)

    def status(self, cl_ord_id, extra=()):
        order = self._order(cl_ord_id)
        fields = [(11, cl_ord_id), (55, order["symbol"]), (54, order["side"])]
        fields.extend(extra)
        return fields

    # -- decoding ------------------------------------------------------------

    def feed(self, data, now=0.0):
        """
        Decode C{data}; answer administrative messages.

        @return: (messages received, bytes to send in answer).
        """
        self._parser.append_buffer(data)
        messages = []
        replies = []
        while True:
            parsed = self._parser.get_message()
            if parsed is None:
                break
            message = FixMessage.fromSimplefix(parsed)
            messages.append(message)
            self.lastReceived = now
            self._testRequestAt = None
            replies.extend(self._handle(message, now))
        return messages, b"".join(replies)

    def _handle(self, message, now):
        msgType = message.msg_type
        seq = message.seq_num
        replies = []
        if msgType == "4" and message.get(123) != "Y":
            # SequenceReset-Reset: the venue's next number, whatever this one's.
            newSeq = message.get(36)
            if newSeq is not None and newSeq.isdigit():
                self.next_in_seq = int(newSeq)
            return replies
        if seq is not None:
            if seq > self.next_in_seq and msgType not in ("A", "5", "2"):
                replies.append(self.encode("2", [(7, self.next_in_seq), (16, 0)], now=now))
            if seq >= self.next_in_seq:
                self.next_in_seq = seq + 1
            elif msgType == "A":
                self.next_in_seq = seq + 1
        if msgType == "4":
            newSeq = message.get(36)
            if newSeq is not None and newSeq.isdigit():
                self.next_in_seq = max(self.next_in_seq, int(newSeq))
        elif msgType == "A":
            self.logged_on = True
        elif msgType == "5":
            self.logged_on = False
            self.logout_received = message
            if not self.logout_sent:
                replies.append(self.logout(now=now))
        elif msgType == "1":
            replies.append(self.encode("0", [(112, message.get(112, ""))], now=now))
        elif msgType == "2":
            replies.append(self._gapFill(message, now))
        return replies

    def _gapFill(self, message, now):
        """
        Answer a ResendRequest with a GapFill to our next number: a test
        client does not replay its orders.
        """
        begin = message.get(7, "1")
        begin = int(begin) if begin.isdigit() else 1
        if begin >= self.next_out_seq:
            begin = self.next_out_seq
        return self.encode(
            "4", [(123, "Y"), (36, self.next_out_seq)], seq_num=begin,
            header=[(43, "Y"), (122, _now())], now=now,
        )

    def tick(self, now):
        """
        What to send now to keep the session alive (a Heartbeat, or a
        TestRequest when the venue has been silent), as bytes.
        """
        hb = self.heartbeat_interval
        if not self.logged_on or self.logout_sent or hb <= 0:
            return b""
        out = []
        if now - self.lastReceived >= hb * 1.5 and self._testRequestAt is None:
            self._testRequestAt = now
            out.append(self.encode("1", [(112, "T%d" % (now,))], now=now))
        if now - self.lastSent >= hb:
            out.append(self.encode("0", [], now=now))
        return b"".join(out)


class _OrderMethods:
    """
    C{new_order}, C{cancel}, C{replace} and C{status} for both clients:
    each sends at once and returns the ClOrdID.
    """

    def new_order(self, symbol, side, quantity, price=None, cl_ord_id=None,
                  time_in_force="day", order_type=None, extra=()):
        """
        Send a NewOrderSingle (D).

        @param side: C{buy}, C{sell}, C{sell_short} or a FIX code.
        @param price: the limit price (decimal text or a number); C{None}
            sends a market order.
        @param time_in_force: C{day}, C{gtc}, C{ioc}, C{fok}, C{gtd} or a
            FIX code.
        @param extra: more (tag, value) pairs.
        @return: the ClOrdID (generated unless given).
        """
        clOrdId, fields = self.state.newOrder(
            symbol, side, quantity, price, cl_ord_id, time_in_force, order_type, extra
        )
        self.send("D", fields)
        return clOrdId

    def cancel(self, orig_cl_ord_id, cl_ord_id=None, extra=()):
        """
        Send an OrderCancelRequest (F) for an order this client sent.

        @return: the ClOrdID of the request.
        """
        clOrdId, fields = self.state.cancel(orig_cl_ord_id, cl_ord_id, extra)
        self.send("F", fields)
        return clOrdId

    def replace(self, orig_cl_ord_id, quantity=None, price=None, cl_ord_id=None, extra=()):
        """
        Send an OrderCancelReplaceRequest (G) for an order this client
        sent, with a new quantity and/or price.

        @return: the ClOrdID of the request.
        """
        clOrdId, fields = self.state.replace(orig_cl_ord_id, quantity, price, cl_ord_id, extra)
        self.send("G", fields)
        return clOrdId

    def status(self, cl_ord_id, extra=()):
        """
        Send an OrderStatusRequest (H) for an order this client sent.
        """
        self.send("H", self.state.status(cl_ord_id, extra))
        return cl_ord_id

    @property
    def sent(self):
        return self.state.sent

    @property
    def logged_on(self):
        return self.state.logged_on

    @staticmethod
    def report(cl_ord_id=None, exec_type=None):
        """
        A C{wait_for} predicate: an ExecutionReport (8), of C{cl_ord_id}
        and C{exec_type} (150) if given.
        """

        def isReport(message):
            return (
                message.msg_type == "8"
                and (cl_ord_id is None or message.get(11) == cl_ord_id)
                and (exec_type is None or message.get(150) == exec_type)
            )

        isReport.__name__ = "ExecutionReport(11=%s, 150=%s)" % (cl_ord_id, exec_type)
        return isReport


def _fixFields(fields):
    """
    C{wait_for}'s keyword fields for FIX: C{tag_11="o1"} or C{t11="o1"}.
    """
    result = {}
    for name, value in fields.items():
        digits = name[4:] if name.startswith("tag_") else name[1:] if name.startswith("t") else name
        if not digits.isdigit():
            raise TypeError("FIX fields are given as tag_NNN=value, not %s" % (name,))
        result[int(digits)] = value
    return result


class FixClient(_OrderMethods, BlockingClient):
    """
    A blocking FIX initiator::

        client = FixClient(host, port, "CLIENT", "EXSIM", "FIX.4.4")
        client.logon()
        client.new_order("AAPL", "buy", 100, "150.25", cl_ord_id="o1")
        ack = client.wait_for(client.report("o1", "0"))
        client.logout()

    @param tls: C{None} (plain TCP), C{True}, the path of a CA file to
        trust, or an L{ssl.SSLContext}.
    @ivar state: the L{FixSessionState}.
    """

    def __init__(self, host, port, sender_comp_id="CLIENT", target_comp_id="EXSIM",
                 begin_string="FIX.4.4", heartbeat_interval=30, username=None, password=None,
                 timeout=10.0, tls=None, server_hostname=None,
                 default_appl_ver_id="FIX.5.0SP2", clock=None):
        import time

        self._clock = clock or time.monotonic
        self.state = FixSessionState(
            sender_comp_id, target_comp_id, begin_string, heartbeat_interval, username,
            password, default_appl_ver_id,
        )
        BlockingClient.__init__(self, host, port, timeout, tls, server_hostname)

    def _feed(self, data):
        messages, replies = self.state.feed(data, self._clock())
        if replies:
            self._send(replies)
        return messages

    def _tick(self):
        if not self.closed:
            out = self.state.tick(self._clock())
            if out:
                self._send(out)

    def send(self, msg_type, fields=(), header=()):
        """
        Send a message of type C{msg_type} with the body C{fields}
        ((tag, value) pairs, in order) and our header.
        """
        self._send(self.state.encode(msg_type, list(fields), header=header, now=self._clock()))

    def send_raw(self, data):
        """
        Send bytes as they are (for malformed-message tests).
        """
        self._send(data)

    def wait_for(self, predicate=None, timeout=None, **fields):
        """
        See L{BlockingClient.wait_for}; field filters are C{tag_NNN=value}.
        """
        return self._waitFor(predicate, timeout, _fixFields(fields))

    def logon(self, reset_seq_num=False, timeout=None):
        """
        Send a Logon and wait for the answer.

        @return: the venue's Logon.
        @raise ConnectionClosed: if the venue refuses (its Logout's Text
            is in the message).
        """
        self._send(self.state.logon(reset_seq_num, self._clock()))
        try:
            return self.wait_for("A", timeout)
        except ConnectionClosed:
            refusal = self.state.logout_received
            if refusal is not None:
                raise ConnectionClosed("logon refused: %s" % (refusal.get(58, "(no text)"),))
            raise

    def logout(self, text=None, timeout=None):
        """
        Send a Logout, wait for the venue's, and close the connection.

        @return: the venue's Logout (C{None} if the connection closed
            without one).
        """
        if self.state.logout_received is None and not self.closed:
            self._send(self.state.logout(text, self._clock()))
            try:
                self.wait_for("5", timeout)
            except ConnectionClosed:
                pass
        self.close()
        return self.state.logout_received


class AsyncFixClient(_OrderMethods, protocol.Protocol):
    """
    A FIX initiator as a Twisted protocol: C{logon}, C{logout} and
    C{wait_for} return Deferreds; see L{connectFix}.

    @ivar messages: every message received.
    @ivar state: the L{FixSessionState}.
    """

    log = Logger()

    def __init__(self, reactor, sender_comp_id="CLIENT", target_comp_id="EXSIM",
                 begin_string="FIX.4.4", heartbeat_interval=30, username=None, password=None,
                 timeout=10.0, default_appl_ver_id="FIX.5.0SP2"):
        self.reactor = reactor
        self.timeout = timeout
        self.state = FixSessionState(
            sender_comp_id, target_comp_id, begin_string, heartbeat_interval, username,
            password, default_appl_ver_id,
        )
        self.messages = []
        self._unclaimed = []
        self._waiters = []
        self._heartbeat = None
        self.closed = False
        self.disconnected = defer.Deferred()

    def connectionMade(self):
        self._heartbeat = task.LoopingCall(self._tick)
        self._heartbeat.clock = self.reactor
        self._heartbeat.start(1.0, now=False)

    def _tick(self):
        out = self.state.tick(self.reactor.seconds())
        if out:
            self.transport.write(out)

    def dataReceived(self, data):
        messages, replies = self.state.feed(data, self.reactor.seconds())
        if replies:
            self.transport.write(replies)
        self.messages.extend(messages)
        self._unclaimed.extend(messages)
        self._match()

    def _match(self):
        for waiter in list(self._waiters):
            match, d, call = waiter
            for i, message in enumerate(self._unclaimed):
                if match(message):
                    del self._unclaimed[i]
                    self._waiters.remove(waiter)
                    if call.active():
                        call.cancel()
                    d.callback(message)
                    break

    def connectionLost(self, reason=protocol.connectionDone):
        self.closed = True
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        waiters, self._waiters = self._waiters, []
        for match, d, call in waiters:
            if call.active():
                call.cancel()
            d.errback(ConnectionClosed("the venue closed the connection; last received: %s"
                                       % (self._recent(),)))
        self.disconnected.callback(None)

    def _recent(self, count=5):
        return "; ".join(repr(m) for m in self.messages[-count:]) or "nothing"

    def send(self, msg_type, fields=(), header=()):
        """
        Send a message of type C{msg_type} with the body C{fields}.
        """
        self.transport.write(
            self.state.encode(msg_type, list(fields), header=header, now=self.reactor.seconds())
        )

    def send_raw(self, data):
        self.transport.write(data)

    def wait_for(self, predicate=None, timeout=None, **fields):
        """
        A Deferred firing with the first unclaimed message that matches
        (as L{FixClient.wait_for}), failing with L{WaitTimeout} after
        C{timeout} seconds or L{ConnectionClosed}.
        """
        fields = _fixFields(fields)
        match = matcher(predicate, fields)
        wait = self.timeout if timeout is None else timeout
        for i, message in enumerate(self._unclaimed):
            if match(message):
                del self._unclaimed[i]
                return defer.succeed(message)
        if self.closed:
            return defer.fail(ConnectionClosed("the connection is closed; last received: %s"
                                               % (self._recent(),)))
        d = defer.Deferred()

        def expired():
            waiter = [w for w in self._waiters if w[1] is d]
            if waiter:
                self._waiters.remove(waiter[0])
                d.errback(WaitTimeout("no %s in %s seconds; last received: %s"
                                      % (describe(predicate, fields), wait, self._recent())))

        call = self.reactor.callLater(wait, expired)
        self._waiters.append((match, d, call))
        return d

    def logon(self, reset_seq_num=False, timeout=None):
        """
        Send a Logon; a Deferred firing with the venue's Logon.
        """
        self.transport.write(self.state.logon(reset_seq_num, self.reactor.seconds()))
        d = self.wait_for("A", timeout)

        def refused(failure):
            failure.trap(ConnectionClosed)
            refusal = self.state.logout_received
            if refusal is not None:
                raise ConnectionClosed("logon refused: %s" % (refusal.get(58, "(no text)"),))
            return failure

        return d.addErrback(refused)

    def logout(self, text=None, timeout=None):
        """
        Send a Logout, wait for the venue's, then drop the connection.

        @return: a Deferred firing with the venue's Logout (or C{None})
            once the connection is closed.
        """
        if self.closed:
            return defer.succeed(self.state.logout_received)
        if self.state.logout_received is None:
            self.transport.write(self.state.logout(text, self.reactor.seconds()))
            d = self.wait_for("5", timeout)
            d.addErrback(lambda f: f.trap(ConnectionClosed, WaitTimeout) and None)
        else:
            d = defer.succeed(None)

        def close(_):
            if not self.closed:
                self.transport.loseConnection()
            return self.disconnected

        d.addCallback(close)
        return d.addCallback(lambda _: self.state.logout_received)


def connectFix(reactor, endpoint, logon=True, reset_seq_num=False, **options):
    """
    Connect an L{AsyncFixClient} to a client endpoint string (C{tcp:HOST:
    PORT}, C{ssl:host=HOST:port=PORT:caCertsDir=DIR}, ...) or an
    L{IStreamClientEndpoint}, and log on unless C{logon} is false.

    @param options: L{AsyncFixClient}'s keyword arguments.
    @return: a Deferred firing with the client.
    """
    from twisted.internet.endpoints import clientFromString, connectProtocol

    if isinstance(endpoint, str):
        endpoint = clientFromString(reactor, endpoint)
    client = AsyncFixClient(reactor, **options)
    d = connectProtocol(endpoint, client)
    if logon:
        d.addCallback(lambda _: client.logon(reset_seq_num))
    return d.addCallback(lambda _: client)

