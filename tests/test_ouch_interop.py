"""
Interoperability over real sockets on 127.0.0.1: Nasdaq's own
SoupBinTCP client (the C{nasdaq-protocols} package) logs in to an OUCH
endpoint, enters orders and receives the replies; the C{itchfeed} package
decodes the ITCH feed read over a real connection.

The third-party client runs on asyncio in a thread; the simulator runs on
the test's reactor.
"""

import asyncio

from nasdaq_protocols import ouch, soup
from nasdaq_protocols.common.message import Field, Record
from nasdaq_protocols.common.message.types import (
    CharAscii,
    FixedAsciiString,
    UnsignedIntBE,
    UnsignedLongBE,
)
from twisted.internet import defer, reactor, threads
from twisted.trial.unittest import TestCase

from exsim.service import Simulator

APP = "exsim_ouch42_test"


class Message(ouch.Message, app_name=APP):
    def __init_subclass__(cls, **kwargs):
        kwargs["app_name"] = APP
        super().__init_subclass__(**kwargs)


def token():
    return FixedAsciiString(length=14)


class EnterOrder(Message, indicator=ord("O"), direction="incoming"):
    class BodyRecord(Record):
        Fields = [
            Field("order_token", token()),
            Field("side", CharAscii),
            Field("shares", UnsignedIntBE),
            Field("stock", FixedAsciiString(length=8)),
            Field("price", UnsignedIntBE),
            Field("time_in_force", UnsignedIntBE),
            Field("firm", FixedAsciiString(length=4)),
            Field("display", CharAscii),
            Field("capacity", CharAscii),
            Field("iso", CharAscii),
            Field("minimum_quantity", UnsignedIntBE),
            Field("cross_type", CharAscii),
            Field("customer_type", CharAscii),
        ]


class CancelOrder(Message, indicator=ord("X"), direction="incoming"):
    class BodyRecord(Record):
        Fields = [Field("order_token", token()), Field("shares", UnsignedIntBE)]


class SystemEvent(Message, indicator=ord("S"), direction="outgoing"):
    class BodyRecord(Record):
        Fields = [Field("timestamp", UnsignedLongBE), Field("event_code", CharAscii)]


class Accepted(Message, indicator=ord("A"), direction="outgoing"):
    class BodyRecord(Record):
        Fields = [
            Field("timestamp", UnsignedLongBE),
            Field("order_token", token()),
            Field("side", CharAscii),
            Field("shares", UnsignedIntBE),
            Field("stock", FixedAsciiString(length=8)),
            Field("price", UnsignedIntBE),
            Field("time_in_force", UnsignedIntBE),
            Field("firm", FixedAsciiString(length=4)),
            Field("display", CharAscii),
            Field("order_reference_number", UnsignedLongBE),
            Field("capacity", CharAscii),
            Field("iso", CharAscii),
            Field("minimum_quantity", UnsignedIntBE),
            Field("cross_type", CharAscii),
            Field("order_state", CharAscii),
            Field("bbo_weight_indicator", CharAscii),
        ]


class Executed(Message, indicator=ord("E"), direction="outgoing"):
    class BodyRecord(Record):
        Fields = [
            Field("timestamp", UnsignedLongBE),
            Field("order_token", token()),
            Field("executed_shares", UnsignedIntBE),
            Field("execution_price", UnsignedIntBE),
            Field("liquidity_flag", CharAscii),
            Field("match_number", UnsignedLongBE),
        ]


class Canceled(Message, indicator=ord("C"), direction="outgoing"):
    class BodyRecord(Record):
        Fields = [
            Field("timestamp", UnsignedLongBE),
            Field("order_token", token()),
            Field("decrement_shares", UnsignedIntBE),
            Field("reason", CharAscii),
        ]


class Rejected(Message, indicator=ord("J"), direction="outgoing"):
    class BodyRecord(Record):
        Fields = [
            Field("timestamp", UnsignedLongBE),
            Field("order_token", token()),
            Field("reason", CharAscii),
        ]


class ClientSession(ouch.ClientSession):
    def decode(self, bytes_):
        return Message.from_bytes(bytes_)


def enterOrder(orderToken, side, shares, price, stock="AAPL"):
    message = EnterOrder()
    values = dict(
        order_token=orderToken, side=side, shares=shares, stock=stock, price=price,
        time_in_force=99999, firm="EXSM", display="Y", capacity="A", iso="N",
        minimum_quantity=0, cross_type="N", customer_type=" ",
    )
    for name, value in values.items():
        setattr(message, name, value)
    return message


async def connect(port, user, password, sequence=1):
    return await ouch.connect_async(
        ("127.0.0.1", port), user, password, "", sequence=sequence,
        session_factory=lambda s: ClientSession(s),
    )


async def receive(session, count):
    return [await asyncio.wait_for(session.receive_message(), 5) for _ in range(count)]


class NasdaqProtocolsTests(TestCase):
    """
    The nasdaq-protocols SoupBinTCP/OUCH client against a real listener.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.simulator = Simulator(reactor)
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1", "AAPL")
        self.simulator.create_endpoint("ouch1", "e1", "ouch")
        self.simulator.set_protocol_property("ouch1", "users", "alice:pw1,bob:pw2")
        self.simulator.set_protocol_property("ouch1", "listen", "tcp:0:interface=127.0.0.1")
        yield self.simulator.start_endpoint("ouch1")
        self.port = self.simulator.get_endpoint_address("ouch1")[1]

    def tearDown(self):
        return self.simulator.delete_endpoint("ouch1")

    def test_loginAndTrade(self):
        port = self.port

        async def scenario():
            alice = await connect(port, "alice", "pw1")
            bob = await connect(port, "bob", "pw2")
            try:
                [event] = await receive(alice, 1)
                [event2] = await receive(bob, 1)
                alice.send_message(enterOrder("SELL1", "S", 100, 1502500))
                [accepted] = await receive(alice, 1)
                bob.send_message(enterOrder("BUY1", "B", 40, 1503000))
                bobReplies = await receive(bob, 2)
                [aliceFill] = await receive(alice, 1)
                cancel = CancelOrder()
                cancel.order_token = "SELL1"
                cancel.shares = 0
                alice.send_message(cancel)
                [canceled] = await receive(alice, 1)
                bob.send_message(enterOrder("BUY2", "B", 10, 1502500, stock="NOPE"))
                [rejected] = await receive(bob, 1)
                return event, event2, accepted, bobReplies, aliceFill, canceled, rejected
            finally:
                await alice.close()
                await bob.close()

        d = threads.deferToThread(asyncio.run, scenario())

        def check(result):
            event, event2, accepted, bobReplies, aliceFill, canceled, rejected = result
            self.assertIsInstance(event, SystemEvent)
            self.assertEqual(event.event_code, "S")
            self.assertIsInstance(accepted, Accepted)
            self.assertEqual(
                (accepted.order_token, accepted.side, accepted.shares, accepted.stock,
                 accepted.price, accepted.order_state),
                ("SELL1", "S", 100, "AAPL", 1502500, "L"),
            )
            self.assertEqual([type(m) for m in bobReplies], [Accepted, Executed])
            executed = bobReplies[1]
            self.assertEqual(
                (executed.order_token, executed.executed_shares, executed.execution_price,
                 executed.liquidity_flag),
                ("BUY1", 40, 1502500, "R"),
            )
            self.assertIsInstance(aliceFill, Executed)
            self.assertEqual((aliceFill.liquidity_flag, aliceFill.match_number),
                             ("A", executed.match_number))
            self.assertIsInstance(canceled, Canceled)
            self.assertEqual((canceled.decrement_shares, canceled.reason), (60, "U"))
            self.assertIsInstance(rejected, Rejected)
            self.assertEqual((rejected.order_token, rejected.reason), ("BUY2", "S"))
            self.assertEqual(self.simulator.get_book("AAPL")["asks"], [])

        return d.addCallback(check)

    def test_badPasswordRejected(self):
        port = self.port

        async def scenario():
            try:
                await connect(port, "alice", "wrong")
            except ConnectionRefusedError as e:
                return str(e)
            return None

        d = threads.deferToThread(asyncio.run, scenario())

        def check(text):
            self.assertIsNotNone(text)
            self.assertIn("NOT_AUTHORIZED", text)

        return d.addCallback(check)

    def test_replayOnLogin(self):
        """
        The client logs in again with sequence number 1 (which
        nasdaq-protocols left-justifies) and gets every message again.
        """
        port = self.port

        async def scenario():
            alice = await connect(port, "alice", "pw1")
            await receive(alice, 1)
            alice.send_message(enterOrder("O1", "B", 10, 1500000))
            await receive(alice, 1)
            await alice.close()
            again = await connect(port, "alice", "pw1", sequence=1)
            try:
                return await receive(again, 2)
            finally:
                await again.close()

        d = threads.deferToThread(asyncio.run, scenario())

        def check(messages):
            self.assertEqual([type(m) for m in messages], [SystemEvent, Accepted])
            self.assertEqual(messages[1].order_token, "O1")

        return d.addCallback(check)

    def test_reloginAfterDrop(self):
        """
        inject_fault drop: the Accepted is not sent; the client logs in
        again asking for the sequence number after the last it got and
        receives it.
        """
        port = self.port
        simulator = self.simulator

        async def scenario():
            alice = await connect(port, "alice", "pw1", sequence=1)
            [event] = await receive(alice, 1)
            threads.blockingCallFromThread(reactor, simulator.inject_fault, "ouch1/alice", "drop", 1)
            alice.send_message(enterOrder("D1", "B", 10, 1500000))
            # The order reaches the engine; its Accepted does not reach
            # the client.
            for _ in range(100):
                order = threads.blockingCallFromThread(
                    reactor, lambda: simulator.engines["e1"].findOrder("ouch1/alice", "D1")
                )
                if order is not None:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)
            missing = alice._message_queue.get_nowait()
            await alice.close()
            again = await connect(port, "alice", "pw1", sequence=2)
            try:
                [accepted] = await receive(again, 1)
                again.send_message(enterOrder("D2", "B", 10, 1500000))
                [live] = await receive(again, 1)
                return event, order, missing, accepted, live
            finally:
                await again.close()

        d = threads.deferToThread(asyncio.run, scenario())

        def check(result):
            event, order, missing, accepted, live = result
            self.assertIsInstance(event, SystemEvent)
            self.assertIsNotNone(order)
            self.assertIsNone(missing)
            [listed] = self.simulator.list_sessions("ouch1")
            self.assertEqual(listed["pending_drop"], 0)
            self.assertIsInstance(accepted, Accepted)
            self.assertEqual(accepted.order_token, "D1")
            self.assertEqual((type(live), live.order_token), (Accepted, "D2"))

        return d.addCallback(check)


class ItchSocketTests(TestCase):
    """
    The ITCH feed over a real connection, read with nasdaq-protocols'
    SoupBinTCP client and decoded with itchfeed.
    """

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        self.simulator = Simulator(reactor)
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1", "AAPL")
        self.simulator.create_endpoint("ouch1", "e1", "ouch")
        self.simulator.create_endpoint("itch1", "e1", "itch")
        for name in ("ouch1", "itch1"):
            self.simulator.set_protocol_property(name, "listen", "tcp:0:interface=127.0.0.1")
            yield self.simulator.start_endpoint(name)

    @defer.inlineCallbacks
    def tearDown(self):
        yield self.simulator.delete_endpoint("ouch1")
        yield self.simulator.delete_endpoint("itch1")

    def test_feed(self):
        ouchPort = self.simulator.get_endpoint_address("ouch1")[1]
        itchPort = self.simulator.get_endpoint_address("itch1")[1]

        async def scenario():
            trader = await connect(ouchPort, "alice", "x")
            await receive(trader, 1)
            trader.send_message(enterOrder("S1", "S", 100, 1502500))
            trader.send_message(enterOrder("B1", "B", 30, 1502500))
            trader.send_message(enterOrder("B2", "B", 20, 1501000))
            await receive(trader, 5)
            await trader.close()
            received = []

            async def onMessage(message):
                if isinstance(message, soup.SequencedData):
                    received.append(message.data)

            feed = await soup.connect_async(("127.0.0.1", itchPort), "feed", "x", "", sequence=1,
                                            on_msg_coro=onMessage)
            for _ in range(100):
                if len(received) >= 8:
                    break
                await asyncio.sleep(0.05)
            feed.logout()
            return received

        d = threads.deferToThread(asyncio.run, scenario())

        def check(payloads):
            from tests.test_itch import rebuild

            books, messages, _ = rebuild(payloads)
            self.assertEqual([m.message_type for m in messages],
                             [b"S", b"S", b"S", b"R", b"H", b"A", b"E", b"A"])
            self.assertEqual(books["AAPL"], {"bids": [(1501000, 20, 1)], "asks": [(1502500, 70, 1)]})
            snapshot = self.simulator.get_book("AAPL")
            self.assertEqual(snapshot["bids"], [("150.10", 20, 1)])
            self.assertEqual(snapshot["asks"], [("150.25", 70, 1)])

        return d.addCallback(check)
