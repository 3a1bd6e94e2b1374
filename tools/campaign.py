"""
What the campaign scripts in tools/ share: a twistd exsim process on a
configuration of their own (started, watched, always stopped), its RSS, a
free port, and a fast FIX message builder for the load generators.

Not a test helper: plain Python, real processes on 127.0.0.1.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

TWISTD = "from twisted.scripts.twistd import run; run()"


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid):
    """
    The resident set size of process C{pid}, in MB (None once it is gone).
    """
    try:
        with open("/proc/%d/status" % (pid,)) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


class Venue:
    """
    A twistd exsim process running C{config} (a sim.ini text; C{{port}}
    and C{{work}} in it are filled in), in a fresh work directory.

    Use as a context manager: the process is stopped (SIGTERM, then
    SIGKILL) on the way out, whatever happened.
    """

    def __init__(self, config, work=None, **values):
        self.work = work or tempfile.mkdtemp(prefix="exsim-campaign-")
        self.port = freePort()
        self.config = os.path.join(self.work, "sim.ini")
        with open(self.config, "w") as f:
            f.write(config.format(port=self.port, work=self.work, **values))
        self.logPath = os.path.join(self.work, "twistd.log")
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.process.pid

    def start(self, timeout=60):
        log = open(self.logPath, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", TWISTD, "-n", "--pidfile", "", "--logfile", "-",
             "exsim", "--config", self.config],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.work,
            env=dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("twistd ended early (see %s)" % (self.logPath,))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the venue did not listen within %s s" % (timeout,))

    def rss(self):
        return rss(self.process.pid)

    def log(self):
        with open(self.logPath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def checksum(data):
    return b"10=%03d\x01" % (sum(data) & 255,)


def fixMessage(msgType, sender, seq, body, target="EXSIM", begin=b"FIX.4.4"):
    """
    One FIX message (bytes), built by hand for speed.

    @param body: the body fields already encoded (bytes, each ending in
        SOH).
    """
    stamp = time.strftime("%Y%m%d-%H:%M:%S.000", time.gmtime()).encode()
    inner = b"35=%s\x0149=%s\x0156=%s\x0134=%d\x0152=%s\x01%s" % (
        msgType, sender, target.encode() if isinstance(target, str) else target, seq, stamp, body)
    head = b"8=%s\x019=%d\x01%s" % (begin, len(inner), inner)
    return head + checksum(head)


def logon(sender, heartBtInt=30):
    return fixMessage(b"A", sender, 1, b"98=0\x01108=%d\x01" % (heartBtInt,))
