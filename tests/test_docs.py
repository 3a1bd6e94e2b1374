# -*- test-case-name: tests.test_docs -*-
"""
Tests for the documentation: C{docs/} builds with Sphinx with warnings as
errors, the management API page lists every operation (and cannot be built
without a documented method for each), the configuration reference names
every property the code accepts, and README.rst keeps its two commands.
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

from twisted.internet.task import Clock
from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")

from exsim import config, endpoint, registry, service
from exsim.control import OPERATIONS
from exsim.engine.behaviours import parameterNames


def _loadExtension():
    """
    docs/_ext/exsimops.py, the Sphinx extension, as a module (without
    putting docs/_ext on the path of the whole test run).
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "exsimops", os.path.join(DOCS, "_ext", "exsimops.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


exsimops = _loadExtension()


def sphinxBuild(source, output, builder="html"):
    """
    Run C{sphinx-build -W} in a child process of this interpreter (so the
    Sphinx of this environment), from the checkout's root.

    @return: C{(exit status, output and errors as text)}.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    process = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", builder, source, output],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=300,
    )
    return process.returncode, process.stdout


def _text(html):
    """
    The text of an HTML page without its tags and whitespace.
    """
    import html as htmlModule

    return "".join(htmlModule.unescape(re.sub(r"<[^>]+>", "", html)).split())


_built = []


def buildDocs():
    """
    Build C{docs/} once for this test run (trial has no class fixtures),
    into a directory removed when the run ends.

    @return: C{(output directory, exit status, log)}.
    """
    if not _built:
        output = tempfile.mkdtemp(prefix="exsim-docs-")
        atexit.register(shutil.rmtree, output, True)
        _built.append((output,) + sphinxBuild(DOCS, output))
    return _built[0]


class DocsBuildTests(unittest.TestCase):
    """
    C{docs/} as C{sphinx-build -W -b html} builds it.
    """

    def setUp(self):
        self.output, self.status, self.log = buildDocs()

    def page(self, name):
        with open(os.path.join(self.output, name + ".html"), encoding="utf-8") as f:
            return f.read()

    def test_buildsWithoutWarnings(self):
        """
        The documentation builds with warnings as errors.
        """
        self.assertEqual(self.status, 0, "sphinx-build -W failed:\n" + self.log)

    def test_everyOperationOnApiPage(self):
        """
        The management API page has an entry for every operation of the
        table, in its order, with the first line of its method's docstring.
        """
        if self.status:
            self.fail("the build failed:\n" + self.log)
        page = self.page("api")
        text = _text(page)
        positions = []
        for name in OPERATIONS:
            anchor = 'id="%s"' % (name,)
            self.assertIn(anchor, page, "no entry for %r on the API page" % (name,))
            positions.append(page.index(anchor))
            doc = getattr(service.Simulator, name).__doc__.strip().splitlines()[0]
            # Compared without whitespace: markup adds and moves spaces.
            doc = "".join(re.sub(r"[A-Z]\{([^{}]*)\}", r"\1", doc).split())
            self.assertIn(doc, text, "%r's description is not on the page" % (name,))
        self.assertEqual(positions, sorted(positions))

    def test_pagesLinkedFromReadme(self):
        """
        Every page README.rst links to is built.
        """
        with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
            links = re.findall(r"<docs/(\w+)\.rst>`_", f.read())
        self.assertTrue(links)
        for name in links:
            self.assertTrue(
                os.path.exists(os.path.join(self.output, name + ".html")),
                "README links to docs/%s.rst, which is not built" % (name,),
            )


FAKE_MODULE = '''
OPERATIONS = ("documented", "undocumented", "absent")
GOOD = ("documented",)

class FakeSimulator:
    def documented(self, name, depth=10):
        """
        Do it to C{name}, as L{documented} says.

        @param depth: how deep.
        @return: a C{{"key": value}} dict.
        """

    def undocumented(self, name):
        pass
'''

FAKE_INDEX = """
Fake
====

.. exsim-operations::
   :operations: fakeops.%s
   :class: fakeops.FakeSimulator
"""


class OperationsDirectiveBuildTests(unittest.TestCase):
    """
    The C{exsim-operations} directive in a build of its own, on a fake
    operation table.
    """

    def build(self, table):
        source = os.path.abspath(self.mktemp())
        os.makedirs(source)
        with open(os.path.join(source, "fakeops.py"), "w") as f:
            f.write(FAKE_MODULE)
        with open(os.path.join(source, "conf.py"), "w") as f:
            f.write(textwrap.dedent("""
                import sys
                sys.path[:0] = [%r, %r]
                extensions = ["exsimops"]
            """ % (source, os.path.join(DOCS, "_ext"))))
        with open(os.path.join(source, "index.rst"), "w") as f:
            f.write(FAKE_INDEX % (table,))
        output = os.path.join(source, "_build")
        status, log = sphinxBuild(source, output, "text")
        text = None
        if os.path.exists(os.path.join(output, "index.txt")):
            with open(os.path.join(output, "index.txt"), encoding="utf-8") as f:
                text = f.read()
        return status, log, text

    def test_missingMethodOrDocstringFailsBuild(self):
        """
        An operation with no method, or whose method has no docstring,
        fails a build run with warnings as errors, naming the operation.
        """
        status, log, _ = self.build("OPERATIONS")
        self.assertNotEqual(status, 0, log)
        self.assertIn("'undocumented'", log)

    def test_documentedOperationsBuild(self):
        """
        A table whose operations all have documented methods builds, and
        the page shows the signature without C{self} and the docstring.
        """
        status, log, text = self.build("GOOD")
        self.assertEqual(status, 0, log)
        self.assertIn("documented(name, depth=10)", text)
        self.assertIn('Do it to "name", as "documented()" says.', text)
        self.assertIn("depth** -- how deep.", text)
        self.assertIn('a "{"key": value}" dict.', text)


class OperationEntriesTests(unittest.TestCase):
    """
    L{exsimops.operationEntries} finds each operation's method.
    """

    def test_problems(self):
        """
        An operation with no method and one with no docstring are each
        reported; documented ones become entries without C{self}.
        """

        class Base:
            def inherited(self):
                """
                A base class's docstring does not document the operation.
                """

        class Fake(Base):
            notCallable = 3

            def good(self, a, b=None):
                """
                Good.
                """

            def bare(self):
                pass

            def inherited(self):
                pass

        entries, problems = exsimops.operationEntries(
            ("good", "bare", "missing", "notCallable", "inherited"), Fake)
        self.assertEqual(entries, [("good", "(a, b=None)", "Good.")])
        self.assertEqual(len(problems), 4)
        for name, problem in zip(("bare", "missing", "notCallable", "inherited"), problems):
            self.assertIn(repr(name), problem)

    def test_realTable(self):
        """
        Every operation of the real table has a documented method.
        """
        entries, problems = exsimops.operationEntries(OPERATIONS, service.Simulator)
        self.assertEqual(problems, [])
        self.assertEqual([e[0] for e in entries], list(OPERATIONS))


class EpytextToRestTests(unittest.TestCase):
    """
    L{exsimops.epytextToRest} turns the epytext of docstrings into reST.
    """

    def test_inline(self):
        """
        C{C{}} becomes a literal, C{I{}} and C{B{}} emphasis, C{L{}} the
        link function's answer, C{U{}} its text.
        """
        self.assertEqual(
            exsimops.epytextToRest("C{a} I{b} B{c} U{d} L{e}", lambda label, target: "<%s>" % (target,)),
            "``a`` *b* **c** d <e>",
        )

    def test_linkLabel(self):
        """
        C{L{label <target>}} passes the label and the target; without a
        link function a link is a literal.
        """
        seen = []
        exsimops.epytextToRest("L{the book <get_book>}", lambda *a: seen.append(a) or "")
        self.assertEqual(seen, [("the book", "get_book")])
        self.assertEqual(exsimops.epytextToRest("L{x.y}"), "``x.y``")

    def test_nestedBraces(self):
        """
        Braces inside markup are matched.
        """
        self.assertEqual(exsimops.epytextToRest('C{{"a": {1}}} b'), '``{"a": {1}}`` b')

    def test_multiline(self):
        """
        Markup may span lines; a literal's whitespace is collapsed.
        """
        self.assertEqual(exsimops.epytextToRest("C{a\n    b} c"), "``a b`` c")

    def test_escapes(self):
        """
        Characters that are reST markup in plain text stay plain.
        """
        self.assertEqual(
            exsimops.epytextToRest("**kw, `x`, a|b, ref_ and snake_case \\"),
            "\\*\\*kw, \\`x\\`, a\\|b, ref\\_ and snake_case \\\\",
        )

    def test_fields(self):
        """
        Epytext fields become reST fields, with a blank line before the
        first one; their text is translated too.
        """
        self.assertEqual(
            exsimops.epytextToRest(
                "Do it.\n@param max_count: at most C{n}\n    of them.\n@return: the C{x}.\n"
                "@raise BadValue: if bad."
            ),
            "Do it.\n\n:param max_count: at most ``n``\n    of them.\n:returns: the ``x``.\n"
            ":raises BadValue: if bad.",
        )

    def test_unknownFieldUntouched(self):
        """
        An at sign that is not a known field is plain text.
        """
        self.assertEqual(exsimops.epytextToRest("@home: x"), "@home: x")

    def test_unclosed(self):
        """
        Unclosed markup is an error, not a silent mistranslation.
        """
        self.assertRaises(ValueError, exsimops.epytextToRest, "C{a")


def _terms(path):
    """
    Every C{``name``} in the terms of the definition lists of a page
    (lines that start, unindented, with a literal).
    """
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("``"):
                names.update(re.findall(r"``([^`]+)``", line))
    return names


class ConfigurationReferenceTests(unittest.TestCase):
    """
    docs/configuration.rst documents every property the code accepts.
    """

    path = os.path.join(DOCS, "configuration.rst")

    def assertDocumented(self, what, names):
        missing = sorted(set(names) - _terms(self.path))
        self.assertEqual(missing, [], "%s not documented in docs/configuration.rst" % (what,))

    def test_sections(self):
        """
        Every kind of sim.ini section is named.
        """
        with open(self.path, encoding="utf-8") as f:
            text = f.read()
        for kind, (named, _) in config.SECTION_TYPES.items():
            self.assertIn(("``[%s:" if named else "``[%s]``") % (kind,), text)

    def test_control(self):
        self.assertDocumented("[control] keys", config.CONTROL_KEYS)

    def test_engine(self):
        """
        Engine properties of every registered engine class, and C{class}.
        """
        names = {"class"}
        for name in registry.names("engine"):
            names.update(registry.lookup("engine", name)("docs", Clock()).properties())
        self.assertDocumented("engine properties", names)

    def test_book(self):
        """
        Book properties: the engine's own, every behaviour's parameters,
        the registered extra ones (activity, market maker), and the
        section's keys.
        """
        from exsim.engine.bookproperties import BUILTIN

        names = {"engine", "symbol"} | set(BUILTIN)
        names.update(parameterNames())
        names.update(registry.names("book_property"))
        self.assertDocumented("book properties", names)

    def test_endpoint(self):
        """
        The common endpoint properties and those of every registered
        protocol.
        """
        names = {"engine", "protocol"} | set(endpoint.COMMON_PROPERTIES)
        for protocol in registry.names("protocol"):
            names.update(registry.lookup("protocol", protocol).propertyNames())
        self.assertDocumented("endpoint properties", names)

    def test_orderAndQuote(self):
        self.assertDocumented("house order properties", service.ORDER_PROPERTIES + ("book",))
        self.assertDocumented("quote properties", service.QUOTE_PROPERTIES + ("engine", "book"))


class ReadmeTests(unittest.TestCase):
    """
    README.rst: the two commands first, and short.
    """

    def setUp(self):
        with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
            self.readme = f.read()

    def test_twoCommandsFirst(self):
        """
        The first two literal blocks are the command that runs the
        simulator and the test command, which is what CI (C{.ci/run}) runs.
        """
        blocks = re.findall(r"::\n\n((?:    .*\n)+)", self.readme)
        commands = [block.strip() for block in blocks[:2]]
        self.assertEqual(
            commands[0],
            "python3 -m venv venv && venv/bin/pip install . && venv/bin/twistd -n exsim",
        )
        with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as f:
            ci = f.read().strip().splitlines()[-1]
        self.assertEqual(commands[1], ci)
        self.assertIn(".venv/bin/python -m twisted.trial tests", ci)

    def test_short(self):
        self.assertLess(len(self.readme.splitlines()), 300)

    def test_validRestructuredText(self):
        """
        README.rst is the package's long description: it must be valid
        reStructuredText, without warnings.
        """
        import docutils.core
        import docutils.utils

        try:
            docutils.core.publish_string(
                self.readme, writer_name="null",
                settings_overrides={"halt_level": 2, "report_level": 5},
            )
        except docutils.utils.SystemMessage as e:
            self.fail("README.rst: %s" % (e,))
