"""
The examples in examples/ run as part of the suite: the unittest and
trial ones as test cases here, the pytest one through pytest in a child
process.
"""

import os
import sys

from twisted.internet import utils
from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)

from test_trial_example import ManagedFillTests as TrialExample  # noqa: E402
from test_unittest_example import ManagedFillTests as UnittestExample  # noqa: E402

__all__ = ["TrialExample", "UnittestExample", "PytestExampleTests", "SharedSimulatorTests"]


class SharedSimulatorTests(unittest.TestCase):
    def test_sharedPerClass(self):
        """
        SharedSimulatorMixin gives every test of a unittest class the same
        simulator, deleted after the class.
        """
        import unittest as pyunit

        from exsim.testing import SharedSimulatorMixin

        seen = []

        class Shared(SharedSimulatorMixin, pyunit.TestCase):
            def test_a(self):
                seen.append(self.exsim)
                self.exsim.create_engine("e1")

            def test_b(self):
                seen.append(self.exsim)

        result = pyunit.TestResult()
        pyunit.defaultTestLoader.loadTestsFromTestCase(Shared).run(result)
        self.assertEqual((result.testsRun, result.errors, result.failures), (2, [], []))
        self.assertIs(seen[0], seen[1])
        self.assertFalse(seen[0].running)


class PytestExampleTests(unittest.TestCase):
    def test_pytestExample(self):
        """
        pytest runs the pytest example, with the exsim plugin giving it the
        exsim_server fixture, and it passes.
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([ROOT] + sys.path)
        # Load exactly our plugin, whatever else is installed.
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        d = utils.getProcessOutputAndValue(
            sys.executable,
            ["-m", "pytest", "-q", "-p", "exsim.pytest_plugin", "-p", "no:cacheprovider",
             os.path.join(EXAMPLES, "test_pytest_example.py")],
            env=env,
            path=ROOT,
        )

        def check(result):
            out, err, code = result
            self.assertEqual(code, 0, out + err)
            self.assertIn(b"2 passed", out)

        return d.addCallback(check)
