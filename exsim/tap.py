# -*- test-case-name: tests.test_tap -*-
"""
twistd plugin support: C{twistd -n exsim [--config sim.ini]}.
"""

import os
import sys

from twisted.python import usage

from exsim import config
from exsim.errors import ConfigError


class Options(usage.Options):
    synopsis = "[--config FILE]"
    longdesc = (
        "Run the exsim exchange simulator.  Without --config it runs the "
        "built-in default configuration (the same as etc/sim.ini)."
    )
    optParameters = [
        ["config", "c", None, "The sim.ini configuration file to run."],
        ["data-dir", "d", None,
         "Where FIX stores, engine journals and message logs live (default: [control] "
         "data_dir, else the current directory)."],
    ]
    optFlags = [
        ["no-gc-freeze", None, "Do not apply the garbage-collector policy."],
    ]

    def postOptions(self):
        _checkPidFile(getattr(self, "parent", None))
        path = self["config"] or config.defaultPath()
        try:
            self["sections"] = config.load(path)
        except ConfigError as e:
            raise SystemExit("exsim: %s" % (e,))
        self["configPath"] = path


def _checkPidFile(twistdOptions):
    """
    Refuse to start, before the configuration is read, when another
    running process holds twistd's pid file (twistd would refuse later,
    after exsim read and checked the whole configuration).

    @param twistdOptions: twistd's own options (C{pidfile}), or None.
    """
    pidfile = twistdOptions.get("pidfile") if twistdOptions is not None else None
    if not pidfile:
        return
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    if pid == os.getpid():
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # a stale file: twistd removes it
    except OSError:
        pass  # alive, but not ours to signal
    raise SystemExit(
        "exsim: another simulator (PID %d) runs with the pid file %s; give this one its "
        "own: twistd --pidfile=OTHER.pid -n exsim --config ..."
        % (pid, os.path.abspath(pidfile))
    )


def makeService(options, reactor=None):
    """
    Build the L{exsim.service.Simulator} that the configuration describes.

    A configuration error ends the process with a one-line message and a
    non-zero status before anything starts.
    """
    if reactor is None:
        from twisted.internet import reactor
    from exsim.service import Simulator

    simulator = Simulator(reactor)
    simulator.gcPolicy = not options.get("no-gc-freeze")
    # Endpoints bind their ports when twistd starts the simulator: after
    # its start-up lines ("... starting up"), so that the log reads in
    # order; everything else about them is checked now.
    simulator.listenAtStart = True
    simulator.listenFailed = _exitOnListenFailure(simulator, getattr(options, "parent", None))
    if options.get("data-dir"):
        dataDir = os.path.abspath(options["data-dir"])
        try:
            os.makedirs(dataDir, exist_ok=True)
        except OSError as e:
            sys.stderr.write("exsim: --data-dir %s cannot be used: %s\n" % (dataDir, e.strerror))
            raise SystemExit(1)
        simulator.dataDir = dataDir
        simulator.dataDirFixed = True
    try:
        settings = config.apply(options["sections"], simulator)
        _controlService(simulator, settings)
        _webService(simulator, settings)
    except ConfigError as e:
        simulator.stopService()
        sys.stderr.write("exsim: %s\n" % (e,))
        raise SystemExit(1)
    return simulator


def _exitOnListenFailure(simulator, twistdOptions):
    """
    What twistd does when an endpoint cannot bind its port at start (a
    port taken, say): one log line naming the configuration's line, the
    pid file removed, exit status 1; no traceback.
    """

    def failed(error):
        simulator.log.critical("exsim: {error}", error=str(error))
        for name in list(simulator.endpoints):
            simulator.endpoints[name].close()
        pidfile = twistdOptions.get("pidfile") if twistdOptions is not None else None
        if pidfile:
            try:
                with open(pidfile) as f:
                    ours = int(f.read().strip()) == os.getpid()
            except (OSError, ValueError):
                ours = False
            if ours:
                os.remove(pidfile)
        raise SystemExit(1)

    return failed


def _controlService(simulator, settings):
    """
    Add the management service when the configuration has [control].
    """
    if settings.control is None:
        return
    from exsim.control.service import addControlService

    addControlService(
        simulator, settings.control["checker"], settings.control["listen"],
        **settings.control.get("options", {})
    )


def _webService(simulator, settings):
    """
    Add the web view when the configuration has [web] (it needs
    [control]: it takes its users).
    """
    if settings.web is None:
        return
    if settings.control is None:
        raise ConfigError(
            "[web] needs a [control] section: the web view logs users in as the management "
            "service does", settings.web["filename"], settings.web["lineno"],
        )
    from exsim.observe.web.server import WebService, webChecker

    WebService(simulator, webChecker(simulator), settings.web["listen"]).setServiceParent(simulator)
