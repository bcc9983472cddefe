"""A host app's own Socket.IO events beside the chat, through ``app.sio``.

    python examples/custom_namespace.py [--port 5000] [--store sqlite:///chat.db] ...

takes the same flags as ``realtime serve``.  ``app.sio`` is the
python-socketio server, so the usual decorators work:

- namespace ``/tools``, which lets in only those the chat lets in (the
  chat's own authenticator: tokens, JWT or the ``authenticate`` hook), with
  an event ``stats`` answering the number of chat connections and rooms;
- an event ``ping`` on the chat's namespace ``/``, answered ``{"ok": true, "ts"}``.

Host events on ``/`` take precedence over the chat's events of the same name,
and skip the chat's rate limits: pick new names and keep them cheap.
"""

if __name__ == "__main__":
    from gevent import monkey
    monkey.patch_all()

import sys  # noqa: E402
import time  # noqa: E402

import socketio  # noqa: E402

import realtime  # noqa: E402
from realtime.rules import Invalid  # noqa: E402


def create(config):
    app = realtime.create_app(config)
    sio = app.sio
    people = {}                              # /tools sid -> name

    @sio.on("connect", namespace="/tools")
    def tools_connect(sid, environ, auth=None):
        try:
            who = app.authenticator.authenticate(environ, auth)
        except Invalid as exc:
            raise socketio.exceptions.ConnectionRefusedError(str(exc))
        people[sid] = who.name

    @sio.on("disconnect", namespace="/tools")
    def tools_disconnect(sid, reason=None):
        people.pop(sid, None)

    @sio.on("stats", namespace="/tools")
    def stats(sid, data=None):
        return {"ok": True, "for": people.get(sid), "connections": len(app.chat.conns),
                "rooms": len(app.presence.rooms())}

    @sio.on("ping")                          # namespace "/", beside the chat's events
    def ping(sid, data=None):
        return {"ok": True, "ts": int(time.time() * 1000)}

    return app


def main(argv=None):
    from realtime.server import run
    return run(create, "custom_namespace", argv)


if __name__ == "__main__":
    sys.exit(main())
