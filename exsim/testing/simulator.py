# -*- test-case-name: tests.test_examples -*-
"""
Helpers for unittest and trial tests that drive a simulator.

    class OrderTests(exsim.testing.SimulatorTestMixin, unittest.TestCase):
        def test_order(self):
            self.exsim.create_engine("e1", "matching")

For a trial test written with Deferreds, L{connectedClient} gives an
asynchronous L{exsim.client.ControlClient} of a fresh simulator.
"""

from exsim.client import API, connect


def startServer(testCase, **options):
    """
    Start a simulator for C{testCase}; it is deleted when the test ends
    (C{addCleanup}).

    @param options: as L{API.create_server}.
    @return: the L{exsim.client.Server}.
    """
    server = API().create_server(**options)
    testCase.addCleanup(server.delete)
    return server


class SimulatorTestMixin:
    """
    Mix into a C{unittest.TestCase} (or a trial one): every test gets a
    fresh simulator as C{self.exsim}.

    @cvar exsimOptions: keyword arguments of L{API.create_server}.
    """

    exsimOptions = {}

    def setUp(self):
        super().setUp()
        self.exsim = startServer(self, **self.exsimOptions)


class SharedSimulatorMixin:
    """
    Mix into a C{unittest.TestCase}: one simulator for all the tests of
    the class, as C{self.exsim} (started in C{setUpClass}).
    """

    exsimOptions = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.exsim = API().create_server(**cls.exsimOptions)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.exsim.delete()
        finally:
            super().tearDownClass()


def connectedClient(testCase, reactor, **options):
    """
    For trial: start a simulator and connect an asynchronous client to it
    on C{reactor}.  The client disconnects and the simulator stops when
    the test ends.

    @return: a Deferred firing with (L{exsim.client.Server},
        L{exsim.client.ControlClient}).
    """
    server = startServer(testCase, **options)
    d = connect(server.endpoint, server.user, server.password, reactor)

    def connected(client):
        testCase.addCleanup(client.disconnect)
        return server, client

    return d.addCallback(connected)
