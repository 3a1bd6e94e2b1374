"""
Managed mode from a pytest test, with the exsim pytest plugin's fixtures
(loaded automatically once exsim is installed): ``exsim_server`` (a fresh
simulator) and ``exsim_fix_client`` (a FIX client logged on to its
endpoint ``fix1``).

Run it from the checkout's root (or anywhere, with exsim installed)::

    pytest examples/test_pytest_example.py
"""

import pytest

from exsim.errors import DuplicateName


@pytest.fixture
def venue(exsim_server):
    exsim_server.create_engine("e1", "matching")
    exsim_server.set_engine_property("e1", "mode", "managed")
    exsim_server.create_book("AAPL", "e1", "AAPL")
    # exsim_fix_client logs on to the endpoint fix1 when there is one
    # (else it makes one): here, one that accepts only CLIENT on FIX.4.2.
    # (Name this fixture before exsim_fix_client in a test's arguments.)
    exsim_server.create_endpoint("fix1", "e1", "fix")
    exsim_server.set_protocol_property("fix1", "target_comp_id", "CLIENT")
    exsim_server.set_protocol_property("fix1", "begin_string", "FIX.4.2")
    exsim_server.start_endpoint("fix1")
    return exsim_server


@pytest.fixture
def exsim_fix_options():
    """
    How exsim_fix_client logs on (FixClient's keyword arguments): this
    module's venue speaks FIX.4.2.
    """
    return {"sender_comp_id": "CLIENT", "begin_string": "FIX.4.2"}


def test_partial_fill(venue, exsim_fix_client):
    client = exsim_fix_client
    client.new_order("AAPL", "buy", 100, "150.25", cl_ord_id="ord1")

    request = venue.wait_for_event("order_request", cl_ord_id="ord1")
    assert (request["kind"], request["quantity"]) == ("new", 100)
    venue.fill_order(request["order_id"], 40, "150.25")

    assert client.wait_for(client.report("ord1", "0"))[39] == "0"
    fill = client.wait_for(client.report("ord1", "1"))
    assert (fill[39], fill[32], fill[31], fill[14], fill[151]) == ("1", "40", "150.25", "40", "60")
    assert venue.get_book("AAPL")["bids"] == [("150.25", 60, 1)]


def test_module_server(exsim_module_server):
    """
    exsim_module_server is one simulator shared by this module's tests.
    """
    exsim_module_server.create_engine("shared", "matching")
    with pytest.raises(DuplicateName):
        exsim_module_server.create_engine("shared", "matching")
