# -*- test-case-name: tests.test_config -*-
"""
sim.ini: a script of management operations, run in file order.

Each section creates one thing and its keys set that thing's properties::

    [engine:e1]            -> create_engine("e1", class)
    [book:AAPL]            -> create_book("AAPL", engine, symbol), then
                              set_book_property for every other key
    [endpoint:fix1]        -> create_endpoint("fix1", engine, protocol),
                              set_protocol_property for every other key,
                              then start_endpoint
    [order:ID]             -> create_order("ID", book), set_order_property
                              for every other key, then submit_order
    [quote:ID]             -> create_quote("ID", engine, book),
                              set_quote_property for every other key,
                              then submit_quote
    [policy:ENGINE]        -> add_policy_rule(ENGINE, rule) for every
                              rule line, in order, then the engine's
                              policy becomes rules
    [instruments]          -> load_instruments(engine, file)
    [control]              -> the management service (started by tap)

Unknown sections or keys, bad values and references to things not yet
created are L{ConfigError}s naming the file and the line.
"""

import os

from exsim.errors import ConfigError, ExsimError
from exsim.values import parseBoolean


class Section:
    """
    One parsed section: C{kind} and C{name} from C{[kind:name]}, the
    C{items} as (key, value, lineno) in file order.
    """

    def __init__(self, kind, name, lineno, filename):
        self.kind = kind
        self.name = name
        self.lineno = lineno
        self.filename = filename
        self.items = []

    def error(self, message, lineno=None):
        return ConfigError(message, self.filename, lineno or self.lineno)

    def take(self, key, required=True, default=None):
        """
        Remove and return C{(value, lineno)} of C{key}.
        """
        for i, (k, value, lineno) in enumerate(self.items):
            if k == key:
                del self.items[i]
                return value, lineno
        if required:
            raise self.error("[%s] needs a %r key" % (self.header, key))
        return default, self.lineno

    @property
    def header(self):
        return self.kind if self.name is None else "%s:%s" % (self.kind, self.name)


def parse(text, filename="<string>"):
    """
    Parse sim.ini text into a list of L{Section}s, in file order.

    @raise ConfigError: for a line that is neither a section header, a
        C{key = value} pair, a comment nor blank.
    """
    sections = []
    current = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise ConfigError("unterminated section header %r" % line, filename, lineno)
            header = line[1:-1].strip()
            kind, sep, name = header.partition(":")
            kind = kind.strip().lower()
            name = name.strip() if sep else None
            if sep and not name:
                raise ConfigError("section [%s] needs a name after the colon" % header, filename, lineno)
            if kind not in SECTION_TYPES:
                raise ConfigError(
                    "unknown section type [%s] (known: %s)"
                    % (header, ", ".join(sorted(SECTION_TYPES))),
                    filename,
                    lineno,
                )
            named = SECTION_TYPES[kind][0]
            if named and name is None:
                raise ConfigError("section [%s] needs a name: [%s:NAME]" % (kind, kind), filename, lineno)
            if not named and name is not None:
                raise ConfigError("section [%s] takes no name" % kind, filename, lineno)
            current = Section(kind, name, lineno, filename)
            sections.append(current)
            continue
        if current is None:
            raise ConfigError("a key outside any section", filename, lineno)
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ConfigError("expected 'key = value', got %r" % line, filename, lineno)
        key = key.strip().lower()
        repeatable = key in REPEATABLE_KEYS.get(current.kind, ())
        if not repeatable and any(k == key for k, _, _ in current.items):
            raise ConfigError("key %r given twice in [%s]" % (key, current.header), filename, lineno)
        current.items.append((key, value.strip(), lineno))
    return sections


def load(path):
    """
    Read and parse a configuration file.

    @raise ConfigError: if it cannot be read or parsed.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError("cannot read configuration: %s" % (e.strerror or e,), path)
    except UnicodeDecodeError:
        raise ConfigError("configuration is not UTF-8 text", path)
    return parse(text, path)


def defaultPath():
    """
    The built-in default configuration (a copy of etc/sim.ini).
    """
    return os.path.join(os.path.dirname(__file__), "default.ini")


class Settings:
    """
    What a configuration says beyond operations: C{control} holds the
    [control] section's keys, C{web} the [web] section's.
    """

    def __init__(self):
        self.control = None
        #: The [web] section's keys, or None.
        self.web = None


def apply(sections, simulator, settings=None):
    """
    Run the operations of C{sections} on C{simulator}, in order.

    @return: the L{Settings} collected.
    @raise ConfigError: naming the file and line of the first problem.
    """
    if settings is None:
        settings = Settings()
    # Where files go, and where the management API may listen, are set
    # first, whatever the place of [control] in the file.
    for section in sections:
        if section.kind == "control":
            _startSettings(section, simulator)
    for section in sections:
        handler = SECTION_TYPES[section.kind][1]
        handler(section, simulator, settings)
    return settings


def _run(section, lineno, op, *args):
    try:
        result = op(*args)
    except ConfigError:
        raise
    except ExsimError as e:
        raise section.error(str(e), lineno)
    return result


def _leftover(section, known):
    for key, value, lineno in section.items:
        raise section.error(
            "unknown key %r in [%s] (known: %s)" % (key, section.header, ", ".join(known)),
            lineno,
        )


def _engineSection(section, simulator, settings):
    className, lineno = section.take("class", required=False, default="matching")
    _run(section, lineno, simulator.create_engine, section.name, className)
    for key, value, lineno in section.items:
        _run(section, lineno, simulator.set_engine_property, section.name, key, value)


def _bookSection(section, simulator, settings):
    engine, lineno = section.take("engine")
    symbol, _ = section.take("symbol", required=False, default=section.name)
    _run(section, lineno, simulator.create_book, section.name, engine, symbol)
    for key, value, lineno in section.items:
        _run(section, lineno, simulator.set_book_property, section.name, key, value)


def _endpointSection(section, simulator, settings):
    engine, lineno = section.take("engine")
    protocol, plineno = section.take("protocol")
    _run(section, plineno, simulator.create_endpoint, section.name, engine, protocol)
    # A listener that cannot start (port taken, TLS files) is the listen
    # key's problem.
    listenLine = section.lineno
    for key, value, lineno in section.items:
        if key == "listen":
            listenLine = lineno
        _run(section, lineno, simulator.set_protocol_property, section.name, key, value)
    endpoint = simulator.endpoints.get(section.name)
    if endpoint is not None:
        # Named if the port cannot be bound when the simulator starts
        # (Simulator.listenAtStart).
        endpoint.listenOrigin = (section.filename, listenLine)
    d = _run(section, listenLine, simulator.start_endpoint, section.name)
    failures = []
    d.addErrback(failures.append)
    if failures:
        raise section.error(failures[0].getErrorMessage(), listenLine)


CONTROL_KEYS = (
    "listen", "users", "password_file", "event_queue_size", "activity_events",
    "login_timeout", "max_connections", "data_dir", "allow_listen",
)


def _startSettings(section, simulator):
    """
    [control] C{data_dir} (relative to the configuration file; a
    C{--data-dir} option wins) and C{allow_listen} (interfaces besides
    loopback the management API may listen on, or C{*}).
    """
    for key, value, lineno in section.items:
        if key == "data_dir" and not getattr(simulator, "dataDirFixed", False):
            path = value.strip()
            if not os.path.isabs(path) and section.filename:
                path = os.path.join(os.path.dirname(os.path.abspath(section.filename)), path)
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as e:
                raise section.error("data_dir %r cannot be used: %s" % (value, e.strerror), lineno)
            simulator.dataDir = path
        elif key == "allow_listen":
            simulator.allowListen = tuple(v.strip() for v in value.split(",") if v.strip())


def _controlSection(section, simulator, settings):
    """
    [control]: the management service (listen, users or password_file,
    event_queue_size, activity_events).  Checked here, started by L{exsim.tap}.
    """
    if settings.control is not None:
        raise section.error("[control] given twice")
    from exsim.control.checker import checkerFor
    from exsim.control.service import DEFAULT_LISTEN
    from exsim.fix.settings import parseNumber
    from exsim.listening import serverEndpoint

    values = {}
    for key, value, lineno in section.items:
        if key in ("data_dir", "allow_listen"):
            continue  # see _startSettings
        if key not in CONTROL_KEYS:
            raise section.error(
                "unknown key %r in [control] (known: %s)" % (key, ", ".join(CONTROL_KEYS)),
                lineno,
            )
        values[key] = (value, lineno)

    def get(key, default=None):
        return values.get(key, (default, section.lineno))

    users, usersLine = get("users")
    passwordFile, fileLine = get("password_file")
    if passwordFile is not None and not os.path.isabs(passwordFile) and section.filename:
        passwordFile = os.path.join(os.path.dirname(os.path.abspath(section.filename)), passwordFile)
    try:
        checker = checkerFor(users, passwordFile)
    except ExsimError as e:
        raise section.error(str(e), fileLine if "password_file" in values else usersLine)
    size, lineno = get("event_queue_size")
    if size is not None:
        _run(section, lineno, simulator.events.setMaxSize, size)
    activity, lineno = get("activity_events")
    if activity is not None:
        simulator.events.activityEvents = _run(section, lineno, parseBoolean, "activity_events", activity)
    listen, lineno = get("listen", DEFAULT_LISTEN)
    try:
        serverEndpoint(simulator.reactor, listen)
    except (ValueError, TypeError, KeyError) as e:
        raise section.error("bad listen endpoint %r: %s" % (listen, e), lineno)
    options = {}
    for key, option, parse in (
        ("login_timeout", "loginTimeout", parseNumber("login_timeout", minimum=0)),
        ("max_connections", "maxConnections", parseNumber("max_connections", minimum=1, integer=True)),
    ):
        value, lineno = get(key)
        if value is not None:
            options[option] = _run(section, lineno, parse, value)
    settings.control = {"listen": listen, "checker": checker, "options": options}


def _orderSection(section, simulator, settings):
    """
    [order:ID]: create_order on C{book}, set_order_property for every
    other key, then submit_order.
    """
    book, lineno = section.take("book")
    _run(section, lineno, simulator.create_order, section.name, book)
    for key, value, lineno in section.items:
        _run(section, lineno, simulator.set_order_property, section.name, key, value)
    _run(section, section.lineno, simulator.submit_order, section.name)


def _quoteSection(section, simulator, settings):
    """
    [quote:ID]: create_quote on C{engine}'s C{book}, set_quote_property
    for every other key, then submit_quote.
    """
    engine, lineno = section.take("engine")
    book, blineno = section.take("book")
    _run(section, blineno, simulator.create_quote, section.name, engine, book)
    for key, value, lineno in section.items:
        _run(section, lineno, simulator.set_quote_property, section.name, key, value)
    _run(section, section.lineno, simulator.submit_quote, section.name)


def _policySection(section, simulator, settings):
    """
    [policy:ENGINE]: C{rule = ...} lines (repeated, in order), added with
    add_policy_rule; then the engine's policy is C{rules}.
    """
    for key, value, lineno in section.items:
        if key != "rule":
            raise section.error(
                "unknown key %r in [%s] (known: rule)" % (key, section.header), lineno
            )
        _run(section, lineno, simulator.add_policy_rule, section.name, value)
    _run(section, section.lineno, simulator.set_engine_property, section.name, "policy", "rules")


def configPath(section, path):
    """
    A path a configuration file names: a relative one is relative to the
    file's directory.  (The file is trusted: unlike the management API, it
    may name files outside the data directory.)
    """
    if path and not os.path.isabs(path) and section.filename and section.filename != "<string>":
        path = os.path.join(os.path.dirname(os.path.abspath(section.filename)), path)
    return path


def _instrumentsSection(section, simulator, settings):
    """
    [instruments]: load_instruments(engine, file); a relative C{file} is
    relative to the configuration file's directory.
    """
    from exsim.instruments import loadInstruments

    engine, _ = section.take("engine")
    path, lineno = section.take("file")
    _leftover(section, ("engine", "file"))
    _run(section, lineno, loadInstruments, simulator, engine, configPath(section, path))


WEB_KEYS = ("listen",)


def _webSection(section, simulator, settings):
    """
    [web]: the web view (L{exsim.observe.web}), started by L{exsim.tap}
    with the management service, whose users it takes.
    """
    if settings.web is not None:
        raise section.error("[web] given twice")
    from exsim.listening import serverEndpoint
    from exsim.observe.web.server import DEFAULT_LISTEN

    values = {}
    for key, value, lineno in section.items:
        if key not in WEB_KEYS:
            raise section.error(
                "unknown key %r in [web] (known: %s)" % (key, ", ".join(WEB_KEYS)), lineno
            )
        values[key] = (value, lineno)
    listen, lineno = values.get("listen", (DEFAULT_LISTEN, section.lineno))
    try:
        serverEndpoint(simulator.reactor, listen)
    except (ValueError, TypeError, KeyError) as e:
        raise section.error("bad listen endpoint %r: %s" % (listen, e), lineno)
    settings.web = {"listen": listen, "lineno": section.lineno, "filename": section.filename}


#: The keys of a [replay:NAME] section.
REPLAY_KEYS = ("book", "source", "speed", "start", "format", "price_scale")


def _replaySection(section, simulator, settings):
    """
    [replay:NAME]: start_replay(book (default NAME), source, speed, start,
    format, price_scale); a relative C{source} is relative to the
    configuration file's directory.  The replay starts when the reactor
    runs.
    """
    values = {}
    for key, value, lineno in section.items:
        if key not in REPLAY_KEYS:
            raise section.error(
                "unknown key %r in [%s] (known: %s)" % (key, section.header, ", ".join(REPLAY_KEYS)),
                lineno,
            )
        values[key] = (value, lineno)
    if "source" not in values:
        raise section.error("[%s] needs a 'source' key" % (section.header,))
    book, lineno = values.get("book", (section.name, section.lineno))
    source, sourceLine = values["source"]
    from exsim.replay.player import parseSpeed
    from exsim.replay.recording import parseTime

    options = {}
    for key, check in (("speed", parseSpeed), ("start", parseTime), ("format", None), ("price_scale", None)):
        if key in values:
            value, lineno = values[key]
            if check is not None:
                _run(section, lineno, check, value)
            options[key] = value
    _run(
        section, sourceLine, simulator.replays.start, book, configPath(section, source),
        options.get("speed", 1), options.get("start"), options.get("format"),
        options.get("price_scale"), source,
    )


def _feedSection(section, simulator, settings):
    """
    [feed:NAME]: create_feed(NAME, engine, every other key as a
    property).
    """
    from exsim.fix.feed import PROPERTIES

    engine, lineno = section.take("engine")
    properties = {}
    for key, value, keyLine in section.items:
        if key not in PROPERTIES:
            raise section.error(
                "unknown key %r in [%s] (known: engine, %s)"
                % (key, section.header, ", ".join(PROPERTIES)),
                keyLine,
            )
        try:
            PROPERTIES[key][0](value)
        except ExsimError as e:
            raise section.error(str(e), keyLine)
        properties[key] = value
    _run(section, lineno, lambda: simulator.create_feed(section.name, engine, **properties))


#: {section kind: (named, handler(section, simulator, settings))}
SECTION_TYPES = {
    "control": (False, _controlSection),
    "engine": (True, _engineSection),
    "book": (True, _bookSection),
    "instruments": (False, _instrumentsSection),
    "replay": (True, _replaySection),
    "feed": (True, _feedSection),
    "endpoint": (True, _endpointSection),
    "order": (True, _orderSection),
    "quote": (True, _quoteSection),
    "policy": (True, _policySection),
    "web": (False, _webSection),
}

#: {section kind: keys that section may repeat (in order)}
REPEATABLE_KEYS = {"policy": ("rule",)}
