"""How an edit, a delete or a reaction changes a message: pure, shared by every store.

Each function takes the message's current state (a message object) and the
change, and returns the new state, or ``None`` when nothing changes; it
raises :class:`~realtime.store.base.Refused` when a rule forbids the change::

    new = edit(state, "alice", "fixed typo", ts)      # None: same text
"""

from .base import MAX_REACTIONS, Refused, message

KINDS = ("edit", "delete", "react")


def missing(room, id):
    return Refused("there is no message %d in room %s." % (id, room))


def bad_reply(room):
    return Refused("reply_to must name a message of room %s that is not deleted." % room)


def above_top(id, room):
    return Refused("id %d is above the last entry of room %s." % (id, room))


def _live(state):
    if state.get("deleted"):
        raise Refused("message %d is deleted." % state["id"])


def edit(state, name, text, ts):
    """Only the author, not a deleted message; the same text changes nothing."""
    if state["name"] != name:
        raise Refused("only the author can edit message %d." % state["id"])
    _live(state)
    if state["text"] == text:
        return None
    new = dict(state, text=text, edited=ts)
    return new


def may_delete(author, by, moderator):
    """The delete rule: the author, or a moderator (``by`` None: an API/system delete)."""
    if moderator:
        return
    if by is None or by != author:
        raise Refused("only a moderator can delete another person's message.")


def delete(state, by, moderator, ts):
    """Deleted state: empty text, no reactions, no reply; ``None`` if already deleted."""
    may_delete(state["name"], by, moderator)
    if state.get("deleted"):
        return None
    return message(state["id"], state["room"], state["name"], "", state["ts"], deleted=True)


def react(state, name, emoji, on, max_reactions=MAX_REACTIONS):
    """Add or remove ``name`` under ``emoji``; names sorted, empty emoji dropped."""
    _live(state)
    reactions = state.get("reactions") or {}
    names = reactions.get(emoji, [])
    if on:
        if name in names:
            return None
        if emoji not in reactions and len(reactions) >= max_reactions:
            raise Refused("message %d already has %d different reactions."
                          % (state["id"], max_reactions))
        names = sorted(names + [name])
    else:
        if name not in names:
            return None
        names = [n for n in names if n != name]
    reactions = dict(reactions)
    if names:
        reactions[emoji] = names
    else:
        del reactions[emoji]
    new = dict(state)
    if reactions:
        new["reactions"] = reactions
    else:
        new.pop("reactions", None)
    return new


def scrubbed(entry, state):
    """An earlier update of a message that is now deleted, carrying the deleted state.

    So a deleted message's text and reactions cannot be replayed from its
    older updates.
    """
    return dict(entry, message=state)
