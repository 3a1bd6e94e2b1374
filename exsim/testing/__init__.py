# -*- test-case-name: tests.test_testing_fix -*-
"""
What tests of a trading system need around exsim (or any venue speaking
the same protocols):

 - simulators for unittest and trial tests: L{SimulatorTestMixin},
   L{SharedSimulatorMixin}, L{startServer}, L{connectedClient}
   (L{exsim.testing.simulator});
 - wire clients: L{FixClient} (blocking) and L{AsyncFixClient} (Twisted,
   Deferreds), built on simplefix, an independent FIX codec
   (L{exsim.testing.fix}); L{OuchClient} (L{exsim.testing.ouch}); and
   L{ItchClient} with its L{BookView} (L{exsim.testing.itch}).

    from exsim.testing import FixClient

    client = FixClient(host, port, "CLIENT", "EXSIM", "FIX.4.4")
    client.logon()
    client.new_order("AAPL", "buy", 100, "150.25", cl_ord_id="o1")
    report = client.wait_for(lambda m: m.msg_type == "8" and m[11] == "o1")
"""

from exsim.testing._wire import ConnectionClosed, WaitTimeout
from exsim.testing.fix import AsyncFixClient, FixClient, FixMessage, connectFix
from exsim.testing.itch import BookView, ItchClient, ItchFile
from exsim.testing.ouch import OuchClient, OuchMessage
from exsim.testing.simulator import (
    SharedSimulatorMixin,
    SimulatorTestMixin,
    connectedClient,
    startServer,
)

__all__ = [
    "AsyncFixClient",
    "BookView",
    "ConnectionClosed",
    "FixClient",
    "FixMessage",
    "ItchClient",
    "ItchFile",
    "OuchClient",
    "OuchMessage",
    "SharedSimulatorMixin",
    "SimulatorTestMixin",
    "WaitTimeout",
    "connectFix",
    "connectedClient",
    "startServer",
]
