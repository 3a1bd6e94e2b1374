"""
The rule language of policies (exsim.policy.rules): every condition and
answer, errors with their positions, and random text never crashing the
parser.
"""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import TestCase

from exsim.engine.events import OrderRequest
from exsim.errors import BadValue
from exsim.model import Instrument, Order, OrdType, Side, TimeInForce
from exsim.policy import Accept, Delay, Fill, Hold, Reject, Request
from exsim.policy.rules import MAX_RULE_LENGTH, RuleError, parseRule


class _Book:
    instrument = Instrument("AAPL", tickSize=100)


BOOK = _Book()


def request(kind="new", symbol="AAPL", side=Side.BUY, quantity=100, price=1502500,
            ordType=OrdType.LIMIT, tif=TimeInForce.DAY, owner="fix1/CLIENT", clOrdId="A1",
            requestClOrdId=None, requestQuantity=None, requestPrice=None):
    order = Order(owner, clOrdId, symbol, side, quantity, price, ordType, tif)
    order.orderId = 7
    return Request(
        OrderRequest(kind, order, 7, requestClOrdId or clOrdId, requestPrice, requestQuantity),
        "e1",
    )


class ConditionTests(TestCase):
    """
    Each field and operator selects what it says.
    """

    def matches(self, condition, **kw):
        return parseRule(condition + " -> accept").matches(request(**kw), BOOK)

    def test_everything(self):
        self.assertTrue(self.matches("*"))
        self.assertTrue(self.matches("*", kind="cancel"))

    def test_symbol(self):
        self.assertTrue(self.matches("symbol = AAPL"))
        self.assertFalse(self.matches("symbol = aapl"))
        self.assertTrue(self.matches("symbol != MSFT"))
        self.assertTrue(self.matches("symbol in (MSFT, AAPL)"))
        self.assertFalse(self.matches("symbol in (MSFT)"))
        self.assertTrue(self.matches('symbol = "AAPL"'))
        self.assertTrue(self.matches("symbol ~ ^AA"))

    def test_side(self):
        self.assertTrue(self.matches("side = buy"))
        self.assertTrue(self.matches("side = BUY"))
        self.assertFalse(self.matches("side = sell"))
        self.assertTrue(self.matches("side = short", side=Side.SELL_SHORT))
        self.assertTrue(self.matches("side in (sell, sell_short)", side=Side.SELL))
        self.assertTrue(self.matches("side != sell"))

    def test_quantity(self):
        for condition, expected in [
            ("quantity = 100", True), ("quantity != 100", False), ("quantity < 100", False),
            ("quantity <= 100", True), ("quantity > 99", True), ("quantity >= 101", False),
            ("quantity in (1, 100)", True),
        ]:
            self.assertEqual(self.matches(condition), expected, condition)

    def test_price(self):
        """
        Prices compare as decimals, whatever their number of places; an
        order without a price matches no price condition.
        """
        for condition, expected in [
            ("price = 150.25", True), ("price = 150.250", True), ("price < 150.25", False),
            ("price <= 150.25", True), ("price > 150", True), ("price >= 151", False),
            ("price != 150", True), ("price in (150.25, 1)", True),
        ]:
            self.assertEqual(self.matches(condition), expected, condition)
        self.assertFalse(self.matches("price > 0", price=None, ordType=OrdType.MARKET))
        self.assertFalse(self.matches("price != 1", price=None, ordType=OrdType.MARKET))
        self.assertTrue(self.matches("not price > 0", price=None, ordType=OrdType.MARKET))

    def test_orderTypeAndTimeInForce(self):
        self.assertTrue(self.matches("order_type = limit"))
        self.assertTrue(self.matches("order_type = market", price=None, ordType=OrdType.MARKET))
        self.assertTrue(self.matches("time_in_force = day"))
        self.assertTrue(self.matches("time_in_force in (ioc, fok)", tif=TimeInForce.FOK))
        self.assertFalse(self.matches("time_in_force = gtc"))

    def test_owner(self):
        self.assertTrue(self.matches("owner = fix1/CLIENT"))
        self.assertTrue(self.matches("session = fix1/CLIENT"))
        self.assertTrue(self.matches("owner ~ ^fix1/"))
        self.assertFalse(self.matches("session ~ ^ouch"))

    def test_clOrdId(self):
        """
        C{cl_ord_id} is the request's client order id; C{~} searches.
        """
        self.assertTrue(self.matches("cl_ord_id = A1"))
        self.assertTrue(self.matches("cl_ord_id ~ 1$"))
        self.assertTrue(self.matches('cl_ord_id ~ "^(A|B)\\d"'))
        self.assertTrue(self.matches("cl_ord_id = C9", kind="cancel", requestClOrdId="C9"))

    def test_request(self):
        self.assertTrue(self.matches("request = new"))
        self.assertTrue(self.matches("request = CANCEL", kind="cancel"))
        self.assertTrue(self.matches("request in (cancel, replace)", kind="replace"))

    def test_replaceTerms(self):
        """
        For a replace, quantity and price are what it asks for.
        """
        self.assertTrue(self.matches("quantity = 50", kind="replace", requestQuantity=50))
        self.assertTrue(self.matches("price = 151", kind="replace", requestPrice=1510000))
        self.assertTrue(self.matches("quantity = 100", kind="replace", requestPrice=1510000))

    def test_logic(self):
        """
        C{not} binds tighter than C{and}, C{and} than C{or}; parentheses
        group; keywords in any case.
        """
        self.assertTrue(self.matches("symbol = MSFT or side = buy and quantity = 100"))
        self.assertFalse(self.matches("(symbol = MSFT or side = buy) and quantity = 1"))
        self.assertTrue(self.matches("not symbol = MSFT AND NOT side = sell"))
        self.assertFalse(self.matches("not (symbol = AAPL)"))
        self.assertTrue(self.matches("not not symbol = AAPL"))
        self.assertTrue(self.matches("(cl_ord_id ~ ^A)"))
        self.assertTrue(self.matches("(cl_ord_id ~ ^(A|B))"))
        self.assertTrue(self.matches("((symbol=AAPL)and(side=buy))"))


class AnswerTests(TestCase):
    """
    Each answer parses into its value.
    """

    def answer(self, text):
        return parseRule("* -> " + text).answer

    def test_accept(self):
        self.assertEqual(self.answer("accept"), Accept())
        self.assertEqual(self.answer("ACCEPT"), Accept())

    def test_hold(self):
        self.assertIsInstance(self.answer("hold"), Hold)

    def test_reject(self):
        self.assertEqual(self.answer("reject"), Reject())
        self.assertEqual(self.answer('reject "size limit"'), Reject("size limit"))
        self.assertEqual(self.answer('reject "a \\"b\\" \\\\ c"').text, 'a "b" \\ c')

    def test_fill(self):
        self.assertEqual(self.answer("fill"), Fill())
        self.assertEqual(self.answer("fill 100"), Fill(100))
        self.assertEqual(self.answer("fill 0.5"), Fill(fraction="0.5"))
        self.assertEqual(self.answer("fill .25"), Fill(fraction="0.25"))
        self.assertEqual(self.answer("fill 1.0"), Fill(fraction="1"))
        self.assertEqual(self.answer("fill 50%").fraction, Decimal("0.5"))
        self.assertEqual(self.answer("fill at 10.5"), Fill(price="10.5"))
        self.assertEqual(self.answer("fill 10 at 10.5"), Fill(10, price="10.5"))
        self.assertEqual(self.answer("fill then cancel"), Fill(cancel=True))
        self.assertEqual(
            self.answer("fill 0.5 at 3 then cancel after 1.5"),
            Fill(fraction="0.5", price="3", cancel=True, cancelAfter="1.5"),
        )

    def test_delay(self):
        self.assertEqual(self.answer("delay 2 then accept"), Delay(2, Accept()))
        self.assertEqual(
            self.answer('delay 0.25 then reject "late"'), Delay("0.25", Reject("late"))
        )
        self.assertEqual(
            self.answer("delay 1 then delay 2 then fill 1"), Delay(1, Delay(2, Fill(1)))
        )

    def test_namedAfterRule(self):
        """
        The answer carries the rule's text (stripped).
        """
        rule = parseRule("  side = buy ->  accept  ")
        self.assertEqual((rule.text, rule.answer.rule), ("side = buy ->  accept",) * 2)

    def test_fillOnlyForNew(self):
        """
        A fill rule matches new orders only (a delayed one too).
        """
        self.assertFalse(parseRule("* -> fill").matches(request(kind="cancel"), BOOK))
        self.assertFalse(parseRule("* -> delay 1 then fill").matches(request(kind="replace"), BOOK))
        self.assertTrue(parseRule("* -> delay 1 then accept").matches(request(kind="replace"), BOOK))


class ErrorTests(TestCase):
    """
    A bad rule is a L{RuleError} (a L{BadValue}) naming the position,
    from 1, and what is wrong there.
    """

    def error(self, text):
        e = self.assertRaises(RuleError, parseRule, text)
        self.assertIsInstance(e, BadValue)
        return e.position, str(e).split(": ", 2)[-1]

    def test_errors(self):
        for text, position, message in [
            ("colour = red -> accept", 1, "unknown field 'colour'"),
            ("symbol = AAPL and colour = red -> accept", 19, "unknown field 'colour'"),
            ("symbol AAPL -> accept", 8, "expected an operator"),
            ("symbol = -> accept", 10, "expected a value, found '->'"),
            ("symbol = AAPL", 14, "expected 'and', 'or' or '->', found the end of the rule"),
            ("symbol = AAPL accept", 15, "expected 'and', 'or' or '->', found 'accept'"),
            ("symbol = AAPL -> ", 17, "expected an answer"),
            ("symbol = AAPL -> fly", 18, "expected an answer (accept, reject, fill, delay, hold), found 'fly'"),
            ("side = up -> accept", 8, "side must be one of buy, sell, sell_short, short, not 'up'"),
            ("quantity = 1.5 -> accept", 12, "quantity must be a whole number"),
            ("quantity ~ 5 -> accept", 10, "quantity takes the operators"),
            ("side < buy -> accept", 6, "side takes the operators =, !=, in, not <"),
            ("price > -1 -> accept", 9, "price must be a decimal"),
            ("price > abc -> accept", 9, "price must be a decimal"),
            ("order_type = trailing_stop -> accept", 14, "order_type must be one of"),
            ("time_in_force = gtx -> accept", 17, "time_in_force must be one of"),
            ("request = amend -> accept", 11, "request must be one of new, cancel, replace"),
            ('cl_ord_id ~ "(" -> accept', 13, "bad regular expression '('"),
            ("cl_ord_id ~ ( -> accept", 13, "bad regular expression '('"),
            ('symbol = "AAPL -> accept', 10, "unterminated quoted text"),
            ("symbol in AAPL -> accept", 11, "expected '(' after in"),
            ("symbol in (AAPL MSFT) -> accept", 17, "expected ',' or ')'"),
            ("(symbol = AAPL -> accept", 16, "expected ')'"),
            ("= AAPL -> accept", 1, "expected a field name or '*'"),
            ("* -> accept now", 13, "unexpected 'now' after the answer"),
            ("* -> reject size", 13, "unexpected 'size' after the answer"),
            ("* -> fill 0 -> accept", 11, "a fill quantity must be a positive whole number"),
            ("* -> fill 1.5", 11, "a fill fraction must be above 0 and at most 1"),
            ("* -> fill 150%", 11, "a fill fraction must be above 0 and at most 1"),
            ("* -> fill at zero", 14, "price must be a decimal"),
            ("* -> fill at 0", 14, "a fill price must be a positive decimal"),
            ("* -> fill then stop", 16, "expected 'cancel', found 'stop'"),
            ("* -> fill then cancel after x", 29, "expected a number of seconds after after"),
            ("* -> delay then accept", 12, "expected a number of seconds after delay"),
            ("* -> delay 100000 then accept", 12, "delay must be between 0 and 86400 seconds"),
            ("* -> delay 1 accept", 14, "expected 'then', found 'accept'"),
            ("* -> delay 1 then hold", 19, "a delay needs an answer other than hold"),
            ("* and side = buy -> accept", 3, "expected 'and', 'or' or '->'"),
        ]:
            got = self.error(text)
            self.assertEqual(got[0], position, "%s: %s" % (text, got[1]))
            self.assertTrue(got[1].startswith(message), "%s: %s" % (text, got[1]))

    def test_messageNamesRule(self):
        e = self.assertRaises(RuleError, parseRule, "colour = red -> accept")
        self.assertEqual(
            str(e),
            "bad rule 'colour = red -> accept': at position 1: unknown field 'colour' (known: "
            "cl_ord_id, order_type, owner, price, quantity, request, session, side, symbol, "
            "time_in_force)",
        )

    def test_notText(self):
        self.assertRaises(BadValue, parseRule, None)
        self.assertRaises(BadValue, parseRule, 5)
        self.assertRaises(BadValue, parseRule, "   ")
        self.assertEqual(parseRule("* -> accept\n").text, "* -> accept")
        self.assertRaises(BadValue, parseRule, "* -> reject \"a\x01\"")
        self.assertRaises(BadValue, parseRule, "symbol = " + "A" * MAX_RULE_LENGTH + " -> accept")
        self.assertRaises(BadValue, parseRule, "cl_ord_id ~ " + "a" * 201 + " -> accept")


# -- random text ---------------------------------------------------------------

_PIECES = st.sampled_from([
    "symbol", "side", "quantity", "price", "order_type", "time_in_force", "owner",
    "session", "cl_ord_id", "request", "=", "!=", "<", "<=", ">", ">=", "~", "in", "(",
    ")", ",", "and", "or", "not", "*", "->", "accept", "reject", "fill", "delay",
    "hold", "then", "cancel", "after", "at", '"', "\\", "AAPL", "buy", "100", "0.5",
    "50%", "1.5", "^PF", "new", "x", "",
])


class FuzzTests(TestCase):
    """
    Any text gives a rule or a L{BadValue}; a rule's answer describes
    itself as a rule that parses to the same answer.
    """

    @settings(max_examples=400, deadline=None)
    @given(st.lists(_PIECES, max_size=14), st.text(max_size=5))
    def test_piecesNeverCrash(self, pieces, tail):
        text = " ".join(pieces) + tail
        try:
            rule = parseRule(text)
        except BadValue as e:
            if isinstance(e, RuleError):
                self.assertTrue(1 <= e.position <= len(text.strip()) + 1, (text, e.position))
            return
        again = parseRule("* -> " + rule.answer.describe())
        self.assertEqual(again.answer, rule.answer)
        rule.matches(request(), BOOK)
        rule.matches(request(kind="cancel", price=None, ordType=OrdType.MARKET), BOOK)

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=60))
    def test_textNeverCrashes(self, text):
        try:
            parseRule(text)
        except BadValue:
            pass
