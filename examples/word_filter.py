"""The chat with a word filter: an ``on_message`` hook changes or refuses messages.

    python examples/word_filter.py [--port 5000] [--store sqlite:///chat.db] ...

takes the same flags as ``realtime serve``.  Masked words are stored with
asterisks; a message with a link is refused with a failure ack (nothing is
stored or broadcast).  Edits go through the same hook.
"""

if __name__ == "__main__":
    from gevent import monkey
    monkey.patch_all()

import re  # noqa: E402
import sys  # noqa: E402

import realtime  # noqa: E402

MASKED = ("darn", "heck", "frak")
_MASKED_RE = re.compile(r"\b(%s)\b" % "|".join(MASKED), re.IGNORECASE)
_LINK_RE = re.compile(r"https?://|www\.", re.IGNORECASE)


def on_message(message):
    """The text to store, or Refused: the hook sees room, name, role and text."""
    if _LINK_RE.search(message["text"]) and message["role"] != "moderator":
        raise realtime.Refused("links are not allowed in %s." % message["room"])
    return _MASKED_RE.sub(lambda m: "*" * len(m.group(0)), message["text"])


def create(config):
    return realtime.create_app(config, on_message=on_message)


def main(argv=None):
    from realtime.server import run
    return run(create, "word_filter", argv)


if __name__ == "__main__":
    sys.exit(main())
