"""
TLS (C{ssl:} endpoint strings) for FIX, OUCH, ITCH, the management
service and the web view, with a throw-away CA and server certificate
(L{tests.tlsfiles}): logons over TLS with the clients of
L{exsim.testing}, with QuickFIX's SSL initiator and with C{exsimctl};
the web view's pages over HTTPS; a bad certificate or key is one
configuration error naming file and line.
"""

import base64
import http.client
import os
import queue
import shutil
import ssl
import sys
import tempfile

from twisted.internet import defer, reactor, threads, utils
from twisted.trial.unittest import SynchronousTestCase, TestCase

from exsim import config
from exsim.control.checker import UsersChecker
from exsim.control.service import ControlService, addControlService
from exsim.errors import ConfigError
from exsim.listening import serverEndpoint
from exsim.observe.web.server import startWeb
from exsim.service import Simulator
from exsim.testing import FixClient, ItchClient, OuchClient, connectFix, startServer
from tests.test_tap import TWISTD, _env, _kill, _Watch
from tests.tlsfiles import makeCertificates

try:
    import quickfix as fix
except ImportError:  # pragma: no cover
    fix = None

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def certificates(testCase):
    """
    A fresh CA and server certificate; C{files["cadir"]} is a directory
    holding only the CA (for C{caCertsDir=}).
    """
    directory = tempfile.mkdtemp(prefix="exsim-tls-")
    testCase.addCleanup(shutil.rmtree, directory, True)
    files = makeCertificates(directory)
    cadir = os.path.join(directory, "ca")
    os.mkdir(cadir)
    shutil.copy(files["ca"], cadir)
    files["cadir"] = cadir
    return files


def tlsListen(files, port=0):
    return "ssl:%d:interface=127.0.0.1:privateKey=%s:certKey=%s" % (port, files["key"], files["cert"])


class WireTlsTests(TestCase):
    """
    FIX, OUCH and ITCH endpoints listening on C{ssl:}, in a simulator
    process, with the blocking clients.
    """

    def setUp(self):
        self.files = certificates(self)
        server = self.server = startServer(self)
        server.create_engine("e1")
        server.create_book("AAPL", "e1", "AAPL")
        for name, protocol in (("fix1", "fix"), ("ouch1", "ouch"), ("itch1", "itch")):
            server.create_endpoint(name, "e1", protocol)
            server.set_protocol_property(name, "listen", tlsListen(self.files))
            server.start_endpoint(name)
        server.set_protocol_property("ouch1", "users", "trader:secret")

    def test_fixOuchItch(self):
        """
        A FIX order over TLS rests; OUCH over TLS trades with it; the ITCH
        feed over TLS shows the book as get_book does.
        """
        fixClient = FixClient(*self.server.get_endpoint_address("fix1"), tls=self.files["ca"],
                              server_hostname="localhost")
        self.addCleanup(fixClient.close)
        fixClient.logon()
        self.assertIsInstance(fixClient.socket, ssl.SSLSocket)
        fixClient.new_order("AAPL", "sell", 100, "10.00", cl_ord_id="f1")
        fixClient.wait_for(fixClient.report("f1", "0"))
        ouch = OuchClient(*self.server.get_endpoint_address("ouch1"), "trader", "secret",
                          tls=self.files["ca"])
        self.addCleanup(ouch.close)
        ouch.login()
        ouch.enter_order("o1", "buy", 40, "AAPL", "10.00", time_in_force=0)
        self.assertEqual(ouch.wait_for("E", token="o1")["shares"], 40)
        self.assertEqual(fixClient.wait_for(fixClient.report("f1", "F"))[151], "60")
        itch = ItchClient(*self.server.get_endpoint_address("itch1"), "", "",
                          tls=self.files["ca"])
        self.addCleanup(itch.close)
        itch.login()
        itch.wait_for("E")
        self.assertEqual(itch.get_book("AAPL")["asks"], self.server.get_book("AAPL")["asks"])
        self.assertEqual(itch.get_book("AAPL")["asks"], [("10.00", 60, 1)])

    def test_untrustedCertificate(self):
        """
        A client that does not trust the CA refuses the connection.
        """
        self.assertRaises(
            ssl.SSLCertVerificationError, FixClient,
            *self.server.get_endpoint_address("fix1"), tls=True,
        )


class ReactorTlsTests(TestCase):
    """
    On the test's reactor: the Twisted FIX client, QuickFIX's SSL
    initiator, and exsimctl to an C{ssl:} management service.
    """

    timeout = 60

    def setUp(self):
        self.files = certificates(self)
        self.tmp = tempfile.mkdtemp(prefix="exsim-tls-qf-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    @defer.inlineCallbacks
    def fixEndpoint(self):
        sim = self.simulator = Simulator(reactor)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_endpoint("fix1", "e1", "fix")
        sim.set_protocol_property("fix1", "listen", tlsListen(self.files))
        yield sim.start_endpoint("fix1")
        self.addCleanup(sim.delete_endpoint, "fix1")
        return sim.get_endpoint_address("fix1")[1]

    @defer.inlineCallbacks
    def test_asyncFixClient(self):
        """
        connectFix over C{ssl:} verifying the server's name against the CA.
        """
        port = yield self.fixEndpoint()
        client = yield connectFix(
            reactor,
            "ssl:host=127.0.0.1:port=%d:caCertsDir=%s:hostname=localhost" % (port, self.files["cadir"]),
            sender_comp_id="TLS",
        )
        client.new_order("AAPL", "buy", 5, "1.00", cl_ord_id="t1")
        ack = yield client.wait_for(client.report("t1", "0"))
        self.assertEqual(ack[56], "TLS")
        yield client.logout()

    @defer.inlineCallbacks
    def test_quickfixSslInitiator(self):
        """
        QuickFIX's SSL initiator, verifying the certificate against the CA,
        logs on and gets its order acknowledged.
        """
        if fix is None:  # pragma: no cover
            raise self.skipTest("quickfix is not installed")
        port = yield self.fixEndpoint()
        path = os.path.join(self.tmp, "initiator.cfg")
        with open(path, "w") as f:
            f.write(
                "[DEFAULT]\nConnectionType=initiator\nSocketConnectHost=127.0.0.1\n"
                "HeartBtInt=30\nReconnectInterval=1\nStartTime=00:00:00\nEndTime=00:00:00\n"
                "UseDataDictionary=Y\nFileStorePath=%s\nTargetCompID=EXSIM\n"
                "SSLProtocol=+TLSv1_2 +TLSv1_3\nCertificationAuthoritiesFile=%s\n"
                "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=QFTLS\nSocketConnectPort=%d\n"
                "DataDictionary=%s\n"
                % (os.path.join(self.tmp, "store"), self.files["ca"], port,
                   os.path.join(DATA, "FIX44.xml"))
            )
        app = _Recorder()
        settings = fix.SessionSettings(path)
        store = fix.FileStoreFactory(settings)
        logs = fix.ScreenLogFactory(False, False, False)
        initiator = fix.SSLSocketInitiator(app, store, settings, logs)
        initiator.start()
        stopped = []

        def stop():
            if not stopped:
                stopped.append(True)
                return threads.deferToThread(initiator.stop)

        self.addCleanup(stop)
        yield threads.deferToThread(app.events.get, True, 10)
        session = fix.SessionID("FIX.4.4", "QFTLS", "EXSIM")
        message = fix.Message()
        message.getHeader().setField(fix.MsgType("D"))
        for tag, value in [(11, "q1"), (55, "AAPL"), (54, "1"), (60, "20240101-00:00:00"),
                           (38, "10"), (40, "2"), (44, "9.50"), (59, "0")]:
            message.setField(fix.StringField(tag, value))
        fix.Session.sendToTarget(message, session)
        report = yield threads.deferToThread(app.inbox.get, True, 10)
        self.assertIn("\x0135=8\x01", report)
        self.assertIn("\x0111=q1\x01", report)
        self.assertIn("\x01150=0\x01", report)
        yield stop()
        self.assertEqual(app.rejects, [])
        self.assertEqual(self.simulator.get_book("AAPL")["bids"], [("9.50", 10, 1)])

    @defer.inlineCallbacks
    def test_exsimctl(self):
        """
        exsimctl runs an operation against a management service listening
        on C{ssl:}, trusting the CA.
        """
        sim = Simulator(reactor)
        control = ControlService(sim, UsersChecker({"admin": "pw"}), tlsListen(self.files))
        port = yield control.startListening()
        self.addCleanup(control.stopService)
        sim.create_engine("e1")
        connect = "ssl:host=127.0.0.1:port=%d:caCertsDir=%s:hostname=localhost" % (
            port.getHost().port, self.files["cadir"],
        )
        out, err, code = yield utils.getProcessOutputAndValue(
            sys.executable,
            ["-m", "exsim.ctl", "--connect", connect, "--password", "pw", "create_engine", "e2"],
            env=_env(), path=ROOT,
        )
        self.assertEqual((code, err), (0, b""))
        self.assertEqual(sorted(sim.engines), ["e1", "e2"])


def httpsGet(port, path, password, cafile, user="admin"):
    """
    GET C{path} from the web view on C{127.0.0.1:port} over HTTPS,
    verifying its certificate (name included) against C{cafile} (None:
    the system's CAs), with HTTP Basic credentials.

    @return: (status, body).
    """
    context = ssl.create_default_context(cafile=cafile)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        connection.request("GET", path, headers={"Authorization": "Basic " + token})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class WebTlsTests(TestCase):
    """
    The web view listening on C{ssl:}: its pages over HTTPS, behind the
    management service's users.
    """

    timeout = 60

    def setUp(self):
        from twisted.logger import globalLogPublisher

        self.files = certificates(self)
        self.logged = []
        globalLogPublisher.addObserver(self.logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.logged.append)

    @defer.inlineCallbacks
    def test_pagesOverHttps(self):
        """
        Pages are served over TLS with a certificate the CA vouches for;
        the log says C{https://}; a wrong password is a 401; a client that
        does not trust the CA refuses the connection.
        """
        from twisted.logger import formatEvent

        sim = Simulator(reactor)
        addControlService(sim, UsersChecker({"admin": "pw"}), "tcp:0:interface=127.0.0.1")
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_order("h1", "AAPL")
        sim.set_order_property("h1", "side", "buy")
        sim.set_order_property("h1", "price", "12.34")
        sim.set_order_property("h1", "quantity", 7)
        sim.submit_order("h1")
        host, port = yield startWeb(sim, tlsListen(self.files))
        self.addCleanup(sim.getServiceNamed("web").stopService)
        self.assertEqual(host, "127.0.0.1")
        status, body = yield threads.deferToThread(httpsGet, port, "/", "pw", self.files["ca"])
        self.assertEqual(status, 200)
        self.assertIn(b"AAPL", body)
        status, body = yield threads.deferToThread(httpsGet, port, "/book/AAPL", "pw", self.files["ca"])
        self.assertEqual(status, 200)
        self.assertIn(b"12.34", body)
        self.assertIn(
            "web view on https://127.0.0.1:%d/ (the management service's users)" % (port,),
            [formatEvent(e) for e in self.logged],
        )
        with self.assertRaises(ssl.SSLCertVerificationError):
            yield threads.deferToThread(httpsGet, port, "/", "pw", None)
        status, body = yield threads.deferToThread(httpsGet, port, "/", "wrong", self.files["ca"])
        self.assertEqual(status, 401)
        self.assertNotIn(b"AAPL", body)
        self.flushLoggedErrors()

    def test_webSectionBadFiles(self):
        """
        In sim.ini, the web view's bad TLS files are an error naming the
        file and the listen line.
        """
        text = (
            "[control]\nusers = a:b\n[web]\n"
            "listen = ssl:0:interface=127.0.0.1:privateKey=%s:certKey=/nonexistent/cert.pem\n"
            % (self.files["key"],)
        )
        e = self.assertRaises(ConfigError, config.apply, config.parse(text, "sim.ini"), Simulator(reactor))
        self.assertTrue(str(e).startswith("sim.ini:4: bad listen endpoint 'ssl:0:"), str(e))
        self.assertTrue(str(e).endswith(": certKey file /nonexistent/cert.pem: no such file"), str(e))
        self.assertNotIn("\n", str(e))


if fix is not None:

    class _Recorder(fix.Application):
        def __init__(self):
            fix.Application.__init__(self)
            self.events = queue.Queue()
            self.inbox = queue.Queue()
            self.rejects = []

        def onCreate(self, sessionID):
            pass

        def onLogon(self, sessionID):
            self.events.put("logon")

        def onLogout(self, sessionID):
            self.events.put("logout")

        def toAdmin(self, message, sessionID):
            if message.getHeader().getField(35) == "3":
                self.rejects.append(message.toString())

        def fromAdmin(self, message, sessionID):
            if message.getHeader().getField(35) == "3":
                self.rejects.append(message.toString())

        def toApp(self, message, sessionID):
            pass

        def fromApp(self, message, sessionID):
            self.inbox.put(message.toString())


class BadFilesTests(SynchronousTestCase):
    """
    A certificate or key that cannot be read or used is one clear error.
    """

    def setUp(self):
        self.files = certificates(self)

    def problem(self, description):
        e = self.assertRaises(ValueError, serverEndpoint, reactor, description)
        return str(e)

    def test_missingFiles(self):
        self.assertEqual(
            self.problem("ssl:0:privateKey=/nonexistent/k.pem:certKey=%s" % self.files["cert"]),
            "privateKey file /nonexistent/k.pem: no such file",
        )
        self.assertEqual(
            self.problem("ssl:0:privateKey=%s:certKey=/nonexistent/c.pem" % self.files["key"]),
            "certKey file /nonexistent/c.pem: no such file",
        )
        self.assertIn("a TLS endpoint needs privateKey=KEYFILE", self.problem("ssl:0"))

    def test_wrongFiles(self):
        """
        A certificate given as the key, or a key that does not match the
        certificate, is named with the OpenSSL reason.
        """
        text = self.problem("ssl:0:privateKey=%s:certKey=%s" % (self.files["cert"], self.files["cert"]))
        self.assertIn("not a PEM certificate and private key", text)
        self.assertIn(self.files["cert"], text)
        text = self.problem("ssl:0:privateKey=%s:certKey=%s" % (self.files["key"], self.files["ca"]))
        self.assertIn("do not match", text)

    def test_configNamesFileAndLine(self):
        """
        In sim.ini, an endpoint's and the management service's bad TLS
        files are errors naming the file and the listen line.
        """
        text = (
            "[engine:e1]\n[endpoint:fix1]\nengine = e1\nprotocol = fix\n"
            "listen = ssl:0:interface=127.0.0.1:privateKey=/nonexistent/key.pem\n"
        )
        sim = Simulator(reactor)
        e = self.assertRaises(ConfigError, config.apply, config.parse(text, "sim.ini"), sim)
        self.assertTrue(str(e).startswith("sim.ini:5: bad listen endpoint 'ssl:0:"), str(e))
        self.assertTrue(str(e).endswith(": privateKey file /nonexistent/key.pem: no such file"), str(e))
        self.assertNotIn("\n", str(e))
        text = "[control]\nusers = a:b\nlisten = ssl:0:privateKey=%s\n" % (self.files["cert"],)
        e = self.assertRaises(ConfigError, config.apply, config.parse(text, "sim.ini"), Simulator(reactor))
        self.assertTrue(str(e).startswith("sim.ini:3: bad listen endpoint"), str(e))
        self.assertIn("not a PEM certificate and private key", str(e))


class TwistdTlsTests(TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_badCertificatePath(self):
        """
        twistd with a missing certificate: one line naming the file and
        line, no traceback, exit status 1.
        """
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("[engine:e1]\n[endpoint:fix1]\nengine = e1\nprotocol = fix\n"
                    "listen = ssl:0:interface=127.0.0.1:privateKey=/nonexistent/key.pem:"
                    "certKey=/nonexistent/cert.pem\n")
        watch = _Watch(b"never")
        process = reactor.spawnProcess(
            watch, sys.executable,
            [sys.executable, "-c", TWISTD, "-n", "--pidfile", "", "--logfile", "-", "exsim",
             "--config", path],
            env=_env(), path=ROOT,
        )
        self.addCleanup(_kill, process)
        watch.started.addErrback(lambda f: None)
        code, sig = yield watch.ended
        self.assertEqual(code, 1)
        lines = [l for l in watch.output.decode().splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, watch.output)
        self.assertIn("%s:5:" % (path,), lines[0])
        self.assertIn("/nonexistent/key.pem: no such file", lines[0])
        self.assertNotIn(b"Traceback", watch.output)
