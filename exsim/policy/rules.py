# -*- test-case-name: tests.test_policy_rules -*-
"""
Policy rules: a condition on a held request and an answer, in a small
language of their own.  Rules are text from sim.ini or the management
service: this module parses them by hand (no C{eval}, no Python of any
kind) and refuses a bad one with the position of the problem.

Grammar (keywords in any case; positions in errors count from 1)::

    rule       := condition "->" answer
    condition  := "*" | or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" or ")" | field operator value
    field      := symbol | side | quantity | price | order_type
                | time_in_force | owner | session | cl_ord_id | request
    operator   := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~" | "in"
    value      := a word | "quoted text" | "(" value ("," value)* ")" after in
    answer     := "accept" | "hold" | "reject" ["quoted text"]
                | "fill" [amount] ["at" price] ["then" "cancel" ["after" seconds]]
                | "delay" seconds "then" answer
    amount     := whole number (a quantity) | decimal (a fraction) | percentage

For example::

    symbol = AAPL and side = buy and quantity > 1000 -> reject "size limit"
    cl_ord_id ~ ^PF -> fill 0.5 then cancel after 1
    request = cancel -> accept
    * -> hold

C{~} matches a regular expression anywhere in the value (C{re.search}:
anchor with C{^}); after it, a word runs to the next space (quote a
pattern with spaces).  A condition on a price never matches an order
without one (a market order).  A C{fill} rule applies to new orders only:
for a cancel or replace request the next rule is tried.
"""

import re
from decimal import Decimal, InvalidOperation

from exsim.errors import BadValue
from exsim.model import OrdType, Side, TimeInForce
from exsim.policy.answers import Accept, Delay, Fill, Hold, Reject

#: The longest rule accepted, in characters.
MAX_RULE_LENGTH = 2000

#: The longest regular expression accepted, in characters.
MAX_PATTERN_LENGTH = 200

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)%?")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "~")
_BARE_STOP = frozenset(' \t\r\n()",')


class RuleError(BadValue):
    """
    A rule that cannot be parsed: the message names the position (from 1)
    and what was expected there.

    @ivar position: the position of the problem, from 1.
    """

    def __init__(self, message, text, position):
        BadValue.__init__(
            self, "bad rule %r: at position %d: %s" % (text, position, message)
        )
        self.text = text
        self.position = position


# -- fields ----------------------------------------------------------------


class _Field:
    """
    A field a condition may name: how to read its value of a request and
    how to parse a value of the rule.
    """

    #: The operators allowed.
    operators = ("=", "!=", "in")

    def __init__(self, name):
        self.name = name

    def parse(self, text):
        """
        A value of the rule, as compared.

        @raise BadValue: with the reason, for a bad value.
        """
        return text

    def get(self, request, book):
        raise NotImplementedError()


class _Text(_Field):
    operators = ("=", "!=", "~", "in")

    def __init__(self, name, read):
        _Field.__init__(self, name)
        self.get = read


class _Choice(_Field):
    def __init__(self, name, parse, read):
        _Field.__init__(self, name)
        self.parse = parse
        self.get = read


def _request(text):
    kind = text.lower()
    if kind not in ("new", "cancel", "replace"):
        raise BadValue("request must be one of new, cancel, replace, not %r" % (text,))
    return kind


class _Quantity(_Field):
    operators = ("=", "!=", "<", "<=", ">", ">=", "in")

    def parse(self, text):
        if not text.isdigit() or len(text) > 18:
            raise BadValue("quantity must be a whole number of at most 18 digits, not %r" % (text,))
        return int(text)

    def get(self, request, book):
        return request.quantity


class _Price(_Field):
    operators = ("=", "!=", "<", "<=", ">", ">=", "in")

    def parse(self, text):
        try:
            price = Decimal(text)
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite() or price < 0 or len(text) > 30:
            raise BadValue("price must be a decimal, not %r" % (text,))
        return price

    def get(self, request, book):
        if request.price is None or book is None:
            return None
        return book.instrument.toDecimal(request.price)


FIELDS = {
    "symbol": _Text("symbol", lambda request, book: request.symbol),
    "side": _Choice("side", Side.fromName, lambda request, book: request.side),
    "quantity": _Quantity("quantity"),
    "price": _Price("price"),
    "order_type": _Choice("order_type", OrdType.fromName, lambda request, book: request.ordType),
    "time_in_force": _Choice(
        "time_in_force", TimeInForce.fromName, lambda request, book: request.timeInForce
    ),
    "owner": _Text("owner", lambda request, book: request.owner),
    "cl_ord_id": _Text("cl_ord_id", lambda request, book: request.clOrdId),
    "request": _Choice("request", _request, lambda request, book: request.kind),
}
#: Other names of fields.
ALIASES = {"session": "owner"}


# -- conditions ------------------------------------------------------------


class _Everything:
    def matches(self, request, book):
        return True


class _All:
    def __init__(self, parts):
        self.parts = parts

    def matches(self, request, book):
        for part in self.parts:
            if not part.matches(request, book):
                return False
        return True


class _Any:
    def __init__(self, parts):
        self.parts = parts

    def matches(self, request, book):
        for part in self.parts:
            if part.matches(request, book):
                return True
        return False


class _Not:
    def __init__(self, part):
        self.part = part

    def matches(self, request, book):
        return not self.part.matches(request, book)


_COMPARE = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "~": lambda a, b: b.search(a) is not None,
}


class _Comparison:
    def __init__(self, field, operator, value):
        self.field = field
        self.compare = _COMPARE[operator]
        self.value = value

    def matches(self, request, book):
        actual = self.field.get(request, book)
        if actual is None:
            return False
        return self.compare(actual, self.value)


# -- the parser ------------------------------------------------------------


class _Parser:
    """
    A recursive-descent parser over the rule's text.
    """

    def __init__(self, text):
        self.text = text
        self.pos = 0

    def error(self, message, pos=None):
        return RuleError(message, self.text, (self.pos if pos is None else pos) + 1)

    def skip(self):
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1

    def atEnd(self):
        self.skip()
        return self.pos >= len(self.text)

    def found(self):
        """
        What is at the current position, for an error message.
        """
        self.skip()
        if self.pos >= len(self.text):
            return "the end of the rule"
        rest = self.text[self.pos:].split(None, 1)[0]
        return repr(rest[:20])

    def peekWord(self):
        self.skip()
        match = _WORD.match(self.text, self.pos)
        return match.group().lower() if match else None

    def takeWord(self, *words):
        """
        Take the next word if it is one of C{words}; return it or None.
        """
        word = self.peekWord()
        if word is not None and word in words:
            self.pos += len(word)
            return word
        return None

    def expectWord(self, *words):
        word = self.takeWord(*words)
        if word is None:
            raise self.error("expected %s, found %s" % (_either(words), self.found()))
        return word

    def take(self, symbol):
        self.skip()
        if self.text.startswith(symbol, self.pos):
            self.pos += len(symbol)
            return True
        return False

    # -- a rule --

    def rule(self):
        self.skip()
        if self.take("*"):
            condition = _Everything()
        else:
            condition = self.orCondition()
        if not self.take("->"):
            raise self.error("expected 'and', 'or' or '->', found %s" % (self.found(),))
        answer = self.answer()
        if not self.atEnd():
            raise self.error("unexpected %s after the answer" % (self.found(),))
        return condition, answer

    # -- conditions --

    def orCondition(self):
        parts = [self.andCondition()]
        while self.takeWord("or"):
            parts.append(self.andCondition())
        return parts[0] if len(parts) == 1 else _Any(parts)

    def andCondition(self):
        parts = [self.notCondition()]
        while self.takeWord("and"):
            parts.append(self.notCondition())
        return parts[0] if len(parts) == 1 else _All(parts)

    def notCondition(self):
        if self.takeWord("not"):
            return _Not(self.notCondition())
        if self.take("("):
            condition = self.orCondition()
            if not self.take(")"):
                raise self.error("expected ')', found %s" % (self.found(),))
            return condition
        return self.comparison()

    def comparison(self):
        self.skip()
        start = self.pos
        match = _WORD.match(self.text, self.pos)
        if match is None:
            raise self.error("expected a field name or '*', found %s" % (self.found(),))
        name = match.group().lower()
        field = FIELDS.get(ALIASES.get(name, name))
        if field is None:
            known = sorted(set(FIELDS) | set(ALIASES))
            raise self.error(
                "unknown field %r (known: %s)" % (match.group(), ", ".join(known)), start
            )
        self.pos = match.end()
        self.skip()
        opStart = self.pos
        operator = None
        for candidate in _OPERATORS:
            if self.text.startswith(candidate, self.pos):
                operator = candidate
                break
        if operator is None and self.takeWord("in"):
            operator = "in"
        elif operator is not None:
            self.pos += len(operator)
        if operator is None:
            raise self.error(
                "expected an operator (=, !=, <, <=, >, >=, ~, in) after %s, found %s"
                % (field.name, self.found())
            )
        if operator not in field.operators:
            raise self.error(
                "%s takes the operators %s, not %s"
                % (field.name, ", ".join(field.operators), operator),
                opStart,
            )
        if operator == "in":
            value = frozenset(self.valueList(field))
        elif operator == "~":
            value = self.pattern()
        else:
            value = self.fieldValue(field)
        return _Comparison(field, operator, value)

    def valueList(self, field):
        if not self.take("("):
            raise self.error("expected '(' after in, found %s" % (self.found(),))
        values = [self.fieldValue(field)]
        while self.take(","):
            values.append(self.fieldValue(field))
        if not self.take(")"):
            raise self.error("expected ',' or ')', found %s" % (self.found(),))
        return values

    def fieldValue(self, field):
        start, text = self.value()
        try:
            return field.parse(text)
        except BadValue as e:
            raise self.error(str(e), start)

    def value(self):
        """
        A quoted or bare value: (its start, its text).
        """
        self.skip()
        start = self.pos
        if self.text.startswith('"', self.pos):
            return start, self.quoted()
        text = self.text
        end = start
        while end < len(text) and text[end] not in _BARE_STOP:
            end += 1
        if end == start or text.startswith("->", start):
            raise self.error("expected a value, found %s" % (self.found(),))
        self.pos = end
        return start, text[start:end]

    def quoted(self):
        """
        A quoted text: C{\\"} is a quote and C{\\\\} a backslash; any other
        backslash stays as it is (regular expressions keep theirs).
        """
        text = self.text
        start = self.pos
        i = start + 1
        out = []
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
                out.append(text[i + 1])
                i += 2
            elif ch == '"':
                self.pos = i + 1
                return "".join(out)
            else:
                out.append(ch)
                i += 1
        raise self.error("unterminated quoted text", start)

    def pattern(self):
        self.skip()
        start = self.pos
        if self.text.startswith('"', self.pos):
            source = self.quoted()
        else:
            text = self.text
            end = start
            while end < len(text) and not text[end].isspace():
                end += 1
            source = text[start:end]
            # A closing parenthesis of the condition may follow the
            # pattern without a space.
            while source.endswith(")") and source.count(")") > source.count("("):
                source = source[:-1]
                end -= 1
            if not source or source.startswith("->"):
                raise self.error("expected a regular expression, found %s" % (self.found(),))
            self.pos = end
        if len(source) > MAX_PATTERN_LENGTH:
            raise self.error(
                "a regular expression may have at most %d characters" % (MAX_PATTERN_LENGTH,),
                start,
            )
        try:
            return re.compile(source)
        except re.error as e:
            raise self.error("bad regular expression %r: %s" % (source, e), start)

    # -- answers --

    def answer(self):
        word = self.takeWord("accept", "reject", "fill", "delay", "hold")
        if word is None:
            raise self.error(
                "expected an answer (accept, reject, fill, delay, hold), found %s"
                % (self.found(),)
            )
        if word == "accept":
            return Accept()
        if word == "hold":
            return Hold()
        if word == "reject":
            self.skip()
            if self.text.startswith('"', self.pos):
                return Reject(self.quoted())
            return Reject()
        if word == "fill":
            return self.fill()
        seconds = self.seconds("delay")
        self.expectWord("then")
        self.skip()
        innerStart = self.pos
        inner = self.answer()
        if isinstance(inner, Hold):
            raise self.error("a delay needs an answer other than hold", innerStart)
        return Delay(seconds, inner)

    def number(self):
        self.skip()
        match = _NUMBER.match(self.text, self.pos)
        if match is None or _WORD.match(self.text, match.end()):
            return None, None
        self.pos = match.end()
        return match.start(), match.group()

    def seconds(self, what):
        start, text = self.number()
        if text is None or text.endswith("%"):
            raise self.error("expected a number of seconds after %s, found %s" % (what, self.found()))
        try:
            Delay(text, Accept())
        except BadValue as e:
            raise self.error(str(e), start)
        return text

    def fill(self):
        quantity = fraction = price = None
        start, amount = self.number()
        if amount is not None:
            try:
                if amount.endswith("%"):
                    fraction = Decimal(amount[:-1]) / 100
                elif "." in amount:
                    fraction = Decimal(amount)
                else:
                    quantity = int(amount)
                    if len(amount) > 18:
                        raise BadValue("a fill quantity may have at most 18 digits")
                Fill(quantity, fraction)
            except BadValue as e:
                raise self.error(str(e), start)
        if self.takeWord("at"):
            priceStart, text = self.value()
            try:
                price = _Price("price").parse(text)
                Fill(price=price)
            except BadValue as e:
                raise self.error(str(e), priceStart)
        cancel = False
        after = 0
        if self.takeWord("then"):
            self.expectWord("cancel")
            cancel = True
            if self.takeWord("after"):
                after = self.seconds("after")
        return Fill(quantity, fraction, price, cancel, after)


def _either(words):
    quoted = ["'%s'" % (w,) for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


class Rule:
    """
    One parsed rule.

    @ivar text: the rule as given (stripped).
    @ivar answer: its L{exsim.policy.answers.Answer}, named after the rule.
    """

    def __init__(self, text, condition, answer):
        self.text = text
        self.condition = condition
        self.answer = answer.named(text)

    def matches(self, request, book):
        """
        Whether this rule answers C{request}: its condition holds and its
        answer can answer a request of that kind.
        """
        return self.answer.appliesTo(request.kind) and self.condition.matches(request, book)


def parseRule(text):
    """
    Parse one rule.

    @raise RuleError: (a L{BadValue}) naming the position of the problem.
    """
    if not isinstance(text, str):
        raise BadValue("a rule must be text, not %r" % (type(text).__name__,))
    text = text.strip()
    if not text:
        raise BadValue("a rule must not be empty")
    if len(text) > MAX_RULE_LENGTH:
        raise BadValue("a rule may have at most %d characters" % (MAX_RULE_LENGTH,))
    if not text.isprintable():
        raise BadValue("a rule must be printable text (no control characters)")
    condition, answer = _Parser(text).rule()
    return Rule(text, condition, answer)
