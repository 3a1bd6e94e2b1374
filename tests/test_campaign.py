"""
Tests for the campaign scripts of tools/ (their short modes) and for what
they found.
"""

import importlib.util
import os

from twisted.trial import unittest

from tests.fixsession_helpers import Client, makeFactory

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")


def loadTool(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(TOOLS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FuzzCampaignTests(unittest.TestCase):
    def test_shortRun(self):
        """
        tools/fuzz_campaign.py in its short mode: every decoder fuzzed, no
        crash, no logged error, the bystanders unaffected.
        """
        fuzz = loadTool("fuzz_campaign")
        lines = []
        results = fuzz.run(300, seed="trial", checkEvery=100, log=lines.append)
        self.assertEqual(sorted(results), ["control", "fix", "itch", "ouch"])
        for name, figures in results.items():
            self.assertEqual(figures["inputs"], 300)
            self.assertEqual(
                (figures["crashes"], figures["logged_errors"], figures["bystander_failures"]),
                (0, 0, 0), "%s: %s" % (name, lines),
            )

    def test_mutationChanges(self):
        fuzz = loadTool("fuzz_campaign")
        import random

        rng = random.Random(1)
        raw = b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01"
        self.assertTrue(any(fuzz.mutate(raw, rng) != raw for _ in range(20)))


class SoakProbeTests(unittest.TestCase):
    def test_shortRun(self):
        """
        tools/soak_probe.py in a short run: every message timed, one row
        per interval, the collector's policy given back.
        """
        import gc

        probe = loadTool("soak_probe")
        thresholds = gc.get_threshold()
        lines = []
        rows, slow, pauses = probe.run(2000, 1000, log=lines.append)
        self.assertEqual([row[0] for row in rows], [1000, 2000])
        for _, p50, p999, most in rows:
            self.assertTrue(0 < p50 <= p999 <= most, rows)
        self.assertEqual(gc.get_threshold(), thresholds)
        self.assertTrue(lines[-1].startswith("collector pauses"), lines)


class FoundByFuzzingTests(unittest.TestCase):
    def test_resendRequestAheadEndingSession(self):
        """
        A ResendRequest ahead of sequence whose serving ends the session
        (a wrong TargetCompID) logs no error: found by the fuzz campaign
        (it then asked for a resend on the detached session).
        """
        factory = makeFactory()
        client = Client(factory)
        client.logon()
        client.sendRaw(client.build("2", [(7, 1), (16, 0)], header=[
            (49, "CLIENT"), (56, "OTHER"), (34, 9), (52, "20240301-12:00:00.000")]))
        self.assertTrue(client.disconnected)
        self.assertEqual(self.flushLoggedErrors(), [])
