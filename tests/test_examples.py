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

__all__ = [
    "TrialExample", "UnittestExample", "PytestExampleTests", "SharedSimulatorTests",
    "DocumentedCommandTests",
]


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


def runPytest(testCase, path, passed=b"2 passed"):
    """
    Run pytest on C{path} in a child process with exactly the exsim plugin
    loaded; check it passed.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + sys.path)
    # Load exactly our plugin, whatever else is installed.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    d = utils.getProcessOutputAndValue(
        sys.executable,
        ["-m", "pytest", "-q", "-p", "exsim.pytest_plugin", "-p", "no:cacheprovider",
         os.path.abspath(path)],
        env=env,
        path=ROOT,
    )

    def check(result):
        out, err, code = result
        testCase.assertEqual(code, 0, out + err)
        testCase.assertIn(passed, out)

    return d.addCallback(check)


class PytestExampleTests(unittest.TestCase):
    def test_pytestExample(self):
        """
        pytest runs the pytest example, with the exsim plugin giving it the
        exsim_server fixture, and it passes.
        """
        return runPytest(self, os.path.join(EXAMPLES, "test_pytest_example.py"))


class DocumentedCommandTests(unittest.TestCase):
    """
    The examples run with the commands their docstrings give, from the
    checkout's root.
    """

    def command(self, args, expected):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(sys.path)
        d = utils.getProcessOutputAndValue(sys.executable, args, env=env, path=ROOT)

        def check(result):
            out, err, code = result
            self.assertEqual(code, 0, out + err)
            self.assertIn(expected, out + err)

        return d.addCallback(check)

    def test_unittestCommand(self):
        """
        C{python -m unittest examples/test_unittest_example.py}.
        """
        return self.command(["-m", "unittest", "examples/test_unittest_example.py"], b"OK")

    def test_trialCommand(self):
        """
        C{python -m twisted.trial examples/test_trial_example.py}.
        """
        return self.command(
            ["-m", "twisted.trial", "--temp-directory", os.path.abspath(self.mktemp()),
             "examples/test_trial_example.py"],
            b"PASSED",
        )

    def test_fixClientFixture(self):
        """
        exsim_fix_client alone makes engine e1 and endpoint fix1 and logs
        on; exsim_fix_options changes how.
        """
        path = self.mktemp() + "_test.py"
        with open(path, "w") as f:
            f.write(
                "import pytest\n"
                "def test_default(exsim_server, exsim_fix_client):\n"
                "    assert exsim_fix_client.logged_on\n"
                "    assert exsim_fix_client.messages[0][49] == 'EXSIM'\n"
                "    assert exsim_server.get_endpoint_address('fix1')\n"
                "class TestOptions:\n"
                "    @pytest.fixture\n"
                "    def exsim_fix_options(self):\n"
                "        return {'sender_comp_id': 'ME', 'begin_string': 'FIX.4.2'}\n"
                "    def test_options(self, exsim_fix_client):\n"
                "        assert exsim_fix_client.messages[0][8] == 'FIX.4.2'\n"
                "        assert exsim_fix_client.messages[0][56] == 'ME'\n"
            )
        return runPytest(self, path)
