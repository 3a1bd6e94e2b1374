# -*- test-case-name: tests.test_inspect -*-
"""
Following the control events as they happen, without taking them from
the queue that C{get_events} drains: C{exsimctl follow} (over Perspective
Broker) and the web view's C{/events} page (Server-Sent Events) each hold
an L{EventFollower}.

A follower is a tap of the L{exsim.control.queue.EventQueue}: it sees every
event offered to the queue, kept or not (a full queue loses events for
C{get_events}, not for followers).  It converts events to dicts only when
it sends them, a page at a time, at most every C{interval} seconds, and
waits for one page to be taken before it sends the next; a reader too
slow to keep up loses the oldest events beyond C{limit}, and is told so by
an C{events_lost} dict in their place.
"""

from collections import deque

from twisted.internet import defer
from twisted.logger import Logger

from exsim.control.queue import batchEntries

#: Events sent at most in one page.
PAGE = 500

#: Events waiting for a slow reader, at most.
DEFAULT_LIMIT = 20000

#: Seconds between two pages, at least.
DEFAULT_INTERVAL = 0.05


class EventFollower:
    """
    Sends every later event of a queue to C{send(list of event dicts)},
    which may return a Deferred: the next page waits for it.

    @ivar lost: events dropped because the reader was too slow, since
        the last report.
    """

    log = Logger()

    def __init__(self, queue, clock, send, interval=DEFAULT_INTERVAL, limit=DEFAULT_LIMIT):
        self.queue = queue
        self.clock = clock
        self.send = send
        self.interval = interval
        self.limit = limit
        self.lost = 0
        self._lostFirst = None
        self._lostLast = None
        self._waiting = deque()
        self._count = 0
        self._call = None
        self._sending = False
        self._stopped = False
        queue.addTap(self)

    # -- the queue's tap ---------------------------------------------------

    def entry(self, entry):
        self._add(entry, 1)

    def batch(self, firstId, time, engineName, engine, events):
        self._add((firstId, time, engineName, engine, events), len(events))

    def _add(self, item, count):
        if self._stopped:
            return
        self._waiting.append((item, count))
        self._count += count
        while self._count > self.limit and len(self._waiting) > 1:
            old, oldCount = self._waiting.popleft()
            self._count -= oldCount
            first = old["event_id"] if isinstance(old, dict) else old[0]
            self._noteLost(first, first + oldCount - 1, oldCount)
        self._schedule()

    def _noteLost(self, first, last, count):
        if not self.lost:
            self._lostFirst = first
        self.lost += count
        self._lostLast = last

    def _schedule(self):
        if self._call is None and not self._sending and not self._stopped:
            self._call = self.clock.callLater(self.interval, self._flush)

    # -- sending -----------------------------------------------------------

    def _take(self):
        """
        Convert and remove up to L{PAGE} events.
        """
        page = []
        if self.lost:
            page.append({
                "type": "events_lost", "count": self.lost, "first_event_id": self._lostFirst,
                "last_event_id": self._lostLast, "time": self.clock.seconds(),
                "reason": "this follower read too slowly",
            })
            self.lost = 0
        while self._waiting and len(page) < PAGE:
            item, count = self._waiting.popleft()
            self._count -= count
            if isinstance(item, dict):
                page.append(item)
            else:
                page.extend(batchEntries(*item))
        return page

    def _flush(self):
        self._call = None
        if self._stopped:
            return
        page = self._take()
        if not page:
            return
        self._sending = True
        try:
            d = defer.maybeDeferred(self.send, page)
        except Exception:  # pragma: no cover (maybeDeferred catches)
            d = defer.fail()

        def sent(result):
            self._sending = False
            if self._waiting or self.lost:
                self._schedule()

        def failed(f):
            self.log.info("an event follower is gone: {error}", error=f.getErrorMessage())
            self.stop()

        d.addCallbacks(sent, failed)

    def stop(self):
        """
        Stop following (idempotent).
        """
        if self._stopped:
            return
        self._stopped = True
        self.queue.removeTap(self)
        self._waiting.clear()
        self._count = 0
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
