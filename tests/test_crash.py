"""
Kill -9 in the middle of an order stream, with a FIX file store and an
engine journal: after the restart nothing acknowledged is lost (issue 11).
A short run of tools/crash_campaign.py, with real twistd processes.
"""

import os
import sys

from twisted.trial.unittest import TestCase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CrashTests(TestCase):
    def test_killedMidStream(self):
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        self.addCleanup(sys.path.remove, os.path.join(ROOT, "tools"))
        import crash_campaign

        lines = []
        figures = crash_campaign.run(
            orders=400, killAfter=200, work=os.path.abspath(self.mktemp()), log=lines.append
        )
        self.assertGreater(figures["reports_before_kill"], 0, lines)
        self.assertGreater(figures["live_orders_checked"], 0, lines)
        self.assertEqual(figures["reports_lost"], 0, lines)
        self.assertEqual(figures["live_orders_lost"], 0, lines)
