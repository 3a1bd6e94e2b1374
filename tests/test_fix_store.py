"""
Tests for L{exsim.fix.store}: memory and file stores, and a file-store
session continuing across a simulator restart.
"""

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from exsim.fix.store import CHUNK_BITS, FileStore, MemoryStore, StoreError, StoreFactory

from tests.fixsession_helpers import Client, makeFactory


class StoreTestsMixin:
    def test_initial(self):
        s = self.make()
        self.assertEqual((s.nextSenderSeq, s.nextTargetSeq), (1, 1))
        self.assertEqual(s.getMessages(1, 100), [])

    def test_saveAndGet(self):
        s = self.make()
        s.saveMessage(1, b"8", b"20240301-12:00:00.000", b"17=a\x01")
        s.setNextSenderSeq(3)
        s.saveMessage(3, b"8", b"20240301-12:00:01.000", b"17=b\x01")
        self.assertEqual(s.nextSenderSeq, 4)
        self.assertEqual(
            s.getMessages(1, 3),
            [(1, b"8", b"20240301-12:00:00.000", b"17=a\x01"),
             (3, b"8", b"20240301-12:00:01.000", b"17=b\x01")],
        )
        self.assertEqual([m[0] for m in s.getMessages(2, 100)], [3])
        self.assertEqual(s.getMessages(4, 4), [])

    def test_savedAgain(self):
        """
        A message saved again under the same MsgSeqNum (after a sequence
        reset) replaces the first: type, SendingTime and body.
        """
        s = self.make()
        s.saveMessage(1, b"8", b"20240301-12:00:00.000", b"17=a\x01")
        s.saveMessage(2, b"8", b"20240301-12:00:00.000", b"17=b\x01")
        s.saveMessage(1, b"9", b"20240301-12:00:05.000", b"11=c\x01")
        self.assertEqual(
            s.getMessages(1, 2),
            [(1, b"9", b"20240301-12:00:05.000", b"11=c\x01"),
             (2, b"8", b"20240301-12:00:00.000", b"17=b\x01")],
        )
        self.assertEqual(s.getMessages(1, 1), [(1, b"9", b"20240301-12:00:05.000", b"11=c\x01")])

    def test_reset(self):
        s = self.make()
        s.saveMessage(1, b"8", b"t", b"17=a\x01")
        s.setNextTargetSeq(9)
        s.reset()
        self.assertEqual((s.nextSenderSeq, s.nextTargetSeq), (1, 1))
        self.assertEqual(s.getMessages(1, 10), [])


class MemoryStoreTests(StoreTestsMixin, unittest.TestCase):
    def make(self):
        return MemoryStore()


class FileStoreTests(StoreTestsMixin, unittest.TestCase):
    def make(self):
        self.path = os.path.join(self.mktemp() + ".fixstore")
        s = FileStore(self.path)
        self.addCleanup(s.close)
        return s

    def test_reopen(self):
        s = self.make()
        s.saveMessage(1, b"8", b"20240301-12:00:00.000", b"58=x\x01y\n\x01")
        s.setNextSenderSeq(5)
        s.setNextTargetSeq(7)
        s.close()
        again = FileStore(self.path)
        self.addCleanup(again.close)
        self.assertEqual((again.nextSenderSeq, again.nextTargetSeq), (5, 7))
        self.assertEqual(again.getMessages(1, 1), [(1, b"8", b"20240301-12:00:00.000", b"58=x\x01y\n\x01")])
        again.saveMessage(5, b"8", b"t", b"17=z\x01")
        again.close()
        third = FileStore(self.path)
        self.addCleanup(third.close)
        self.assertEqual(third.nextSenderSeq, 6)
        self.assertEqual([m[0] for m in third.getMessages(1, 10)], [1, 5])

    def test_resetPersists(self):
        s = self.make()
        s.saveMessage(1, b"8", b"t", b"17=a\x01")
        s.reset()
        s.setNextTargetSeq(2)
        s.close()
        again = FileStore(self.path)
        self.addCleanup(again.close)
        self.assertEqual((again.nextSenderSeq, again.nextTargetSeq), (1, 2))
        self.assertEqual(again.getMessages(1, 10), [])

    def assertCorrupt(self, data, part):
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(data)
        e = self.assertRaises(StoreError, FileStore, path)
        self.assertIn(path, str(e))
        self.assertIn(part, str(e))

    def test_corrupt(self):
        self.assertCorrupt(b"something else\n", "not an exsim FIX store")
        self.assertCorrupt(b"EXSIM-FIX-STORE 1\nT 5\nX 1\n", "unknown record")
        self.assertCorrupt(b"EXSIM-FIX-STORE 1\nT five\n", "bad number")
        self.assertCorrupt(b"EXSIM-FIX-STORE 1\nT 0\n", "positive")

    def assertCutShort(self, data, kept):
        """
        A last record cut short (the simulator killed while writing it) is
        dropped, from the file too; what came before it is read.
        """
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(data)
        store = FileStore(path)
        self.addCleanup(store.close)
        self.assertEqual((store.nextSenderSeq, store.nextTargetSeq), (1, 5))
        self.assertEqual(store.getMessages(1, 10), [])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), kept)

    def test_partial(self):
        self.assertCutShort(b"EXSIM-FIX-STORE 1\nT 5\nN 3", b"EXSIM-FIX-STORE 1\nT 5\n")
        self.assertCutShort(
            b"EXSIM-FIX-STORE 1\nT 5\nS 1 100 8 t\n17=a\x01\n", b"EXSIM-FIX-STORE 1\nT 5\n"
        )

    def test_sync(self):
        calls = []
        self.patch(os, "fsync", lambda fd: calls.append(fd))
        store = FileStore(self.mktemp(), sync=True)
        self.addCleanup(store.close)
        store.setNextTargetSeq(2)
        store.saveMessage(1, b"8", b"t", b"17=a\x01")
        self.assertEqual(len(calls), 2)
        unsynced = FileStore(self.mktemp())
        self.addCleanup(unsynced.close)
        unsynced.setNextTargetSeq(2)
        self.assertEqual(len(calls), 2)


class StoreFactoryTests(unittest.TestCase):
    def test_memory(self):
        f = StoreFactory("memory")
        self.assertEqual(f.check(), {})
        self.assertIsInstance(f.open("X"), MemoryStore)

    def test_directory(self):
        directory = self.mktemp()
        f = StoreFactory(directory)
        self.assertEqual(f.check(), {})
        store = f.open("A/B C")
        store.setNextTargetSeq(4)
        store.close()
        found = StoreFactory(directory).check()
        self.assertEqual(list(found), ["A/B C"])
        self.assertEqual(found["A/B C"].nextTargetSeq, 4)
        found["A/B C"].close()

    def test_unusableDirectory(self):
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("a file")
        self.assertRaises(StoreError, StoreFactory(path).check)


class RestartTests(unittest.TestCase):
    def test_sessionContinuesAfterRestart(self):
        """
        With a file store, a client reconnecting to a restarted simulator
        without reset continues its sequence, and can have what it missed
        resent.
        """
        directory = self.mktemp()
        factory = makeFactory(store=directory)
        client = Client(factory)
        client.logon()
        session = factory.sessions["CLIENT"]
        session.sendApp("8", [(17, "x1")])
        client.send("0")
        factory.shutdown()

        restarted = makeFactory(store=directory)
        self.addCleanup(restarted.shutdown)
        self.assertIn("CLIENT", restarted.sessions)
        again = Client(restarted)
        again.seq = client.seq
        [logon] = again.logon()
        # 1 Logon, 2 ExecutionReport, 3 Logout at shutdown, now 4.
        self.assertEqual(logon.seqNum, 4)
        resent = again.send("2", [(7, 2), (16, 2)])
        self.assertEqual([(m.seqNum, m.get(17), m.get(43)) for m in resent], [(2, "x1", "Y")])

    def test_corruptStoreAtStart(self):
        directory = self.mktemp()
        os.makedirs(directory)
        with open(os.path.join(directory, "CLIENT.fixstore"), "wb") as f:
            f.write(b"EXSIM-FIX-STORE 1\nS one 99 8 t\nshort\n")
        e = self.assertRaises(StoreError, makeFactory, store=directory)
        self.assertIn("CLIENT.fixstore", str(e))


class StoreLimitTests(unittest.TestCase):
    """
    C{store_limit}: a store keeps only the newest messages; a resend of
    older ones becomes a GapFill.
    """

    def test_keepsNewest(self):
        store = MemoryStore(limit=3)
        for seq in range(1, 8):
            store.saveMessage(seq, b"8", b"T", b"m%d" % seq)
        self.assertEqual([m[0] for m in store.getMessages(1, 100)], [5, 6, 7])
        self.assertEqual(store.nextSenderSeq, 8)

    def test_gapsAndReset(self):
        """
        Sequence numbers not stored (admin messages) are skipped; after a
        reset the count starts again.
        """
        store = MemoryStore(limit=2)
        for seq in (1, 4, 5, 9):
            store.setNextSenderSeq(seq)
            store.saveMessage(seq, b"8", b"T", b"x")
        self.assertEqual([m[0] for m in store.getMessages(1, 100)], [5, 9])
        store.reset()
        store.saveMessage(1, b"8", b"T", b"y")
        store.saveMessage(2, b"8", b"T", b"y")
        store.saveMessage(3, b"8", b"T", b"y")
        self.assertEqual([m[0] for m in store.getMessages(1, 100)], [2, 3])

    def test_setLimitTrims(self):
        store = MemoryStore()
        for seq in range(1, 11):
            store.saveMessage(seq, b"8", b"T", b"x")
        store.setLimit(4)
        self.assertEqual([m[0] for m in store.lastMessages(100)], [7, 8, 9, 10])

    def test_fileStoreLimit(self):
        path = self.mktemp()
        factory = StoreFactory(path)
        factory.limit = 2
        factory.check()
        store = factory.open("C")
        for seq in range(1, 5):
            store.saveMessage(seq, b"8", b"T", b"x")
        store.close()
        self.assertEqual([m[0] for m in store.getMessages(1, 10)], [3, 4])
        again = StoreFactory(path)
        again.limit = 3
        [reloaded] = again.check().values()
        self.assertEqual([m[0] for m in reloaded.getMessages(1, 10)], [2, 3, 4])
        reloaded.close()

    def test_resendGapFill(self):
        """
        Through a session: a ResendRequest covering dropped messages gets
        a GapFill up to the oldest kept, then the kept ones.
        """
        factory = makeFactory(store_limit=3)
        client = Client(factory)
        client.logon()
        session = client.protocol.session
        for i in range(6):
            session.sendApp("B", [(148, "n%d" % i)])
        self.assertEqual(len(client.received()), 6)
        factory.propertyChanged("store_limit", 2)
        replies = client.send("2", [(7, 2), (16, 0)])
        self.assertEqual(
            [(m.msgType, m.seqNum, m.get(36)) for m in replies],
            [("4", 2, "6"), ("B", 6, None), ("B", 7, None)],
        )


def _storeSteps(jump, steps):
    """
    Strategies for L{ChunkedStoreTests}' model tests: a limit, up to
    C{steps} steps (save a message, its number up by one or by up to
    C{jump}; change the limit; reset), and a count.
    """
    return (
        st.integers(1, 40),
        st.lists(
            st.one_of(
                st.tuples(st.just("save"), st.integers(1, jump), st.booleans()),
                st.tuples(st.just("limit"), st.integers(1, 40), st.booleans()),
                st.tuples(st.just("reset"), st.just(0), st.booleans()),
            ),
            max_size=steps,
        ),
        st.integers(0, 50),
    )


class ChunkedStoreTests(unittest.TestCase):
    """
    The memory store keeps messages in chunks of consecutive MsgSeqNums:
    no map grows with the session (a map of 100,000 messages stalled the
    session each time it grew or was rebuilt after trimming; issue 11,
    defect 6), and it keeps what a plain map of the newest messages would.
    """

    def test_noMapGrowsWithTheSession(self):
        store = MemoryStore(limit=50000)
        for seq in range(1, 100001):
            store.saveMessage(seq, b"8", b"T", b"x")
            if seq % 997 == 0:
                # Chunks are dropped as new ones start: never more than
                # two chunks over the limit are held.
                self.assertLess(store._held(), 50000 + 2 * (1 << CHUNK_BITS))
        self.assertEqual(len(store), 50000)
        biggest = max(len(m) for chunk in store._chunks.values() for m in chunk)
        self.assertEqual(biggest, 1 << CHUNK_BITS)
        self.assertLessEqual(len(store._chunks), 50000 // (1 << CHUNK_BITS) + 2)
        self.assertEqual([m[0] for m in store.getMessages(50000, 50002)], [50001, 50002])

    @settings(max_examples=200, deadline=None)
    @given(*_storeSteps(jump=3000, steps=60))
    def test_sameAsAMapOfTheNewest(self, limit, operations, last):
        """
        Whatever the steps (sequence numbers going up by one, by a few or
        by thousands; limits; resets), the store keeps the newest
        C{limit} messages, as a plain map of them does.
        """
        self._sameAsAMapOfTheNewest(limit, operations, last)

    @settings(max_examples=200, deadline=None)
    @given(*_storeSteps(jump=30, steps=200))
    def test_sameAsAMapOfTheNewestSmallChunks(self, limit, operations, last):
        """
        The same with chunks of four numbers, so that whole chunks are
        dropped (L{MemoryStore._dropChunks}: a chunk over the limit) and
        the messages beyond the limit still held are left out.
        """
        from exsim.fix import store as storeModule

        self.patch(storeModule, "CHUNK_BITS", 2)
        self.patch(storeModule, "CHUNK_SIZE", 4)
        self._sameAsAMapOfTheNewest(limit, operations, last)

    def _sameAsAMapOfTheNewest(self, limit, operations, last):
        store = MemoryStore(limit=limit)
        model = {}
        seq = 0
        for kind, value, flag in operations:
            if kind == "save":
                seq += 1 if flag else value
                store.saveMessage(seq, b"8", b"%d" % seq, b"m%d" % seq)
                model[seq] = b"m%d" % seq
            elif kind == "limit":
                limit = value
                store.setLimit(limit)
            else:
                store.reset()
                model.clear()
                seq = 0
            while len(model) > limit:
                del model[min(model)]
            self.assertEqual(len(store), len(model))
        expected = [(s, b"8", b"%d" % s, model[s]) for s in sorted(model)]
        self.assertEqual(store.getMessages(1, 10 ** 9), expected)
        self.assertEqual(store.getMessages(seq - 5, seq), [m for m in expected if m[0] >= seq - 5])
        self.assertEqual(store.lastMessages(last), expected[max(0, len(expected) - last):] if last else [])
