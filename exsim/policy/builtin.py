# -*- test-case-name: tests.test_policy -*-
"""
The built-in policies: C{hold} (the default: the test answers), C{accept},
C{fill}, C{reject} and C{rules}.
"""

from zope.interface import implementer

from exsim.interfaces import IPolicy
from exsim.policy.answers import Accept, Fill, Reject


@implementer(IPolicy)
class HoldPolicy:
    """
    Answer nothing: every request waits for the test (managed mode as it
    is without a policy).
    """

    name = "hold"

    def answer(self, request, book):
        return None


@implementer(IPolicy)
class AcceptPolicy:
    """
    Accept every request: a new order rests without matching (as
    C{accept_order}), a cancel or replace is carried out.
    """

    name = "accept"

    def answer(self, request, book):
        return Accept().named(self.name)


@implementer(IPolicy)
class FillPolicy:
    """
    Fill every new order in full, at its limit price, else the book's
    reference price, else its last trade price; accept cancels and
    replaces.
    """

    name = "fill"

    def answer(self, request, book):
        if request.kind == "new":
            return Fill().named(self.name)
        return Accept().named(self.name)


@implementer(IPolicy)
class RejectPolicy:
    """
    Reject every request with the engine's C{reject_text}.
    """

    name = "reject"

    def answer(self, request, book):
        return Reject().named(self.name)


@implementer(IPolicy)
class RulesPolicy:
    """
    The first rule (L{exsim.policy.rules.Rule}) that matches answers; a
    request no rule matches stays held.

    @ivar rules: the list of rules, in order (shared with the engine's
        L{exsim.policy.runner.PolicyRunner}, which adds to it).
    """

    name = "rules"

    def __init__(self, rules=None):
        self.rules = [] if rules is None else rules

    def answer(self, request, book):
        for rule in self.rules:
            if rule.matches(request, book):
                return rule.answer
        return None


#: The built-in policies, registered as their C{name}.
BUILTIN = (HoldPolicy, AcceptPolicy, FillPolicy, RejectPolicy, RulesPolicy)
