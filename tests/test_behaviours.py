# -*- test-case-name: tests.test_behaviours -*-
"""
Instrument behaviours (book types): their interface and registration.
What each does to orders is a rule of the engines, tested against both in
L{tests.test_matching.EngineRules}.
"""

from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim import registry
from exsim.engine.behaviours import BUILTIN
from exsim.interfaces import IBehaviour


class BehaviourInterfaceTests(TestCase):
    def test_verify(self):
        for cls in BUILTIN:
            self.assertTrue(verifyObject(IBehaviour, cls()), cls)
            self.assertIs(registry.lookup("behaviour", cls.name), cls)
