# -*- test-case-name: tests.test_client -*-
"""
The child side of L{exsim.client.API.create_server}: runs in a process
just forked from the caller.
"""

import os
import signal
import sys


def _closeInherited(keep):
    """
    Close every file descriptor but 0, 1, 2 and C{keep}: the parent's
    listening sockets, connections and reactor are not ours.
    """
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(3, min(os.sysconf("SC_OPEN_MAX"), 65536))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _freshReactor():
    """
    Install a new reactor as the global one, whatever the parent had.
    """
    import twisted.internet

    sys.modules.pop("twisted.internet.reactor", None)
    if hasattr(twisted.internet, "reactor"):
        del twisted.internet.reactor
    try:
        from twisted.internet import epollreactor as chosen
    except ImportError:
        from twisted.internet import pollreactor as chosen
    chosen.install()
    from twisted.internet import reactor

    return reactor


def _freshLogging(logFile):
    """
    Forget the parent's log observers; log to C{logFile}, or warnings and
    errors to standard error.
    """
    from twisted.cred.error import UnauthorizedLogin
    from twisted.logger import (
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        PredicateResult,
        globalLogPublisher,
        textFileLogObserver,
    )

    def noRefusedLogins(event):
        # A refused login is the client's business (it gets the error).
        failure = event.get("log_failure") or event.get("failure")
        if failure is not None and failure.check(UnauthorizedLogin):
            return PredicateResult.no
        return PredicateResult.maybe

    from twisted.python import log as legacyLog

    for observer in list(getattr(globalLogPublisher, "_observers", [])):
        globalLogPublisher.removeObserver(observer)
    # Until logging begins, the legacy default observer prints errors.
    default = getattr(legacyLog, "defaultObserver", None)
    if default is not None:
        try:
            default.stop()
        except ValueError:
            pass
        legacyLog.defaultObserver = None
    if logFile:
        globalLogPublisher.addObserver(textFileLogObserver(open(logFile, "a")))
    else:
        globalLogPublisher.addObserver(
            FilteringLogObserver(
                textFileLogObserver(sys.__stderr__ or sys.stderr),
                [LogLevelFilterPredicate(LogLevel.warn), noRefusedLogins],
            )
        )


class _ParentWatcher:
    """
    Reads the watch pipe: end of file means the parent is gone (or asked
    us to stop).
    """

    def __init__(self, fd, reactor):
        self.fd = fd
        self.reactor = reactor

    def fileno(self):
        return self.fd

    def logPrefix(self):
        return "exsim-parent-watch"

    def doRead(self):
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            data = b""
        if not data:
            self.reactor.removeReader(self)
            self._stop()

    def connectionLost(self, reason):
        # A reactor may report the hang-up of the pipe this way instead.
        self._stop()

    def _stop(self):
        if self.reactor.running:
            self.reactor.stop()


def run(watchFd, statusFd, user, password, eventQueueSize=None, logFile=None):
    """
    Run a simulator until the watch pipe closes.

    Writes the management port (or C{error: ...}) and a newline to
    C{statusFd} once listening; C{statusFd} closes when the process ends.

    @return: the exit status.
    """
    try:
        os.setsid()
    except OSError:
        pass
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    _closeInherited({watchFd, statusFd})
    _freshLogging(logFile)
    reactor = _freshReactor()

    from exsim.control.checker import UsersChecker
    from exsim.control.service import ControlService
    from exsim.service import Simulator

    simulator = Simulator(reactor)
    simulator.gcPolicy = True
    if eventQueueSize is not None:
        simulator.events.setMaxSize(eventQueueSize)
    control = ControlService(
        simulator, UsersChecker({user: password}), "tcp:0:interface=127.0.0.1"
    )
    control.setServiceParent(simulator)

    def listening(port):
        os.write(statusFd, b"%d\n" % (port.getHost().port,))

    def failed(f):
        os.write(statusFd, ("error: %s\n" % (f.getErrorMessage(),)).encode("utf-8", "replace"))
        reactor.stop()

    def start():
        control.whenListening().addCallbacks(listening, failed)
        simulator.startService()

    reactor.addReader(_ParentWatcher(watchFd, reactor))
    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", simulator.stopService)
    reactor.run()
    return 0
