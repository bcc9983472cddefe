"""The ``realtime`` command: ``serve`` (the default), ``token``, ``say``, ``listen``.

    realtime                       # serve on http://127.0.0.1:5000
    realtime serve --port 0        # any free port; prints the URL it got
    realtime token alice           # a token for alice (needs the secret)
    realtime token mod --role moderator
    realtime say --url http://127.0.0.1:5000 --name bot --room lobby hello there
    realtime listen --url http://127.0.0.1:5000 --name log --room lobby | jq .text

Exit codes: 0 ok, 1 refused or failed (the reason on stderr), 2 usage.
"""

import argparse
import sys

from . import __version__, config as settings

COMMANDS = ("serve", "token", "say", "listen")


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (exit code 2)."""

    def error(self, message):
        self.exit(2, "%s: %s (see %s --help)\n" % (self.prog, message, self.prog))


def positive_seconds(text):
    """argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds, got %r" % text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds, got %s" % text)
    return value


def _ttl(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number of seconds, got %r" % text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds, got %d" % value)
    return value


def _parser():
    parser = Parser(
        prog="realtime", description="Realtime chat server (gevent + Socket.IO).")
    parser.add_argument("--version", action="version", version="realtime " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    serve = sub.add_parser("serve", help="run the chat server (default)")
    settings.add_arguments(serve)

    token = sub.add_parser("token", help="print a token for NAME")
    token.add_argument("name", metavar="NAME")
    token.add_argument("--secret", default=None, help="the server's secret (env REALTIME_SECRET)")
    token.add_argument("--ttl", type=_ttl, default=None,
                       help="lifetime in seconds (env REALTIME_TOKEN_TTL, default 7 days)")
    token.add_argument("--role", choices=("member", "moderator"), default="member",
                       help="what the token's holder may do (default member)")

    from . import scripts
    scripts.add_parsers(sub)
    return parser


def main(argv=None):
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "serve")
    args = _parser().parse_args(argv)
    if args.command in ("say", "listen"):
        from . import scripts
        return scripts.run(args)
    return {"serve": _serve, "token": _token}[args.command](args)


def _fail(command, message, code):
    print("%s: %s" % (command, message), file=sys.stderr)
    return code


def _serve(args):
    """Every start-up mistake is one line on stderr: exit 2 for a setting, 1 otherwise."""
    try:
        config = settings.from_sources(args)
    except settings.SettingError as exc:
        return _fail("realtime", exc, 2)
    from .selfcheck import configure_logging, startup_failure
    configure_logging(config)
    from .server import ListenError, bind, serve
    try:
        listener = bind(config)      # first: a busy port must not wait for the store
    except ListenError as exc:
        return _fail("realtime", exc, 1)
    from .app import create_app
    try:
        app = create_app(config)
    except Exception as exc:
        why = startup_failure(exc, config)
        listener.close()
        if why is None:
            raise
        return _fail("realtime", why, 2 if isinstance(exc, ValueError) else 1)
    serve(app, config, listener=listener)
    return 0


def _token(args):
    from . import auth, rules
    try:
        config = settings.from_sources(args)
    except settings.SettingError as exc:
        return _fail("realtime token", exc, 2)
    if not config.secret:
        print("realtime: no secret: pass --secret or set REALTIME_SECRET", file=sys.stderr)
        return 2
    try:
        name = rules.check_name(args.name)
    except rules.Invalid as exc:
        print("realtime: %s" % exc, file=sys.stderr)
        return 2
    print(auth.issue(config.secret, name, args.ttl or config.token_ttl, role=args.role))
    return 0
