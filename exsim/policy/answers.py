# -*- test-case-name: tests.test_policy -*-
"""
What a policy is given (a L{Request}) and what it answers (L{Accept},
L{Reject}, L{Fill}, L{Delay}, L{HOLD}).

Answers are plain values: a policy decides, the
L{exsim.policy.runner.PolicyRunner} carries the answer out through the
engine's managed-mode primitives.  Each answer may name what decided it
(C{rule}: a rule's text, or anything short), which the C{policy_answered}
control event reports.
"""

from decimal import Decimal

from exsim.errors import BadValue


class Request:
    """
    A request held in managed mode, as a policy sees it (read only).

    @ivar kind: C{"new"}, C{"cancel"} or C{"replace"}.
    @ivar orderId: the exchange order id (what the answers name).
    @ivar order: the L{exsim.model.Order} (do not change it).
    @ivar clOrdId: the request's client order id (a new order's own, or the
        cancel or replace request's).
    @ivar symbol: the order's symbol.
    @ivar side: its L{exsim.model.Side}.
    @ivar ordType: its L{exsim.model.OrdType}.
    @ivar timeInForce: its L{exsim.model.TimeInForce}.
    @ivar owner: the order's owner (text, e.g. C{"fix1/CLIENT"}).
    @ivar quantity: the order quantity (a replace's new one if it asks for
        one).
    @ivar price: the limit price in internal units, or None (a replace's
        new one if it asks for one).
    @ivar engine: the name of the engine.
    """

    __slots__ = (
        "kind", "orderId", "order", "clOrdId", "symbol", "side", "ordType",
        "timeInForce", "owner", "quantity", "price", "engine",
    )

    def __init__(self, event, engine=None):
        order = event.order
        self.kind = event.kind
        self.orderId = event.requestId
        self.order = order
        self.clOrdId = event.requestClOrdId
        self.symbol = order.symbol
        self.side = order.side
        self.ordType = order.ordType
        self.timeInForce = order.timeInForce
        self.owner = str(order.owner)
        self.quantity = event.quantity if event.requestQuantity is None else event.requestQuantity
        self.price = event.price if event.requestPrice is None else event.requestPrice
        self.engine = engine

    def __repr__(self):
        return "<Request %s %s %s>" % (self.kind, self.orderId, self.clOrdId)


class Answer:
    """
    Base of the answers.

    @ivar rule: what decided it (text), or None.
    @ivar ruleNumber: the number of the rule that decided it (from 1), or
        None.
    """

    name = None
    kinds = ("new", "cancel", "replace")
    rule = None
    ruleNumber = None

    def appliesTo(self, kind):
        """
        Whether this answer can answer a request of C{kind}.
        """
        return kind in self.kinds

    def named(self, rule, number=None):
        """
        Set C{rule} (and C{ruleNumber}); return C{self}.
        """
        self.rule = rule
        self.ruleNumber = number
        return self

    def describe(self):
        """
        The answer as rule text (C{"accept"}, C{"fill 0.5 then cancel"}).
        """
        return self.name

    def __eq__(self, other):
        return type(other) is type(self) and other.describe() == self.describe()

    def __hash__(self):
        return hash(self.describe())

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.describe())


class Hold(Answer):
    """
    Leave the request held for the test.
    """

    name = "hold"


#: The answer that leaves a request held (a policy may also return None).
HOLD = Hold()


class Accept(Answer):
    """
    Accept: a new order is accepted (a limit order rests without matching,
    as C{accept_order}), a cancel or replace is carried out.
    """

    name = "accept"


class Reject(Answer):
    """
    Reject: a new order with an ExecutionReport Rejected, a cancel or
    replace with an OrderCancelReject; with C{text}, else the engine's
    C{reject_text}.
    """

    name = "reject"

    def __init__(self, text=None):
        self.text = None if text is None else str(text)

    def describe(self):
        if self.text is None:
            return "reject"
        return "reject %s" % (quote(self.text),)


class Fill(Answer):
    """
    Fill a new order against the house (as C{fill_order}): C{quantity}
    (a whole number, at most what is left) or C{fraction} (of the order
    quantity, rounded down), in full if neither; at C{price} (a decimal,
    put on the order's book's price scale), else the order's limit price,
    else the book's reference price, else its last trade price.  What is left of a limit DAY, GTC or GTD order rests; of
    an IOC, FOK or market order it is cancelled.  With C{cancel}, what is
    left is cancelled unsolicited after C{cancelAfter} seconds (at once if
    0) instead.
    """

    name = "fill"
    kinds = ("new",)

    def __init__(self, quantity=None, fraction=None, price=None, cancel=False, cancelAfter=0):
        if quantity is not None and fraction is not None:
            raise BadValue("a fill has a quantity or a fraction, not both")
        if quantity is not None and (type(quantity) is not int or quantity <= 0):
            raise BadValue("a fill quantity must be a positive whole number, not %r" % (quantity,))
        if fraction is not None:
            fraction = Decimal(str(fraction))
            if not 0 < fraction <= 1:
                raise BadValue("a fill fraction must be above 0 and at most 1, not %s" % (fraction,))
        if price is not None:
            price = Decimal(str(price))
            if not price.is_finite() or price <= 0:
                raise BadValue("a fill price must be a positive decimal, not %s" % (price,))
        cancelAfter = _seconds(cancelAfter, "cancel after")
        self.quantity = quantity
        self.fraction = fraction
        self.price = price
        self.cancel = bool(cancel)
        self.cancelAfter = cancelAfter

    def quantityOf(self, order):
        """
        How much of C{order} to fill (at most its leaves quantity).
        """
        leaves = order.leavesQty
        if self.quantity is not None:
            return min(self.quantity, leaves)
        if self.fraction is not None:
            return min(int(Decimal(order.quantity) * self.fraction), leaves)
        return leaves

    def describe(self):
        text = "fill"
        if self.quantity is not None:
            text += " %d" % (self.quantity,)
        elif self.fraction is not None:
            fraction = _plain(self.fraction)
            # A fraction keeps a decimal point: "1" would be a quantity.
            text += " %s" % (fraction if "." in fraction else fraction + ".0",)
        if self.price is not None:
            text += " at %s" % (_plain(self.price),)
        if self.cancel:
            text += " then cancel"
            if self.cancelAfter:
                text += " after %s" % (_secondsText(self.cancelAfter),)
        return text


class Delay(Answer):
    """
    Give C{answer} after C{seconds} of the reactor's clock (if the request
    is still held then).
    """

    name = "delay"

    def __init__(self, seconds, answer):
        if not isinstance(answer, Answer) or isinstance(answer, Hold):
            raise BadValue("a delay needs an answer other than hold, not %r" % (answer,))
        self.seconds = _seconds(seconds, "delay")
        self.answer = answer

    @property
    def kinds(self):
        return self.answer.kinds

    def describe(self):
        return "delay %s then %s" % (_secondsText(self.seconds), self.answer.describe())


#: The longest delay an answer may have (a day).
MAX_SECONDS = 86400


def _seconds(value, what):
    try:
        seconds = Decimal(str(value))
    except ArithmeticError:
        raise BadValue("%s must be a number of seconds, not %r" % (what, value))
    if not seconds.is_finite() or not 0 <= seconds <= MAX_SECONDS:
        raise BadValue("%s must be between 0 and %d seconds, not %s" % (what, MAX_SECONDS, value))
    return float(seconds)


def _secondsText(seconds):
    text = repr(float(seconds))
    return text[:-2] if text.endswith(".0") else text


def _plain(number):
    """
    A decimal as plain text without trailing zeros (C{150}, C{0.5}).
    """
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def quote(text):
    """
    C{text} as a quoted string of the rule language.
    """
    return '"%s"' % (text.replace("\\", "\\\\").replace('"', '\\"'),)
