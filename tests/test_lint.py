"""
ruff (pyproject.toml's [tool.ruff]: pycodestyle, pyflakes, import order)
finds nothing in the package.
"""

import os
import subprocess
import sys

from twisted.trial.unittest import SkipTest, TestCase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class RuffTests(TestCase):
    def test_packageIsClean(self):
        try:
            import ruff  # noqa: F401
        except ImportError:
            raise SkipTest("ruff is not installed (the test extra installs it)")
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", "exsim"],
            cwd=ROOT, capture_output=True, text=True,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class PublicSignatureTests(TestCase):
    """
    The public client API carries type hints, and every generated
    operation method the simulator operation's parameters.
    """

    def test_apiAnnotated(self):
        import inspect

        from exsim.client import API, Connection, connect

        for function in (API.create_server, API.connect, Connection.call, connect):
            signature = inspect.signature(function)
            self.assertNotEqual(signature.return_annotation, inspect.Signature.empty, function)

    def test_operationSignatures(self):
        import inspect

        from exsim.client import Connection, ControlClient
        from exsim.control import OPERATIONS
        from exsim.service import Simulator

        for name in OPERATIONS:
            if name in ("get_events", "wait_for_event"):
                continue
            expected = list(inspect.signature(getattr(Simulator, name)).parameters)
            for cls in (Connection, ControlClient):
                self.assertEqual(
                    list(inspect.signature(getattr(cls, name)).parameters), expected, (cls, name)
                )
