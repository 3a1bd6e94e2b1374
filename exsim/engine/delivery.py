# -*- test-case-name: tests.test_hardening -*-
"""
What happens when a listener fails on an event.

A listener that raises must not stop the engine's delivery to the other
listeners, nor its own delivery of the events after the one it failed on:
one bad event would otherwise lose another session's fill for good.  Each
listener keeps a L{Failures}; its C{engineEvents} loop has this shape::

    def engineEvents(self, events):
        while events:
            event = None
            try:
                for event in events:
                    ...
            except Exception:
                events = self.failures.failed(events, event)
            else:
                return

C{try} costs nothing in CPython 3.11 until something raises, so the hot
path pays for none of this.
"""

from twisted.logger import Logger
from twisted.python.failure import Failure


class Failures:
    """
    The failures of one listener: every one counted; the first of each
    kind (exception type and event type) logged with its traceback, the
    rest only counted, so that a failure repeated on every event does not
    flood the log.

    @ivar count: how many events the listener failed on.
    """

    log = Logger()

    def __init__(self, listener):
        self.listener = listener
        self.count = 0
        self._logged = set()

    def failed(self, events, event):
        """
        Count (and log, if it is the first of its kind) the exception being
        handled, raised while delivering C{event} of C{events}.

        @return: the events after C{event}, to deliver next (none if
            C{event} is not among them: the failure came before the first).
        """
        self.note("a %s event" % (type(event).__name__,))
        for i, each in enumerate(events):
            if each is event:
                return events[i + 1 :]
        return ()

    def note(self, what):
        """
        Count (and log, if it is the first of its kind) the exception being
        handled, raised while delivering C{what} (text: "a Filled event",
        "a batch").
        """
        self.count += 1
        failure = Failure()
        kind = (failure.type, what)
        if kind not in self._logged:
            self._logged.add(kind)
            self.log.failure(
                "{listener} failed on {what} (later failures of this kind are only counted)",
                failure,
                listener=self.listener,
                what=what,
            )
