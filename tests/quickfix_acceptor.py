"""
A QuickFIX acceptor in a process of its own, for
L{tests.test_testing_fix.QuickFixAcceptorTests}: QuickFIX's threads stay
out of the test process, which forks simulators.

    python quickfix_acceptor.py CONFIG

It answers every NewOrderSingle with an ExecutionReport (New), prints
C{ready} once listening, then one line per event (C{logon ...},
C{app <message>}, C{reject <message>}, C{logout ...}, with SOH as |), and
stops when its standard input closes.
"""

import sys

import quickfix as fix


class Acceptor(fix.Application):
    def _say(self, *words):
        sys.stdout.write(" ".join(words).replace("\x01", "|") + "\n")
        sys.stdout.flush()

    def onCreate(self, sessionID):
        pass

    def onLogon(self, sessionID):
        self._say("logon", sessionID.toString())

    def onLogout(self, sessionID):
        self._say("logout", sessionID.toString())

    def toAdmin(self, message, sessionID):
        if message.getHeader().getField(35) == "3":
            self._say("reject", message.toString())

    def fromAdmin(self, message, sessionID):
        pass

    def toApp(self, message, sessionID):
        pass

    def fromApp(self, message, sessionID):
        self._say("app", message.toString())
        if message.getHeader().getField(35) != "D":
            return
        report = fix.Message()
        report.getHeader().setField(fix.MsgType("8"))
        for tag, value in [
            (37, "O1"), (11, message.getField(11)), (17, "E1"), (150, "0"), (39, "0"),
            (55, message.getField(55)), (54, message.getField(54)),
            (151, message.getField(38)), (14, "0"), (6, "0"),
        ]:
            report.setField(fix.StringField(tag, value))
        fix.Session.sendToTarget(report, sessionID)


def main(path):
    app = Acceptor()
    settings = fix.SessionSettings(path)
    store = fix.FileStoreFactory(settings)
    logs = fix.ScreenLogFactory(False, False, False)
    acceptor = fix.ThreadedSocketAcceptor(app, store, settings, logs)
    acceptor.start()
    app._say("ready")
    sys.stdin.read()
    acceptor.stop(True)


if __name__ == "__main__":
    main(sys.argv[1])
