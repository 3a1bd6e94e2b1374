# -*- test-case-name: tests.test_control -*-
"""
Who may log in to the management service: the C{users} of C{[control]}
(C{name:password}, comma-separated) or a password file (one
C{name:password} a line, see L{twisted.cred.checkers.FilePasswordDB}).
"""

from twisted.cred import credentials, error
from twisted.cred.checkers import FilePasswordDB, ICredentialsChecker
from twisted.internet import defer
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
