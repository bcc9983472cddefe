"""What each HTTP API call does, on the chat's own parts.

Each method takes the path's parameters (and the query or the JSON body),
checks them with :mod:`realtime.rules` (the Socket.IO events' rules), and
returns ``(status, body, headers)``; a refusal raises :class:`ApiError`
(or :class:`~realtime.rules.Invalid`, a 400).  Writes go through the
archive's queue like a Socket.IO ``message`` or ``delete`` (stored durably,
then broadcast from the delivery greenlet); reads run in the archive's
thread pool, so no call blocks the hub.
"""

import logging

import gevent.event

from .. import rules
from ..chat.common import now_ms
from ..rules import Invalid
from ..store import Delete, Post, Refused, StoreError

log = logging.getLogger("realtime.api")


class ApiError(Exception):
    """An answer other than success: ``status`` and the one sentence for the caller."""

    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


class Handlers:
    """The API calls of one app; ``disconnect(name) -> count`` disconnects a person
    (by default the chat's, deployment-wide through the control channel)."""

    def __init__(self, app, disconnect=None):
        self.app = app
        self.chat = app.chat
        self.archive = app.archive
        self.presence = app.presence
        self.config = app.config
        self.disconnect = disconnect or app.chat.disconnect_user

    # -- messages ---------------------------------------------------------

    def post_message(self, room, body):
        room, text, cid = rules.check_message(dict(body, room=room), self.config.max_text)
        reply_to = rules.check_reply_to(body)
        name = _name(body.get("name"))
        # A mute is on the name, whoever posts for it (a Socket.IO connection or a key).
        until = self.chat.muted_until(room, name)
        if until:
            raise ApiError(409, "%s is muted in %s (until %d ms epoch)." % (name, room, until))
        msg, created = self._write(Post(room, name, text, cid, now_ms(), reply_to),
                                   self._posted)
        if not created:
            if msg["room"] != room:
                raise ApiError(409, "cid %s was already used by %s in room %s."
                               % (cid, name, msg["room"]))
            return 200, {"message": msg}, ()
        return 201, {"message": msg}, ()

    def _posted(self, result):
        msg, created = result
        if created:
            self.chat.metrics.stored.inc()
            self.chat.broadcast(msg["room"], msg)

    def list_messages(self, room, query):
        room = rules.check_room(room)
        before, since, limit = (_query_int(query, key) for key in ("before", "since", "limit"))
        # The Socket.IO events' rules for each value (ranges, sentences).
        rules.check_join({"room": room, "since": since})
        _, before, limit = rules.check_history({"room": room, "before": before,
                                                "limit": limit})
        if since is not None and before is not None:
            # Both: the messages between them, oldest first; more: newer ones
            # below before were left out.
            found, _ = self.archive.after(room, since, limit + 1)
            inside = [m for m in found if m["id"] < before]
            messages, more = inside[:limit], len(inside) > limit
        elif since is not None:
            messages, more = self.archive.after(room, since, limit)
        elif before is not None:
            messages, more = self.archive.before(room, before, limit)
        else:
            messages, more = self.archive.latest(room, limit)
        if not messages:
            self._known(room)
        return 200, {"messages": messages, "more": bool(more)}, ()

    def delete_message(self, room, id):
        room = rules.check_room(room)
        if not id.isdigit() or not id.isascii():
            raise Invalid("id must be an integer.")
        _, id = rules.check_delete({"room": room, "id": int(id)})
        state, _ = self._write(Delete(room, id, None, now_ms(), moderator=True),
                               self._deleted)
        return 200, {"message": state}, ()

    def _deleted(self, result):
        _, upd = result
        if upd is not None:
            self.chat.metrics.updates.inc()
            self.chat.broadcast(upd["room"], upd, event="update")

    # -- rooms and people -------------------------------------------------

    def list_rooms(self, query):
        return 200, {"rooms": [{"room": room, "members": count}
                               for room, count in self.presence.rooms()]}, ()

    def list_members(self, room, query):
        room = rules.check_room(room)
        members = self.presence.members(room)
        if not members:
            self._known(room)
        return 200, {"room": room, "members": members}, ()

    def disconnect_user(self, name, body=None):
        name = _name(name)
        return 200, {"name": name, "connections": self.disconnect(name)}, ()

    # -- shared -----------------------------------------------------------

    def _known(self, room):
        if not self.presence.count(room) and not self.archive.has_room(room):
            raise ApiError(404, "unknown room %s." % room)

    def _write(self, op, broadcast):
        """Queue ``op`` behind every other write; wait until it is durable.

        ``broadcast(result)`` runs on the archive's delivery greenlet, in
        commit order, as for the Socket.IO events.
        """
        done = gevent.event.AsyncResult()

        def stored(result):
            if not isinstance(result, (StoreError, Refused)):
                try:
                    broadcast(result)
                except Exception:
                    # Stored is stored: the answer still goes out, and
                    # members catch up with join + since.
                    log.exception("API broadcast of %s failed", type(op).__name__)
            done.set(result)
        self.archive.submit(op, stored)
        result = done.get()
        if isinstance(result, StoreError):
            raise result
        if isinstance(result, Refused):
            raise self._refusal(op, result)
        return result

    def _refusal(self, op, refused):
        """A store refusal as an answer: an unknown message is 404, a deleted one 409."""
        text = str(refused)
        if isinstance(op, Delete):
            return ApiError(404 if text.startswith("there is no message") else 409, text)
        if getattr(op, "reply_to", None) is not None:
            found, _ = self.archive.after(op.room, op.reply_to - 1, 1)
            if found and found[0]["id"] == op.reply_to:
                return ApiError(409, "reply_to names message %d, which is deleted."
                                % op.reply_to)
            return ApiError(404, "reply_to: there is no message %d in room %s."
                            % (op.reply_to, op.room))
        return ApiError(409, text)


def _name(value):
    try:
        return rules.check_name(value)
    except Invalid as exc:
        raise Invalid(str(exc) + ".")


def _query_int(query, key):
    """An integer query parameter, or None when absent."""
    value = query.get(key)
    if value is None:
        return None
    text = value
    if not text.lstrip("-").isdigit() or not text.isascii() or len(text) > 20:
        raise Invalid("%s must be an integer." % key)
    return int(text)
