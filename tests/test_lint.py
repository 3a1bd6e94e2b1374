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
