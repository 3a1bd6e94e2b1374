# -*- test-case-name: tests.test_docs -*-
"""
A Sphinx extension that writes the management API reference from the code.

The directive C{.. exsim-operations::} lists every name of the operation
table (C{exsim.control.OPERATIONS}), in its order, with the signature and
the docstring of the method of the same name on
C{exsim.service.Simulator}.  An operation without such a method, or whose
method has no docstring, is a warning, which C{sphinx-build -W} (as the
test suite runs it) turns into a failed build: the page cannot drift from
the table.

Options, for tests: C{:operations:} and C{:class:} name another table and
class (dotted names; the defaults are the two above).

Docstrings are epytext (the Twisted standard); L{epytextToRest} turns the
markup they use into reStructuredText.
"""

import importlib
import inspect
import re

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

log = logging.getLogger(__name__)

#: Epytext fields and the reST field each becomes.
_FIELDS = {
    "param": "param",
    "type": "type",
    "keyword": "keyword",
    "return": "returns",
    "returns": "returns",
    "rtype": "rtype",
    "raise": "raises",
    "raises": "raises",
    "note": "note",
    "see": "see",
}

_FIELD = re.compile(r"^(\s*)@(\w+)(?:\s+([\w.]+))?\s*:(.*)$")


def _escape(text):
    """
    Plain text as reST that shows exactly that text: inline markup
    characters are escaped.
    """
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*`|])", r"\\\1", text)
    # A trailing underscore makes a reference ("name_"); one inside a word
    # does nothing and stays readable.
    return re.sub(r"_(?!\w)", r"\\_", text)


def _literal(text):
    """
    Text as an inline literal.
    """
    text = " ".join(text.split())
    if not text:
        return ""
    if "``" in text or text.startswith("`") or text.endswith("`"):
        return ":literal:`%s`" % (text.replace("\\", "\\\\").replace("`", "\\`"),)
    return "``%s``" % (text,)


def _matching(text, start):
    """
    The index of the brace closing the one just before C{start}.

    @raise ValueError: if it is not closed.
    """
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if not depth:
                return i
    raise ValueError("unclosed epytext markup at %r" % (text[start - 2:start + 30],))


def _inline(text, link):
    """
    Epytext inline markup (C{C{}}, C{L{}}, C{I{}}, C{B{}}, C{U{}}) as reST.
    """
    out = []
    plain = []
    i = 0
    while i < len(text):
        if text[i] in "CLIBUMEX" and text[i + 1:i + 2] == "{":
            end = _matching(text, i + 2)
            inner = text[i + 2:end]
            out.append(_escape("".join(plain)))
            plain = []
            kind = text[i]
            if kind == "C":
                out.append(_literal(inner))
            elif kind == "L":
                label, target = inner, inner
                match = re.match(r"^(.*?)\s*<([^<>]+)>$", inner, re.S)
                if match:
                    label, target = match.group(1), match.group(2)
                out.append(link(" ".join(label.split()), target.strip()))
            elif kind == "I":
                out.append("*%s*" % (_escape(inner.strip()),))
            elif kind == "B":
                out.append("**%s**" % (_escape(inner.strip()),))
            else:
                out.append(_escape(inner))
            i = end + 1
        else:
            plain.append(text[i])
            i += 1
    out.append(_escape("".join(plain)))
    return "".join(out)


def _noLink(label, target):
    return _literal(label)


def epytextToRest(docstring, link=_noLink):
    """
    Translate an epytext docstring into reStructuredText.

    @param docstring: the docstring, already dedented (L{inspect.cleandoc}).
    @param link: a callable C{(label, target)} returning the reST for
        C{L{label <target>}} (C{label} is the target when none is given);
        by default the label as a literal.
    @return: the reST text.
    @raise ValueError: on markup that is not closed.
    """
    lines = []
    inFields = False
    for line in docstring.splitlines():
        match = _FIELD.match(line)
        if match and match.group(2) in _FIELDS:
            indent, field, argument, rest = match.groups()
            name = _FIELDS[field]
            if argument:
                name += " " + argument
            if lines and lines[-1][1].strip() and not inFields:
                # reST needs a blank line before a field list.
                lines.append((False, ""))
            inFields = True
            lines.append((True, "%s:%s:%s" % (indent, name, rest)))
        else:
            if not line.strip():
                inFields = False
            lines.append((False, line))
    # Inline markup may span lines: translate the text as a whole, keeping
    # field markers out of it.
    markers = []
    text = []
    for isField, line in lines:
        if isField:
            head, _, rest = line.partition(":")
            name, _, rest = rest.partition(":")
            marker = "\x00%d\x00" % (len(markers),)
            markers.append("%s:%s:" % (head, name))
            text.append(marker + rest)
        else:
            text.append(line)
    result = _inline("\n".join(text), link)
    for index, marker in enumerate(markers):
        result = result.replace("\x00%d\x00" % (index,), marker)
    return result


def _resolve(dotted):
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _signature(method):
    """
    The operation's arguments as text, without C{self}.
    """
    signature = inspect.signature(method)
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    return str(signature.replace(parameters=parameters))


def operationEntries(operations, cls):
    """
    The reference entry of every operation.

    @param operations: the operation names, in the order to document them.
    @param cls: the class whose methods of those names implement them.
    @return: C{(entries, problems)}: a list of C{(name, signature,
        docstring)} for every operation that has a documented method, and
        a list of messages, one per operation that does not.
    """
    entries = []
    problems = []
    for name in operations:
        method = getattr(cls, name, None)
        if not callable(method):
            problems.append(
                "management operation %r has no method %s.%s"
                % (name, cls.__qualname__, name)
            )
            continue
        # __doc__, not inspect.getdoc: a docstring inherited from a base
        # class does not describe the operation.
        doc = method.__doc__
        if not doc or not doc.strip():
            problems.append(
                "management operation %r: %s.%s has no docstring"
                % (name, cls.__qualname__, name)
            )
            continue
        entries.append((name, _signature(method), inspect.cleandoc(doc)))
    return entries, problems


class OperationsDirective(SphinxDirective):
    """
    C{.. exsim-operations::}: every management operation, documented from
    its method.
    """

    has_content = False
    option_spec = {
        "operations": directives.unchanged_required,
        "class": directives.unchanged_required,
    }

    def run(self):
        operations = _resolve(self.options.get("operations", "exsim.control.OPERATIONS"))
        cls = _resolve(self.options.get("class", "exsim.service.Simulator"))
        entries, problems = operationEntries(operations, cls)
        location = self.get_location()
        for problem in problems:
            log.warning(problem, location=location)
        known = set(operations)

        def link(label, target):
            if target in known:
                if label == target:
                    return ":py:func:`%s`" % (target,)
                return ":py:func:`%s <%s>`" % (_escape(label), target)
            return _literal(label)

        rst = []
        for name, signature, doc in entries:
            rst.append(".. py:function:: %s%s" % (name, signature))
            rst.append("")
            try:
                body = epytextToRest(doc, link)
            except ValueError as e:
                log.warning("management operation %r: %s" % (name, e), location=location)
                body = _escape(doc)
            rst.extend("   " + line if line.strip() else "" for line in body.splitlines())
            rst.append("")
        container = nodes.container(classes=["exsim-operations"])
        self.state.nested_parse(StringList(rst, source=location), self.content_offset, container)
        return [container]


def setup(app):
    app.add_directive("exsim-operations", OperationsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
