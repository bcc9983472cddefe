"""The embedder's Python hooks, handed to :func:`realtime.create_app` or :func:`realtime.mount`::

    def authenticate(environ, auth):        # on every connect without a token
        user = session_user(environ)        # e.g. from the host app's cookie
        return {"name": user.name, "role": "member"} if user else None   # None: refused

    def on_message(message):                # before a message (or an edit) is stored
        if "spam" in message["text"]:
            raise realtime.Refused("no spam here.")       # failure ack, nothing stored
        return message["text"].replace("darn", "d**n")    # the text to store instead

    app = realtime.create_app(config, authenticate=authenticate, on_message=on_message)
    app.post("lobby", "bot", "hello")       # server-side post: stored, then broadcast

``message`` is a dict: ``room``, ``name``, ``role``, ``text``, and ``reply_to``
when given, or ``edit`` (the id of the message being edited) for an edit.
``on_message`` returns None (keep the text), a new text, or a dict whose
``text`` replaces it; the result is checked like any text.  Hooks run on
the server's event loop: a slow call (a database lookup) is fine under
gevent's patched sockets; heavy CPU work is not.
"""

import logging

from . import rules
from .rules import Invalid

log = logging.getLogger("realtime.hooks")

HOOK_FAILED = "the message could not be checked; it was not sent."


class Refused(Invalid):
    """Raise it from a hook with one sentence: the client gets it as the failure ack
    (``on_message``) or as the ``connect_error`` message (``authenticate``)."""


class MessageHook:
    """Runs the embedder's ``on_message`` for a connection's text; returns the text to store."""

    def __init__(self, fn, max_text):
        self.fn = fn
        self.max_text = max_text

    def __call__(self, conn, room, text, reply_to=None, edit=None):
        message = {"room": room, "name": conn.name, "role": conn.role, "text": text}
        if reply_to is not None:
            message["reply_to"] = reply_to
        if edit is not None:
            message["edit"] = edit
        try:
            result = self.fn(message)
        except Invalid:
            raise
        except Exception:
            log.exception("the on_message hook failed")
            raise Invalid(HOOK_FAILED) from None
        if result is None:
            return text
        if isinstance(result, dict):
            result = result.get("text")
        if not isinstance(result, str):
            log.error("on_message returned %r; it must return None, a text or a dict "
                      "with a text", type(result).__name__)
            raise Invalid(HOOK_FAILED)
        return rules.check_text({"text": result}, self.max_text)


def post(chat, room, name, text, cid=None):
    """Store a message from ``name`` in ``room`` and broadcast it (no membership, no hook).

    Returns a :class:`~realtime.transport.deferred.Later` resolved with the
    stored message, or with a :class:`~realtime.rules.Invalid` when it was
    not stored.  Bad input raises Invalid at once.
    """
    from .chat.common import now_ms
    from .transport.deferred import Later
    room = rules.check_room(room)
    name = rules.check_name(name)
    text = rules.check_text({"text": text}, chat.config.max_text)
    result = Later()

    def stored(outcome):
        msg, created = outcome
        if created:
            chat.metrics.stored.inc()
            chat.broadcast(room, msg)
        return msg

    def done(ack):
        result.resolve(ack if not (isinstance(ack, dict) and ack.get("ok") is False)
                       else Invalid(ack["error"]))
    chat.after_store((room, name, text, cid, now_ms()), stored).then(done)
    return result
