"""
Interoperability: QuickFIX (the C++ engine through its Python binding, the
C{quickfix-tls} wheel) drives exsim's FIX endpoints over TCP on 127.0.0.1,
with its data-dictionary validation on (the FIX.4.4 and FIX.4.2
dictionaries of the QuickFIX 1.16.0 sources, in C{tests/data/}, under the
QuickFIX licence in C{tests/data/LICENSE.quickfix}).

QuickFIX runs its own threads; the test waits for what it receives in a
worker thread while the reactor serves exsim.  Every scenario ends by
checking that neither side rejected anything: QuickFIX sent no Reject (3)
or BusinessMessageReject (j), and received none.
"""

import os
import queue
import shutil
import tempfile

from twisted.internet import defer, reactor, threads
from twisted.trial.unittest import TestCase

try:
    import quickfix as fix
except ImportError:  # pragma: no cover
    fix = None

from exsim.service import Simulator

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
WAIT = 10.0


def parse(text):
    """
    A raw FIX message (text with SOH) as a list of (int tag, text value).
    """
    pairs = []
    for part in text.split("\x01"):
        if part:
            tag, _, value = part.partition("=")
            pairs.append((int(tag), value))
    return pairs


class Received:
    """
    One message QuickFIX received: C{fields} {tag: first value},
    C{pairs} in order.
    """

    def __init__(self, text):
        self.pairs = parse(text)
        self.fields = {}
        for tag, value in self.pairs:
            self.fields.setdefault(tag, value)
        self.msgType = self.fields.get(35)

    def __getitem__(self, tag):
        return self.fields[tag]

    def get(self, tag, default=None):
        return self.fields.get(tag, default)

    def __repr__(self):
        return "<Received %s>" % ("|".join("%d=%s" % p for p in self.pairs),)


if fix is not None:

    class Recorder(fix.Application):
        """
        A QuickFIX application recording what happens, per session
        (SenderCompID), in thread-safe queues.
        """

        def __init__(self):
            fix.Application.__init__(self)
            self.inbox = {}
            self.events = queue.Queue()
            self.rejectsSent = []
            self.rejectsReceived = []

        def _box(self, sessionID):
            name = sessionID.getSenderCompID().getValue()
            box = self.inbox.get(name)
            if box is None:
                box = self.inbox[name] = queue.Queue()
            return box

        def onCreate(self, sessionID):
            self._box(sessionID)

        def onLogon(self, sessionID):
            self.events.put(("logon", sessionID.getSenderCompID().getValue()))

        def onLogout(self, sessionID):
            self.events.put(("logout", sessionID.getSenderCompID().getValue()))

        def toAdmin(self, message, sessionID):
            received = Received(message.toString())
            if received.msgType == "3":
                self.rejectsSent.append(received)

        def fromAdmin(self, message, sessionID):
            received = Received(message.toString())
            if received.msgType == "3":
                self.rejectsReceived.append(received)

        def toApp(self, message, sessionID):
            received = Received(message.toString())
            if received.msgType == "j":
                self.rejectsSent.append(received)

        def fromApp(self, message, sessionID):
            received = Received(message.toString())
            if received.msgType == "j":
                self.rejectsReceived.append(received)
            self._box(sessionID).put(received)


SETTINGS = """\
[DEFAULT]
ConnectionType=initiator
SocketConnectHost=127.0.0.1
HeartBtInt=30
ReconnectInterval=1
StartTime=00:00:00
EndTime=00:00:00
UseDataDictionary=Y
ValidateUserDefinedFields=Y
ValidateFieldsOutOfOrder=Y
ValidateFieldsHaveValues=Y
CheckLatency=Y
MaxLatency=120
TargetCompID=EXSIM
"""

SESSION = """
[SESSION]
BeginString={beginString}
SenderCompID={sender}
SocketConnectPort={port}
DataDictionary={dictionary}
"""

FIXT_SESSION = """
[SESSION]
BeginString=FIXT.1.1
DefaultApplVerID=FIX.5.0SP2
SenderCompID={sender}
SocketConnectPort={port}
TransportDataDictionary={transport}
AppDataDictionary={app}
"""


class QuickFixCase(TestCase):
    """
    QuickFIX sessions against an order-entry endpoint and a drop-copy
    endpoint of one engine: the set-up and helpers (the scenarios are in
    L{QuickFixTests} and tests.test_rfq_interop).
    """

    timeout = 90

    if fix is None:  # pragma: no cover
        skip = "quickfix is not installed"

    @defer.inlineCallbacks
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="exsim-qf-")
        if not os.environ.get("EXSIM_KEEP_QF"):
            self.addCleanup(shutil.rmtree, self.tmp, True)
        sim = self.simulator = Simulator(reactor)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_endpoint("fix1", "e1", "fix")
        sim.set_protocol_property("fix1", "listen", "tcp:0:interface=127.0.0.1")
        sim.create_endpoint("dc1", "e1", "fix")
        sim.set_protocol_property("dc1", "role", "drop_copy")
        sim.set_protocol_property("dc1", "listen", "tcp:0:interface=127.0.0.1")
        yield sim.start_endpoint("fix1")
        yield sim.start_endpoint("dc1")
        self.addCleanup(self._stopSimulator)
        self.port = sim.get_endpoint_address("fix1")[1]
        self.dcPort = sim.get_endpoint_address("dc1")[1]
        self.app = None
        self.initiators = {}
        self.sessionIds = {}
        self.addCleanup(self._stopClients)

    def _stopSimulator(self):
        return defer.gatherResults(
            [self.simulator.delete_endpoint(n) for n in list(self.simulator.endpoints)]
        )

    def startClient(self, sessions, name="client"):
        """
        Start a QuickFIX initiator with C{sessions}: (SenderCompID,
        BeginString, port) tuples.  Its message store is a file store, so
        an initiator started again with the same C{name} continues the
        sessions' sequence numbers.
        """
        text = SETTINGS + "FileStorePath=%s\nFileLogPath=%s\n" % (
            os.path.join(self.tmp, "store-" + name),
            os.path.join(self.tmp, "log-" + name),
        )
        for sender, beginString, port in sessions:
            if beginString == "FIXT.1.1":
                text += FIXT_SESSION.format(
                    sender=sender, port=port,
                    transport=os.path.join(DATA, "FIXT11.xml"),
                    app=os.path.join(DATA, "FIX50SP2.xml"),
                )
                continue
            dictionary = os.path.join(DATA, beginString.replace(".", "") + ".xml")
            text += SESSION.format(
                beginString=beginString, sender=sender, port=port, dictionary=dictionary
            )
        path = os.path.join(self.tmp, name + ".cfg")
        with open(path, "w") as f:
            f.write(text)
        if self.app is None:
            self.app = Recorder()
        settings = fix.SessionSettings(path)
        initiator = fix.SocketInitiator(
            self.app, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings)
        )
        initiator.start()
        self.initiators[name] = initiator
        for sender, beginString, port in sessions:
            self.sessionIds[sender] = fix.SessionID(beginString, sender, "EXSIM")

    def stopClient(self, name="client"):
        initiator = self.initiators.pop(name, None)
        if initiator is not None:
            return threads.deferToThread(initiator.stop)
        return defer.succeed(None)

    def _stopClients(self):
        return defer.gatherResults([self.stopClient(name) for name in list(self.initiators)])

    def waitEvents(self, wanted):
        """
        Wait (in a thread) until every (event, sender) in C{wanted} happened.
        """

        def wait():
            missing = list(wanted)
            while missing:
                event = self.app.events.get(timeout=WAIT)
                if event in missing:
                    missing.remove(event)

        return threads.deferToThread(wait)

    def receive(self, sender, count=1):
        """
        Wait (in a thread) for the next C{count} application messages of
        C{sender}'s session.
        """
        box = self.app.inbox[sender]

        def wait():
            return [box.get(timeout=WAIT) for _ in range(count)]

        return threads.deferToThread(wait)

    def send(self, sender, msgType, fields, groups=()):
        """
        Send an application message from C{sender}'s session.
        """
        sessionId = self.sessionIds[sender]
        message = fix.Message()
        header = message.getHeader()
        header.setField(fix.BeginString(sessionId.getBeginString().getValue()))
        header.setField(fix.MsgType(msgType))
        if sessionId.getBeginString().getValue() == "FIXT.1.1":
            header.setField(fix.StringField(1128, "9"))
        for tag, value in fields:
            message.setField(fix.StringField(tag, value))
        for countTag, delimiter, order, entries in groups:
            for entry in entries:
                group = fix.Group(countTag, delimiter)
                for tag, value in entry:
                    group.setField(fix.StringField(tag, value))
                message.addGroup(group)
        fix.Session.sendToTarget(message, sessionId)

    def newOrder(self, sender, clOrdId, side, qty, price, symbol="AAPL"):
        self.send(sender, "D", [
            (11, clOrdId), (55, symbol), (54, side), (60, _now()),
            (38, str(qty)), (40, "2"), (44, price), (59, "0"),
        ])

    def assertNoRejects(self):
        self.assertEqual(self.app.rejectsSent, [])
        self.assertEqual(self.app.rejectsReceived, [])


class QuickFixTests(QuickFixCase):
    """
    Order entry, drop copy, market data and recovery with QuickFIX.
    """

    @defer.inlineCallbacks
    def test_orderEntryDropCopyMarketDataAndRecovery(self):
        self.startClient([("A", "FIX.4.4", self.port)], "a")
        self.startClient([("B", "FIX.4.4", self.port), ("DC", "FIX.4.2", self.dcPort)])
        yield self.waitEvents([("logon", "A"), ("logon", "B"), ("logon", "DC")])

        # Market data: B subscribes to AAPL bids, offers and trades.
        self.send("B", "V", [(262, "md1"), (263, "1"), (264, "0")], [
            (267, 269, [269, 0], [[(269, "0")], [(269, "1")], [(269, "2")]]),
            (146, 55, [55, 0], [[(55, "AAPL")]]),
        ])
        [snapshot] = yield self.receive("B")
        self.assertEqual((snapshot.msgType, snapshot[262], snapshot[268]), ("W", "md1", "0"))

        # A sells 300 at 10.00: it rests.
        self.newOrder("A", "a1", "2", 300, "10.00")
        [new] = yield self.receive("A")
        self.assertEqual((new.msgType, new[150], new[39], new[151]), ("8", "0", "0", "300"))
        [update] = yield self.receive("B")
        self.assertEqual((update.msgType, update[279], update[269], update[270], update[271]), ("X", "0", "1", "10", "300"))

        # B buys 100: a partial fill for A, a full fill for B.
        self.newOrder("B", "b1", "1", 100, "10.00")
        received = yield self.receive("B", 3)
        byType = {m.msgType: m for m in received}
        self.assertEqual(sorted(m.msgType for m in received), ["8", "8", "X"])
        ers = [m for m in received if m.msgType == "8"]
        self.assertEqual([(m[150], m[39]) for m in ers], [("0", "0"), ("F", "2")])
        self.assertIn(byType["X"][279], ("0", "1"))
        [partial] = yield self.receive("A")
        self.assertEqual(
            (partial[150], partial[39], partial[32], partial[31], partial[14], partial[151], partial[6]),
            ("F", "1", "100", "10", "100", "200", "10"),
        )

        # Replace A's rest to 250 at 10.01, ask its status, cancel it.
        self.send("A", "G", [
            (41, "a1"), (11, "a2"), (55, "AAPL"), (54, "2"), (60, _now()),
            (38, "250"), (40, "2"), (44, "10.01"),
        ])
        [replaced] = yield self.receive("A")
        self.assertEqual((replaced[150], replaced[39], replaced[41], replaced[11], replaced[151]), ("5", "1", "a1", "a2", "150"))
        self.send("A", "H", [(11, "a2"), (55, "AAPL"), (54, "2")])
        [state] = yield self.receive("A")
        self.assertEqual((state[150], state[39], state[14]), ("I", "1", "100"))
        self.send("A", "F", [(41, "a2"), (11, "a3"), (55, "AAPL"), (54, "2"), (60, _now()), (38, "250")])
        [cancelled] = yield self.receive("A")
        self.assertEqual((cancelled[150], cancelled[39], cancelled[41]), ("4", "4", "a2"))

        # Rejects: unknown symbol; cancel of an unknown order.
        self.newOrder("A", "a4", "1", 10, "1.00", symbol="NOPE")
        [rejected] = yield self.receive("A")
        self.assertEqual((rejected[150], rejected[39], rejected[103]), ("8", "8", "1"))
        self.send("A", "F", [(41, "zz"), (11, "a5"), (55, "AAPL"), (54, "1"), (60, _now()), (38, "1")])
        [cxlRej] = yield self.receive("A")
        self.assertEqual((cxlRej.msgType, cxlRej[102], cxlRej[434]), ("9", "1", "1"))

        # Recovery: A's engine stops (logout); B's order fills against A's
        # resting order meanwhile; A's engine starts again, logs on without
        # reset and gets the fill by resend, marked PossDupFlag=Y.
        self.newOrder("A", "a6", "2", 50, "10.00")
        [new] = yield self.receive("A")
        self.assertEqual(new[150], "0")
        yield self.stopClient("a")
        yield self.waitEvents([("logout", "A")])
        self.newOrder("B", "b2", "1", 50, "10.00")
        yield self.receive("B", 3)
        self.startClient([("A", "FIX.4.4", self.port)], "a")
        yield self.waitEvents([("logon", "A")])
        [fill] = yield self.receive("A")
        self.assertEqual((fill[11], fill[150], fill[39], fill[43]), ("a6", "F", "2", "Y"))
        self.assertIn(122, fill.fields)

        # Drop copy: every ExecutionReport the engine made (not the status
        # answer, not the cancel reject), in the drop copy's FIX.4.2.
        copies = yield self.receive("DC", 11)
        self.assertEqual({m.msgType for m in copies}, {"8"})
        self.assertEqual(
            [(m[11], m[150], m[109]) for m in copies],
            [
                ("a1", "0", "fix1/A"),
                ("b1", "0", "fix1/B"),
                ("a1", "1", "fix1/A"),
                ("b1", "2", "fix1/B"),
                ("a2", "5", "fix1/A"),
                ("a3", "4", "fix1/A"),
                ("a4", "8", "fix1/A"),
                ("a6", "0", "fix1/A"),
                ("b2", "0", "fix1/B"),
                ("a6", "2", "fix1/A"),
                ("b2", "2", "fix1/B"),
            ],
        )
        self.assertEqual([m[20] for m in copies], ["0"] * 11)
        self.assertEqual(copies[2][17], partial[17])
        self.assertNoRejects()

    @defer.inlineCallbacks
    def test_fix42OrderEntry(self):
        self.startClient([("C", "FIX.4.2", self.port), ("D", "FIX.4.2", self.port)])
        yield self.waitEvents([("logon", "C"), ("logon", "D")])
        self.send("C", "D", [
            (11, "c1"), (21, "1"), (55, "AAPL"), (54, "1"), (60, _now()),
            (38, "100"), (40, "2"), (44, "9.99"), (59, "0"),
        ])
        [new] = yield self.receive("C")
        self.assertEqual((new[20], new[150], new[39]), ("0", "0", "0"))
        self.send("D", "D", [
            (11, "d1"), (21, "1"), (55, "AAPL"), (54, "2"), (60, _now()),
            (38, "40"), (40, "1"), (59, "3"),
        ])
        [partial] = yield self.receive("C")
        self.assertEqual((partial[150], partial[39], partial[32], partial[31]), ("1", "1", "40", "9.99"))
        received = yield self.receive("D", 2)
        self.assertEqual([(m[150], m[39]) for m in received], [("0", "0"), ("2", "2")])
        self.send("C", "G", [
            (41, "c1"), (11, "c2"), (21, "1"), (55, "AAPL"), (54, "1"), (60, _now()),
            (38, "80"), (40, "2"), (44, "9.99"),
        ])
        [replaced] = yield self.receive("C")
        self.assertEqual((replaced[150], replaced[39], replaced[151]), ("5", "5", "40"))
        self.send("C", "D", [
            (11, "c3"), (21, "1"), (55, "AAPL"), (54, "1"), (60, _now()),
            (38, "100"), (40, "4"), (44, "10.60"), (99, "10.50"),
        ])
        [stop] = yield self.receive("C")
        self.assertEqual((stop[150], stop[39], stop[99]), ("0", "0", "10.5"))
        self.send("C", "D", [
            (11, "c4"), (21, "1"), (55, "AAPL"), (54, "1"), (60, _now()),
            (38, "100"), (40, "6"), (44, "9.99"),
        ])
        [rejected] = yield self.receive("C")
        self.assertEqual((rejected[150], rejected[103]), ("8", "0"))
        self.send("C", "H", [(11, "c2"), (55, "AAPL"), (54, "1")])
        [state] = yield self.receive("C")
        self.assertEqual((state[20], state[150], state[39]), ("3", "1", "1"))
        self.assertNoRejects()

    @defer.inlineCallbacks
    def test_fix50sp2OrderEntryAndMarketData(self):
        self.startClient([("E", "FIXT.1.1", self.port), ("F", "FIXT.1.1", self.port)])
        yield self.waitEvents([("logon", "E"), ("logon", "F")])
        self.send("F", "V", [(262, "md1"), (263, "1"), (264, "1")], [
            (267, 269, [269, 0], [[(269, "0")], [(269, "1")], [(269, "2")]]),
            (146, 55, [55, 0], [[(55, "AAPL")]]),
        ])
        [snapshot] = yield self.receive("F")
        self.assertEqual((snapshot.msgType, snapshot[268]), ("W", "0"))
        self.newOrder("E", "e1", "1", 100, "20.00")
        [new] = yield self.receive("E")
        self.assertEqual((new[150], new[39], new[151]), ("0", "0", "100"))
        [update] = yield self.receive("F")
        self.assertEqual((update.msgType, update[279], update[270]), ("X", "0", "20"))
        self.newOrder("F", "f1", "2", 30, "19.99")
        received = yield self.receive("F", 3)
        ers = [m for m in received if m.msgType == "8"]
        self.assertEqual([(m[150], m[39]) for m in ers], [("0", "0"), ("F", "2")])
        self.assertEqual((ers[1][1057], ers[1][851], ers[1][31]), ("Y", "2", "20"))
        [fill] = yield self.receive("E")
        self.assertEqual((fill[150], fill[39], fill[32], fill[880]), ("F", "1", "30", ers[1][880]))
        self.send("E", "F", [(41, "e1"), (11, "e2"), (55, "AAPL"), (54, "1"), (60, _now())])
        [cancelled] = yield self.receive("E")
        self.assertEqual((cancelled[150], cancelled[39], cancelled[14]), ("4", "4", "30"))
        self.send("E", "H", [(11, "e1"), (55, "AAPL"), (54, "1")])
        [state] = yield self.receive("E")
        self.assertEqual((state[150], state[39], state[14]), ("I", "4", "30"))
        self.send("E", "H", [(11, "zz"), (55, "AAPL"), (54, "1")])
        [state] = yield self.receive("E")
        self.assertEqual((state[150], state[39], state[103]), ("I", "8", "5"))
        self.assertNoRejects()

    # -- advanced order types (issue 13) -------------------------------------

    def order(self, sender, clOrdId, side, qty, ordType="2", price=None, extra=(), tif="0"):
        fields = [
            (11, clOrdId), (55, "AAPL"), (54, side), (60, _now()), (38, str(qty)),
            (40, ordType), (59, tif),
        ]
        if sender in ("C", "D"):
            fields.append((21, "1"))
        if price is not None:
            fields.append((44, price))
        fields.extend(extra)
        self.send(sender, "D", fields)

    @defer.inlineCallbacks
    def test_fix42OrderTypes(self):
        """
        FIX.4.2: an iceberg (MaxFloor), a stop that triggers (ExecType D)
        and fills, a post-only reject, a midpoint peg.
        """
        self.startClient([("C", "FIX.4.2", self.port), ("D", "FIX.4.2", self.port)])
        yield self.waitEvents([("logon", "C"), ("logon", "D")])
        self.order("C", "i1", "2", 100, price="10.00", extra=[(111, "10")])
        [ice] = yield self.receive("C")
        self.assertEqual((ice[150], ice[111]), ("0", "10"))
        self.assertEqual(self.simulator.get_book("AAPL")["asks"], [("10.00", 10, 1)])
        self.order("D", "s1", "1", 10, ordType="3", extra=[(99, "10.00")])
        [stop] = yield self.receive("D")
        self.assertEqual((stop[150], stop[40], stop[99]), ("0", "3", "10"))
        self.order("D", "d1", "1", 10, price="10.00")
        received = yield self.receive("D", 4)
        self.assertEqual(
            [(m[11], m[150], m[39]) for m in received],
            [("d1", "0", "0"), ("d1", "2", "2"), ("s1", "D", "0"), ("s1", "2", "2")],
        )
        self.order("D", "p1", "1", 10, price="10.00", extra=[(18, "6")])
        [rejected] = yield self.receive("D")
        self.assertEqual((rejected[150], rejected[39]), ("8", "8"))
        self.order("D", "m1", "1", 10, ordType="P", extra=[(18, "M")])
        [peg] = yield self.receive("D")
        self.assertEqual((peg[150], peg[40], peg[18]), ("0", "P", "M"))
        fills = yield self.receive("C", 2)
        self.assertEqual([(m[150], m[32], m[151]) for m in fills], [("1", "10", "90"), ("1", "10", "80")])
        self.assertNoRejects()

    @defer.inlineCallbacks
    def test_fix44OrderTypes(self):
        """
        FIX.4.4: every order type, a trigger (ExecType D, reason 8),
        minimum quantity, self-trade prevention, a mass status and a mass
        cancel, each answered with no reject from QuickFIX.
        """
        self.simulator.set_book_property("AAPL", "self_trade_prevention", "decrement")
        self.startClient([("A", "FIX.4.4", self.port), ("B", "FIX.4.4", self.port)])
        yield self.waitEvents([("logon", "A"), ("logon", "B")])
        self.order("A", "h1", "2", 50, price="10.00", extra=[(111, "0"), (110, "20")])
        self.order("A", "i1", "2", 100, price="10.01", extra=[(111, "10")])
        self.order("A", "s1", "1", 10, ordType="4", price="10.05", extra=[(99, "10.00")])
        self.order("A", "p1", "1", 10, price="9.90", extra=[(18, "6")])
        received = yield self.receive("A", 4)
        self.assertEqual([m[150] for m in received], ["0"] * 4)
        self.order("B", "m1", "1", 100, price="10.00", tif="3", extra=[(110, "60")])
        received = yield self.receive("B", 2)
        self.assertEqual([(m[150], m[14]) for m in received], [("0", "0"), ("4", "0")])
        self.order("B", "b1", "1", 30, price="10.00")
        received = yield self.receive("B", 2)
        self.assertEqual([(m[150], m[14]) for m in received], [("0", "0"), ("F", "30")])
        # The stop triggers (ExecType D, ExecRestatementReason 8) and meets
        # A's own iceberg: decremented (D, reason 5), the stop cancelled.
        received = yield self.receive("A", 4)
        self.assertEqual(
            [(m[11], m[150]) for m in received], [("h1", "F"), ("s1", "D"), ("i1", "D"), ("s1", "4")]
        )
        self.assertEqual((received[1][378], received[2][378], received[2][38]), ("8", "5", "90"))
        self.order("A", "b2", "2", 5, price="9.90")
        received = yield self.receive("A", 3)
        self.assertEqual([(m[11], m[150]) for m in received], [("b2", "0"), ("p1", "D"), ("b2", "4")])
        self.send("A", "AF", [(584, "ms1"), (585, "7")])
        received = yield self.receive("A", 3)
        self.assertEqual([m[150] for m in received], ["I", "I", "I"])
        self.assertEqual(received[-1][912], "Y")
        self.send("A", "q", [(11, "mc1"), (530, "7"), (60, _now())])
        received = yield self.receive("A", 4)
        self.assertEqual(received[0].msgType, "r")
        self.assertEqual((received[0][531], received[0][533]), ("7", "3"))
        self.assertEqual([m[150] for m in received[1:]], ["4", "4", "4"])
        self.assertNoRejects()

    @defer.inlineCallbacks
    def test_fix50sp2OrderTypes(self):
        """
        FIX.5.0SP2: DisplayQty, PegPriceType, SelfMatchPreventionID, the
        trigger as ExecType L, self-trade prevention cancels with reasons
        18 and 19, a mass cancel report with MassActionReportID.
        """
        self.simulator.set_book_property("AAPL", "self_trade_prevention", "cancel_both")
        self.startClient([("E", "FIXT.1.1", self.port), ("F", "FIXT.1.1", self.port)])
        yield self.waitEvents([("logon", "E"), ("logon", "F")])
        self.order("E", "i1", "2", 100, price="10.00", extra=[(1138, "10"), (2362, "X")])
        self.order("E", "s1", "1", 10, ordType="3", extra=[(99, "10.00")])
        self.order("E", "g1", "2", 10, ordType="P", extra=[(1094, "4")])
        received = yield self.receive("E", 3)
        self.assertEqual([m[150] for m in received], ["0", "0", "0"])
        self.assertEqual((received[0][1138], received[0][2362], received[2][1094]), ("10", "X", "4"))
        self.order("F", "f1", "1", 10, price="10.00")
        yield self.receive("F", 2)
        received = yield self.receive("E", 4)
        self.assertEqual([(m[11], m[150]) for m in received][:2], [("i1", "F"), ("s1", "L")])
        self.order("E", "x1", "1", 5, price="10.00", extra=[(2362, "X")])
        received = yield self.receive("E", 3)
        cancels = [(m[11], m[378]) for m in received if m[150] == "4"]
        self.assertEqual(cancels, [("i1", "19"), ("x1", "18")])
        self.send("E", "q", [(11, "mc1"), (530, "7"), (60, _now())])
        [report] = yield self.receive("E")
        self.assertEqual((report.msgType, report[1369]), ("r", report[37]))
        self.assertNoRejects()

    # -- session control: QuickFIX recovers by itself ----------------------

    @defer.inlineCallbacks
    def _recovery(self, fault, count, orders):
        """
        Inject C{fault} on A's session, then enter C{orders} (ClOrdIDs):
        QuickFIX gets every ExecutionReport New exactly once, in order,
        without a reject or a logout, and the session goes on.
        """
        self.startClient([("A", "FIX.4.4", self.port)], "a")
        yield self.waitEvents([("logon", "A")])
        self.newOrder("A", "warmup", "1", 1, "1.00")
        yield self.receive("A")
        self.simulator.inject_fault("fix1/A", fault, count)
        for clOrdId in orders:
            self.newOrder("A", clOrdId, "1", 10, "9.00")
        received = yield self.receive("A", len(orders))
        self.assertEqual([(m[11], m[150]) for m in received], [(c, "0") for c in orders])
        # Still up, nothing left over: the next answer is the next order's.
        self.newOrder("A", "after", "1", 10, "9.00")
        [after] = yield self.receive("A")
        self.assertEqual(after[11], "after")
        self.assertTrue(self.app.events.empty(), "QuickFIX logged out or on again")
        self.assertEqual(self.simulator.list_sessions("fix1")[0]["state"], "active")
        self.assertNoRejects()
        return received

    @defer.inlineCallbacks
    def test_recoversFromGap(self):
        """
        Skipped MsgSeqNums: QuickFIX asks for them and gets a gap fill.
        """
        [report] = yield self._recovery("gap", 3, ["g1"])
        # Logon 1, warm-up report 2, 3 to 5 skipped: never messages.
        self.assertEqual(int(report[34]), 6)
        store = self.simulator.endpoint("fix1").factory.sessions["A"].store
        self.assertEqual(store.getMessages(3, 5), [])

    @defer.inlineCallbacks
    def test_recoversFromDrop(self):
        """
        Dropped reports: the next one reveals the gap and QuickFIX gets
        them by resend.
        """
        received = yield self._recovery("drop", 2, ["d1", "d2", "d3"])
        self.assertEqual([m.get(43) for m in received[:2]], ["Y", "Y"])

    @defer.inlineCallbacks
    def test_recoversFromGarble(self):
        """
        A report with a wrong CheckSum is discarded by QuickFIX; the next
        one reveals the gap and the resend recovers it.
        """
        received = yield self._recovery("garble", 1, ["x1", "x2"])
        self.assertEqual(received[0].get(43), "Y")

    @defer.inlineCallbacks
    def test_reconnectsAfterDisconnectSession(self):
        self.startClient([("A", "FIX.4.4", self.port)], "a")
        yield self.waitEvents([("logon", "A")])
        self.simulator.disconnect_session("fix1/A")
        yield self.waitEvents([("logout", "A"), ("logon", "A")])
        self.newOrder("A", "r1", "1", 10, "9.00")
        [new] = yield self.receive("A")
        self.assertEqual((new[11], new[150]), ("r1", "0"))
        self.assertNoRejects()


def _now():
    import time

    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()) + ".000"
