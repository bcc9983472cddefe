"""The ``realtime`` command: ``serve`` (the default), ``token``, ``say``, ``listen``.

    realtime                       # serve on http://127.0.0.1:5000
    realtime serve --port 0        # any free port; prints the URL it got
    realtime token alice           # a token for alice (needs the secret)
    realtime say --url http://127.0.0.1:5000 --name bot --room lobby hello there
    realtime listen --url http://127.0.0.1:5000 --name log --room lobby | jq .text

Exit codes: 0 ok, 1 refused or failed (the reason on stderr), 2 usage.
"""

import argparse
import logging
import sys

from . import __version__, config as settings

COMMANDS = ("serve", "token", "say", "listen")


def _parser():
    parser = argparse.ArgumentParser(
        prog="realtime", description="Realtime chat server (gevent + Socket.IO).")
    parser.add_argument("--version", action="version", version="realtime " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the chat server (default)")
    settings.add_arguments(serve)

    token = sub.add_parser("token", help="print a token for NAME")
    token.add_argument("name", metavar="NAME")
    token.add_argument("--secret", default=None, help="the server's secret (env REALTIME_SECRET)")
    token.add_argument("--ttl", dest="token_ttl", default=None,
                       help="lifetime in seconds (env REALTIME_TOKEN_TTL)")

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


def _serve(args):
    config = settings.from_sources(args)
    logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .app import create_app
    from .server import serve
    try:
        app = create_app(config)
    except ValueError as exc:
        print("realtime: %s" % exc, file=sys.stderr)
        return 2
    serve(app, config)
    return 0


def _token(args):
    from . import auth, rules
    config = settings.from_sources(args)
    if not config.secret:
        print("realtime: no secret: pass --secret or set REALTIME_SECRET", file=sys.stderr)
        return 2
    try:
        name = rules.check_name(args.name)
    except rules.Invalid as exc:
        print("realtime: %s" % exc, file=sys.stderr)
        return 2
    print(auth.issue(config.secret, name, config.token_ttl))
    return 0
