"""
ruff (pyproject.toml's [tool.ruff]: pycodestyle, pyflakes, import order)
finds nothing in the package; the public API is annotated; every
C{test-case-name} header names test modules that exist.
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


class TestCaseNameTests(TestCase):
    """
    Every C{test-case-name} header (read by trial's C{--testmodule} and
    by editors) names test modules that exist.
    """

    def headers(self):
        """
        (path, [named modules]) of every Python file of the package, the
        plugins and the tests with a C{test-case-name} header.
        """
        import re

        pattern = re.compile(r"test-case-name:\s*([\w., ]+?)\s*-\*-")
        found = []
        for top in ("exsim", "twisted", "tests"):
            for directory, _, names in os.walk(os.path.join(ROOT, top)):
                for name in sorted(names):
                    if not name.endswith(".py"):
                        continue
                    path = os.path.join(directory, name)
                    with open(path, encoding="utf-8") as f:
                        head = f.readline() + f.readline()
                    match = pattern.search(head)
                    if match is not None:
                        found.append((path, [m.strip() for m in match.group(1).split(",")]))
        return found

    def test_namedModulesExist(self):
        headers = self.headers()
        self.assertGreater(len(headers), 100)
        missing = [
            (os.path.relpath(path, ROOT), module)
            for path, modules in headers
            for module in modules
            if not os.path.exists(os.path.join(ROOT, *module.split(".")) + ".py")
        ]
        self.assertEqual(missing, [])

    def test_everyModuleHasOne(self):
        """
        Every non-empty module of the package names its tests (packages'
        C{__init__} excepted).
        """
        named = {path for path, _ in self.headers()}
        without = []
        for directory, _, names in os.walk(os.path.join(ROOT, "exsim")):
            for name in sorted(names):
                path = os.path.join(directory, name)
                if name.endswith(".py") and name != "__init__.py" and os.path.getsize(path):
                    if path not in named:
                        without.append(os.path.relpath(path, ROOT))
        self.assertEqual(without, [])
