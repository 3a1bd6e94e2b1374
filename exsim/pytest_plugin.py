# -*- test-case-name: tests.test_examples -*-
"""
The exsim pytest plugin (entry point C{pytest11}): fixtures giving a test a
fresh simulator in one line.

    def test_order(exsim_server):
        exsim_server.create_engine("e1", "matching")

C{exsim_server} is a new simulator per test; C{exsim_module_server} one per
test module.  Both are L{exsim.client.Server}s, deleted afterwards.
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
