"""
Managed mode from a pytest test, with the ``exsim_server`` fixture (the
exsim pytest plugin, loaded automatically once exsim is installed).

Run it with ``pytest examples/test_pytest_example.py``.
"""

import pytest

from exsim.errors import DuplicateName
from fixclient import FixClient


@pytest.fixture
def venue(exsim_server):
    exsim_server.create_engine("e1", "matching")
    exsim_server.set_engine_property("e1", "mode", "managed")
    exsim_server.create_book("AAPL", "e1", "AAPL")
    exsim_server.create_endpoint("fix1", "e1", "fix")
    exsim_server.set_protocol_property("fix1", "sender_comp_id", "EXSIM")
    exsim_server.set_protocol_property("fix1", "target_comp_id", "CLIENT")
    exsim_server.set_protocol_property("fix1", "begin_string", "FIX.4.2")
    exsim_server.start_endpoint("fix1")
    return exsim_server


@pytest.fixture
def client(venue):
    host, port = venue.get_endpoint_address("fix1")
    fix = FixClient(host, port, "CLIENT", "EXSIM", "FIX.4.2")
    fix.logon()
    yield fix
    fix.close()


def test_partial_fill(venue, client):
    client.newOrder("ord1", "AAPL", side=1, quantity=100, price="150.25")

    request = venue.wait_for_event("order_request", cl_ord_id="ord1")
    assert (request["kind"], request["quantity"]) == ("new", 100)
    venue.fill_order(request["order_id"], 40, "150.25")

    new = client.receiveApp("8")
    assert (new[11], new[150], new[39]) == ("ord1", "0", "0")
    fill = client.receiveApp("8")
    assert (fill[150], fill[39], fill[32], fill[31], fill[14], fill[151]) == (
        "1", "1", "40", "150.25", "40", "60",
    )
    assert venue.get_book("AAPL")["bids"] == [("150.25", 60, 1)]


def test_module_server(exsim_module_server):
    """
    exsim_module_server is one simulator shared by this module's tests.
    """
    exsim_module_server.create_engine("shared", "matching")
    with pytest.raises(DuplicateName):
        exsim_module_server.create_engine("shared", "matching")
