"""
Policies of managed mode (exsim.policy): the built-in ones, rules, and a
plugin, answering requests that arrive over FIX and OUCH, on a simulator
in memory with a clock (MemoryReactorClock is a task.Clock), on both
engine classes.
"""

import importlib.util
import os

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim import config, registry
from exsim.errors import BadValue, ConfigError, UnknownName
from exsim.interfaces import IEngineListener, IPolicy
from exsim.model import OrdType, Side, TimeInForce
from exsim.policy import HOLD, Accept, Delay, Fill, Reject, Request
from exsim.policy.builtin import BUILTIN, RulesPolicy
from exsim.policy.runner import DEFAULT_REJECT_TEXT, PolicyRunner
from exsim.service import Simulator
from exsim.soup import ouch42
from tests import fixsession_helpers
from tests.soupfakes import Client as OuchClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loadExample(name):
    """
    A module of examples/ by file name (examples/ is not a package).
    """
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PolicyHarness:
    """
    A simulator on a MemoryReactorClock with a managed engine, a book
    AAPL (tick 0.01, reference price 150), a FIX endpoint with a logged-on
    client and an OUCH endpoint with a logged-in user.
    """

    def __init__(self, test, engineClass):
        self.reactor = reactor = MemoryReactorClock()
        reactor.advance(fixsession_helpers.START)
        self.sim = sim = Simulator(reactor)
        sim.create_engine("e1", engineClass)
        sim.set_engine_property("e1", "mode", "managed")
        sim.create_book("AAPL", "e1")
        sim.set_book_property("AAPL", "tick_size", "0.01")
        sim.set_book_property("AAPL", "reference_price", "150")
        sim.create_endpoint("fix1", "e1", "fix", sender_comp_id="EXSIM", target_comp_id="*")
        sim.start_endpoint("fix1")
        sim.create_endpoint("ouch1", "e1", "ouch")
        sim.start_endpoint("ouch1")
        self.fix = fixsession_helpers.Client(sim.endpoints["fix1"].factory, compId="CLIENT")
        [logon] = self.fix.logon()
        test.assertEqual(logon.msgType, "A")
        self.ouch = OuchClient(sim.endpoints["ouch1"])
        self.ouch.login("alice")
        self.ouch.sequenced()
        self.engine = sim.engines["e1"]
        sim.get_events()

    def newOrder(self, clOrdId, quantity=100, price="150.25", side="1", ordType="2", tif="0"):
        fields = [(11, clOrdId), (55, "AAPL"), (54, side), (38, quantity), (40, ordType)]
        if price is not None:
            fields.append((44, price))
        fields += [(59, tif), (60, fixsession_helpers.stamp(self.reactor.seconds()))]
        return self.reports(self.fix.send("D", fields))

    def cancel(self, clOrdId, origClOrdId):
        return self.fix.send("F", [
            (41, origClOrdId), (11, clOrdId), (55, "AAPL"), (54, "1"), (38, 100),
            (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ])

    def replace(self, clOrdId, origClOrdId, quantity, price):
        return self.fix.send("G", [
            (41, origClOrdId), (11, clOrdId), (21, "1"), (55, "AAPL"), (54, "1"), (38, quantity),
            (40, "2"), (44, price), (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ])

    def reports(self, messages=None):
        """
        (ExecType, OrdStatus, ClOrdID) of the ExecutionReports received.
        """
        if messages is None:
            messages = self.fix.received()
        return [(m.get(150), m.get(39), m.get(11)) for m in messages if m.msgType == "8"]

    def ouchOrder(self, token, shares=100, price=1502500, side=b"B"):
        self.ouch.unsequenced(ouch42.enterOrder(token, side, shares, "AAPL", price))
        return [ouch42.decodeOutbound(p) for p in self.ouch.sequenced()]

    def events(self, eventType=None):
        events = self.sim.get_events()
        if eventType is None:
            return events
        return [e for e in events if e["type"] == eventType]

    def bids(self):
        return self.sim.get_book("AAPL")["bids"]


class BuiltinPolicyTests(TestCase):
    """
    The built-in policies over FIX and OUCH.  (On the fast engine;
    L{ReferenceBuiltinPolicyTests}: the reference engine.)
    """

    engineClass = "matching"

    def setUp(self):
        self.h = PolicyHarness(self, self.engineClass)

    def test_holdIsTheDefault(self):
        """
        Without a policy every request stays held, and no policy event is
        queued.
        """
        self.assertEqual(self.h.newOrder("o1"), [])
        events = self.h.events()
        self.assertEqual([e["type"] for e in events], ["order_request"])
        self.assertEqual(self.h.engine.pendingRequests(), {1: "new"})

    def test_accept(self):
        """
        C{accept}: a new order is accepted and rests unmatched; a cancel
        is carried out; the control event names the policy.
        """
        self.h.sim.set_engine_property("e1", "policy", "accept")
        self.assertEqual(self.h.newOrder("o1"), [("0", "0", "o1")])
        self.assertEqual(self.h.bids(), [("150.25", 100, 1)])
        events = self.h.events()
        self.assertEqual(
            [e["type"] for e in events if e["type"] != "book_changed"],
            ["order_request", "policy_answered", "accepted", "added"],
        )
        answered = [e for e in events if e["type"] == "policy_answered"][0]
        self.assertEqual(
            {k: answered[k] for k in ("engine", "policy", "rule", "order_id", "request", "answer", "cl_ord_id")},
            {"engine": "e1", "policy": "accept", "rule": "accept", "order_id": 1,
             "request": "new", "answer": "accept", "cl_ord_id": "o1"},
        )
        self.assertEqual(self.h.reports(self.h.cancel("c1", "o1")), [("6", "6", "c1"), ("4", "4", "c1")])
        self.assertEqual(self.h.bids(), [])

    def test_acceptReplace(self):
        self.h.sim.set_engine_property("e1", "policy", "accept")
        self.h.newOrder("o1")
        self.assertEqual(
            self.h.reports(self.h.replace("r1", "o1", 80, "150.30")),
            [("E", "E", "r1"), ("5", "0", "r1")],
        )
        self.assertEqual(self.h.bids(), [("150.30", 80, 1)])

    def test_fill(self):
        """
        C{fill}: in full at the limit price; a market order at the
        reference price.
        """
        self.h.sim.set_engine_property("e1", "policy", "fill")
        reports = self.h.fix.send("D", [
            (11, "o1"), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"), (44, "150.25"),
            (59, "0"), (60, fixsession_helpers.stamp(self.h.reactor.seconds())),
        ])
        fills = [m for m in reports if m.msgType == "8" and m.get(150) == "F"]
        self.assertEqual([(m.get(32), m.get(31), m.get(39)) for m in fills], [("100", "150.25", "2")])
        reports = self.h.fix.send("D", [
            (11, "o2"), (55, "AAPL"), (54, "2"), (38, 30), (40, "1"), (59, "0"),
            (60, fixsession_helpers.stamp(self.h.reactor.seconds())),
        ])
        fills = [m for m in reports if m.msgType == "8" and m.get(150) == "F"]
        self.assertEqual([(m.get(32), m.get(31)) for m in fills], [("30", "150")])
        answered = self.h.events("policy_answered")
        self.assertEqual(
            [(e["answer"], e["fill_quantity"], e["fill_price"]) for e in answered],
            [("fill", 100, "150.25"), ("fill", 30, "150.00")],
        )
        self.assertEqual(self.h.bids(), [])

    def test_fillWithoutPrice(self):
        """
        A market order on a book without a reference or last price cannot
        be filled: it stays held, and the event says why.
        """
        self.h.sim.create_book("MSFT", "e1")
        self.h.sim.set_engine_property("e1", "policy", "fill")
        self.h.fix.send("D", [
            (11, "m1"), (55, "MSFT"), (54, "1"), (38, 10), (40, "1"), (59, "0"),
            (60, fixsession_helpers.stamp(self.h.reactor.seconds())),
        ])
        [answered] = self.h.events("policy_answered")
        self.assertEqual(answered["answer"], "hold")
        self.assertIn("no price to fill at", answered["error"])
        self.assertEqual(self.h.engine.pendingRequests(), {1: "new"})

    def test_reject(self):
        """
        C{reject}: with C{reject_text}; a default text without it.
        """
        self.h.sim.set_engine_property("e1", "policy", "reject")
        messages = self.h.fix.send("D", [
            (11, "o1"), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"), (44, "150.25"),
            (59, "0"), (60, fixsession_helpers.stamp(self.h.reactor.seconds())),
        ])
        [er] = [m for m in messages if m.msgType == "8"]
        self.assertEqual((er.get(150), er.get(58)), ("8", DEFAULT_REJECT_TEXT))
        self.h.sim.set_engine_property("e1", "reject_text", "venue closed")
        [accepted] = [m for m in self.h.ouchOrder("T1")]
        self.assertEqual(accepted[0], b"J")
        answered = self.h.events("policy_answered")
        self.assertEqual([e.get("text") for e in answered], [DEFAULT_REJECT_TEXT, "venue closed"])
        self.assertEqual(answered[1]["cl_ord_id"], "T1")

    def test_ouchAccept(self):
        """
        An OUCH order is answered like a FIX one.
        """
        self.h.sim.set_engine_property("e1", "policy", "accept")
        [accepted] = self.h.ouchOrder("T1")
        self.assertEqual(accepted[0], b"A")
        self.assertEqual(self.h.bids(), [("150.25", 100, 1)])
        [answered] = self.h.events("policy_answered")
        self.assertEqual(answered["cl_ord_id"], "T1")

    def test_backToHold(self):
        """
        Setting C{hold} again stops answering.
        """
        self.h.sim.set_engine_property("e1", "policy", "accept")
        self.h.sim.set_engine_property("e1", "policy", "hold")
        self.assertEqual(self.h.newOrder("o1"), [])
        self.assertEqual(self.h.events("policy_answered"), [])

    def test_unknownPolicy(self):
        """
        An unknown policy name is refused, naming the known ones; the
        policy stays what it was.
        """
        self.h.sim.set_engine_property("e1", "policy", "accept")
        e = self.assertRaises(BadValue, self.h.sim.set_engine_property, "e1", "policy", "maybe")
        self.assertIn("unknown policy 'maybe'", str(e))
        self.assertIn("accept, fill, hold, reject, rules", str(e))
        self.assertEqual(self.h.newOrder("o1"), [("0", "0", "o1")])

    def test_badRejectText(self):
        self.assertRaises(BadValue, self.h.sim.set_engine_property, "e1", "reject_text", "")
        self.assertRaises(BadValue, self.h.sim.set_engine_property, "e1", "reject_text", "a\x01b")

    def test_deleteEngineStopsPolicy(self):
        """
        Deleting the engine stops its policy: no answer is left scheduled.
        """
        self.h.sim.set_engine_property("e1", "policy", "rules")
        self.h.sim.add_policy_rule("e1", "* -> delay 5 then accept")
        self.h.newOrder("o1")
        self.assertEqual(len(self.h.reactor.getDelayedCalls()) > 0, True)
        runner = self.h.sim.policies["e1"]
        self.assertEqual(len(runner._calls), 1)
        for name in list(self.h.sim.endpoints):
            self.h.sim.delete_endpoint(name)
        self.h.sim.delete_engine("e1")
        self.assertEqual(runner._calls, set())
        self.assertNotIn("e1", self.h.sim.policies)


class ReferenceBuiltinPolicyTests(BuiltinPolicyTests):
    engineClass = "reference"


class RulesTests(TestCase):
    """
    The C{rules} policy over FIX and OUCH, with time on the clock.
    (L{ReferenceRulesTests}: the reference engine.)
    """

    engineClass = "matching"

    def setUp(self):
        self.h = PolicyHarness(self, self.engineClass)
        self.sim = self.h.sim
        self.sim.set_engine_property("e1", "policy", "rules")

    def rules(self, *texts):
        for text in texts:
            self.sim.add_policy_rule("e1", text)

    def test_firstMatchWins(self):
        """
        Rules are tried in order; the event names the rule and its number.
        """
        self.rules(
            'symbol = AAPL and side = buy and quantity > 1000 -> reject "size limit"',
            "side = buy -> accept",
            "* -> hold",
        )
        self.assertEqual(self.h.newOrder("big", quantity=2000), [("8", "8", "big")])
        self.assertEqual(self.h.newOrder("small", quantity=10), [("0", "0", "small")])
        self.assertEqual(self.h.newOrder("sell", side="2"), [])
        answered = self.h.events("policy_answered")
        self.assertEqual(
            [(e["cl_ord_id"], e["rule_number"], e["answer"]) for e in answered],
            [("big", 1, "reject"), ("small", 2, "accept"), ("sell", 3, "hold")],
        )
        self.assertEqual(answered[0]["rule"], 'symbol = AAPL and side = buy and quantity > 1000 -> reject "size limit"')
        self.assertEqual(answered[0]["text"], "size limit")
        self.assertEqual(self.h.engine.pendingRequests(), {3: "new"})

    def test_noRuleHolds(self):
        """
        A request no rule matches stays held, without an event.
        """
        self.rules("symbol = MSFT -> accept")
        self.assertEqual(self.h.newOrder("o1"), [])
        self.assertEqual(self.h.events("policy_answered"), [])

    def test_fillThenCancelAfter(self):
        """
        C{fill 0.5 then cancel after 1}: half fills at once, the rest
        rests, and is cancelled one second of the clock later.
        """
        self.rules("cl_ord_id ~ ^PF -> fill 0.5 then cancel after 1", "* -> accept")
        self.assertEqual(self.h.newOrder("PF1", quantity=100), [("0", "0", "PF1"), ("F", "1", "PF1")])
        self.assertEqual(self.h.bids(), [("150.25", 50, 1)])
        self.h.reactor.advance(0.5)
        self.assertEqual(self.h.reports(), [])
        self.h.reactor.advance(0.5)
        self.assertEqual(self.h.reports(), [("4", "4", "PF1")])
        self.assertEqual(self.h.bids(), [])
        self.assertEqual(self.h.newOrder("X1"), [("0", "0", "X1")])

    def test_fillThenCancelAtOnce(self):
        self.rules("* -> fill 30 then cancel")
        self.assertEqual(self.h.newOrder("o1", quantity=100), [("0", "0", "o1"), ("F", "1", "o1"), ("4", "4", "o1")])
        self.assertEqual(self.h.bids(), [])

    def test_fillAtPrice(self):
        self.rules("* -> fill 25% at 149.5")
        messages = self.h.fix.send("D", [
            (11, "o1"), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"), (44, "150.25"),
            (59, "0"), (60, fixsession_helpers.stamp(self.h.reactor.seconds())),
        ])
        [fill] = [m for m in messages if m.msgType == "8" and m.get(150) == "F"]
        self.assertEqual((fill.get(32), fill.get(31), fill.get(151)), ("25", "149.5", "75"))
        self.assertEqual(self.h.bids(), [("150.25", 75, 1)])

    def test_fillOffTheGrid(self):
        """
        A fill price off the book's tick grid: the request stays held and
        the event says why.
        """
        self.rules("* -> fill at 150.001")
        self.h.newOrder("o1")
        [answered] = self.h.events("policy_answered")
        self.assertEqual(answered["answer"], "hold")
        self.assertIn("not on the tick grid", answered["error"])
        self.assertEqual(self.h.engine.pendingRequests(), {1: "new"})

    def test_fillImmediateRemainderCancelled(self):
        """
        What is left of an IOC order after a partial fill is cancelled.
        """
        self.rules("* -> fill 40")
        self.assertEqual(self.h.newOrder("o1", tif="3"), [("0", "0", "o1"), ("F", "1", "o1"), ("4", "4", "o1")])

    def test_fillSkipsCancelRequests(self):
        """
        A fill rule does not apply to a cancel request: the next rule does.
        """
        self.rules("time_in_force = day -> fill 10", "request = cancel -> accept")
        self.h.newOrder("o1")
        self.assertEqual(self.h.reports(self.h.cancel("c1", "o1")), [("6", "6", "c1"), ("4", "4", "c1")])
        answered = self.h.events("policy_answered")
        self.assertEqual([e["rule_number"] for e in answered], [1, 2])

    def test_delay(self):
        """
        C{delay 2 then accept}: the answer comes two seconds later; the
        event says how long it waited.
        """
        self.rules("* -> delay 2 then accept")
        self.assertEqual(self.h.newOrder("o1"), [])
        self.h.reactor.advance(1.9)
        self.assertEqual(self.h.reports(), [])
        self.h.reactor.advance(0.1)
        self.assertEqual(self.h.reports(), [("0", "0", "o1")])
        [answered] = self.h.events("policy_answered")
        self.assertEqual((answered["answer"], answered["delay"]), ("accept", 2.0))

    def test_delayedAnswerAfterTestAnswered(self):
        """
        A delayed answer to a request the test answered meanwhile does
        nothing.
        """
        self.rules("* -> delay 1 then reject")
        self.h.newOrder("o1")
        self.sim.accept_order(1)
        self.assertEqual(self.h.reports(), [("0", "0", "o1")])
        self.h.reactor.advance(1)
        self.assertEqual(self.h.reports(), [])
        self.assertEqual(self.h.events("policy_answered"), [])

    def test_conditionsOnEveryField(self):
        """
        Conditions on owner (session), order type, time in force, price and
        request kind select what they say.
        """
        self.rules(
            "owner ~ ^ouch1/ -> reject \"no ouch\"",
            "order_type = market -> reject \"no market\"",
            "time_in_force in (ioc, fok) -> reject \"no ioc\"",
            "price >= 151 -> reject \"too high\"",
            "session = fix1/CLIENT and request = replace -> reject \"no replace\"",
            "not price < 150 and side = buy -> accept",
        )
        [rejected] = self.h.ouchOrder("T1")
        self.assertEqual(rejected[0], b"J")
        self.h.newOrder("m1", ordType="1", price=None)
        self.h.newOrder("i1", tif="3")
        self.h.newOrder("h1", price="151.00")
        self.h.newOrder("ok", price="150.00")
        self.h.newOrder("low", price="149.00")
        self.h.replace("r1", "ok", 50, "150.00")
        texts = [(e["cl_ord_id"], e.get("text", e["answer"])) for e in self.h.events("policy_answered")]
        self.assertEqual(texts, [
            ("T1", "no ouch"), ("m1", "no market"), ("i1", "no ioc"), ("h1", "too high"),
            ("ok", "accept"), ("r1", "no replace"),
        ])
        self.assertEqual(self.h.engine.pendingRequests(), {6: "new"})

    def test_rulesKeptWhilePolicyChanges(self):
        """
        Rules stay while another policy is used, and apply again with
        C{rules}.
        """
        self.rules("* -> accept")
        self.sim.set_engine_property("e1", "policy", "reject")
        self.assertEqual(self.h.newOrder("o1"), [("8", "8", "o1")])
        self.sim.set_engine_property("e1", "policy", "rules")
        self.assertEqual(self.h.newOrder("o2"), [("0", "0", "o2")])

    def test_listAndClear(self):
        self.assertEqual(self.sim.list_policy_rules("e1"), [])
        self.assertEqual(self.sim.add_policy_rule("e1", " * -> accept "), 1)
        self.assertEqual(self.sim.add_policy_rule("e1", "side = sell -> hold"), 2)
        self.assertEqual(self.sim.list_policy_rules("e1"), ["* -> accept", "side = sell -> hold"])
        self.sim.clear_policy_rules("e1")
        self.assertEqual(self.sim.list_policy_rules("e1"), [])
        self.assertEqual(self.h.newOrder("o1"), [])

    def test_badRuleChangesNothing(self):
        """
        A rule with an unknown field is refused with its position; the
        rules stay as they were.
        """
        self.rules("* -> hold")
        e = self.assertRaises(BadValue, self.sim.add_policy_rule, "e1", "symbol = AAPL and colour = red -> accept")
        self.assertIn("at position 19: unknown field 'colour'", str(e))
        self.assertEqual(self.sim.list_policy_rules("e1"), ["* -> hold"])

    def test_unknownEngine(self):
        self.assertRaises(UnknownName, self.sim.add_policy_rule, "e9", "* -> accept")
        self.assertRaises(UnknownName, self.sim.list_policy_rules, "e9")
        self.assertRaises(UnknownName, self.sim.clear_policy_rules, "e9")
        self.assertNotIn("e9", self.sim.policies)


class ReferenceRulesTests(RulesTests):
    engineClass = "reference"


class ConfigTests(TestCase):
    """
    The [policy:ENGINE] section of sim.ini.
    """

    def apply(self, text):
        sim = Simulator(MemoryReactorClock())
        config.apply(config.parse(text, "sim.ini"), sim)
        return sim

    def test_rulesInOrder(self):
        """
        Repeated C{rule} keys are added in order, and the engine's policy
        becomes C{rules}.
        """
        sim = self.apply(
            "[engine:e1]\nmode = managed\nreject_text = closed\n"
            "[policy:e1]\nrule = side = sell -> reject\nrule = * -> accept\n"
        )
        self.assertEqual(sim.list_policy_rules("e1"), ["side = sell -> reject", "* -> accept"])
        runner = sim.policies["e1"]
        self.assertEqual((runner.name, runner.rejectText), ("rules", "closed"))

    def test_badRuleNamesLine(self):
        e = self.assertRaises(
            ConfigError, self.apply,
            "[engine:e1]\n[policy:e1]\nrule = * -> accept\nrule = price > x -> accept\n",
        )
        self.assertIn("sim.ini:4:", str(e))
        self.assertIn("position 9", str(e))

    def test_unknownKey(self):
        e = self.assertRaises(ConfigError, self.apply, "[engine:e1]\n[policy:e1]\nrules = * -> accept\n")
        self.assertIn("sim.ini:3: unknown key 'rules' in [policy:e1] (known: rule)", str(e))

    def test_unknownEngine(self):
        e = self.assertRaises(ConfigError, self.apply, "[policy:e1]\nrule = * -> accept\n")
        self.assertIn("sim.ini:2: unknown engine 'e1'", str(e))

    def test_otherKeysNotRepeatable(self):
        e = self.assertRaises(ConfigError, self.apply, "[engine:e1]\nmode = auto\nmode = managed\n")
        self.assertIn("given twice", str(e))

    def test_engineKey(self):
        sim = self.apply("[engine:e1]\nmode = managed\npolicy = fill\n")
        self.assertEqual(sim.policies["e1"].name, "fill")


class PluginTests(TestCase):
    """
    Third-party policies: C{exsim.register("policy", ...)}, and the
    example plugin of examples/policy_plugin.py.
    """

    def setUp(self):
        self.example = loadExample("policy_plugin")
        registry.register("policy", "round_lots", self.example.RoundLots)
        self.addCleanup(registry.unregister, "policy", "round_lots")

    def test_verifyBuiltins(self):
        """
        Every built-in policy and the example provide L{IPolicy}.
        """
        for cls in BUILTIN + (self.example.RoundLots,):
            self.assertTrue(verifyObject(IPolicy, cls()))
        self.assertEqual(sorted(cls.name for cls in BUILTIN), ["accept", "fill", "hold", "reject", "rules"])

    def test_verifyRunner(self):
        sim = Simulator(MemoryReactorClock())
        sim.create_engine("e1")
        self.assertTrue(verifyObject(IEngineListener, PolicyRunner("e1", sim.engines["e1"], sim.reportEvent)))

    def test_examplePlugin(self):
        """
        The example policy over FIX: odd lots rejected with its text, round
        lots filled, cancels held.
        """
        h = PolicyHarness(self, "matching")
        h.sim.set_engine_property("e1", "policy", "round_lots")
        self.assertEqual(h.newOrder("odd", quantity=150), [("8", "8", "odd")])
        self.assertEqual(h.newOrder("round", quantity=200), [("0", "0", "round"), ("F", "2", "round")])
        answered = h.events("policy_answered")
        self.assertEqual(
            [(e["cl_ord_id"], e["policy"], e["rule"], e["answer"], e.get("text")) for e in answered],
            [("odd", "round_lots", "round_lots", "reject", "quantity 150 is not a multiple of 100"),
             ("round", "round_lots", "round_lots", "fill", None)],
        )

    def test_notAPolicy(self):
        """
        A factory that does not give an L{IPolicy} is refused.
        """
        registry.register("policy", "broken", object)
        self.addCleanup(registry.unregister, "policy", "broken")
        sim = Simulator(MemoryReactorClock())
        sim.create_engine("e1")
        e = self.assertRaises(BadValue, sim.set_engine_property, "e1", "policy", "broken")
        self.assertIn("IPolicy", str(e))
        self.assertEqual(sim.policies["e1"].name, "hold")

    def test_failingPolicyHolds(self):
        """
        A policy that raises leaves the request held, and is logged.
        """

        class Failing:
            name = "failing"

            def answer(self, request, book):
                raise RuntimeError("plugin bug")

        from zope.interface import classImplements

        classImplements(Failing, IPolicy)
        registry.register("policy", "failing", Failing)
        self.addCleanup(registry.unregister, "policy", "failing")
        h = PolicyHarness(self, "matching")
        h.sim.set_engine_property("e1", "policy", "failing")
        self.assertEqual(h.newOrder("o1"), [])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(h.engine.pendingRequests(), {1: "new"})


class AnswerTests(TestCase):
    """
    The answer values.
    """

    def test_describe(self):
        self.assertEqual(Accept().describe(), "accept")
        self.assertEqual(Reject('say "no"').describe(), 'reject "say \\"no\\""')
        self.assertEqual(Fill(fraction="0.5", cancel=True, cancelAfter=1).describe(), "fill 0.5 then cancel after 1")
        self.assertEqual(Delay(2, Fill(10, price="1.5")).describe(), "delay 2 then fill 10 at 1.5")
        self.assertEqual(HOLD.describe(), "hold")

    def test_badAnswers(self):
        self.assertRaises(BadValue, Fill, 10, "0.5")
        self.assertRaises(BadValue, Fill, 0)
        self.assertRaises(BadValue, Fill, None, "1.5")
        self.assertRaises(BadValue, Fill, None, None, "-1")
        self.assertRaises(BadValue, Delay, -1, Accept())
        self.assertRaises(BadValue, Delay, 1, HOLD)
        self.assertRaises(BadValue, Delay, "soon", Accept())

    def test_fillQuantity(self):
        from exsim.model import Order

        order = Order("o", "c", "AAPL", Side.BUY, 7, 100, OrdType.LIMIT, TimeInForce.DAY)
        self.assertEqual(Fill(fraction="0.5").quantityOf(order), 3)
        self.assertEqual(Fill(10).quantityOf(order), 7)
        self.assertEqual(Fill().quantityOf(order), 7)

    def test_request(self):
        """
        A L{Request} shows a replace's new price and quantity.
        """
        from exsim.engine.events import OrderRequest
        from exsim.model import Order

        order = Order("fix1/C", "c1", "AAPL", Side.SELL, 10, 1500000, OrdType.LIMIT, TimeInForce.GTC)
        order.orderId = 4
        request = Request(OrderRequest("replace", order, 4, "c2", None, 20), "e1")
        self.assertEqual(
            (request.kind, request.orderId, request.clOrdId, request.quantity, request.price, request.owner),
            ("replace", 4, "c2", 20, 1500000, "fix1/C"),
        )
        self.assertEqual(RulesPolicy().answer(request, None), None)


class ManagedAckTests(TestCase):
    """
    The engine property C{managed_ack} (issue 16, rough edge 7): with
    C{pending_new} a held new order is acknowledged at once (FIX ExecType
    and OrdStatus Pending New), before the test's (or a policy's) answer.
    (L{ReferenceManagedAckTests}: the reference engine.)
    """

    engineClass = "matching"

    def setUp(self):
        self.h = PolicyHarness(self, self.engineClass)
        self.sim = self.h.sim

    def test_default(self):
        """
        By default nothing is sent while an order is held.
        """
        self.assertEqual(self.sim.engines["e1"].properties()["managed_ack"], "none")
        self.assertEqual(self.h.newOrder("o1"), [])

    def test_pendingNewThenAnswer(self):
        """
        Pending New at once, with the order's terms and nothing filled;
        the test's answer follows.
        """
        self.sim.set_engine_property("e1", "managed_ack", "pending_new")
        messages = self.h.fix.send("D", [
            (11, "o1"), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"), (44, "150.25"),
            (59, "0"), (60, fixsession_helpers.stamp(self.h.reactor.seconds())),
        ])
        [pending] = messages
        self.assertEqual(
            [pending.get(t) for t in (150, 39, 11, 37, 55, 38, 44, 151, 14)],
            ["A", "A", "o1", "1", "AAPL", "100", "150.25", "100", "0"],
        )
        self.assertIsNone(pending.get(41))
        events = self.h.events()
        self.assertEqual([(e["type"], e.get("kind")) for e in events], [("pending", "new"), ("order_request", "new")])
        self.sim.accept_order(1)
        self.assertEqual(self.h.reports(), [("0", "0", "o1")])
        self.assertNotEqual(pending.get(17), self.h.fix.inbox[-1].get(17))

    def test_pendingNewThenReject(self):
        self.sim.set_engine_property("e1", "managed_ack", "PENDING_NEW")
        self.assertEqual(self.h.newOrder("o1"), [("A", "A", "o1")])
        self.sim.reject_order(1, "no")
        self.assertEqual(self.h.reports(), [("8", "8", "o1")])

    def test_beforePolicyAnswer(self):
        """
        With a policy, Pending New comes before the policy's answer.
        """
        self.sim.set_engine_property("e1", "managed_ack", "pending_new")
        self.sim.set_engine_property("e1", "policy", "accept")
        self.assertEqual(self.h.newOrder("o1"), [("A", "A", "o1"), ("0", "0", "o1")])

    def test_cancelAndReplaceUnchanged(self):
        """
        Cancels and replaces are acknowledged as before (Pending Cancel /
        Pending Replace); only new orders get Pending New.
        """
        self.sim.set_engine_property("e1", "managed_ack", "pending_new")
        self.h.newOrder("o1")
        self.sim.accept_order(1)
        self.h.reports()
        self.assertEqual(self.h.reports(self.h.cancel("c1", "o1")), [("6", "6", "c1")])

    def test_autoModeUnaffected(self):
        """
        In auto mode nothing is held, so nothing changes.
        """
        self.sim.set_engine_property("e1", "mode", "auto")
        self.sim.set_engine_property("e1", "managed_ack", "pending_new")
        self.assertEqual(self.h.newOrder("o1"), [("0", "0", "o1")])

    def test_ouchSendsNothingExtra(self):
        """
        OUCH has no pending state for a new order: nothing until the
        answer.
        """
        self.sim.set_engine_property("e1", "managed_ack", "pending_new")
        self.assertEqual(self.h.ouchOrder("T1"), [])
        self.sim.accept_order(1)
        self.assertEqual([m[0] for m in (ouch42.decodeOutbound(p) for p in self.h.ouch.sequenced())], [b"A"])

    def test_badValue(self):
        """
        A bad value is refused, naming the values; nothing changes.
        """
        self.sim.set_engine_property("e1", "managed_ack", "pending_new")
        e = self.assertRaises(BadValue, self.sim.set_engine_property, "e1", "managed_ack", "yes")
        self.assertEqual(str(e), "managed_ack must be one of none, pending_new, not 'yes'")
        self.assertEqual(self.sim.engines["e1"].properties()["managed_ack"], "pending_new")

    def test_config(self):
        sim = Simulator(MemoryReactorClock())
        config.apply(config.parse("[engine:e1]\nmode = managed\nmanaged_ack = pending_new\n"), sim)
        self.assertEqual(
            sim.engines["e1"].properties(),
            {"mode": "managed", "managed_ack": "pending_new", "schedule": "none", "timezone": "America/New_York"},
        )


class ReferenceManagedAckTests(ManagedAckTests):
    engineClass = "reference"
