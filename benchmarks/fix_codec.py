#!/usr/bin/env python
"""
Benchmark of the FIX session layer's hot path, without sockets or engine:

 - frame + parse + validate: FIX.4.4 NewOrderSingles through
   L{exsim.fix.codec.Framer}, L{exsim.fix.codec.Message} and
   L{exsim.fix.dictionary.Dictionary.validate}, one message per read and
   100 coalesced messages per read;
 - encode: ExecutionReports through L{exsim.fix.session.FixSession.sendApp}
   (header, body, store, checksum) into a transport that drops them;
 - engine reports: the order-entry hot path for engine events (New and
   Trade reports of resting and crossing orders), L{ReportEncoder} and
   L{FixSession.sendEncoded};
 - session in: whole messages through L{FixConnection.dataReceived} (sequence
   checks, CompIDs, SendingTime, validation) to a trivial application.

Prints messages per second, the median of 3 runs of each.

    python benchmarks/fix_codec.py [N]
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from twisted.internet.address import IPv4Address  # noqa: E402
from twisted.internet.testing import MemoryReactorClock  # noqa: E402
from zope.interface import implementer  # noqa: E402

from exsim.fix import codec, dictionary  # noqa: E402
from exsim.fix.factory import FixFactory  # noqa: E402
from exsim.interfaces import IFixApplication  # noqa: E402

START = 1709294400.0


def stamp(seconds):
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(int(seconds))) + ".000"


def newOrder(seq, sendingTime):
    return codec.encode(
        "FIX.4.4",
        "D",
        [(49, "CLIENT"), (56, "EXSIM"), (34, seq), (52, sendingTime)],
        [(11, "ord%d" % seq), (1, "ACCT1"), (55, "AAPL"), (54, "1" if seq % 2 else "2"),
         (60, sendingTime), (38, 100), (40, "2"), (44, "10.25"), (59, "0")],
    )


class NullTransport:
    def write(self, data):
        pass

    def writeSequence(self, data):
        pass

    def loseConnection(self):
        pass

    def getPeer(self):
        return IPv4Address("TCP", "127.0.0.1", 1)

    def getHost(self):
        return IPv4Address("TCP", "127.0.0.1", 2)


class Endpoint:
    def __init__(self, reactor):
        self.name = "bench"
        self.reactor = reactor
        self.properties = {}

    def report(self, eventType, **fields):
        pass


@implementer(IFixApplication)
class Application:
    count = 0

    def sessionLoggedOn(self, session):
        pass

    def sessionLoggedOut(self, session):
        pass

    def fromApp(self, session, message):
        self.count += 1
        return True


def benchParse(n, batch):
    d = dictionary.forVersion("FIX.4.4")
    now = stamp(START)
    messages = [newOrder(i + 2, now) for i in range(batch)]
    chunk = b"".join(messages)
    framer = codec.Framer(1 << 24)
    rounds = max(1, n // batch)
    t = time.perf_counter()
    for _ in range(rounds):
        for raw in framer.feed(chunk):
            m = codec.Message.fromBytes(raw)
            if d.validate(m) is not None:
                raise AssertionError("invalid benchmark message")
    return rounds * batch / (time.perf_counter() - t)


def loggedOnConnection():
    reactor = MemoryReactorClock()
    reactor.advance(START)
    app = Application()
    factory = FixFactory(Endpoint(reactor), app)
    protocol = factory.buildProtocol(None)
    protocol.makeConnection(NullTransport())
    logon = codec.encode(
        "FIX.4.4", "A",
        [(49, "CLIENT"), (56, "EXSIM"), (34, 1), (52, stamp(START))],
        [(98, 0), (108, 30)],
    )
    protocol.dataReceived(logon)
    session = factory.sessions["CLIENT"]
    assert session.loggedOn
    return protocol, session, app


def benchEncode(n):
    protocol, session, app = loggedOnConnection()
    # Text values, as the order-entry application passes them.
    fields = [(37, "123"), (11, "ord1"), (17, "456"), (150, "F"), (39, "1"), (55, "AAPL"),
              (54, "1"), (38, "100"), (44, "10.25"), (32, "10"), (31, "10.25"),
              (151, "90"), (14, "10"), (6, "10.25"), (60, "20240301-12:00:00.000")]
    t = time.perf_counter()
    for _ in range(n):
        session.sendApp("8", fields)
    return n / (time.perf_counter() - t)


def benchReports(n):
    from exsim.engine.matching import MatchingEngine
    from exsim.fix.reports import ER_BUILDERS, ReportEncoder
    from exsim.fix.versions import profileFor
    from exsim.model import Instrument, Order, OrdType, Side, TimeInForce

    protocol, session, app = loggedOnConnection()
    engine = MatchingEngine("e1", MemoryReactorClock())
    engine.addBook(Instrument("AAPL"))
    events = []

    class Recorder:
        def engineEvents(self, batch):
            events.extend(batch)

    engine.subscribe(Recorder())
    for i in range(500):
        for side in (Side.SELL, Side.BUY):
            engine.submitNew(
                Order("o", "%s%d" % (side.value, i), "AAPL", side, 100, 100000,
                      OrdType.LIMIT, TimeInForce.DAY)
            )
    events = [e for e in events if e.__class__ in ER_BUILDERS]
    encode = ReportEncoder(profileFor("FIX.4.4")).encode
    now = stamp(START)
    sendEncoded = session.sendEncoded
    rounds = max(1, n // len(events))
    t = time.perf_counter()
    for _ in range(rounds):
        for event in events:
            sendEncoded(b"8", encode(event, 10000, now))
    return rounds * len(events) / (time.perf_counter() - t)


def benchSession(n, batch):
    protocol, session, app = loggedOnConnection()
    now = stamp(START)
    rounds = max(1, n // batch)
    chunks = []
    seq = 2
    for _ in range(rounds):
        chunks.append(b"".join(newOrder(seq + i, now) for i in range(batch)))
        seq += batch
    t = time.perf_counter()
    for chunk in chunks:
        protocol.dataReceived(chunk)
    elapsed = time.perf_counter() - t
    assert app.count == rounds * batch, (app.count, rounds * batch)
    return rounds * batch / elapsed


def median(f, *args):
    return statistics.median(f(*args) for _ in range(3))


def main(argv):
    n = int(argv[1]) if len(argv) > 1 else 200000
    print("python %s, %d messages per run, median of 3 runs" % (sys.version.split()[0], n))
    print("frame+parse+validate, 1 msg/read:    %9.0f msg/s" % median(benchParse, n, 1))
    print("frame+parse+validate, 100 msg/read:  %9.0f msg/s" % median(benchParse, n, 100))
    print("encode ExecutionReport (sendApp):    %9.0f msg/s" % median(benchEncode, n))
    print("engine reports (ReportEncoder):      %9.0f msg/s" % median(benchReports, n))
    print("session in (dataReceived), 1/read:   %9.0f msg/s" % median(benchSession, n, 1))
    print("session in (dataReceived), 100/read: %9.0f msg/s" % median(benchSession, n, 100))


if __name__ == "__main__":
    main(sys.argv)
