# -*- test-case-name: tests.test_replay -*-
"""
Tradeable replay of recorded market data into a book (C{start_replay},
C{pause_replay}, C{resume_replay}, C{stop_replay}, C{get_replay}, the
C{[replay:NAME]} section).

A replay stands outside the engine: it reads a recording
(L{exsim.replay.recording}: ITCH 5.0, LOBSTER, a quotes CSV) and enters
orders of the owner C{replay/<symbol>} through the engine's house-order
role (L{exsim.replay.player}), on the reactor's clock.
"""

from exsim.errors import UnknownName, WrongState
from exsim.replay.player import PAUSED, RUNNING, Replay, parseSpeed
from exsim.replay.recording import ReplayError, open_, parseTime

__all__ = ["Replays", "ReplayError"]

_ACTIVE = (RUNNING, PAUSED)


class Replays:
    """
    The replays of a simulator, one at most per book, by book name.
    """

    def __init__(self, simulator):
        self.simulator = simulator
        self._byBook = {}

    def start(self, book, path, speed=1, start=None, format=None, priceScale=None, name=None):
        """
        Start a replay of the file at C{path} (called C{name} in errors
        and descriptions) into C{book}.
        """
        simulator = self.simulator
        engine, b = simulator.book(book)
        current = self._byBook.get(book)
        if current is not None and current.state in _ACTIVE:
            raise WrongState("book %r has a replay %s already (stop_replay it first)" % (book, current.state))
        speed = parseSpeed(speed)
        startTime = None if start is None or start == "" else parseTime(start, "start")
        recording = open_(path, b.symbol, b.instrument, format, priceScale, name)
        replay = Replay(
            book, engine, b.symbol, recording, speed, startTime, simulator.reactor,
            simulator.reportEvent, name or path,
        )
        self._byBook[book] = replay
        replay.begin()

    def get(self, book):
        """
        The replay of C{book} (running or not).

        @raise UnknownName: if the book has none.
        """
        self.simulator.book(book)
        replay = self._byBook.get(book)
        if replay is None:
            raise UnknownName("book %r has no replay" % (book,))
        return replay

    def pause(self, book):
        replay = self.get(book)
        if replay.state != RUNNING:
            raise WrongState("the replay of book %r is %s, not running" % (book, replay.state))
        replay.pause()

    def resume(self, book):
        replay = self.get(book)
        if replay.state != PAUSED:
            raise WrongState("the replay of book %r is %s, not paused" % (book, replay.state))
        replay.resume()

    def stop(self, book):
        replay = self.get(book)
        if replay.state not in _ACTIVE:
            raise WrongState("the replay of book %r is %s already" % (book, replay.state))
        replay.stop()

    def forget(self, book):
        """
        The book is deleted: stop its replay and forget it.
        """
        replay = self._byBook.pop(book, None)
        if replay is not None and replay.state in _ACTIVE:
            replay.stop()

    def halt(self):
        """
        The simulator stops: no replay schedules anything more.
        """
        for replay in self._byBook.values():
            if replay.state in _ACTIVE:
                replay.pause()

