# -*- test-case-name: tests.test_fix_refdata -*-
"""
Tests for L{exsim.fix.refdata} (SecurityListRequest, SecurityDefinitionRequest),
orders naming their instrument by SecurityID, and the ITCH Stock
Directory's lot size.
"""

from twisted.trial.unittest import SynchronousTestCase

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.fix import dictionary, refdata
from exsim.fix.marketdata import MarketData
from exsim.fix.orders import OrderEntry
from exsim.instruments import applyProperty
from exsim.soup import itch50
from exsim.soup.itch import family as itchFamily
from tests.fixfakes import FakeEndpoint, FakeMessage, FakeSession, makeEngine, nos
from tests.soupfakes import makeEndpoint

#: (BeginString, ApplVerID) of every version with a SecurityListRequest.
VERSIONS = [
    ("FIX.4.3", None), ("FIX.4.4", None), ("FIXT.1.1", "7"), ("FIXT.1.1", "8"), ("FIXT.1.1", "9"),
]


def group(fields, countTag, firstTag):
    """
    The instances of a repeating group as a list of [(tag, value)].
    """
    result = []
    inside = False
    for tag, value in fields:
        if tag == countTag:
            inside = True
            continue
        if inside and tag == firstTag:
            result.append([])
        if inside and result:
            result[-1].append((tag, value))
    return result


class ReferenceDataTests(SynchronousTestCase):
    """
    (On the fast engine; L{ReferenceEngineReferenceDataTests}: the
    reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.engine, self.clock = makeEngine(symbols=("AAPL", "MSFT", "VOD"), engineClass=self.engineClass)
        aapl = self.engine.books["AAPL"].instrument
        for name, value in [
            ("security_id", "US0378331005"), ("security_id_source", "isin"),
            ("currency", "USD"), ("instrument_name", "Apple Inc."), ("lot_size", "100"),
            ("tick_table", "0:0.0001;1:0.01"),
        ]:
            applyProperty(aapl, name, value)
        applyProperty(self.engine.books["VOD"].instrument, "security_id", "GB00BH4HKS39")
        self.endpoint = FakeEndpoint(self.engine, self.clock)
        self.app = OrderEntry(self.endpoint, MarketData(self.endpoint))

    def session(self, begin="FIX.4.4", applVerId=None):
        session = FakeSession(self.endpoint, "C", begin, applVerId)
        self.app.sessionLoggedOn(session)
        return session

    def assertValid(self, session, msgType, fields):
        d = dictionary.forVersion(session.beginString, session.applVerId)
        self.assertEqual(dictionary.validateOutgoing(d, msgType, fields), [], fields)

    def test_listAll(self):
        for begin, applVerId in VERSIONS:
            session = self.session(begin, applVerId)
            self.assertTrue(self.app.fromApp(session, FakeMessage("x", [(320, "r1"), (559, "4")])))
            [(msgType, fields)] = session.takeRaw()
            self.assertEqual(msgType, "y")
            self.assertValid(session, msgType, fields)
            f = dict(fields)
            self.assertEqual((f[320], f[560], f[393], f[146]), ("r1", "0", "3", "3"))
            instances = group(fields, 146, 55)
            self.assertEqual([dict(i)[55] for i in instances], ["AAPL", "MSFT", "VOD"])
            aapl = dict(instances[0])
            self.assertEqual(
                (aapl[48], aapl[22], aapl[15], aapl[107], aapl[561]),
                ("US0378331005", "4", "USD", "Apple Inc.", "100"),
            )
            self.assertNotIn(48, dict(instances[1]))
            if begin == "FIXT.1.1":
                self.assertEqual(aapl[969], "0.0001")
                self.assertEqual(dict(instances[1])[969], "0.01")
            if applVerId in ("8", "9"):
                self.assertEqual(
                    [(t, v) for t, v in instances[0] if t in (1205, 1206, 1207, 1208)],
                    [(1205, "2"), (1206, "0"), (1207, "1"), (1208, "0.0001"), (1206, "1"), (1208, "0.01")],
                )

    def test_listBySymbolOrId(self):
        session = self.session()
        self.app.fromApp(session, FakeMessage("x", [(320, "r1"), (559, "0"), (55, "MSFT")]))
        self.app.fromApp(session, FakeMessage("x", [(320, "r2"), (559, "0"), (48, "GB00BH4HKS39")]))
        self.app.fromApp(session, FakeMessage("x", [(320, "r3"), (559, "0"), (55, "NOPE")]))
        self.app.fromApp(session, FakeMessage("x", [(320, "r4"), (559, "0")]))
        self.app.fromApp(session, FakeMessage("x", [(320, "r5"), (559, "2")]))
        sent = session.takeRaw()
        for msgType, fields in sent:
            self.assertValid(session, msgType, fields)
        found = [(dict(f)[320], dict(f)[560], [dict(i)[55] for i in group(f, 146, 55)]) for _, f in sent]
        self.assertEqual(
            found,
            [("r1", "0", ["MSFT"]), ("r2", "0", ["VOD"]), ("r3", "2", []), ("r4", "1", []), ("r5", "1", [])],
        )

    def test_fragments(self):
        """
        A long list goes in fragments of L{refdata.FRAGMENT}, the last with
        LastFragment=Y.
        """
        for i in range(refdata.FRAGMENT + 5):
            self.engine.addBook(type(self.engine.books["AAPL"].instrument)("S%03d" % (i,)))
        session = self.session()
        self.app.fromApp(session, FakeMessage("x", [(320, "r1"), (559, "4")]))
        sent = session.takeRaw()
        self.assertEqual(len(sent), 2)
        self.assertEqual([(dict(f)[146], dict(f)[893], dict(f)[393]) for _, f in sent],
                         [(str(refdata.FRAGMENT), "N", "108"), ("8", "Y", "108")])

    def test_definition(self):
        for begin, applVerId in [("FIX.4.2", None)] + VERSIONS:
            session = self.session(begin, applVerId)
            self.app.fromApp(session, FakeMessage("c", [(320, "d1"), (321, "0"), (48, "US0378331005"), (22, "4")]))
            self.app.fromApp(session, FakeMessage("c", [(320, "d2"), (321, "1"), (55, "ZZZ")]))
            self.app.fromApp(session, FakeMessage("c", [(320, "d3"), (321, "3")]))
            sent = session.takeRaw()
            for msgType, fields in sent:
                self.assertEqual(msgType, "d")
                self.assertValid(session, msgType, fields)
            first = dict(sent[0][1])
            self.assertEqual((first[320], first[323], first[55], first[15]), ("d1", "1", "AAPL", "USD"))
            self.assertEqual([dict(f)[323] for _, f in sent[1:]], ["6", "5"])

    def test_notBefore(self):
        """
        FIX.4.2 has no SecurityListRequest: a BusinessMessageReject, as for
        any unsupported message (the session layer sends it).
        """
        session = self.session("FIX.4.2")
        self.assertFalse(self.app.fromApp(session, FakeMessage("x", [(320, "r1"), (559, "4")])))

    def test_marketDataRole(self):
        md = MarketData(self.endpoint)
        session = FakeSession(self.endpoint, "M", "FIX.4.4")
        self.assertTrue(md.fromApp(session, FakeMessage("x", [(320, "r1"), (559, "4")])))
        self.assertEqual([t for t, _ in session.sent], ["y"])

    def test_orderBySecurityId(self):
        """
        A NewOrderSingle naming its instrument by SecurityID (no Symbol,
        or 55=[N/A]) trades on that book; the report names the symbol.
        """
        session = self.session()
        message = nos("o1", qty="100", price="10.00", extra=[(48, "US0378331005"), (22, "4")])
        message.pairs = [(t, v) for t, v in message.pairs if t != 55]
        message._fields.pop(55)
        self.app.fromApp(session, message)
        self.app.fromApp(session, nos("o2", qty="100", price="10.00", symbol="[N/A]",
                                      extra=[(48, "US0378331005")]))
        self.app.fromApp(session, nos("o3", symbol="[N/A]", extra=[(48, "XX")]))
        self.app.fromApp(session, nos("o4", symbol="[N/A]"))
        sent = session.take()
        reports = [(f[11], f[55], f[39]) for t, f in sent if t == "8"]
        self.assertEqual(reports, [("o1", "AAPL", "0"), ("o2", "AAPL", "0"), ("o3", "[N/A]", "8"), ("o4", "[N/A]", "8")])
        self.assertIn("unknown SecurityID XX", [f.get(58) for t, f in sent if f.get(11) == "o3"])
        self.assertEqual(self.engine.books["AAPL"].depth(True), [(100000, 200, 2)])


class ReferenceEngineReferenceDataTests(ReferenceDataTests):
    engineClass = ReferenceEngine


class StockDirectoryTests(SynchronousTestCase):
    """
    The ITCH Stock Directory carries a book's lot size.
    """

    def test_roundLot(self):
        endpoint = makeEndpoint(itchFamily, "itch0", symbols=("AAPL", "MSFT"))
        engine = endpoint.engine
        applyProperty(engine.books["AAPL"].instrument, "lot_size", "10")
        feed = makeEndpoint(itchFamily, "itch1", engine=engine, reactor=endpoint.reactor)
        directories = [itch50.decode(p) for p in feed.factory.stream.messages() if p[:1] == b"R"]
        self.assertEqual([(m[4], m[7], m[8]) for m in directories],
                         [(b"AAPL    ", 10, b"Y"), (b"MSFT    ", 100, b"N")])
