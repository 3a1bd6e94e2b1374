# -*- test-case-name: tests.test_web -*-
"""
The HTML of the web view's pages, made from the inspection operations.

Every page is whole without JavaScript: the server writes its current
content.  A page's live parts are elements with an C{id}; the streams
(L{exsim.observe.web.streams}) send new HTML for them, made by the same
functions, and the page's script puts it in place.  Everything that comes
from the simulator (names, message contents, event fields) goes through
L{text} (HTML-escaped) on its way into a page, here and nowhere else.
"""

import html
import json
import time
from urllib.parse import quote

from exsim.errors import ExsimError

#: Messages a session page shows at first, and events the events page.
PAGE_MESSAGES = 200
PAGE_EVENTS = 200

#: Header tags a message row leaves out of its summary (they are in its
#: raw text): BeginString, BodyLength, MsgType, SenderCompID,
#: TargetCompID, MsgSeqNum, SendingTime, CheckSum.
_HEADER = frozenset([8, 9, 35, 49, 56, 34, 52, 10])


def text(value):
    """
    C{value} as HTML text: escaped, C{-} for None.
    """
    if value is None:
        return "-"
    return html.escape(str(value), quote=True)


def clock(seconds):
    """
    A time as C{HH:MM:SS.mmm} (UTC).
    """
    if seconds is None:
        return "-"
    whole = int(seconds)
    return time.strftime("%H:%M:%S", time.gmtime(whole)) + ".%03d" % (int((seconds - whole) * 1000),)


def bookLink(name):
    return '<a href="/book/%s">%s</a>' % (text(quote(name, safe="")), text(name))


def sessionLink(sessionId):
    return '<a href="/session/%s">%s</a>' % (text(quote(sessionId, safe="")), text(sessionId))


def layout(title, kind, stream, body):
    """
    A whole page.

    @param kind: the page's kind (C{overview}, C{book}, C{session},
        C{events}), for the script and the style sheet.
    @param stream: the path of its live updates.
    @param body: its content (HTML).
    @return: bytes.
    """
    page = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(title)s - exsim</title>
<link rel="stylesheet" href="/static/exsim.css">
</head>
<body data-page="%(kind)s" data-stream="%(stream)s">
<header>
<a class="brand" href="/">exsim</a>
<nav><a href="/">overview</a> <a href="/events">events</a></nav>
<span id="live" class="live off" title="live updates">static</span>
</header>
<main>
<h1>%(title)s</h1>
%(body)s
</main>
<script src="/static/exsim.js"></script>
</body>
</html>
""" % {"title": text(title), "kind": text(kind), "stream": text(stream), "body": body}
    return page.encode("utf-8")


def notFound(what):
    """
    The page of a 404.
    """
    return layout("Not found", "error", "", "<p>%s</p>" % (text(what),))


def _table(element, headings, rows, empty="nothing yet", classes=""):
    head = "".join("<th>%s</th>" % (text(h),) for h in headings)
    return '<table class="%s"><thead><tr>%s</tr></thead><tbody id="%s">%s</tbody></table>' % (
        text(classes), head, text(element), rows or _emptyRow(len(headings), empty),
    )


def _emptyRow(columns, message):
    return '<tr class="empty"><td colspan="%d">%s</td></tr>' % (columns, text(message))


def _row(cells, classes=None):
    attribute = ' class="%s"' % (text(classes),) if classes else ""
    return "<tr%s>%s</tr>" % (attribute, "".join("<td>%s</td>" % (c,) for c in cells))


# -- overview -------------------------------------------------------------------


OVERVIEW_TABLES = (
    ("engines", ("engine", "class", "mode", "books", "endpoints", "live orders")),
    ("books", ("book", "engine", "phase", "bid", "ask", "last", "volume", "trades", "orders",
               "behaviour", "activity")),
    ("endpoints", ("endpoint", "engine", "protocol", "state", "address", "active sessions",
                   "connections")),
    ("sessions", ("session", "endpoint", "protocol", "state", "peer", "in seq", "out seq",
                  "held", "latency")),
)


def _quoted(price, quantity):
    if price is None:
        return "-"
    return "%s &times; %s" % (text(price), text(quantity))


def overviewParts(simulator):
    """
    {element id: HTML} of the live parts of C{/}.
    """
    engines = "".join(
        _row([text(e["engine"]), text(e["class"]), text(e["mode"]),
              ", ".join(bookLink(b) for b in e["books"]) or "-",
              text(", ".join(e["endpoints"]) or None), text(e["live_orders"])])
        for e in simulator.list_engines()
    )
    books = "".join(
        _row([bookLink(b["book"]), text(b["engine"]), text(b["phase"]),
              _quoted(b["best_bid"], b["best_bid_qty"]), _quoted(b["best_ask"], b["best_ask_qty"]),
              text(b["last"]), text(b["volume"]), text(b["trades"]), text(b["orders"]),
              text(b["behaviour"]), text(b["activity"])])
        for b in simulator.list_books()
    )
    endpoints = "".join(
        _row([text(p["endpoint"]), text(p["engine"]), text(p["protocol"]), text(p["state"]),
              text("%s:%s" % tuple(p["address"]) if p["address"] else None),
              text(p["sessions"]), text(p["connections"])], p["state"])
        for p in simulator.list_endpoints()
    )
    sessions = "".join(
        _row([sessionLink(s["session"]), text(s["endpoint"]), text(s["protocol"]), text(s["state"]),
              text(s.get("peer")), text(s.get("next_in_seq")),
              text(s.get("next_out_seq", s.get("next_seq"))),
              text("yes" if s.get("hold") else "no"), text(s.get("latency"))], s["state"])
        for s in simulator.list_sessions()
    )
    return {"engines": engines, "books": books, "endpoints": endpoints, "sessions": sessions}


def overviewPage(simulator):
    parts = overviewParts(simulator)
    body = "".join(
        "<section><h2>%s</h2>%s</section>" % (text(element), _table(element, headings, parts[element]))
        for element, headings in OVERVIEW_TABLES
    )
    return layout("Overview", "overview", "/stream/overview", body)


# -- a book ---------------------------------------------------------------------


def bookParts(simulator, name, tapes=None):
    """
    {element id: HTML} of the live parts of C{/book/NAME}.

    @param tapes: {engine name: L{exsim.observe.inventory.TradeTape}}.

    @raise exsim.errors.NotFound: if there is no such book.
    """
    summary = simulator.describeBook(name)
    depth = simulator.get_book(name, 10)
    engineName = summary["engine"]
    notes = simulator.engineNotes.get(engineName)
    engine, book = simulator.book(name)
    items = [
        ("symbol", summary["symbol"]), ("engine", engineName), ("phase", _phaseText(summary)),
        ("last", _quoted(summary["last"], summary["last_quantity"])), ("volume", summary["volume"]),
        ("trades", summary["trades"]), ("resting orders", summary["orders"]),
        ("behaviour", summary["behaviour"]), ("activity", summary["activity"]),
        ("tick size", summary["tick_size"]),
    ]
    info = "".join(
        "<div><dt>%s</dt><dd>%s</dd></div>" % (text(k), v if k == "last" else text(v))
        for k, v in items
    )
    ladder = []
    for price, quantity, count in reversed(depth["asks"]):
        ladder.append(_row(["", "", text(price), text(quantity), text(count)], "ask"))
    if not depth["asks"] and not depth["bids"]:
        ladder.append(_emptyRow(5, "the book is empty"))
    else:
        ladder.append('<tr class="spread"><td colspan="5"></td></tr>')
    for price, quantity, count in depth["bids"]:
        ladder.append(_row([text(count), text(quantity), text(price), "", ""], "bid"))
    tape = []
    orders = []
    tapeOf = (tapes or {}).get(engineName)
    if tapeOf is not None:
        from exsim.control.queue import formatPrice

        for seconds, trade in tapeOf.recent(book.symbol, 30):
            side = getattr(trade.aggressorSide, "name", trade.aggressorSide)
            tape.append(_row([
                text(clock(seconds)), text(formatPrice(book.instrument, trade.price)),
                text(trade.quantity), text(str(side).lower() if side is not None else None),
                text(trade.tradeId),
            ]))
    if notes is not None:
        for order in notes.recentOrders(book.symbol, 20):
            described = simulator.describeOrder(engineName, order, name)
            orders.append(_row([
                text(clock(order.entered)), text(described["order_id"]),
                text(described["owner"]), text(described["cl_ord_id"]), text(described["side"]),
                text(described["price"]), text(described["quantity"]), text(described["leaves_qty"]),
                text(described["cum_qty"]), text(described["status"]),
            ], described["side"]))
    return {
        "summary": info,
        "ladder": "".join(ladder),
        "tape": "".join(tape) or _emptyRow(5, "no trade yet"),
        "orders": "".join(orders) or _emptyRow(10, "no order yet"),
    }


def bookPage(simulator, name, tapes=None):
    parts = bookParts(simulator, name, tapes)
    body = (
        '<dl id="summary" class="summary">%s</dl>'
        '<div class="columns"><section><h2>ladder</h2>%s</section>'
        "<section><h2>trades</h2>%s</section></div>"
        "<section><h2>recent orders</h2>%s</section>"
    ) % (
        parts["summary"],
        _table("ladder", ("bid orders", "bid qty", "price", "ask qty", "ask orders"), parts["ladder"],
               classes="ladder"),
        _table("tape", ("time", "price", "quantity", "aggressor", "trade id"), parts["tape"]),
        _table("orders", ("entered", "order id", "owner", "cl ord id", "side", "price", "quantity",
                          "leaves", "cum", "status"), parts["orders"]),
    )
    return layout("Book %s" % (name,), "book", "/stream/book/%s" % (quote(name, safe=""),), body)


# -- a session ------------------------------------------------------------------


def sessionInfo(simulator, sessionId):
    """
    The live summary of C{/session/ID}.

    @raise exsim.errors.NotFound: if there is no such session.
    """
    described = simulator.get_properties("session", sessionId)
    return "".join(
        "<div><dt>%s</dt><dd>%s</dd></div>" % (text(k), text(v))
        for k, v in described.items()
        if k != "session"
    )


def _summary(message):
    if message["protocol"] == "fix":
        parts = [
            "%s=%s" % (text(name or tag), text(value))
            for tag, name, value in message["fields"]
            if tag not in _HEADER
        ]
    else:
        parts = ["%s=%s" % (text(name), text(value)) for _, name, value in message["fields"]]
    return '<span class="fields">%s</span>' % (" ".join(parts),)


def messageRows(messages):
    """
    Table rows of decoded messages (L{exsim.observe.decode}), newest
    first.
    """
    rows = []
    for message in reversed(messages):
        if message["protocol"] == "fix":
            kind = "%s %s" % (message["msg_type"] or "?", message["name"] or "")
            seq = message.get("seq_num")
        else:
            kind = " ".join(str(x) for x in (message.get("packet_name"), message.get("name")) if x)
            seq = None
        rows.append(_row([
            text(clock(message["time"])),
            '<span class="dir">%s</span>' % (text(message["direction"]),),
            text(kind.strip()), text(seq), _summary(message),
            "<details><summary>raw</summary><code>%s</code></details>" % (text(message["raw"]),),
        ], message["direction"]))
    return "".join(rows)


MESSAGE_HEADINGS = ("time", "dir", "message", "seq", "fields", "raw")


def sessionPage(simulator, sessionId):
    info = sessionInfo(simulator, sessionId)
    messages = simulator.get_messages(sessionId, PAGE_MESSAGES)
    body = (
        '<dl id="info" class="summary">%s</dl><section><h2>messages, newest first</h2>%s</section>'
        % (info, _table("messages", MESSAGE_HEADINGS, messageRows(messages), "no message yet",
                        classes="messages"))
    )
    return layout(
        "Session %s" % (sessionId,), "session", "/stream/session/%s" % (quote(sessionId, safe=""),), body
    )


# -- events ---------------------------------------------------------------------


def _where(event):
    for key in ("session", "endpoint", "engine"):
        if event.get(key) is not None:
            value = event[key]
            return sessionLink(value) if key == "session" else text(value)
    return "-"


_SHOWN = frozenset(["event_id", "type", "time", "engine", "endpoint", "session"])


def eventRows(events):
    """
    Table rows of control events, newest first.
    """
    rows = []
    for event in reversed(events):
        details = " ".join(
            "%s=%s" % (text(key), text(value if not isinstance(value, (list, dict)) else json.dumps(value)))
            for key, value in event.items()
            if key not in _SHOWN
        )
        rows.append(_row([
            text(event.get("event_id")), text(clock(event.get("time"))), text(event.get("type")),
            _where(event), '<span class="fields">%s</span>' % (details,),
        ], event.get("type")))
    return "".join(rows)


EVENT_HEADINGS = ("id", "time", "type", "where", "fields")


def eventsPage(events):
    body = "<section><h2>control events, newest first</h2>%s</section>" % (
        _table("events", EVENT_HEADINGS, eventRows(events), "no event yet", classes="events"),
    )
    return layout("Events", "events", "/stream/events", body)


def safely(make, *args):
    """
    C{make(*args)}, or None if the thing it shows does not exist (any
    L{ExsimError}).
    """
    try:
        return make(*args)
    except ExsimError:
        return None


def _phaseText(summary):
    """
    A book's phase as the book page shows it: with the halt (a pause) and
    its reason, or the opening delay and its reason.
    """
    text = summary["phase"]
    if "halt_reason" in summary:
        if summary["paused"]:
            text += " (paused)"
        if summary["halt_reason"]:
            text += ": %s" % (summary["halt_reason"],)
    elif summary.get("opening_delayed"):
        text += ": opening delayed"
        if summary["delay_reason"]:
            text += ": %s" % (summary["delay_reason"],)
    return text
