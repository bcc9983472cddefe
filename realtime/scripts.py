"""``realtime say`` and ``realtime listen``: the chat from the shell.

    realtime say --url URL --name NAME --room ROOM [--token T] TEXT...
        joins ROOM, posts TEXT (with a fresh cid), prints the stored message as JSON
    realtime listen --url URL --name NAME --room ROOM [--token T] [--since ID]
        prints each message as one JSON line until interrupted (Ctrl-C exits 0);
        reconnects by itself and replays what it missed with `since`

``--token -`` reads the token from the first line of standard input, which
keeps it out of the process list: ``realtime token bot | realtime say --token - ...``.
Exit codes: 0 ok, 1 refused or failed (the reason on stderr), 2 usage.
"""

import argparse
import json
import signal
import sys
import urllib.parse


def add_parsers(sub):
    """Add the ``say`` and ``listen`` subcommands to an argparse subparsers object."""
    say = sub.add_parser("say", help="post a message and print it as stored (JSON)")
    _common(say)
    say.add_argument("--cid", default=None,
                     help="client id making a retry idempotent (default: a fresh one)")
    say.add_argument("text", nargs="+", metavar="TEXT", help="the message; words are joined "
                     "with spaces")

    listen = sub.add_parser("listen", help="print each message of a room as one JSON line")
    _common(listen)
    listen.add_argument("--since", type=_since, default=None, metavar="ID",
                        help="first print every stored message with a larger id (0: all)")


def _url(text):
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            "must start with http:// or https://, e.g. http://127.0.0.1:5000 (got %r)" % text)
    try:
        parts.port
    except ValueError:
        raise argparse.ArgumentTypeError("has a bad port number (got %r)" % text) from None
    return text


def _since(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a message id (a whole number), got %r" % text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more, got %d" % value)
    return value


def _common(parser):
    from .cli import positive_seconds
    parser.add_argument("--url", required=True, type=_url,
                        help="the server, e.g. http://127.0.0.1:5000")
    parser.add_argument("--name", required=True, help="the name to chat as")
    parser.add_argument("--room", required=True, help="the room")
    parser.add_argument("--token", default=None,
                        help="token for NAME when the server has a secret; '-' reads stdin")
    parser.add_argument("--transport", choices=("websocket", "polling"), default=None,
                        help="force one transport (default: WebSocket, falling back to "
                        "long-polling when WebSocket does not get through)")
    parser.add_argument("--timeout", type=positive_seconds, default=10.0,
                        help="seconds to wait for the connection and each answer")


def run(args, out=None, err=None):
    """Run a parsed ``say`` or ``listen``; return the exit code."""
    from .client import ChatClient, ChatError
    out = out or sys.stdout
    err = err or sys.stderr
    token = args.token
    if token == "-":
        token = sys.stdin.readline().strip()
    client = ChatClient(args.url, args.name, token=token,
                        transports=[args.transport] if args.transport else None,
                        timeout=args.timeout, reconnect=args.command == "listen")
    try:
        client.connect()
        if args.command == "say":
            msg = client.say(args.room, " ".join(args.text), cid=args.cid)
            _print(out, msg)
        else:
            # Ctrl-C stops the stream quietly (exit 0): a plain flag, because
            # a KeyboardInterrupt raised inside gevent's hub gets printed.
            previous = signal.signal(signal.SIGINT, lambda *_: client.stop())
            try:
                for msg in client.messages(args.room, since=args.since):
                    _print(out, msg)
            finally:
                signal.signal(signal.SIGINT, previous)
        return 0
    except ChatError as exc:
        print("realtime %s: %s" % (args.command, exc), file=err)
        return 1
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        # `realtime listen ... | head` closed the pipe: a normal way to stop.
        _silence_stdout()
        return 0
    finally:
        client.close()


def _print(out, msg):
    out.write(json.dumps(msg, ensure_ascii=False) + "\n")
    out.flush()


def _silence_stdout():
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
