"""
hypothesis tests for the FIX session layer: arbitrary bytes and mutated
valid messages fed to a connection never raise out of it, never crash the
framer or parser, and never disturb another session.
"""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from exsim.fix import codec, dictionary

from tests.fixsession_helpers import Client, makeFactory, stamp

FUZZ = settings(
    max_examples=int(os.environ.get("EXSIM_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def nos(client, clOrdId):
    return [
        (11, clOrdId), (21, "1"), (55, "AAPL"), (54, "1"),
        (60, stamp(client.reactor.seconds())), (38, 100), (40, "2"), (44, "10.5"),
    ]


def mutate(raw, data):
    """
    One random change to a message: flip, insert or delete bytes, cut it,
    or duplicate a field.
    """
    kind = data.draw(st.sampled_from(["flip", "insert", "delete", "cut", "dup", "soh"]))
    i = data.draw(st.integers(0, len(raw) - 1))
    if kind == "flip":
        return raw[:i] + bytes([data.draw(st.integers(0, 255))]) + raw[i + 1 :]
    if kind == "insert":
        return raw[:i] + data.draw(st.binary(min_size=1, max_size=8)) + raw[i:]
    if kind == "delete":
        j = data.draw(st.integers(i, min(len(raw), i + 8)))
        return raw[:i] + raw[j:]
    if kind == "cut":
        return raw[:i]
    if kind == "soh":
        return raw[:i] + b"\x01" + raw[i:]
    fields = raw.split(b"\x01")
    j = data.draw(st.integers(0, len(fields) - 2))
    fields.insert(j, fields[j])
    return b"\x01".join(fields)


def refreshChecksum(raw):
    """
    Recompute BodyLength and CheckSum so that a mutation reaches the
    parser and validator instead of being discarded by the framer.
    """
    head, sep, rest = raw.partition(b"\x0135=")
    if not sep or b"\x0110=" not in rest:
        return raw
    body = b"35=" + rest[: rest.rindex(b"\x0110=") + 1]
    begin = head.split(b"\x01")[0]
    message = begin + b"\x019=%d\x01" % (len(body),) + body
    return message + codec.checksum(message)


class FuzzTests(unittest.TestCase):
    def setUp(self):
        # Every logon resets: each example starts a fresh sequence.
        self.factory = makeFactory(reset_on_logon=True)
        self.bystander = Client(self.factory, compId="BYSTANDER", port=1)
        self.bystander.logon()

    def assertBystanderFine(self):
        """
        The other session still works.
        """
        self.assertFalse(self.bystander.disconnected)
        count = len(self.factory.application.messages)
        self.assertEqual(self.bystander.send("D", nos(self.bystander, "b%d" % count)), [])
        self.assertEqual(len(self.factory.application.messages), count + 1)
        self.assertEqual(self.flushLoggedErrors(), [])

    @FUZZ
    @given(st.binary(max_size=600))
    def test_arbitraryBytesBeforeLogon(self, data):
        client = Client(self.factory, compId="FUZZ", port=2)
        client.sendRaw(data)
        client.close()
        self.assertBystanderFine()

    @FUZZ
    @given(st.lists(st.binary(max_size=200), max_size=5))
    def test_arbitraryBytesAfterLogon(self, chunks):
        client = Client(self.factory, compId="FUZZ", port=3)
        client.logon(extra=[(141, "Y")])
        for chunk in chunks:
            client.sendRaw(chunk)
        client.close()
        self.assertBystanderFine()

    @FUZZ
    @given(st.data())
    def test_mutatedMessages(self, data):
        begin = data.draw(st.sampled_from(list(dictionary.BEGIN_STRINGS)))
        client = Client(self.factory, compId="M" + begin, beginString=begin, port=4)
        self.assertEqual(client.logon()[0].msgType, "A")
        raw = client.build(data.draw(st.sampled_from(["D", "0", "1", "2", "4", "5", "A", "F"])),
                           nos(client, "x"))
        mutated = mutate(raw, data)
        if data.draw(st.booleans()):
            mutated = refreshChecksum(mutated)
        client.sendRaw(mutated)
        client.sendRaw(client.build("0"))
        client.close()
        self.assertBystanderFine()

    @FUZZ
    @given(st.data())
    def test_mutatedLogon(self, data):
        client = Client(self.factory, compId="L", port=5)
        raw = client.build("A", [(98, 0), (108, 30), (141, "Y")])
        client.sendRaw(refreshChecksum(mutate(raw, data)))
        client.close()
        self.assertBystanderFine()


class CodecFuzzTests(unittest.TestCase):
    @FUZZ
    @given(st.lists(st.binary(max_size=300), max_size=6), st.integers(64, 2000))
    def test_framer(self, chunks, maxSize):
        framer = codec.Framer(maxSize)
        for chunk in chunks:
            try:
                out = framer.feed(chunk)
            except codec.Oversized:
                continue
            for item in out:
                if isinstance(item, codec.FrameError):
                    continue
                self.assertTrue(item.startswith(b"8="))
                self.assertTrue(item.endswith(b"\x01"))
                try:
                    message = codec.Message.fromBytes(item)
                except codec.Garbled:
                    continue
                dictionary.forVersion("FIX.4.4").validate(message)

    @FUZZ
    @given(st.lists(st.tuples(st.integers(1, 100000), st.binary(max_size=20)), max_size=30),
           st.sampled_from(["D", "8", "A", "0", "V", "ZZ"]),
           st.sampled_from(list(dictionary.BEGIN_STRINGS)))
    def test_validateAnything(self, pairs, msgType, begin):
        body = [(t, v.replace(b"\x01", b"")) for t, v in pairs]
        raw = codec.encode(begin, msgType, [(49, "A"), (56, "B"), (34, 1)], body)
        try:
            message = codec.Message.fromBytes(raw)
        except codec.Garbled:
            return
        problem = dictionary.forVersion(begin).validate(message)
        if problem is not None:
            self.assertIsInstance(problem.reason, int)
            self.assertTrue(problem.text)
