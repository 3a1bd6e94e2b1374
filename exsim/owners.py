# -*- test-case-name: tests.test_owners -*-
"""
Who an order belongs to.

An L{Owner} is the owner's text, exactly as drop copies and control events
show it, with its parts:

 - C{"house"} (kind L{HOUSE}): orders of the management API;
 - C{"house/<symbol>"} (kind L{ACTIVITY}): a book's background activity
   and market-maker quotes, which stand for the rest of the market;
 - C{"replay/<symbol>"} (kind L{REPLAY}): orders of a replay of recorded
   market data into a book (L{exsim.replay});
 - C{"feed/<name>"} (kind L{FEED}): orders mirroring a live market-data
   feed (L{exsim.fix.feed});
 - C{"<endpoint>/<name>"} (kind L{SESSION}): the orders of a FIX
   (counterparty CompID) or OUCH (username) session;
 - anything else (kind L{OTHER}): owners made up by tests or plugins.

Code asks C{owner.kind is SESSION} or C{owner.isActivity}, never the
text.  An L{Owner} is a C{str}: it hashes and compares as its text, so an
engine keyed by owners finds the orders of C{"fix1/CLIENT"} whether it is
asked with the L{Owner} or the plain text (a management operation's
argument).  L{exsim.model.makeTerms} makes every text owner an L{Owner},
the one L{ownerOf} gives: protocols and engines need not.

An L{Owner} must not cross Perspective Broker (it would travel as an
instance of a class the client does not allow): what reaches the control
client takes C{str(owner)}, as engine events' C{asDict} does.
"""

from exsim.memo import remember

#: Kinds of owner.
HOUSE = "house"
ACTIVITY = "activity"
SESSION = "session"
REPLAY = "replay"
FEED = "feed"
OTHER = "other"

#: The kinds of owner that stand for the rest of the market: their own
#: events are left out of the control queue (unless C{activity_events}),
#: drop copies and engine journals.
BACKGROUND = frozenset([ACTIVITY, REPLAY, FEED])

#: The text of the house owner, and what an activity owner's starts with.
HOUSE_TEXT = "house"
_ACTIVITY_PREFIX = HOUSE_TEXT + "/"
_REPLAY_PREFIX = "replay/"
_FEED_PREFIX = "feed/"


class Owner(str):
    """
    An order's owner: its text, and what kind of owner it is.

    Make one with L{ownerOf}, L{houseOwner}, L{activityOwner} or
    L{sessionOwner}, which give the same object for the same text.

    @ivar kind: L{HOUSE}, L{ACTIVITY}, L{REPLAY}, L{FEED}, L{SESSION} or
        L{OTHER}.
    @ivar isActivity: whether C{kind is ACTIVITY}.
    @ivar isBackground: whether the owner stands for the rest of the
        market (L{BACKGROUND}: activity, replay, feed).
    @ivar endpoint: the endpoint's name for a session owner, else None.
    @ivar name: the session's CompID or username for a session owner,
        the symbol for an activity owner, what follows C{replay/} or
        C{feed/} for a replay's or a feed's, else None.
    """

    #: Whether any background owner was made in this process: until one
    #: is, no batch of engine events holds a background order, and those
    #: who leave background events out need not look (the control event
    #: queue, for every batch).
    anyBackground = False

    def __new__(cls, text, kind, endpoint=None, name=None):
        owner = str.__new__(cls, text)
        owner.kind = kind
        owner.isActivity = kind is ACTIVITY
        owner.isBackground = kind in BACKGROUND
        if owner.isBackground:
            Owner.anyBackground = True
        owner.endpoint = endpoint
        owner.name = name
        return owner

    def __repr__(self):
        return "<Owner %s %s>" % (self.kind, str.__repr__(self))

    def __reduce__(self):
        # Copied or pickled (by a test, say), it is the same owner again.
        return ownerOf, (str(self),)


#: Owner text -> its L{Owner}, so that one text is one object (dicts keyed
#: by owners then match by identity).  Bounded: past it, equal owners are
#: merely equal.
_OWNERS = {}
OWNERS_MEMO = 100000


def _parse(text):
    if text == HOUSE_TEXT:
        return Owner(text, HOUSE)
    if text.startswith(_ACTIVITY_PREFIX):
        return Owner(text, ACTIVITY, None, text[len(_ACTIVITY_PREFIX):])
    if text.startswith(_REPLAY_PREFIX):
        return Owner(text, REPLAY, None, text[len(_REPLAY_PREFIX):])
    if text.startswith(_FEED_PREFIX):
        return Owner(text, FEED, None, text[len(_FEED_PREFIX):])
    endpoint, slash, name = text.partition("/")
    if slash:
        return Owner(text, SESSION, endpoint, name)
    return Owner(text, OTHER)


def ownerOf(value):
    """
    The L{Owner} of C{value}: an L{Owner} itself; for text, the owner that
    text names (see the module's docstring); anything else (an owner a
    test made of a number, say) is returned as it is.
    """
    if value.__class__ is Owner:
        return value
    if not isinstance(value, str):
        return value
    owner = _OWNERS.get(value)
    if owner is None:
        owner = remember(_OWNERS, str(value), _parse(str(value)), OWNERS_MEMO)
    return owner


def houseOwner():
    """
    The owner of the management API's orders, C{"house"}.
    """
    return ownerOf(HOUSE_TEXT)


def activityOwner(symbol):
    """
    The owner of a book's background activity, C{"house/<symbol>"}.
    """
    return ownerOf(_ACTIVITY_PREFIX + symbol)


def replayOwner(symbol):
    """
    The owner of the orders replayed into a book, C{"replay/<symbol>"}.
    """
    return ownerOf(_REPLAY_PREFIX + symbol)


def feedOwner(name):
    """
    The owner of the orders mirroring the live feed C{name},
    C{"feed/<name>"}.
    """
    return ownerOf(_FEED_PREFIX + name)


def sessionOwner(endpoint, name):
    """
    The owner of a session's orders, C{"<endpoint>/<name>"}: a FIX
    session's counterparty CompID, an OUCH session's username.  (Text is
    what engines match owners by: the sessions of an endpoint called
    C{"house"} own activity orders, as their text says.)
    """
    text = "%s/%s" % (endpoint, name)
    owner = ownerOf(text)
    if owner.kind is SESSION and owner.endpoint != endpoint:
        # An endpoint whose name has a "/": the parts are the ones given.
        owner = remember(_OWNERS, text, Owner(text, SESSION, endpoint, name), OWNERS_MEMO)
    return owner


def isActivity(owner):
    """
    Whether C{owner} (an L{Owner}, or anything an order may be owned by)
    is a book's background activity.
    """
    return owner.__class__ is Owner and owner.isActivity


def isBackground(owner):
    """
    Whether C{owner} (an L{Owner}, or anything an order may be owned by)
    stands for the rest of the market: a book's background activity, a
    replay, a mirrored feed.
    """
    return owner.__class__ is Owner and owner.isBackground
