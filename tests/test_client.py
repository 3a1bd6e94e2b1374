"""
Tests for L{exsim.client}: C{exsim.API().create_server()} (a simulator in
a forked child process), the blocking and asynchronous clients.  These are
integration tests: real processes and sockets on 127.0.0.1.
"""

import os
import signal
import socket
import subprocess
import sys

from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer, reactor, task
from twisted.trial import unittest

import exsim
from exsim import client, registry
from exsim.engine.behaviours import AutoReject
from exsim.errors import BadValue, DuplicateName, Timeout, UnknownName

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def isAlive(pid):
    """
    Whether process C{pid} exists and is not a zombie (an orphan waits
    for whoever reaps orphans here).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % (pid,)) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def refuses(address):
    s = socket.socket()
    try:
        s.connect(address)
    except ConnectionRefusedError:
        return True
    finally:
        s.close()
    return False


class PoliteReject(AutoReject):
    name = "polite_reject"
    parameters = {"reject_text": (str, "sorry")}


class CreateServerTests(unittest.TestCase):
    def setUp(self):
        self.server = exsim.API(timeout=20).create_server()
        self.addCleanup(self.server.delete)

    def test_operations(self):
        """
        Every call blocks until its result arrives.
        """
        server = self.server
        self.assertIsNone(server.create_engine("e1", "matching"))
        server.create_book("AAPL", "e1", "AAPL")
        server.create_order("o1", "AAPL", side="buy", price="150.25", quantity=10)
        server.submit_order("o1")
        self.assertEqual(server.get_book("AAPL")["bids"], [("150.25", 10, 1)])
        events = server.get_events()
        self.assertEqual([e["type"] for e in events], ["accepted", "added", "book_changed"])
        self.assertEqual(server.get_events(), [])

    def test_errors(self):
        """
        Errors are raised as the exsim.errors class with the server's
        message.
        """
        self.server.create_engine("e1")
        e = self.assertRaises(DuplicateName, self.server.create_engine, "e1")
        self.assertEqual(str(e), "engine 'e1' already exists")
        self.assertRaises(UnknownName, self.server.get_book, "NOPE")
        self.assertRaises(BadValue, self.server.create_engine)

    def test_delete(self):
        """
        delete() leaves no process and no listening port; it can be called
        again.
        """
        pid, address = self.server.pid, self.server.address
        self.assertTrue(isAlive(pid))
        self.assertFalse(refuses(address))
        self.server.delete()
        self.assertFalse(isAlive(pid))
        self.assertTrue(refuses(address))
        self.server.delete()
        self.assertRaises(client.ServerGone, self.server.get_events)

    def test_endpointPortClosed(self):
        """
        Ports opened by endpoints of the simulator close with it.
        """
        self.server.create_engine("e1")
        self.server.create_endpoint("fix1", "e1", "fix")
        self.server.start_endpoint("fix1")
        host, port = self.server.get_endpoint_address("fix1")
        self.assertEqual(host, "127.0.0.1")
        self.assertFalse(refuses((host, port)))
        self.server.delete()
        self.assertTrue(refuses((host, port)))

    def test_inheritsPlugins(self):
        """
        What the parent registered before create_server, the server knows.
        """
        registry.register("behaviour", "polite_reject", PoliteReject)
        self.addCleanup(registry.unregister, "behaviour", "polite_reject")
        server = exsim.API().create_server()
        self.addCleanup(server.delete)
        server.create_engine("e1")
        server.create_book("AAPL", "e1")
        server.set_book_property("AAPL", "behaviour", "polite_reject")
        self.assertRaises(BadValue, self.server.create_engine, "e1", "nope")
        self.server.create_engine("e1")
        self.server.create_book("AAPL", "e1")
        # self.server was forked before the registration.
        self.assertRaises(BadValue, self.server.set_book_property, "AAPL", "behaviour", "polite_reject")
        server.create_order("o1", "AAPL", side="buy", price="1", quantity=1)
        e = self.assertRaises(BadValue, server.submit_order, "o1")
        self.assertIn("sorry", str(e))

    def test_connect(self):
        """
        API.connect attaches a second client; closing it leaves the
        simulator running.
        """
        other = exsim.API().connect(self.server.endpoint, self.server.user, self.server.password)
        other.create_engine("e1")
        other.close()
        self.assertRaises(client.ServerGone, other.get_events)
        self.assertRaises(DuplicateName, self.server.create_engine, "e1")

    def test_wrongPassword(self):
        self.assertRaises(
            UnauthorizedLogin, exsim.API().connect, self.server.endpoint, "exsim", "guess"
        )

    def test_eventQueueSize(self):
        server = exsim.API().create_server(event_queue_size=3)
        self.addCleanup(server.delete)
        server.create_engine("e1")
        server.create_book("AAPL", "e1")
        server.create_order("o1", "AAPL", side="buy", price="1", quantity=1)
        server.submit_order("o1")
        server.create_order("o2", "AAPL", side="buy", price="2", quantity=1)
        server.submit_order("o2")
        events = server.get_events()
        self.assertEqual(events[-1]["type"], "events_lost")
        self.assertEqual(events[-1]["count"], 3)

    def test_waitForEvent(self):
        """
        wait_for_event returns the first matching event; the ones before it
        stay queued for get_events, oldest first.
        """
        self.server.create_engine("e1")
        self.server.create_book("AAPL", "e1")
        self.server.create_order("o1", "AAPL", side="buy", price="1", quantity=1)
        self.server.submit_order("o1")
        event = self.server.wait_for_event("added", side="buy")
        self.assertEqual((event["type"], event["price"]), ("added", "1.00"))
        rest = self.server.get_events()
        self.assertEqual([e["type"] for e in rest], ["accepted", "book_changed"])
        self.assertLess(rest[0]["event_id"], event["event_id"], rest[1]["event_id"])
        self.server.set_order_property("o1", "quantity", 3)
        self.server.submit_order("o1")
        first = self.server.get_events(1)
        self.assertEqual(len(first), 1)
        self.assertRaises(
            Timeout, self.server.wait_for_event, "added", timeout=0.1, side="sell"
        )
        # What the wait saw stays queued.
        later = self.server.get_events()
        self.assertIn("replaced", [e["type"] for e in first + later])
        self.assertEqual(
            [e["event_id"] for e in first + later],
            list(range(first[0]["event_id"], first[0]["event_id"] + 1 + len(later))),
        )

    def test_badOption(self):
        self.assertRaises(BadValue, exsim.API().create_server, event_queue_size=0)


class AsyncClientTests(unittest.TestCase):
    """
    L{client.connect} on the test's reactor, against a server process.
    """

    def setUp(self):
        self.server = exsim.API().create_server()
        self.addCleanup(self.server.delete)

    @defer.inlineCallbacks
    def test_connect(self):
        control = yield client.connect(
            self.server.endpoint, self.server.user, self.server.password, reactor
        )
        try:
            yield control.create_engine("e1")
            yield control.create_book("AAPL", "e1")
            book = yield control.get_book("AAPL")
            self.assertEqual(book["bids"], [])
            yield self.assertFailure(control.create_engine("e1"), DuplicateName)
            yield control.create_order("o1", "AAPL", side="sell", price="2", quantity=5)
            yield control.submit_order("o1")
            event = yield control.wait_for_event("book_changed", side="sell")
            self.assertEqual((event["price"], event["quantity"]), ("2.00", 5))
            events = yield control.get_events(1)
            self.assertEqual([e["type"] for e in events], ["accepted"])
            yield self.assertFailure(
                control.wait_for_event("trade", timeout=0.1), Timeout
            )
        finally:
            yield control.disconnect()
        self.assertIsNone((yield control.disconnect()))
        yield self.assertFailure(control.get_book("AAPL"), client.ServerGone)

    def test_badEndpoint(self):
        return self.assertFailure(client.connect("nonsense:", "a", "b", reactor), BadValue)


class ParentDeathTests(unittest.TestCase):
    """
    The simulator stops when the process that created it dies, even by
    SIGKILL.
    """

    @defer.inlineCallbacks
    def test_parentKilled(self):
        script = (
            "import os, sys, exsim\n"
            "server = exsim.API().create_server()\n"
            "sys.stdout.write('%d %d\\n' % (server.pid, server.address[1]))\n"
            "sys.stdout.flush()\n"
            "os.kill(os.getpid(), 9)\n"
        )
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + sys.path))
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, timeout=60
        )
        self.assertEqual(out.returncode, -signal.SIGKILL, out.stderr)
        pid, port = map(int, out.stdout.split())
        for _ in range(200):
            if not isAlive(pid) and refuses(("127.0.0.1", port)):
                break
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.assertFalse(isAlive(pid))
        self.assertTrue(refuses(("127.0.0.1", port)))
