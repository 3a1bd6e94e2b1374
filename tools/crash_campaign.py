#!/usr/bin/env python3
"""
Kill the simulator with SIGKILL in the middle of an order stream, restart
it, and count what was lost (issue 11: "nothing acknowledged is lost").

A real twistd process with a FIX file store and an engine journal; one FIX
client sends a stream of orders (resting buys and sells, and every tenth
one crossing), reading reports as they come; after C{--kill-after} reports
the process is killed with SIGKILL, then started again on the same
configuration.  The client logs on again without resetting, asks for
every report again (ResendRequest 1..0) and asks the status of every order
it last saw live.  Printed:

- reports received before the kill, and how many of them the restarted
  venue does not resend as they were (lost reports);
- orders the client last saw live, and how many of them the restarted
  venue does not know as live (lost live orders).

Usage: python tools/crash_campaign.py [--orders 2000] [--kill-after 1000]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from exsim.fix import codec  # noqa: E402

TWISTD = "from twisted.scripts.twistd import run; run()"

CONFIG = """\
[control]
listen = tcp:0:interface=127.0.0.1
users = admin:campaign
data_dir = {work}

[engine:e1]
journal_sync = batch
journal = journal

[book:AAPL]
engine = e1
tick_size = 0.01

[endpoint:fix1]
engine = e1
protocol = fix
listen = tcp:{port}:interface=127.0.0.1
sender_comp_id = EXSIM
target_comp_id = CLIENT
store = store
"""


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Venue:
    """
    A twistd exsim process.
    """

    def __init__(self, work, port):
        self.work = work
        self.port = port
        self.config = os.path.join(work, "sim.ini")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(work=work, port=port))
        self.process = None

    def start(self, timeout=30):
        log = open(os.path.join(self.work, "twistd.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", TWISTD, "-n", "--pidfile", "", "--logfile", "-",
             "exsim", "--config", self.config],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.work,
            env=dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")),
        )
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("twistd ended early (see %s/twistd.log)" % (self.work,))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return time.monotonic() - started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the venue did not listen within %s s" % (timeout,))

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    """
    A minimal blocking FIX.4.4 initiator.
    """

    def __init__(self, port, seq=1):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.framer = codec.Framer(1 << 20)
        self.seq = seq
        self.pending = []

    def send(self, msgType, body, seq=None):
        header = [(49, "CLIENT"), (56, "EXSIM"), (34, self.seq if seq is None else seq),
                  (52, time.strftime("%Y%m%d-%H:%M:%S.000", time.gmtime()))]
        if seq is None:
            self.seq += 1
        data = codec.encode("FIX.4.4", msgType, header, body)
        self.sock.sendall(data)

    def read(self, timeout):
        """
        Messages received within C{timeout} seconds (at least one wait);
        None at the end of the connection.  A ResendRequest is answered
        with a GapFill (orders the venue never got were never
        acknowledged), a TestRequest with a Heartbeat.
        """
        if self.pending:
            messages, self.pending = self.pending, []
            return messages
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            return []
        except ConnectionError:
            return None
        if not data:
            return None
        messages = []
        for raw in self.framer.feed(data):
            if isinstance(raw, codec.FrameError):
                continue
            message = codec.Message.fromBytes(raw)
            if message.msgType == "2":
                self.send("4", [(123, "Y"), (36, self.seq)], seq=int(message.get(7)))
            elif message.msgType == "1":
                self.send("0", [(112, message.get(112))])
            else:
                messages.append(message)
        return messages

    def readUntil(self, predicate, timeout=10):
        """
        Messages up to the first that C{predicate} accepts (the rest stay
        for the next read), or all those received within C{timeout}.
        """
        found = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.read(0.2)
            if messages is None:
                break
            for i, message in enumerate(messages):
                found.append(message)
                if predicate(message):
                    self.pending = messages[i + 1:] + self.pending
                    return found
        return found

    def close(self):
        self.sock.close()


def newOrder(i):
    """
    Order C{i}: a resting buy or sell, or (every tenth) a sell crossing
    the buys.
    """
    if i % 10 == 9:
        side, price = "2", "99.00"
    elif i % 2:
        side, price = "1", "%.2f" % (99 + (i % 50) / 100)
    else:
        side, price = "2", "%.2f" % (101 + (i % 50) / 100)
    return [(11, "O%d" % (i,)), (55, "AAPL"), (54, side), (38, 100), (40, "2"), (44, price),
            (59, "0"), (60, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()))]


def report(message):
    return (message.seqNum, message.get(11), message.get(150), message.get(39),
            message.get(151))


def run(orders=2000, killAfter=1000, work=None, log=print):
    """
    One campaign; returns its figures as a dict.
    """
    work = work or tempfile.mkdtemp(prefix="exsim-crash-")
    os.makedirs(work, exist_ok=True)
    venue = Venue(work, freePort())
    try:
        firstStart = venue.start()
        client = Client(venue.port)
        client.send("A", [(98, 0), (108, 30)])
        client.readUntil(lambda m: m.msgType == "A")
        received = []
        sent = 0
        killed = False
        while True:
            if sent < orders and not killed:
                for _ in range(20):
                    if sent < orders:
                        client.send("D", newOrder(sent))
                        sent += 1
            messages = client.read(0.05 if not killed else 1.0)
            if messages is None:
                break
            received.extend(m for m in messages if m.msgType == "8")
            if not killed and len(received) >= killAfter:
                venue.kill()
                killed = True
            if not killed and sent >= orders and not messages:
                venue.kill()
                killed = True
        client.close()
        seen = {r[0]: r for r in map(report, received)}
        lastState = {}
        for r in sorted(seen.values()):
            lastState[r[1]] = r
        liveBefore = sorted(c for c, r in lastState.items() if r[3] in ("0", "1"))

        restart = venue.start()
        client = Client(venue.port, seq=client.seq)
        client.send("A", [(98, 0), (108, 30)])
        answered = client.readUntil(lambda m: m.msgType == "A")
        resent = {}
        client.send("2", [(7, 1), (16, 0)])
        quiet = 0
        deadline = time.monotonic() + 60
        # Until the resend is over: a second without messages.
        while quiet < 1 and time.monotonic() < deadline:
            messages = client.read(1.0)
            if messages is None:
                break
            quiet = 0 if messages else quiet + 1
            for m in answered + messages:
                if m.msgType == "8":
                    resent[m.seqNum] = report(m)
            answered = []
        lostReports = [s for s, r in seen.items() if resent.get(s) != r]
        # What the venue reported after the client's last read (fills of
        # resting orders by later crossing orders) is in the resend: the
        # orders to check are those live by every report.
        for r in sorted(resent.values()):
            lastState[r[1]] = r
        liveAfter = [c for c in liveBefore if lastState[c][3] in ("0", "1")]
        lostLive = []
        for clOrdId in liveAfter:
            side = "1" if int(clOrdId[1:]) % 2 and int(clOrdId[1:]) % 10 != 9 else "2"
            client.send("H", [(11, clOrdId), (55, "AAPL"), (54, side)])
            [status] = [m for m in client.readUntil(
                lambda m: m.msgType in ("8", "3", "j") and m.get(11) == clOrdId) if
                m.get(11) == clOrdId] or [None]
            if status is None or status.get(39) not in ("0", "1", "2"):
                lostLive.append(
                    (clOrdId, lastState[clOrdId],
                     None if status is None else (status.msgType, status.get(39), status.get(58)))
                )
        client.close()
        figures = {
            "orders_sent": sent,
            "reports_before_kill": len(seen),
            "reports_lost": len(lostReports),
            "live_orders_before_kill": len(liveBefore),
            "live_orders_checked": len(liveAfter),
            "live_orders_lost": len(lostLive),
            "first_start_s": round(firstStart, 2),
            "restart_s": round(restart, 2),
        }
        log(" ".join("%s=%s" % item for item in figures.items()))
        for lost in lostLive:
            log("lost live order: %r" % (lost,))
        return figures
    finally:
        venue.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--kill-after", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    options = parser.parse_args()
    failed = False
    for _ in range(options.runs):
        figures = run(options.orders, options.kill_after)
        failed = failed or figures["reports_lost"] or figures["live_orders_lost"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
