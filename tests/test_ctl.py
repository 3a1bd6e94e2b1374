"""
Tests for L{exsim.ctl}: the C{exsimctl} command against a simulator
process.
"""

import io
import json
import os
import subprocess
import sys

from twisted.trial import unittest

import exsim
from exsim import ctl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ExsimctlTests(unittest.TestCase):
    def setUp(self):
        self.server = exsim.API().create_server()
        self.addCleanup(self.server.delete)
        self.server.create_engine("e1")
        self.server.create_book("AAPL", "e1")

    def ctl(self, *args, password=None, environ=None):
        out, err = io.StringIO(), io.StringIO()
        argv = ["--connect", self.server.endpoint, "--user", "exsim"]
        if password is not False:
            argv.append("--password=" + (password or self.server.password))
        code = ctl.main(argv + list(args), out, err, environ or {}, io.StringIO())
        return code, out.getvalue(), err.getvalue()

    def test_operation(self):
        code, out, err = self.ctl(
            "create_order", "o1", "AAPL", "-k", "side=buy", "-k", "price=10.5", "-k", "quantity=3"
        )
        # Results are JSON, None too.
        self.assertEqual((code, out, err), (0, "null\n", ""))
        self.assertEqual(self.ctl("submit_order", "o1")[:2], (0, "null\n"))
        code, out, err = self.ctl("get_book", "AAPL", "1")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["bids"], [["10.50", 3, 1]])

    def test_error(self):
        code, out, err = self.ctl("create_engine", "e1")
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(err, "exsimctl: create_engine: engine 'e1' already exists\n")

    def test_badUsage(self):
        self.assertEqual(self.ctl("rm_rf")[0], 2)
        self.assertIn("unknown operation 'rm_rf'", self.ctl("rm_rf")[2])
        self.assertEqual(self.ctl("get_book", "-k", "novalue")[0], 2)
        self.assertEqual(self.ctl("help")[0], 2)
        self.assertEqual(ctl.main(["--nonsense"], io.StringIO(), io.StringIO(), {}, io.StringIO()), 2)

    def test_wrongPassword(self):
        code, out, err = self.ctl("list", password="guess")
        self.assertEqual((code, err), (1, "exsimctl: login refused: wrong user name or password\n"))

    def test_passwordFromEnvironment(self):
        code, out, err = self.ctl("list", password=False, environ={"EXSIM_PASSWORD": self.server.password})
        self.assertEqual(code, 0, err)
        code, out, err = self.ctl("list", password=False)
        self.assertEqual(code, 2)
        self.assertIn("no password", err)

    def test_listAndHelp(self):
        code, out, err = self.ctl("list")
        self.assertEqual(code, 0)
        self.assertIn("fill_order", out.split())
        code, out, err = self.ctl("help", "match_orders")
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith("match_orders(book_name, order_a, order_b, quantity=None, price=None)"))

    def test_cannotConnect(self):
        self.server.delete()
        code, out, err = self.ctl("list")
        self.assertEqual(code, 1)
        self.assertIn("cannot connect", err)

    def test_script(self):
        """
        The module runs as a program (what the console script calls).
        """
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + sys.path),
                   EXSIM_PASSWORD=self.server.password)
        result = subprocess.run(
            [sys.executable, "-m", "exsim.ctl", "-c", self.server.endpoint, "-u", "exsim",
             "get_book", "AAPL"],
            env=env, capture_output=True, timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["symbol"], "AAPL")


    def test_helpIsPlainText(self):
        """
        help shows an operation's documentation without epytext markup.
        """
        code, out, err = self.ctl("help", "create_order")
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("create_order(order_id, book_name, **properties)"), out)
        self.assertIn("properties\nas set_order_property", out)
        for markup in ("C{", "L{", "@param", "@return"):
            self.assertNotIn(markup, out)


class PlainTextTests(unittest.TestCase):
    def test_fields(self):
        text = ctl.plainText(
            "get_book(name)\nA C{depth} snapshot of L{the book<exsim.Book>}.\n\n"
            "@param name: a book's name\n@type name: C{str}\n"
            "@return: {\"bids\": ...}\n@raise UnknownName: if\n    there is none"
        )
        self.assertEqual(text, (
            "get_book(name)\nA depth snapshot of the book.\n\n  name: a book's name\n"
            "Returns: {\"bids\": ...}\nRaises UnknownName: if\n    there is none"
        ))
