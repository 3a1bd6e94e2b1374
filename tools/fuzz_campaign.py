#!/usr/bin/env python3
"""
Fuzz campaign: mutation fuzzing of valid FIX messages, SoupBinTCP packets
(OUCH order entry, the ITCH feed's logins) and control-port (Perspective
Broker) bytes, fed to in-memory protocol instances (a real endpoint on a real engine, on a
MemoryReactorClock; no sockets), with a well-behaved session beside each
fuzzer checked as it goes.

Counted per decoder: inputs generated, crashes (an exception out of the
protocol), logged errors (failures or critical/error log events), and
whether the bystander session kept working (an order acknowledged every
C{--check-every} inputs).  Exit status 1 if any crash, logged error or
bystander failure.

The mutations (one to three per input): flip a byte, insert or delete
bytes, cut the input, duplicate a field, insert a separator, replace a
number by a huge one or a negative one; FIX inputs get their BodyLength and
CheckSum recomputed half the time so that they reach the parser and the
session rules.  A seed (C{--seed}) makes a run repeatable.

Usage: python tools/fuzz_campaign.py [--inputs 1000000] [--seed 1] [--only fix,ouch,itch,control]
"""

import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from twisted.internet.address import IPv4Address  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402
from twisted.internet.testing import StringTransport  # noqa: E402
from twisted.logger import LogLevel, globalLogPublisher  # noqa: E402
from twisted.spread import banana  # noqa: E402

from exsim.control.checker import UsersChecker  # noqa: E402
from exsim.control.service import makeFactory as makeControlFactory  # noqa: E402
from exsim.fix import codec  # noqa: E402
from exsim.fix.family import FixFamily  # noqa: E402
from exsim.service import Simulator  # noqa: E402
from exsim.soup import packets  # noqa: E402
from exsim.soup.ouch import OuchFamily  # noqa: E402
from tests.fixsession_helpers import START, Client as FixClient, stamp  # noqa: E402
from tests.soupfakes import Client as SoupClient, makeEndpoint  # noqa: E402

HUGE = [b"9" * 40, b"-1", b"0", b"99999999999999999999", b"1e400", b"NaN", b"", b"\xff\xfe"]


class ErrorCounter:
    """
    A log observer counting failures and error/critical events.
    """

    def __init__(self):
        self.errors = []

    def __call__(self, event):
        if "log_failure" in event or event.get("log_level") in (LogLevel.error, LogLevel.critical):
            self.errors.append(event)


def mutate(raw, rng):
    for _ in range(rng.randint(1, 3)):
        if not raw:
            return bytes([rng.randrange(256)])
        kind = rng.randrange(8)
        i = rng.randrange(len(raw))
        if kind == 0:
            raw = raw[:i] + bytes([rng.randrange(256)]) + raw[i + 1:]
        elif kind == 1:
            raw = raw[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + raw[i:]
        elif kind == 2:
            raw = raw[:i] + raw[i + rng.randint(1, 8):]
        elif kind == 3:
            raw = raw[:i]
        elif kind == 4:
            fields = raw.split(b"\x01")
            j = rng.randrange(len(fields))
            fields.insert(j, fields[j])
            raw = b"\x01".join(fields)
        elif kind == 5:
            raw = raw[:i] + rng.choice([b"\x01", b"=", b"\x00", b"|"]) + raw[i:]
        elif kind == 6:
            # A number somewhere made huge, negative or empty.
            fields = raw.split(b"\x01")
            j = rng.randrange(len(fields))
            tag, sep, _ = fields[j].partition(b"=")
            if sep:
                fields[j] = tag + b"=" + rng.choice(HUGE)
            raw = b"\x01".join(fields)
        else:
            raw = raw + raw[: rng.randint(1, len(raw))]
    return raw


def refreshChecksum(raw):
    head, sep, rest = raw.partition(b"\x0135=")
    if not sep or b"\x0110=" not in rest:
        return raw
    body = b"35=" + rest[: rest.rindex(b"\x0110=") + 1]
    begin = head.split(b"\x01")[0]
    message = begin + b"\x019=%d\x01" % (len(body),) + body
    return message + codec.checksum(message)


class FixTarget:
    """
    A FIX endpoint (real order entry, real engine); a fuzzer session and
    a bystander.
    """

    name = "fix"

    def __init__(self):
        self.endpoint = makeEndpoint(FixFamily(), name="fix1", reset_on_logon=True)
        self.endpoint.reactor.advance(START)
        self.factory = self.endpoint.factory
        self.bystander = FixClient(self.factory, compId="BYSTANDER", port=1)
        self.bystander.logon()
        self.checks = 0
        self.fuzzer = None

    #: The valid messages mutated: (MsgType, fields), the fields a
    #: function of the SendingTime text.  One is built per input (with the
    #: fuzzer's next MsgSeqNum).
    SEEDS = (
        ("D", lambda now: [(11, "x"), (21, "1"), (55, "AAPL"), (54, "1"), (60, now), (38, 100),
                           (40, "2"), (44, "10.5"), (59, "0")]),
        ("F", lambda now: [(41, "x"), (11, "y"), (55, "AAPL"), (54, "1"), (60, now)]),
        ("G", lambda now: [(11, "x"), (21, "1"), (55, "AAPL"), (54, "1"), (60, now), (38, 100),
                           (40, "2"), (44, "10.5"), (59, "0"), (41, "x")]),
        ("H", lambda now: [(11, "x"), (55, "AAPL"), (54, "1")]),
        ("2", lambda now: [(7, 1), (16, 0)]),
        ("4", lambda now: [(123, "Y"), (36, 5)]),
        ("1", lambda now: [(112, "T")]),
        ("0", lambda now: []),
        ("5", lambda now: []),
        ("V", lambda now: [(262, "r"), (263, "1"), (264, 0), (146, 1), (55, "AAPL"), (267, 2),
                           (269, "0"), (269, "1")]),
        ("A", lambda now: [(98, 0), (108, 30)]),
    )

    def seed(self, client, rng):
        msgType, fields = rng.choice(self.SEEDS)
        return client.build(msgType, fields(stamp(client.reactor.seconds())))

    def feed(self, rng):
        if self.fuzzer is None or self.fuzzer.disconnected:
            if self.fuzzer is not None:
                self.fuzzer.close()
            self.fuzzer = FixClient(self.factory, compId="FUZZ", port=2)
            self.fuzzer.logon()
            self.fuzzer.seq = 2
        raw = self.seed(self.fuzzer, rng)
        data = mutate(raw, rng)
        if rng.random() < 0.5:
            data = refreshChecksum(data)
        self.fuzzer.protocol.dataReceived(data)
        self.fuzzer.transport.clear()
        return data

    def check(self):
        """
        The bystander gets its order acknowledged.
        """
        self.checks += 1
        replies = self.bystander.send("D", [
            (11, "b%d" % self.checks), (21, "1"), (55, "AAPL"), (54, "1"),
            (60, stamp(self.bystander.reactor.seconds())), (38, 100), (40, "2"), (44, "1"), (59, "0")])
        return (not self.bystander.disconnected
                and any(m.msgType == "8" and m.get(150) == "0" for m in replies))


class OuchTarget:
    """
    An OUCH endpoint; a fuzzer connection and a bystander.
    """

    name = "ouch"

    def __init__(self):
        from exsim.soup import ouch42

        self.ouch42 = ouch42
        self.endpoint = makeEndpoint(OuchFamily(), name="ouch1")
        self.bystander = SoupClient(self.endpoint, port=1)
        self.bystander.login("BYSTND")
        self.fuzzer = None
        self.checks = 0

    def enter(self, token, price=100000):
        return packets.packet(b"U", self.ouch42.enterOrder(
            token.encode().ljust(14), b"B", 100, b"AAPL", price, 0, b"FIRM", b"Y", b"A", b"N", 0, b" ", b"N"))

    def seeds(self):
        seeds = [self.enter("T%d" % i) for i in range(3)]
        seeds.append(packets.packet(b"U", b"X" + b"T0".ljust(14) + (0).to_bytes(4, "big")))
        seeds.append(packets.packet(b"U", b"U" + b"T0".ljust(14) + b"T9".ljust(14) + bytes(4 + 4 + 4 + 1 + 1)))
        seeds.append(packets.loginRequest("FUZZ", "", "", 1))
        seeds.append(packets.packet(b"R", b""))
        seeds.append(packets.packet(b"O", b""))
        return seeds

    def feed(self, rng):
        if self.fuzzer is None or self.fuzzer.closed:
            if self.fuzzer is not None:
                self.fuzzer.lose()
            self.fuzzer = SoupClient(self.endpoint, port=2)
            self.fuzzer.login("FUZZ")
            self._seeds = self.seeds()
        data = mutate(rng.choice(self._seeds), rng)
        self.fuzzer.protocol.dataReceived(data)
        self.fuzzer.transport.clear()
        return data

    def check(self):
        self.checks += 1
        self.bystander.send(self.enter("B%d" % self.checks, 1000))
        return not self.bystander.closed and any(k == b"S" and p[:1] == b"A" for k, p in self.bystander.read())


class ItchTarget:
    """
    An ITCH endpoint (SoupBinTCP: what a client sends is logins,
    heartbeats, logouts, unsequenced packets); a fuzzer connection and a
    bystander that must keep getting the feed.
    """

    name = "itch"

    def __init__(self):
        from exsim.soup.itch import ItchFamily

        self.endpoint = makeEndpoint(ItchFamily(), name="itch1")
        self.engine = self.endpoint.engine
        self.bystander = SoupClient(self.endpoint, port=1)
        self.bystander.login("BYSTND")
        self.fuzzer = None
        self.checks = 0
        self._seeds = [
            packets.loginRequest("FUZZ", "", "", 1),
            packets.loginRequest("FUZZ", "", "", 0),
            packets.packet(b"R", b""),
            packets.packet(b"O", b""),
            packets.packet(b"U", b"x" * 8),
            packets.loginRequest("FUZZ", "", "", 1) + packets.packet(b"R", b""),
        ]

    def feed(self, rng):
        if self.fuzzer is None or self.fuzzer.closed:
            if self.fuzzer is not None:
                self.fuzzer.lose()
            self.fuzzer = SoupClient(self.endpoint, port=2)
        data = mutate(rng.choice(self._seeds), rng)
        self.fuzzer.protocol.dataReceived(data)
        self.fuzzer.transport.clear()
        return data

    def check(self):
        """
        An order entered on the engine reaches the bystander as an Add
        Order.
        """
        from exsim.model import Order, OrdType, Side, TimeInForce

        self.checks += 1
        self.engine.submitNew(Order(
            "house", "h%d" % (self.checks,), "AAPL", Side.BUY, 100, 100000, OrdType.LIMIT,
            TimeInForce.DAY))
        return not self.bystander.closed and any(p[:1] == b"A" for p in self.bystander.sequenced())


def _bytes(value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return [_bytes(v) for v in value]
    return value


class ControlTarget:
    """
    The control port's Perspective Broker protocol, before login; a
    bystander is the simulator itself (it must stay untouched).
    """

    name = "control"

    def __init__(self):
        self.simulator = Simulator(Clock())
        self.factory = makeControlFactory(self.simulator, UsersChecker({"admin": "secret"}))
        self.seedsList = [banana.encode(_bytes(seed)) for seed in (
            ["message", 1, "root", "login", 1, ["tuple", "admin"], ["dictionary"]],
            ["message", 2, "root", "loginAnonymous", 1, ["tuple"], ["dictionary"]],
            ["answer", 1, 123],
            ["decref", 1],
            ["message", 3, 1, "respond", 1, ["tuple", "x" * 16, ["local", 2]], ["dictionary"]],
        )]
        self.broker = None

    def feed(self, rng):
        if self.broker is None or self.transport.disconnecting:
            if self.broker is not None:
                self.broker.connectionLost(None)
            self.broker = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
            self.transport = StringTransport()
            self.broker.makeConnection(self.transport)
        data = mutate(rng.choice(self.seedsList), rng)
        self.broker.dataReceived(data)
        self.transport.clear()
        return data

    def check(self):
        return self.simulator.engines == {}


TARGETS = {"fix": FixTarget, "ouch": OuchTarget, "itch": ItchTarget, "control": ControlTarget}


def run(inputs, seed=1, only=("fix", "ouch", "itch", "control"), checkEvery=1000, log=print):
    """
    Fuzz each target with C{inputs} inputs.

    @return: {target name: figures dict}.
    """
    results = {}
    for name in only:
        counter = ErrorCounter()
        globalLogPublisher.addObserver(counter)
        try:
            rng = random.Random("%s-%s" % (seed, name))
            target = TARGETS[name]()
            crashes = []
            bystanderFailures = 0
            started = time.monotonic()
            culprits = []
            for n in range(inputs):
                before = len(counter.errors)
                try:
                    data = target.feed(rng)
                except Exception as e:
                    crashes.append(repr(e))
                    target.fuzzer = target.broker = None
                    continue
                if len(counter.errors) > before and len(culprits) < 5:
                    culprits.append(data)
                if (n + 1) % checkEvery == 0 and not target.check():
                    bystanderFailures += 1
            if not target.check():
                bystanderFailures += 1
            elapsed = time.monotonic() - started
        finally:
            globalLogPublisher.removeObserver(counter)
        figures = {
            "inputs": inputs, "crashes": len(crashes), "logged_errors": len(counter.errors),
            "bystander_failures": bystanderFailures, "seconds": round(elapsed, 1),
        }
        results[name] = figures
        log("%s: %s" % (name, " ".join("%s=%s" % item for item in figures.items())))
        for data in culprits:
            log("  input logging an error: %r" % (data,))
        for crash in crashes[:5]:
            log("  crash: %s" % (crash,))
        for event in counter.errors[:5]:
            failure = event.get("log_failure")
            log("  logged error: %s" % (failure.getErrorMessage() if failure else event.get("log_format"),))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=1000000, help="inputs per decoder")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--only", default="fix,ouch,itch,control")
    parser.add_argument("--check-every", type=int, default=1000)
    options = parser.parse_args()
    results = run(options.inputs, options.seed, options.only.split(","), options.check_every)
    bad = any(r["crashes"] or r["logged_errors"] or r["bystander_failures"] for r in results.values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
