# -*- test-case-name: tests.test_web -*-
"""
Live updates of the web view's pages: one Server-Sent Events response
(C{text/event-stream}) per open page.

Events sent (their data is JSON):

 - C{replace}: C{{element id: HTML}}: the page puts the HTML in place of
   the element's content;
 - C{prepend}: C{{element id: HTML rows}}: new rows go first (the page
   keeps the newest few hundred);
 - C{gone}: the thing shown no longer exists; the stream ends.

A page's stream looks at what it shows at most every C{interval} seconds
and sends only the parts that changed (the overview every second, a book
or a session four times a second), so a page open on a busy book costs
the simulator a few small snapshots a second, whatever the flow.  The
events page follows the control events as they happen
(L{exsim.observe.follow.EventFollower}).  While the browser does not read
(its TCP window full), a stream sends nothing and skips snapshots.
"""

import json

from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from zope.interface import implementer

from exsim.errors import ExsimError
from exsim.observe.follow import EventFollower
from exsim.observe.web import pages

#: Seconds between two looks, by kind of page.
OVERVIEW_INTERVAL = 1.0
BOOK_INTERVAL = 0.25
SESSION_INTERVAL = 0.25

#: Seconds between two keep-alive comments on a quiet stream.
KEEPALIVE = 15.0

#: Messages one update of a session page carries at most.
MESSAGES_PER_UPDATE = 200


@implementer(IPushProducer)
class EventStream:
    """
    One Server-Sent Events response.

    @ivar closed: whether the browser went away (or the stream ended).
    @ivar paused: whether the connection's buffer is full.
    """

    log = Logger()

    def __init__(self, request, clock):
        self.request = request
        self.clock = clock
        self.closed = False
        self.paused = False
        self._lastWrite = clock.seconds()
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        request.registerProducer(self, True)
        request.write(b"retry: 2000\n\n")
        request.notifyFinish().addBoth(self._finished)

    def _finished(self, result):
        self.closed = True
        self.stopped()

    def stopped(self):
        """
        The stream is over (subclasses stop their timers).
        """

    def send(self, event, data):
        """
        Send one event whose data is C{data} as JSON.
        """
        if self.closed:
            return
        payload = json.dumps(data, separators=(",", ":")).encode("utf-8")
        self.request.write(b"event: " + event.encode("ascii") + b"\ndata: " + payload + b"\n\n")
        self._lastWrite = self.clock.seconds()

    def keepAlive(self):
        if not self.closed and self.clock.seconds() - self._lastWrite >= KEEPALIVE:
            self.request.write(b": keep-alive\n\n")
            self._lastWrite = self.clock.seconds()

    def end(self):
        """
        End the response.
        """
        if not self.closed:
            self.closed = True
            self.stopped()
            self.request.unregisterProducer()
            self.request.finish()

    # -- IPushProducer ---------------------------------------------------

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False

    def stopProducing(self):
        self.closed = True
        self.stopped()


class PollingStream(EventStream):
    """
    Sends the parts of a page that changed, looking every C{interval}
    seconds: C{parts()} returns C{{element id: HTML}}, or raises an
    L{ExsimError} once the thing is gone.
    """

    def __init__(self, request, clock, parts, interval):
        EventStream.__init__(self, request, clock)
        self.parts = parts
        self.interval = interval
        self._sent = {}
        self._call = None
        self.tick()

    def tick(self):
        self._call = None
        if self.closed:
            return
        if not self.paused:
            try:
                parts = self.parts()
            except ExsimError as e:
                self.send("gone", {"reason": str(e)})
                self.end()
                return
            changed = {k: v for k, v in parts.items() if self._sent.get(k) != v}
            if changed:
                self.send("replace", changed)
                self._sent.update(changed)
            else:
                self.keepAlive()
        self._call = self.clock.callLater(self.interval, self.tick)

    def stopped(self):
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None


class SessionStream(PollingStream):
    """
    A session page: its summary, and the messages of its journal that
    came since the last look (as rows to put first).
    """

    def __init__(self, request, clock, simulator, sessionId):
        self.simulator = simulator
        self.sessionId = sessionId
        self._last = None
        self._journal = None
        from exsim.observe.inventory import journalOf

        handle = simulator._session(sessionId)
        self._journal = journalOf(handle)
        if self._journal:
            self._last = self._journal[-1]
        PollingStream.__init__(
            self, request, clock, lambda: {"info": pages.sessionInfo(simulator, sessionId)},
            SESSION_INTERVAL,
        )

    def tick(self):
        if not self.closed and not self.paused:
            self._newMessages()
        PollingStream.tick(self)

    def _newMessages(self):
        from exsim.observe import decode
        from exsim.observe.inventory import journalOf

        try:
            journal = journalOf(self.simulator._session(self.sessionId))
        except ExsimError:
            return
        if journal is None or not len(journal):
            return
        if journal is not self._journal:
            self._journal, self._last = journal, None
        last = self._last
        if last is not None and journal[-1] is last:
            return
        new = []
        for entry in reversed(journal):
            if entry is last or len(new) >= MESSAGES_PER_UPDATE:
                break
            new.append(entry)
        self._last = journal[-1]
        cache = {}
        messages = []
        for entry in reversed(new):
            messages.extend(decode.decodeEntry(journal.protocol, entry, cache))
        self.send("prepend", {"messages": pages.messageRows(messages[-MESSAGES_PER_UPDATE:])})


class EventsStream(EventStream):
    """
    The events page: control events as they happen.
    """

    def __init__(self, request, clock, queue):
        EventStream.__init__(self, request, clock)
        self._resumed = None
        self.follower = EventFollower(queue, clock, self._events, interval=0.1)
        self._keepAlive = clock.callLater(KEEPALIVE, self._ping)

    def _events(self, events):
        if self.closed:
            return None
        self.send("prepend", {"events": pages.eventRows(events)})
        if self.paused:
            # The next page waits until the browser reads.
            self._resumed = defer.Deferred()
            return self._resumed
        return None

    def resumeProducing(self):
        EventStream.resumeProducing(self)
        resumed, self._resumed = self._resumed, None
        if resumed is not None:
            resumed.callback(None)

    def _ping(self):
        self._keepAlive = None
        if not self.closed:
            self.keepAlive()
            self._keepAlive = self.clock.callLater(KEEPALIVE, self._ping)

    def stopped(self):
        self.follower.stop()
        if self._keepAlive is not None and self._keepAlive.active():
            self._keepAlive.cancel()
        self._keepAlive = None
