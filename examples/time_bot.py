"""A bot that answers ``!time`` in a room with the server-independent UTC time.

    python examples/time_bot.py --url http://127.0.0.1:5000 --room lobby [--name timebot]

Runs until Ctrl-C; reconnects by itself and never answers a message twice.
"""

import argparse
import datetime
import signal
import sys

from realtime.client import ChatClient, ChatError


def answer(text):
    """The bot's reply to ``text``, or None when it is not a command."""
    if text.strip() == "!time":
        return "It is " + datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S UTC") + "."
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--room", default="lobby")
    parser.add_argument("--name", default="timebot")
    parser.add_argument("--token", default=None)
    args = parser.parse_args(argv)

    bot = ChatClient(args.url, args.name, token=args.token, reconnect=True)
    signal.signal(signal.SIGINT, lambda *_: bot.stop())
    try:
        bot.connect()
        print("answering !time in %s as %s" % (args.room, args.name), flush=True)
        for msg in bot.messages(args.room):
            reply = answer(msg["text"]) if msg["name"] != args.name else None
            if reply:
                # cid from the question's id: a retry after a reconnect is not doubled.
                bot.say(args.room, reply, cid="time-%d" % msg["id"])
    except ChatError as exc:
        print("time_bot: %s" % exc, file=sys.stderr)
        return 1
    finally:
        bot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
