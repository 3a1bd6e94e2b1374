"""
Managed mode from a trial test, written with Deferreds: an asynchronous
management client and a Twisted FIX client on the test's reactor.

Run it with ``trial examples/test_trial_example.py`` (from the examples
directory).
"""

import time

import simplefix
from twisted.internet import defer, endpoints, protocol, reactor
from twisted.trial import unittest

from exsim.testing import connectedClient


class FixInitiator(protocol.Protocol):
    """
    A minimal FIX client: sends what it is told, queues what it reads.
    """

    def __init__(self, sender, target, beginString):
        self.sender, self.target, self.beginString = sender, target, beginString
        self.seqNum = 1
        self.parser = simplefix.FixParser()
        self.messages = defer.DeferredQueue()
        self.closed = defer.Deferred()

    def send(self, msgType, fields):
        message = simplefix.FixMessage()
        for tag, value in [(8, self.beginString), (35, msgType), (49, self.sender),
                           (56, self.target), (34, self.seqNum)]:
            message.append_pair(tag, value, header=True)
        message.append_utc_timestamp(52, precision=3, header=True)
        for tag, value in fields:
            message.append_pair(tag, value)
        self.seqNum += 1
        self.transport.write(message.encode())

    def dataReceived(self, data):
        self.parser.append_buffer(data)
        while True:
            message = self.parser.get_message()
            if message is None:
                return
            fields = {}
            for tag, value in message:
                fields.setdefault(int(tag), value.decode("ascii", "replace"))
            self.messages.put(fields)

    def connectionLost(self, reason):
        self.closed.callback(None)

    @defer.inlineCallbacks
    def receiveApp(self, msgType):
        while True:
            message = yield self.messages.get()
            if message[35] == msgType:
                return message


class ManagedFillTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.server, self.venue = yield connectedClient(self, reactor)
        venue = self.venue
        yield venue.create_engine("e1", "matching")
        yield venue.set_engine_property("e1", "mode", "managed")
        yield venue.create_book("AAPL", "e1", "AAPL")
        yield venue.create_endpoint("fix1", "e1", "fix")
        yield venue.set_protocol_property("fix1", "sender_comp_id", "EXSIM")
        yield venue.set_protocol_property("fix1", "target_comp_id", "CLIENT")
        yield venue.set_protocol_property("fix1", "begin_string", "FIX.4.2")
        yield venue.start_endpoint("fix1")
        host, port = yield venue.get_endpoint_address("fix1")
        ep = endpoints.TCP4ClientEndpoint(reactor, host, port)
        self.fix = yield endpoints.connectProtocol(ep, FixInitiator("CLIENT", "EXSIM", "FIX.4.2"))
        self.addCleanup(self._disconnect)
        self.fix.send("A", [(98, 0), (108, 30)])
        yield self.fix.receiveApp("A")

    def _disconnect(self):
        self.fix.transport.loseConnection()
        return self.fix.closed

    @defer.inlineCallbacks
    def test_partialFill(self):
        self.fix.send("D", [
            (11, "ord1"), (21, 1), (55, "AAPL"), (54, 1),
            (60, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime())),
            (38, 100), (40, 2), (44, "150.25"), (59, 0),
        ])
        request = yield self.venue.wait_for_event("order_request", cl_ord_id="ord1")
        self.assertEqual((request["kind"], request["quantity"]), ("new", 100))
        yield self.venue.fill_order(request["order_id"], 40, "150.25")

        new = yield self.fix.receiveApp("8")
        self.assertEqual((new[11], new[150], new[39]), ("ord1", "0", "0"))
        fill = yield self.fix.receiveApp("8")
        self.assertEqual(
            (fill[150], fill[39], fill[32], fill[31], fill[14], fill[151]),
            ("1", "1", "40", "150.25", "40", "60"),
        )
        book = yield self.venue.get_book("AAPL")
        self.assertEqual(book["bids"], [("150.25", 60, 1)])
