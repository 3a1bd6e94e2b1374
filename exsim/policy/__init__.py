# -*- test-case-name: tests.test_policy -*-
"""
Policies: managed mode that answers by itself where the test says so.

A managed engine holds every order request from the wire until someone
answers it.  The engine property C{policy} names what answers: C{hold}
(nobody: the test does, the default), C{accept}, C{fill}, C{reject},
C{rules} (an ordered list of rules, L{exsim.policy.rules}), or a policy a
plugin registered (C{exsim.register("policy", name, factory)}, an
L{exsim.interfaces.IPolicy}).

A policy lives outside the engine (L{exsim.policy.runner.PolicyRunner}):
it listens to the engine's L{exsim.engine.events.OrderRequest} events and
answers through the engine's L{exsim.interfaces.IManagedOrders} role, as
the test's managed-mode operations do, so every engine class has it.

The answers a policy gives are the classes of L{exsim.policy.answers}:
L{Accept}, L{Reject}, L{Fill}, L{Delay}, and L{HOLD}.
"""

from exsim.policy.answers import HOLD, Accept, Delay, Fill, Hold, Reject, Request

__all__ = ["HOLD", "Accept", "Delay", "Fill", "Hold", "Reject", "Request"]
