# -*- test-case-name: tests.test_examples -*-
"""
The exsim pytest plugin (entry point C{pytest11}): fixtures giving a test a
fresh simulator in one line.

    def test_order(exsim_server):
        exsim_server.create_engine("e1", "matching")

C{exsim_server} is a new simulator per test; C{exsim_module_server} one per
test module.  Both are L{exsim.client.Server}s, deleted afterwards.

C{exsim_fix_client} is an L{exsim.testing.FixClient} logged on to the
C{exsim_server}'s FIX endpoint C{fix1}: a fixture of the test that made
C{fix1} runs first when named first; without one, the plugin makes engine
C{e1} and endpoint C{fix1} (any CompID may log on to C{EXSIM}).  Override
the fixture C{exsim_fix_options} to give C{FixClient}'s keyword arguments
(C{sender_comp_id}, C{begin_string}, C{username}, ...; C{endpoint} names
another endpoint).  The client logs out afterwards.

Installing C{exsim[pytest]} brings what these fixtures need.
"""

import pytest


def _server():
    from exsim.client import API

    return API().create_server()


@pytest.fixture
def exsim_server():
    """
    A fresh simulator (an L{exsim.client.Server}) for one test.
    """
    server = _server()
    try:
        yield server
    finally:
        server.delete()


@pytest.fixture(scope="module")
def exsim_module_server():
    """
    A simulator shared by the tests of one module.
    """
    server = _server()
    try:
        yield server
    finally:
        server.delete()


@pytest.fixture
def exsim_fix_options():
    """
    Keyword arguments of the L{exsim.testing.FixClient} that
    C{exsim_fix_client} logs on with (override it in a test module or
    conftest.py); C{endpoint} names the endpoint (default C{fix1}).
    """
    return {}


@pytest.fixture
def exsim_fix_client(exsim_server, exsim_fix_options):
    """
    An L{exsim.testing.FixClient} logged on to C{exsim_server}'s endpoint
    C{fix1} (made, with engine C{e1}, if the test has none).
    """
    from exsim.errors import DuplicateName, UnknownName
    from exsim.testing import FixClient

    options = dict(exsim_fix_options)
    name = options.pop("endpoint", "fix1")
    try:
        address = exsim_server.get_endpoint_address(name)
    except UnknownName:
        try:
            exsim_server.create_engine("e1", "matching")
        except DuplicateName:
            pass
        exsim_server.create_endpoint(name, "e1", "fix")
        exsim_server.start_endpoint(name)
        address = exsim_server.get_endpoint_address(name)
    client = FixClient(*address, **options)
    try:
        client.logon()
        yield client
    finally:
        if client.logged_on:
            client.logout()
        client.close()
