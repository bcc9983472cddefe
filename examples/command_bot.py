"""The chat with a built-in bot: ``/time`` and ``/help`` answered by an ``on_message`` hook.

    python examples/command_bot.py [--port 5000] [--store sqlite:///chat.db] ...

takes the same flags as ``realtime serve``.  A command is stored like any
message, and the bot's answer is posted right after it (``app.post``: stored,
then broadcast, so it gets the next id and reaches every member); an unknown
command gets a failure ack instead.  Unlike ``examples/time_bot.py`` (a
separate client process), this bot lives in the server.
"""

if __name__ == "__main__":
    from gevent import monkey
    monkey.patch_all()

import datetime  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402

import realtime  # noqa: E402

BOT = "bot"


def _time():
    return "It is %s." % datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC")


COMMANDS = {
    "/time": _time,
    "/help": lambda: "Commands: %s." % ", ".join(sorted(COMMANDS)),
}


def create(config):
    app = None

    def on_message(message):
        text = message["text"].strip()
        if not text.startswith("/") or "edit" in message:
            return None                      # not a command: stored as sent
        command = COMMANDS.get(text.split()[0].lower())
        if command is None:
            raise realtime.Refused("unknown command %s; try /help." % text.split()[0][:32])
        # After this hook returns the command is queued for storing; the answer,
        # queued from a greenlet that runs later, is stored after it.
        gevent.spawn(app.post, message["room"], BOT, command())
        return None

    app = realtime.create_app(config, on_message=on_message)
    return app


def main(argv=None):
    from realtime.server import run
    return run(create, "command_bot", argv)


if __name__ == "__main__":
    sys.exit(main())
