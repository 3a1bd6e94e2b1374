# -*- test-case-name: tests.test_control -*-
"""
Who may log in to the management service: the C{users} of C{[control]}
(C{name:password}, comma-separated) or a password file (one
C{name:password} a line, see L{twisted.cred.checkers.FilePasswordDB}).
"""

from twisted.cred import credentials, error
from twisted.cred.checkers import FilePasswordDB, ICredentialsChecker
from twisted.internet import defer, task
from twisted.logger import Logger
from zope.interface import implementer

from exsim.endpoint import parseUsers
from exsim.errors import BadValue


def _bytes(value):
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


@implementer(ICredentialsChecker)
class UsersChecker:
    """
    Checks a name and password against a fixed table.

    Perspective Broker sends a challenge response (an
    L{credentials.IUsernameHashedPassword}); a plain
    L{credentials.IUsernamePassword} works too.
    """

    credentialInterfaces = (
        credentials.IUsernamePassword,
        credentials.IUsernameHashedPassword,
    )

    def __init__(self, users):
        """
        @param users: {name: password} (text or bytes).
        """
        if not users:
            raise BadValue("the management service needs at least one user")
        self._users = {_bytes(name): _bytes(password) for name, password in users.items()}

    @property
    def users(self):
        """
        {name: password} as text (to warn about weak passwords).
        """
        return {
            name.decode("utf-8", "replace"): password.decode("utf-8", "replace")
            for name, password in self._users.items()
        }

    def requestAvatarId(self, creds):
        name = _bytes(creds.username)
        password = self._users.get(name)
        if password is not None and creds.checkPassword(password):
            return defer.succeed(name.decode("utf-8", "replace"))
        return defer.fail(error.UnauthorizedLogin("wrong user name or password"))


def checkerFor(users=None, passwordFile=None):
    """
    The checker for C{[control]}'s C{users} or C{password_file}.

    @raise BadValue: if neither or both are given, or the file cannot be
        read.
    """
    if (users is None) == (passwordFile is None):
        raise BadValue("the management service needs either users or password_file")
    if users is not None:
        return UsersChecker(parseUsers(users))
    try:
        with open(passwordFile, "rb") as f:
            f.read(1)
    except OSError as e:
        raise BadValue("cannot read password_file %r: %s" % (passwordFile, e.strerror or e))
    return FilePasswordDB(passwordFile, cache=False)


#: Seconds the first retry from a peer that failed to log in waits; each
#: further failure doubles it, up to L{MAX_DELAY}: below the default
#: login_timeout (10 s), so that the right password still gets in (at most
#: 5 s late) while a guesser gets 0.2 tries a second per host (was 609/s).
BASE_DELAY = 0.25
MAX_DELAY = 5.0
#: Seconds after its last failure when a peer's count is forgotten.
FORGET_AFTER = 600.0
#: Peers remembered at most (the oldest are forgotten first).
MAX_PEERS = 10000


@implementer(ICredentialsChecker)
class LoginGuard:
    """
    Wraps the management service's checker: logs each refused login as one
    line (user, peer), and makes a peer that failed wait before its next
    attempt is checked, longer after each failure (L{BASE_DELAY} doubling
    up to L{MAX_DELAY}); a success clears its count.  Attempts from one
    peer are checked one delay apart, even when sent at once, so a peer
    can try at most one password per delay.

    The peer comes from Perspective Broker's credentials (their C{broker});
    a broker with a C{loggedIn} method is told of a successful login.
    """

    log = Logger()

    def __init__(self, checker, reactor, baseDelay=BASE_DELAY, maxDelay=MAX_DELAY):
        self.checker = checker
        self.credentialInterfaces = checker.credentialInterfaces
        self.reactor = reactor
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        #: {peer host: [failures in a row, time of the next check, last failure]}
        self.failures = {}

    def delay(self, count):
        """
        Seconds between checks for a peer with C{count} failures in a row.
        """
        if count <= 0:
            return 0.0
        return min(self.maxDelay, self.baseDelay * 2 ** min(count - 1, 32))

    def requestAvatarId(self, creds):
        broker = getattr(creds, "broker", None)
        host, peer = _peer(broker)
        now = self.reactor.seconds()
        state = self.failures.get(host)
        if state is not None and now - state[2] > FORGET_AFTER:
            del self.failures[host]
            state = None
        if state is None:
            return self._check(creds, broker, host, peer)
        slot = max(now, state[1])
        state[1] = slot + self.delay(state[0])
        return task.deferLater(self.reactor, slot - now, self._check, creds, broker, host, peer)

    def _check(self, creds, broker, host, peer):
        d = defer.maybeDeferred(self.checker.requestAvatarId, creds)

        def succeeded(avatarId):
            self.failures.pop(host, None)
            loggedIn = getattr(broker, "loggedIn", None)
            if loggedIn is not None:
                loggedIn(avatarId)
            return avatarId

        def failed(f):
            f.trap(error.UnauthorizedLogin, error.UnhandledCredentials)
            now = self.reactor.seconds()
            state = self.failures.get(host)
            if state is None:
                if len(self.failures) >= MAX_PEERS:
                    oldest = min(self.failures, key=lambda h: self.failures[h][2])
                    del self.failures[oldest]
                state = self.failures[host] = [0, now, now]
            state[0] += 1
            state[2] = now
            state[1] = max(state[1], now + self.delay(state[0]))
            user = getattr(creds, "username", b"?")
            if isinstance(user, bytes):
                user = user.decode("utf-8", "replace")
            self.log.warn(
                "management login refused: user {user!r} from {peer} "
                "({count} failed in a row; next attempt from {host} waits {delay:g} s)",
                user=user[:64], peer=peer, count=state[0], host=host,
                delay=self.delay(state[0]),
            )
            return f

        return d.addCallbacks(succeeded, failed)


def _peer(broker):
    """
    (host, "host:port") of a broker's peer, or ("?", "?").
    """
    transport = getattr(broker, "transport", None)
    if transport is None:
        return "?", "?"
    address = transport.getPeer()
    host = getattr(address, "host", None)
    if host is None:
        return str(address), str(address)
    return host, "%s:%s" % (host, getattr(address, "port", "?"))
