# -*- test-case-name: tests.test_policy -*-
"""
The policy of one engine at work: a listener of the engine's
L{OrderRequest} events that asks the policy about each and carries its
answer out through the engine's L{IManagedOrders} role, as the test's
managed-mode operations would.  Nothing of it is inside the engine, so
every engine class has policies.
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim import registry
from exsim.control.queue import formatPrice
from exsim.engine.events import OrderRequest
from exsim.errors import BadValue, ExsimError
from exsim.interfaces import IEngineEvents, IEngineListener, IManagedOrders, IPolicy
from exsim.model import CancelReason, OrdType, RejectReason, TimeInForce
from exsim.policy.answers import Accept, Answer, Delay, Fill, Hold, Reject, Request
from exsim.policy.builtin import RulesPolicy
from exsim.policy.rules import parseRule
from exsim.roles import roleOf

#: The reject text of a policy's reject without a text of its own.
DEFAULT_REJECT_TEXT = "rejected by policy"

#: The most rules one engine keeps.
MAX_RULES = 1000

_IMMEDIATE = (TimeInForce.IOC, TimeInForce.FOK)


@implementer(IEngineListener)
class PolicyRunner:
    """
    The policy of one engine, its rules and its C{reject_text}.

    @ivar name: the policy's name (C{"hold"} until set).
    @ivar rules: the engine's rules (L{exsim.policy.rules.Rule}), in order.
    @ivar rejectText: the text of a reject without one of its own.
    """

    log = Logger()

    def __init__(self, engineName, engine, report):
        """
        @param engineName: the name the simulator knows the engine by.
        @param engine: the engine (it must have the L{IManagedOrders} and
            L{IEngineEvents} roles).
        @param report: a callable C{(eventType, **fields)} queuing a
            control event (L{exsim.service.Simulator.reportEvent}).
        """
        self.engineName = engineName
        self.engine = roleOf(engine, IManagedOrders, "a policy")
        self._events = roleOf(engine, IEngineEvents, "a policy")
        self._books = engine.books
        self._batch = getattr(engine, "batch", None)
        self.report = report
        self.name = "hold"
        self.policy = None
        self.rules = []
        self.rejectText = DEFAULT_REJECT_TEXT
        self._calls = set()

    # -- configuration -------------------------------------------------------

    def setPolicy(self, name):
        """
        Use the policy registered as C{name} for the requests held from now
        on (C{hold}: none).

        @raise BadValue: for an unknown name, or a factory that does not
            give an L{IPolicy}.
        """
        if not isinstance(name, str) or not name.strip():
            raise BadValue("policy must be a policy name, not %r" % (name,))
        name = name.strip()
        factory = registry.lookup("policy", name)
        if factory is RulesPolicy:
            policy = RulesPolicy(self.rules)
        else:
            policy = roleOf(factory(), IPolicy, "the engine property policy")
        self.name = name
        if name == "hold":
            self.policy = None
            self._events.unsubscribe(self)
        else:
            self.policy = policy
            self._events.subscribe(self)

    def setRejectText(self, text):
        if text is None or not str(text).strip():
            raise BadValue("reject_text must be a non-empty text")
        text = str(text).strip()
        if not text.isprintable():
            raise BadValue("reject_text must be printable text")
        self.rejectText = text

    def addRule(self, text):
        """
        Parse a rule and add it at the end.

        @raise BadValue: for a bad rule (naming the position) or too many.
        """
        if len(self.rules) >= MAX_RULES:
            raise BadValue("engine %r has %d rules already" % (self.engineName, MAX_RULES))
        rule = parseRule(text)
        self.rules.append(rule)
        rule.answer.ruleNumber = len(self.rules)
        return rule

    def clearRules(self):
        del self.rules[:]

    def stop(self):
        """
        Stop answering, and cancel every answer still to come.
        """
        self._events.unsubscribe(self)
        self.cancelPending()

    def cancelPending(self):
        """
        Cancel every answer still to come (the simulator stops).
        """
        for call in list(self._calls):
            if call.active():
                call.cancel()
        self._calls.clear()

    # -- answering -----------------------------------------------------------

    def engineEvents(self, events):
        policy = self.policy
        if policy is None:
            return
        for event in events:
            if event.__class__ is OrderRequest:
                self._decide(policy, event)

    def _decide(self, policy, event):
        request = Request(event, self.engineName)
        book = self._books.get(request.symbol)
        try:
            answer = policy.answer(request, book)
        except Exception:
            self.log.failure(
                "policy {policy} of engine {engine} failed on order {order}: the request stays held",
                policy=self.name, engine=self.engineName, order=request.orderId,
            )
            return
        if answer is None:
            return
        if not isinstance(answer, Answer) or not answer.appliesTo(request.kind):
            self.log.warn(
                "policy {policy} of engine {engine} answered {answer!r} to a {kind} request: "
                "the request stays held",
                policy=self.name, engine=self.engineName, answer=answer, kind=request.kind,
            )
            return
        if isinstance(answer, Delay):
            self._later(answer.seconds, self._give, request, answer.answer, answer)
        else:
            self._give(request, answer, answer)

    def _later(self, seconds, f, *args):
        """
        Run C{f(*args)} after C{seconds} of the engine's clock; cancelled
        by L{stop}.
        """
        holder = []

        def run():
            if holder:
                self._calls.discard(holder[0])
            f(*args)

        call = self.engine.callLater(seconds, run)
        if call is not None and call.active():
            holder.append(call)
            self._calls.add(call)

    def _fields(self, request, answer, decided):
        fields = {
            "engine": self.engineName,
            "policy": self.name,
            "rule": decided.rule if decided.rule is not None else self.name,
            "rule_number": decided.ruleNumber,
            "order_id": request.orderId,
            "request": request.kind,
            "cl_ord_id": request.clOrdId,
            "symbol": request.symbol,
            "answer": answer.name,
        }
        if isinstance(decided, Delay):
            fields["delay"] = decided.seconds
        return fields

    def _give(self, request, answer, decided):
        """
        Carry C{answer} out (if the request is still held), and report it.

        @param decided: the answer the policy gave (a L{Delay} around
            C{answer}, or C{answer} itself): what the event names.
        """
        engine = self.engine
        orderId = request.orderId
        if request.kind not in engine.pendingKinds(orderId):
            # Answered meanwhile (by the test, or the order is gone).
            return
        fields = self._fields(request, answer, decided)
        if isinstance(answer, Hold):
            self.report("policy_answered", **fields)
            return
        plan = None
        if isinstance(answer, Fill):
            try:
                plan = self._planFill(request, answer)
            except ExsimError as e:
                fields["answer"] = "hold"
                fields["error"] = str(e)
                self.log.warn(
                    "policy {policy} of engine {engine} cannot fill order {order}: {error}; "
                    "the request stays held",
                    policy=self.name, engine=self.engineName, order=orderId, error=str(e),
                )
                self.report("policy_answered", **fields)
                return
            quantity, price, book = plan
            fields["fill_quantity"] = quantity
            fields["fill_price"] = formatPrice(book.instrument, price)
        elif isinstance(answer, Reject):
            fields["text"] = answer.text if answer.text is not None else self.rejectText
        self.report("policy_answered", **fields)
        batch = self._batch
        try:
            if batch is None:
                self._carryOut(request, answer, plan, fields)
            else:
                with batch():
                    self._carryOut(request, answer, plan, fields)
        except ExsimError as e:
            self.log.warn(
                "policy {policy} of engine {engine}: {answer} of order {order} failed: {error}",
                policy=self.name, engine=self.engineName, answer=answer.name, order=orderId,
                error=str(e),
            )

    def _planFill(self, request, answer):
        """
        (quantity, internal price, book) of a fill.

        @raise BadValue: if there is no price to fill at, or the price does
            not fit the book.
        """
        order = request.order
        book = self._books.get(request.symbol)
        if book is None:
            raise BadValue("no book %r" % (request.symbol,))
        instrument = book.instrument
        if answer.price is not None:
            price = instrument.toInternal(answer.price)
            if price % instrument.tickSize:
                raise BadValue(
                    "fill price %s is not on the tick grid of %s (tick_size %s)"
                    % (answer.price, book.symbol, instrument.toDecimal(instrument.tickSize))
                )
        elif order.price is not None:
            price = order.price
        elif book.referencePrice is not None:
            price = book.referencePrice
        elif book.lastPrice is not None:
            price = book.lastPrice
        else:
            raise BadValue(
                "no price to fill at: a market order, and book %s has neither a "
                "reference_price nor a last trade" % (book.symbol,)
            )
        return answer.quantityOf(order), price, book

    def _carryOut(self, request, answer, plan, fields):
        engine = self.engine
        orderId = request.orderId
        kind = request.kind
        if isinstance(answer, Accept):
            if kind == "new":
                engine.acceptOrder(orderId)
            elif kind == "cancel":
                engine.acceptCancel(orderId)
            else:
                engine.acceptReplace(orderId)
        elif isinstance(answer, Reject):
            text = fields["text"]
            if kind == "new":
                engine.rejectOrder(orderId, text, RejectReason.OTHER)
            elif kind == "cancel":
                engine.rejectCancel(orderId, text)
            else:
                engine.rejectReplace(orderId, text)
        elif isinstance(answer, Fill):
            self._fill(request, answer, plan)

    def _fill(self, request, answer, plan):
        engine = self.engine
        orderId = request.orderId
        quantity, price, book = plan
        if quantity:
            engine.fillOrder(orderId, quantity, price)
        else:
            # A fraction of a small order: nothing to fill.
            engine.acceptOrder(orderId, rest=False)
        order = engine.getOrder(orderId)
        if order is None or order.isDone or not order.leavesQty:
            return
        if answer.cancel and not answer.cancelAfter:
            engine.cancelUnsolicited(orderId)
        elif order.ordType is OrdType.MARKET:
            engine.cancelUnsolicited(orderId, CancelReason.NO_LIQUIDITY)
        elif order.timeInForce in _IMMEDIATE:
            engine.cancelUnsolicited(orderId, CancelReason.IMMEDIATE_OR_CANCEL)
        else:
            if not order.resting:
                engine.restOrder(orderId)
            if answer.cancel:
                self._later(answer.cancelAfter, engine.cancelUnsolicited, orderId)
