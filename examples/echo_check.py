"""A load-free health check: post one message and wait for its own broadcast.

    python examples/echo_check.py --url http://127.0.0.1:5000 [--room echo-check]

Prints the round trip in milliseconds and exits 0, or prints why on stderr
and exits 1.  Use it from cron or a deploy script after /healthz.
"""

import argparse
import sys
import time
import uuid

from realtime.client import ChatClient, ChatError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--room", default="echo-check")
    parser.add_argument("--name", default="echo-check")
    parser.add_argument("--token", default=None)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)

    try:
        with ChatClient(args.url, args.name, token=args.token, timeout=args.timeout) as chat:
            chat.join(args.room)
            started = time.perf_counter()
            stored = chat.say(args.room, "echo " + uuid.uuid4().hex)
            chat.wait_message(lambda m: m.get("id") == stored["id"] and m["room"] == args.room)
            elapsed_ms = (time.perf_counter() - started) * 1000
    except ChatError as exc:
        print("echo_check: %s" % exc, file=sys.stderr)
        return 1
    print("ok: message %d echoed in %.1f ms" % (stored["id"], elapsed_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
