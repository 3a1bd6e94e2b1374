"""
Management values do not reach the file system or the network unchecked
(issue 11, defect 2): stores and journals live under the data directory,
and the management API listens on loopback only unless the configuration
allows more.
"""

import os

from twisted.internet.testing import MemoryReactorClock
from twisted.spread import pb
from twisted.trial.unittest import TestCase

from exsim import config
from exsim.control.avatar import ControlAvatar
from exsim.datadir import checkDataName, resolve
from exsim.errors import BadValue, ConfigError
from exsim.fix.store import StoreError
from exsim.listening import checkListen
from exsim.service import Simulator


class DataNameTests(TestCase):
    def test_good(self):
        for name in ("store", "stores/fix1", "a.b"):
            self.assertEqual(checkDataName(name, "store"), name)

    def test_bad(self):
        for name in ("/etc", "../x", "a/../../b", "~root", "", "a\x00b", "..\\x"):
            self.assertRaises(BadValue, checkDataName, name, "store")

    def test_resolve(self):
        base = os.path.abspath(self.mktemp())
        self.assertEqual(resolve(base, "s/x", "store"), os.path.join(base, "s", "x"))


class StoreAndJournalTests(TestCase):
    def setUp(self):
        self.simulator = Simulator(MemoryReactorClock())
        self.simulator.dataDir = os.path.abspath(self.mktemp())
        self.simulator.create_engine("e1")
        self.simulator.create_endpoint("fix1", "e1", "fix")

    def test_storeUnderDataDir(self):
        self.simulator.set_protocol_property("fix1", "store", "stores")
        self.successResultOf(self.simulator.start_endpoint("fix1"))
        self.assertTrue(os.path.isdir(os.path.join(self.simulator.dataDir, "stores")))

    def test_storeOutside(self):
        for value in ("/tmp/x", "../outside", "a/../../b"):
            error = self.assertRaises(
                BadValue, self.simulator.set_protocol_property, "fix1", "store", value
            )
            self.assertIn("data directory", str(error))
        self.assertFalse(os.path.exists(os.path.join(self.simulator.dataDir, "..", "outside")))

    def test_journalOutside(self):
        for value in ("/tmp/j", "../j"):
            self.assertRaises(BadValue, self.simulator.set_engine_property, "e1", "journal", value)
        self.assertEqual(self.simulator.journals, {})
        self.simulator.set_engine_property("e1", "journal", "journal")
        self.assertTrue(
            self.simulator.journals["e1"].path.startswith(self.simulator.dataDir + os.sep)
        )

    def test_corruptStoreNotEchoed(self):
        """
        A store file that is not ours: the error names it, never echoes
        its bytes.
        """
        directory = os.path.join(self.simulator.dataDir, "stores")
        os.makedirs(directory)
        with open(os.path.join(directory, "X.fixstore"), "wb") as f:
            f.write(b"EXSIM-FIX-STORE 1\nSECRET-TOKEN-1234 data\n")
        self.simulator.set_protocol_property("fix1", "store", "stores")
        failure = self.failureResultOf(self.simulator.start_endpoint("fix1"), StoreError)
        self.assertIn("X.fixstore", failure.getErrorMessage())
        self.assertNotIn("SECRET", failure.getErrorMessage())


class ConfigTests(TestCase):
    def load(self, text):
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        path = os.path.join(directory, "sim.ini")
        with open(path, "w") as f:
            f.write(text)
        simulator = Simulator(MemoryReactorClock())
        config.apply(config.load(path), simulator)
        return directory, simulator

    def test_dataDirRelativeToConfig(self):
        directory, simulator = self.load(
            "[engine:e1]\njournal = j\n\n[control]\nusers = a:b\ndata_dir = data\n"
        )
        self.assertEqual(simulator.dataDir, os.path.join(directory, "data"))
        self.assertTrue(os.path.exists(os.path.join(directory, "data", "j", "e1.journal")))

    def test_allowListen(self):
        directory, simulator = self.load("[control]\nusers = a:b\nallow_listen = 10.1.2.3, 10.1.2.4\n")
        self.assertEqual(simulator.allowListen, ("10.1.2.3", "10.1.2.4"))

    def test_badStoreNamesLine(self):
        self.assertRaises(
            ConfigError, self.load,
            "[engine:e1]\n\n[endpoint:fix1]\nengine = e1\nprotocol = fix\nstore = /etc\n",
        )


class ListenTests(TestCase):
    def test_loopbackOnly(self):
        checkListen("tcp:0:interface=127.0.0.1")
        checkListen("tcp6:0:interface=\\:\\:1")
        checkListen("ssl:0:privateKey=k.pem:interface=localhost")
        for description in ("tcp:9000", "tcp:0:interface=0.0.0.0", "unix:/tmp/s",
                            "tcp:0:interface=10.0.0.1"):
            self.assertRaises(BadValue, checkListen, description)

    def test_allowed(self):
        checkListen("tcp:0:interface=10.0.0.1", ("10.0.0.1",))
        checkListen("tcp:9000", ("*",))

    def test_managementApi(self):
        """
        Through the management service, create_endpoint and
        set_protocol_property refuse a listener off loopback; the
        configuration's own may be anywhere.
        """
        simulator = Simulator(MemoryReactorClock())
        simulator.create_engine("e1")
        avatar = ControlAvatar(simulator, b"admin")
        failure = self.failureResultOf(
            avatar.perspective_create_endpoint("fix1", "e1", "fix", listen="tcp:9878"), BadValue
        )
        self.assertIn("loopback", failure.getErrorMessage())
        self.assertEqual(simulator.endpoints, {})
        self.successResultOf(avatar.perspective_create_endpoint("fix1", "e1", "fix"))
        self.failureResultOf(
            avatar.perspective_set_protocol_property("fix1", "listen", "tcp:0:interface=0.0.0.0"),
            pb.Error,
        )
        self.assertEqual(simulator.endpoint("fix1").get("listen"), "tcp:0:interface=127.0.0.1")
        simulator.allowListen = ("*",)
        self.successResultOf(
            avatar.perspective_set_protocol_property("fix1", "listen", "tcp:0:interface=0.0.0.0")
        )
        # The simulator itself (a configuration file) is not held back.
        simulator.allowListen = ()
        simulator.set_protocol_property("fix1", "listen", "tcp:0")
