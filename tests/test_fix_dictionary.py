"""
Tests for L{exsim.fix.dictionary}: the generated data dictionaries and
validation with them.
"""

import os

from twisted.trial import unittest

from exsim.errors import BadValue
from exsim.fix import codec, dictionary

NOW = "20240301-12:00:00.000"


def build(beginString, msgType, body, header=None):
    header = header or [(49, "C"), (56, "V"), (34, 2), (52, NOW)]
    return codec.Message.fromBytes(codec.encode(beginString, msgType, header, body))


NOS44 = [(11, "o1"), (55, "AAPL"), (54, "1"), (60, NOW), (38, 100), (40, "2"), (44, "1.5")]


class GeneratedDataTests(unittest.TestCase):
    def test_everyVersionLoads(self):
        for begin in dictionary.BEGIN_STRINGS:
            d = dictionary.forVersion(begin)
            self.assertEqual(d.beginString, begin)
            self.assertIn("A", d.messages)
            self.assertTrue(d.messages["A"].isAdmin)
            self.assertIn("D", d.messages)
            self.assertFalse(d.messages["D"].isAdmin)

    def test_fixtApplicationVersions(self):
        for code, name in [("7", "FIX.5.0"), ("8", "FIX.5.0SP1"), ("9", "FIX.5.0SP2")]:
            d = dictionary.forVersion("FIXT.1.1", name)
            self.assertEqual(d.applVerId, code)
            self.assertIs(d, dictionary.forVersion("FIXT.1.1", code))
            # Session messages come from FIXT.1.1, application from FIX 5.0.
            self.assertIn(1137, d.messages["A"].required)
            self.assertIn("8", d.messages)

    def test_unsupported(self):
        self.assertRaises(BadValue, dictionary.forVersion, "FIX.4.9")
        self.assertRaises(BadValue, dictionary.forVersion, "FIXT.1.1", "3")

    def test_knownFacts(self):
        """
        Spot checks against the FIX specifications.
        """
        d42 = dictionary.forVersion("FIX.4.2")
        nos = d42.messages["D"]
        self.assertEqual(nos.name, "NewOrderSingle")
        # FIX 4.2 NewOrderSingle requires HandlInst and TransactTime.
        self.assertTrue({11, 21, 55, 54, 60, 40} <= nos.required)
        self.assertIn(20, d42.messages["8"].required)  # ExecTransType
        self.assertNotIn(20, dictionary.forVersion("FIX.4.4").messages["8"].tags)
        self.assertEqual(d42.fields[54].name, "Side")
        self.assertTrue(d42.hasEnum(150, "3"))  # 4.2 ExecType Done for day
        self.assertFalse(dictionary.forVersion("FIX.4.4").hasEnum(150, "1"))  # no Partial fill
        self.assertTrue(dictionary.forVersion("FIX.4.4").hasEnum(150, "F"))  # Trade
        self.assertNotIn(373, dictionary.forVersion("FIX.4.1").messages["3"].tags)
        self.assertEqual(dictionary.forVersion("FIX.4.4").fields[453].type, "NUMINGROUP")
        self.assertIn(453, dictionary.forVersion("FIX.4.4").messages["D"].groups)

    def test_licenceShipped(self):
        path = os.path.join(os.path.dirname(dictionary.__file__), "spec", "LICENSE.quickfix")
        with open(path) as f:
            self.assertIn("quickfixengine.org", f.read())


class ValidateTests(unittest.TestCase):
    def setUp(self):
        self.d = dictionary.forVersion("FIX.4.4")

    def check(self, body, msgType="D", **kw):
        return self.d.validate(build("FIX.4.4", msgType, body, **kw))

    def test_valid(self):
        self.assertIsNone(self.check(NOS44))

    def test_valuesRememberedOnlyWhenGood(self):
        """
        Values a pattern accepted are remembered; a bad value in the same
        place is still found, before and after good ones.
        """
        bad = [(60, "20241301-00:00:00") if t == 60 else (t, v) for t, v in NOS44]
        for _ in range(3):
            self.assertIsNone(self.check(NOS44))
            p = self.check(bad)
            self.assertEqual((p.reason, p.tag), (6, 60))

    def test_problems(self):
        cases = [
            (NOS44 + [(4999, "x")], 0, 4999),
            ([f for f in NOS44 if f[0] != 11], 1, 11),
            (NOS44 + [(45, 1)], 2, 45),
            (NOS44 + [(58, "")], 4, 58),
            ([(54, "Z") if t == 54 else (t, v) for t, v in NOS44], 5, 54),
            ([(38, "1e3") if t == 38 else (t, v) for t, v in NOS44], 6, 38),
            ([(60, "20241301-00:00:00") if t == 60 else (t, v) for t, v in NOS44], 6, 60),
            ([(40, "22") if t == 40 else (t, v) for t, v in NOS44], 6, 40),
            (NOS44 + [(38, 5)], 13, 38),
            (NOS44 + [(50, "x")], 14, 50),
            (NOS44 + [(453, 1), (452, 1)], 15, 452),
            (NOS44 + [(453, 2), (448, "a"), (447, "D"), (452, 1)], 16, 453),
            (NOS44 + [(448, "a")], 15, 448),
        ]
        for body, reason, tag in cases:
            p = self.check(body)
            self.assertIsNotNone(p, (body, reason))
            self.assertEqual((p.reason, p.tag), (reason, tag), p)
            self.assertTrue(p.text)

    def test_negativeInt(self):
        """
        The fast path is stricter than the specification (digits only for
        INT); the detailed check accepts a negative INT.
        """
        self.assertIsNone(self.check([(98, 0), (108, -30)], msgType="A"))
        self.assertEqual(self.check([(98, 0), (108, "-")], msgType="A").reason, 6)

    def test_sameShapeDifferentValues(self):
        """
        A structure seen before is not a free pass for its values.
        """
        self.assertIsNone(self.check(NOS44))
        bad = [(38, "x") if t == 38 else (t, v) for t, v in NOS44]
        self.assertEqual(self.check(bad).reason, 6)
        bad = [(40, "Q") if t == 40 else (t, v) for t, v in NOS44]
        self.assertEqual(self.check(bad).reason, 5)

    def test_groups(self):
        parties = [(453, 2), (448, "a"), (447, "D"), (452, 1), (448, "b"), (447, "D"), (452, 3)]
        self.assertIsNone(self.check(NOS44 + parties))
        nested = [(453, 1), (448, "a"), (447, "D"), (452, 1), (802, 1), (523, "s"), (803, 1)]
        self.assertIsNone(self.check(NOS44 + nested))

    def test_invalidMsgType(self):
        p = self.check([], msgType="ZZ")
        self.assertEqual((p.reason, p.tag), (11, 35))

    def test_missingHeaderField(self):
        p = self.check(NOS44, header=[(49, "C"), (56, "V"), (34, 2)])
        self.assertEqual((p.reason, p.tag), (1, 52))

    def test_options(self):
        m = build("FIX.4.4", "D", NOS44 + [(58, ""), (6000, "x")])
        self.assertEqual(self.d.validate(m).reason, 4)
        self.assertEqual(self.d.validate(m, checkFieldsHaveValues=False).reason, 0)
        self.assertIsNone(
            self.d.validate(m, checkFieldsHaveValues=False, validateUserDefinedFields=False)
        )
        m = build("FIX.4.4", "D", NOS44 + [(115, "X")])
        self.assertEqual(self.d.validate(m).reason, 14)
        self.assertIsNone(self.d.validate(m, checkFieldOrder=False))

    def test_multipleValueString(self):
        # ExecInst (18) is a MultipleCharValue/String of space-separated codes.
        self.assertIsNone(self.check(NOS44 + [(18, "1 2")]))
        self.assertEqual(self.check(NOS44 + [(18, "1 ?")]).reason, 5)

    def test_fix40CharIsString(self):
        d = dictionary.forVersion("FIX.4.0")
        m = build("FIX.4.0", "0", [], header=[(49, "LONGNAME"), (56, "V"), (34, 2), (52, "20240301-12:00:00")])
        self.assertIsNone(d.validate(m))

    def test_dataFields(self):
        m = build(
            "FIX.4.4", "A",
            [(98, 0), (108, 30), (95, 3), (96, b"a\x01b")],
        )
        self.assertIsNone(self.d.validate(m))


class ValidateOutgoingTests(unittest.TestCase):
    def test_valid(self):
        d = dictionary.forVersion("FIX.4.2")
        fields = [(37, "1"), (17, "e1"), (20, "0"), (150, "0"), (39, "0"), (55, "AAPL"),
                  (54, "1"), (38, 100), (151, 100), (14, 0), (6, 0)]
        self.assertEqual(dictionary.validateOutgoing(d, "8", fields), [])

    def test_problemsListed(self):
        d = dictionary.forVersion("FIX.4.4")
        fields = [(37, "1"), (17, "e1"), (20, "0"), (150, "1"), (39, "0"), (55, "AAPL"),
                  (54, "1"), (151, 100), (14, 0)]
        problems = dictionary.validateOutgoing(d, "8", fields)
        text = "\n".join(problems)
        self.assertIn("Invalid tag number: 20", text)  # ExecTransType: not in 4.4
        self.assertIn("ExecType (150)", text)  # 1 is not a 4.4 value
        self.assertIn("AvgPx (6)", text)  # required, missing
        self.assertEqual(len(problems), 3)
