"""Every setting of the server, declared once.

Each :class:`Setting` names its attribute, command-line flag, environment
variable, default and help text.  :func:`load` is the only place in the
package that reads ``os.environ``; everything else receives a frozen
:class:`Config`::

    config = load(["--port", "0"])          # flags > environment > defaults
    config = Config(store="memory://")      # or build one directly in code
"""

import argparse
import dataclasses
import os


def _bool(text):
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false, got %r" % text)


def _port(text):
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError("a TCP port is 0 to 65535 (0 picks a free one), got %d" % port)
    return port


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise ValueError("must be a whole number above 0, got %d" % value)
    return value


def _positive_seconds(text):
    value = float(text)
    if not value > 0:
        raise ValueError("must be a number of seconds above 0, got %s" % text)
    return value


def _count(text):
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more, got %d" % value)
    return value


def _seconds(text):
    value = float(text)
    if not value >= 0:
        raise ValueError("must be 0 or more seconds, got %s" % text)
    return value


def _days(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a number of days, 0 (keep forever) or more, got %s" % text)
    return value


LOG_LEVELS = ("debug", "info", "warning", "error")


def _log_level(text):
    value = str(text).strip().lower()
    if value not in LOG_LEVELS:
        raise ValueError("expected debug, info, warning or error, got %r" % str(text))
    return value


def _trusted(text):
    """Comma-separated IP addresses or networks, or ``*`` (checked, kept as text)."""
    from .transport.address import Trust
    Trust.parse(text)
    return ",".join(e.strip() for e in str(text).replace(" ", ",").split(",") if e.strip())


def _origins(text):
    """Comma-separated list of allowed origins; empty means same-origin."""
    if isinstance(text, (list, tuple)):
        return tuple(text)
    return tuple(o.strip() for o in str(text).split(",") if o.strip())


def parse_rate(text):
    """Parse ``"COUNT/SECONDS"`` into ``(count, seconds)``; ``"0"`` is off."""
    text = str(text).strip()
    if text in ("0", "off", ""):
        return (0, 0.0)
    count, sep, seconds = text.partition("/")
    try:
        count, seconds = int(count), float(seconds) if sep else 1.0
    except ValueError:
        raise ValueError("rate must look like COUNT/SECONDS, e.g. 20/10")
    if count < 0 or seconds <= 0:
        raise ValueError("rate must look like COUNT/SECONDS, e.g. 20/10")
    return (count, seconds)


def _rate(text):
    parse_rate(text)
    return str(text).strip()


def _api_keys(text):
    """Comma-separated API keys: each non-empty, no white space or control characters."""
    keys = [k.strip() for k in str(text).split(",")]
    if keys == [""]:
        return ""
    for key in keys:
        if not key:
            raise ValueError("an empty API key in the list (two commas, or a comma at an end)")
        if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in key):
            raise ValueError("an API key must not contain white space or control characters")
    return ",".join(keys)


#: Settings whose values never reach logs (repr shows ``***``).
SECRETS = ("secret", "api_key", "jwt_key")


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    flag: str
    env: str
    default: object
    type: object
    help: str


SETTINGS = (
    Setting("host", "--host", "REALTIME_HOST", "127.0.0.1", str,
            "interface to listen on"),
    Setting("port", "--port", "PORT", 5000, _port,
            "TCP port to listen on; 0 picks a free one"),
    Setting("store", "--store", "REALTIME_STORE", "sqlite:///realtime.db", str,
            "message store URL: sqlite:///PATH, memory://, redis://HOST:PORT/DB or "
            "postgresql://USER:PASS@HOST:PORT/DB (several hosts)"),
    Setting("redis", "--redis", "REALTIME_REDIS", "", str,
            "Redis URL for scale-out: broadcasts, presence and (unless --store "
            "is given) the message store go through it"),
    Setting("presence_ttl", "--presence-ttl", "REALTIME_PRESENCE_TTL", 15.0, float,
            "with --redis: seconds after which the people of a silent (dead) process "
            "leave presence; each process heartbeats every third of it"),
    Setting("secret", "--secret", "REALTIME_SECRET", "", str,
            "secret for signed name tokens; empty means unverified names (demo mode)"),
    Setting("api_key", "--api-key", "REALTIME_API_KEY", "", _api_keys,
            "keys for the HTTP API under /api/ (comma-separated, each sent as "
            "'Authorization: Bearer KEY'); empty turns the API off (every /api/ path 404)"),
    Setting("api_rate", "--api-rate", "REALTIME_API_RATE", "100/10", _rate,
            "HTTP API requests allowed per key (per process) as COUNT/SECONDS; over it, "
            "429; 0 turns it off"),
    Setting("token_ttl", "--token-ttl", "REALTIME_TOKEN_TTL", 7 * 24 * 3600, _positive_int,
            "lifetime of issued tokens in seconds"),
    Setting("jwt_key", "--jwt-key", "REALTIME_JWT_KEY", "", str,
            "key for JSON Web Tokens from your backend: a shared secret (HS256), a PEM "
            "public key (RS256, ES256), or the path of a file holding either"),
    Setting("jwt_audience", "--jwt-audience", "REALTIME_JWT_AUDIENCE", "", str,
            "with --jwt-key: the aud claim every JWT must carry; empty means not checked"),
    Setting("jwt_issuer", "--jwt-issuer", "REALTIME_JWT_ISSUER", "", str,
            "with --jwt-key: the iss claim every JWT must carry; empty means not checked"),
    Setting("max_text", "--max-text", "REALTIME_MAX_TEXT", 2000, _positive_int,
            "maximum message text length in characters"),
    Setting("max_packet", "--max-packet", "REALTIME_MAX_PACKET", 64 * 1024, _positive_int,
            "maximum Engine.IO packet size in bytes; a larger one closes that connection"),
    Setting("rate", "--rate", "REALTIME_RATE", "20/10", _rate,
            "message+dm+edit+delete+react events allowed per connection as COUNT/SECONDS; "
            "0 turns it off"),
    Setting("join_rate", "--join-rate", "REALTIME_JOIN_RATE", "20/10", _rate,
            "join events allowed per connection as COUNT/SECONDS; 0 turns it off"),
    Setting("address_rate", "--address-rate", "REALTIME_ADDRESS_RATE", "1000/10", _rate,
            "message+dm+edit+delete+react events allowed per client address as "
            "COUNT/SECONDS; 0 turns it off"),
    Setting("address_join_rate", "--address-join-rate", "REALTIME_ADDRESS_JOIN_RATE",
            "2000/10", _rate,
            "join events allowed per client address as COUNT/SECONDS; 0 turns it off"),
    Setting("connect_rate", "--connect-rate", "REALTIME_CONNECT_RATE", "1000/10", _rate,
            "new connections allowed per client address as COUNT/SECONDS; 0 turns it off"),
    Setting("max_conns_per_address", "--max-conns-per-address",
            "REALTIME_MAX_CONNS_PER_ADDRESS", 1000, _count,
            "open connections allowed per client address; 0 means no cap"),
    Setting("forwarded_allow_ips", "--forwarded-allow-ips", "FORWARDED_ALLOW_IPS",
            "127.0.0.1,::1", _trusted,
            "proxies (IP addresses or networks, comma-separated; '*' for any peer) whose "
            "X-Forwarded-For or Forwarded header names the client address that limits "
            "and logs use; gunicorn's setting of the same name"),
    Setting("max_conns", "--max-conns", "REALTIME_MAX_CONNS", 10000, _count,
            "open connections allowed in total per process; 0 means no cap"),
    Setting("packet_rate", "--packet-rate", "REALTIME_PACKET_RATE", "300/10", _rate,
            "packets and WebSocket frames allowed per connection as COUNT/SECONDS; "
            "a connection over it is closed; 0 turns it off"),
    Setting("max_queue", "--max-queue", "REALTIME_MAX_QUEUE", 1000, _count,
            "packets waiting for one client that does not read before it is "
            "disconnected; 0 means no cap"),
    Setting("header_timeout", "--header-timeout", "REALTIME_HEADER_TIMEOUT", 10.0, _seconds,
            "seconds a client may take to send an HTTP request line and headers"),
    Setting("cors", "--cors", "REALTIME_CORS", "", _origins,
            "comma-separated origins allowed besides the server's own; '*' allows any"),
    Setting("websocket_only", "--websocket-only", "REALTIME_WEBSOCKET_ONLY", False, _bool,
            "accept only the WebSocket transport (no sticky sessions needed)"),
    Setting("shutdown_timeout", "--shutdown-timeout", "REALTIME_SHUTDOWN_TIMEOUT", 10.0,
            _seconds,
            "seconds a graceful stop may take before connections are cut"),
    Setting("ping_interval", "--ping-interval", "REALTIME_PING_INTERVAL", 25, _positive_seconds,
            "seconds between Engine.IO pings"),
    Setting("ping_timeout", "--ping-timeout", "REALTIME_PING_TIMEOUT", 20, _positive_seconds,
            "seconds to wait for a pong before dropping a silent connection"),
    Setting("retention_days", "--retention-days", "REALTIME_RETENTION_DAYS", 0.0, _days,
            "remove messages (with their edits, deletes and reactions) older than this many "
            "days, in the background; fractions allowed; 0 keeps them forever"),
    Setting("retention_per_room", "--retention-per-room", "REALTIME_RETENTION_PER_ROOM", 0,
            _count,
            "keep only the newest this many messages of each room, removing older ones in "
            "the background; 0 keeps them all"),
    Setting("retention_interval", "--retention-interval", "REALTIME_RETENTION_INTERVAL",
            300.0, _positive_seconds,
            "with --retention-days or --retention-per-room: seconds between two trims of "
            "every room"),
    Setting("log_level", "--log-level", "REALTIME_LOG_LEVEL", "info", _log_level,
            "logging level: debug, info, warning or error"),
)


#: Flags that turn off every per-address and per-process flood limit, for
#: tests and load runs whose clients all come from one address.
NO_FLOOD_LIMITS = ("--address-rate", "0", "--join-rate", "0", "--address-join-rate", "0",
                   "--connect-rate", "0", "--max-conns-per-address", "0", "--max-conns", "0",
                   "--packet-rate", "0", "--max-queue", "0")

# Settings whose values never appear in a repr or a log.


def _make_config_class():
    fields = [(s.name, object, dataclasses.field(default=s.default)) for s in SETTINGS]
    cls = dataclasses.make_dataclass("Config", fields, frozen=True)
    cls.__doc__ = ("Frozen server settings; build with :func:`load` or "
                   "``Config(field=value, ...)``.  Fields: "
                   + ", ".join(s.name for s in SETTINGS) + ".")
    cls.__module__ = __name__
    cls.replace = lambda self, **changes: dataclasses.replace(self, **changes)
    cls.rate_limit = property(lambda self: parse_rate(self.rate))
    cls.parse = lambda self, name: parse_rate(getattr(self, name))
    cls.unverified = property(lambda self: not self.secret and not self.jwt_key)
    cls.__repr__ = lambda self: "Config(%s)" % ", ".join(
        "%s=%r" % (s.name, "***" if s.name in SECRETS and getattr(self, s.name)
                   else getattr(self, s.name)) for s in SETTINGS)
    return cls


Config = _make_config_class()


def add_arguments(parser):
    """Add one flag per setting to an argparse parser (defaults left unset)."""
    for s in SETTINGS:
        help_text = "%s (env %s, default %r)" % (s.help, s.env, s.default)
        if s.type is _bool:
            parser.add_argument(s.flag, dest=s.name, action="store_const",
                                const=True, default=None, help=help_text)
        else:
            parser.add_argument(s.flag, dest=s.name, default=None,
                                metavar=s.name.upper(), help=help_text)


class SettingError(ValueError):
    """A setting's value is unusable; the message names the flag or variable."""


def from_sources(args=None, environ=None):
    """Build a Config from parsed flags, then the environment, then defaults.

    Raises :class:`SettingError` naming the flag or environment variable.
    """
    environ = os.environ if environ is None else environ
    values = {}
    for s in SETTINGS:
        raw = getattr(args, s.name, None) if args is not None else None
        source = s.flag
        if raw is None and s.env in environ:
            raw, source = environ[s.env], s.env
        if raw is None:
            continue
        try:
            values[s.name] = s.type(raw)
        except (TypeError, ValueError) as exc:
            raise SettingError("bad value for %s: %s" % (source, _plain(exc))) from None
    return Config(**values)


def _plain(exc):
    """int()'s and float()'s messages, in words."""
    text = str(exc)
    if text.startswith(("invalid literal for int()", "could not convert string to float")):
        return "expected a number, got %s" % text.rsplit(": ", 1)[-1]
    return text


def load(argv=None, environ=None):
    """Parse serve flags from ``argv`` and the environment into a Config.

    A bad value is a usage error, as for argparse: one line, exit code 2.
    """
    parser = argparse.ArgumentParser(prog="realtime serve")
    add_arguments(parser)
    try:
        return from_sources(parser.parse_args(argv or []), environ)
    except SettingError as exc:
        parser.exit(2, "realtime: %s\n" % exc)


def markdown_table():
    """The settings as a Markdown table, for the README."""
    rows = ["| flag | environment | default | meaning |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        default = "`%s`" % s.default if s.default != "" else "(none)"
        rows.append("| `%s` | `%s` | %s | %s |" % (s.flag, s.env, default, s.help))
    return "\n".join(rows)
