"""
A small blocking FIX initiator for the examples: just enough to log on,
send an order and read what comes back.  Built on simplefix.
"""

import socket
import time

import simplefix


class FixClient:
    """
    One FIX session over a blocking socket.

    @ivar received: every message read so far, as {tag: text} dicts (the
        first value of each tag).
    """

    def __init__(self, host, port, senderCompId="CLIENT", targetCompId="EXSIM",
                 beginString="FIX.4.2", timeout=10.0):
        self.senderCompId = senderCompId
        self.targetCompId = targetCompId
        self.beginString = beginString
        self.timeout = timeout
        self.seqNum = 1
        self.parser = simplefix.FixParser()
        self.received = []
        self.socket = socket.create_connection((host, port), timeout=timeout)

    def send(self, msgType, fields):
        message = simplefix.FixMessage()
        message.append_pair(8, self.beginString, header=True)
        message.append_pair(35, msgType, header=True)
        message.append_pair(49, self.senderCompId, header=True)
        message.append_pair(56, self.targetCompId, header=True)
        message.append_pair(34, self.seqNum, header=True)
        message.append_utc_timestamp(52, precision=3, header=True)
        for tag, value in fields:
            message.append_pair(tag, value)
        self.seqNum += 1
        self.socket.sendall(message.encode())

    def receive(self):
        """
        The next message, as a {tag: text} dict.

        @raise socket.timeout: if none arrives in C{timeout} seconds.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            message = self.parser.get_message()
            if message is not None:
                fields = {}
                for tag, value in message:
                    fields.setdefault(int(tag), value.decode("ascii", "replace"))
                self.received.append(fields)
                return fields
            self.socket.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.socket.recv(65536)
            if not data:
                raise ConnectionError("the venue closed the connection")
            self.parser.append_buffer(data)

    def receiveApp(self, msgType):
        """
        The next message of type C{msgType}, skipping heartbeats.
        """
        while True:
            message = self.receive()
            if message[35] == msgType:
                return message
            if message[35] not in ("0",):
                raise AssertionError("expected 35=%s, got %r" % (msgType, message))

    def logon(self, heartBtInt=30):
        self.send("A", [(98, 0), (108, heartBtInt)])
        return self.receiveApp("A")

    def newOrder(self, clOrdId, symbol, side, quantity, price):
        self.send("D", [
            (11, clOrdId), (21, 1), (55, symbol), (54, side),
            (60, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime())),
            (38, quantity), (40, 2), (44, price), (59, 0),
        ])

    def close(self):
        self.socket.close()
