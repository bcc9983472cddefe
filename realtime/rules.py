"""The chat's payload rules: pure functions, no I/O, no socketio.

Each ``check_*`` function takes the raw payload a client sent and returns the
normalised values, or raises :class:`Invalid` whose message is the one
sentence the client sees in its failure ack::

    room, text, cid = check_message({"room": "lobby", "text": "hi"}, max_text=2000)
"""

import collections
import re
import unicodedata

from .words import words as query_words

MAX_NAME = 32
MAX_ROOM = 64
MAX_CID = 64
JOIN_HISTORY = 50
SINCE_LIMIT = 500
HISTORY_DEFAULT = 50
HISTORY_MAX = 100
DEFAULT_ROOM = "lobby"
MAX_EMOJI = 16
MAX_QUERY = 200
SEARCH_DEFAULT = 20
SEARCH_MAX = 50
MAX_ID = 2 ** 53 - 1        # ids stay exact in JavaScript (and fit SQLite's INTEGER)

_ROOM_RE = re.compile(r"[A-Za-z0-9._-]{1,%d}" % MAX_ROOM, re.ASCII)


class Invalid(ValueError):
    """A payload broke a rule; ``str(exc)`` is the sentence for the client."""


# Character classes checked with one C-speed regex search instead of a
# unicodedata lookup per character (a 2000-character text cost ~0.4 ms).
# Exactly the code points of the named Unicode category (tests/test_rules.py).
_CATEGORY_RE = {
    "Cs": re.compile("[\ud800-\udfff]"),
    "Cc": re.compile("[\x00-\x1f\x7f-\x9f]"),
}


def _has_category(text, categories):
    for category in categories:
        pattern = _CATEGORY_RE.get(category)
        if pattern is None:
            if any(unicodedata.category(ch) == category for ch in text):
                return True
        elif pattern.search(text) is not None:
            return True
    return False


def _object(data, event):
    if not isinstance(data, dict):
        raise Invalid("%s payload must be an object." % event)
    return data


def _string(data, key, required=True):
    value = data.get(key)
    if value is None:
        if required:
            raise Invalid("%s is required." % key)
        return None
    if not isinstance(value, str):
        raise Invalid("%s must be a string." % key)
    if _has_category(value, ("Cs",)):
        raise Invalid("%s contains unpaired surrogate characters." % key)
    return value


def _integer(data, key, minimum, maximum=None, default=None, required=False):
    value = data.get(key)
    if value is None:
        if required:
            raise Invalid("%s is required." % key)
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("%s must be an integer." % key)
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            raise Invalid("%s must be at least %d." % (key, minimum))
        raise Invalid("%s must be between %d and %d." % (key, minimum, maximum))
    return value


def check_name(value, key="name"):
    """Validate a person's name; return it trimmed."""
    if value is None:
        raise Invalid("%s is required" % key)
    if not isinstance(value, str):
        raise Invalid("%s must be a string" % key)
    name = value.strip()
    if not name:
        raise Invalid("%s is required" % key)
    if len(name) > MAX_NAME:
        raise Invalid("%s must be at most %d characters" % (key, MAX_NAME))
    if _has_category(name, ("Cc",)):
        raise Invalid("%s must not contain control characters" % key)
    if _has_category(name, ("Cs",)):
        raise Invalid("%s contains unpaired surrogate characters" % key)
    return name


def check_auth(auth):
    """Validate the connect ``auth`` object; return ``(name, token)``.

    Refusal messages follow the contract's wording (``name is required``).
    """
    if auth is None:
        raise Invalid("name is required")
    if not isinstance(auth, dict):
        raise Invalid("auth must be an object with a name")
    name = check_name(auth.get("name"))
    token = auth.get("token")
    if token is not None and not isinstance(token, str):
        raise Invalid("token must be a string")
    return name, token


def check_room(value):
    """Validate a room name (1-64 of ASCII letters, digits, ``-_.``)."""
    if value is None:
        raise Invalid("room is required.")
    if not isinstance(value, str):
        raise Invalid("room must be a string.")
    if not _ROOM_RE.fullmatch(value):
        raise Invalid("room must be 1 to %d characters of letters, digits, "
                      "'-', '_' or '.'." % MAX_ROOM)
    return value


def check_text(data, max_text):
    text = _string(data, "text")
    if not text.strip():
        raise Invalid("text must contain at least one non-space character.")
    if len(text) > max_text:
        raise Invalid("text is too long (%d characters, at most %d)."
                      % (len(text), max_text))
    return text


def _id(data, key, minimum, required=False):
    """An id field: an integer from ``minimum`` to :data:`MAX_ID`."""
    value = _integer(data, key, minimum, required=required)
    if value is not None and value > MAX_ID:
        raise Invalid("%s must be at most %d." % (key, MAX_ID))
    return value


def check_join(data):
    """``{"room", "since"?}`` -> ``(room, since or None)``."""
    data = _object(data, "join")
    return check_room(data.get("room")), _id(data, "since", 0)


def check_leave(data):
    """``{"room"}`` -> ``room``."""
    return check_room(_object(data, "leave").get("room"))


def check_message(data, max_text):
    """``{"room", "text", "cid"?}`` -> ``(room, text, cid or None)``."""
    data = _object(data, "message")
    room = check_room(data.get("room"))
    text = check_text(data, max_text)
    cid = _string(data, "cid", required=False)
    if cid is not None and not 1 <= len(cid) <= MAX_CID:
        raise Invalid("cid must be 1 to %d characters." % MAX_CID)
    return room, text, cid


def check_reply_to(data):
    """The optional ``reply_to`` of a ``message`` payload: an id, or None."""
    return _id(data, "reply_to", 1)


def _target(data, event):
    data = _object(data, event)
    return data, check_room(data.get("room")), _id(data, "id", 1, required=True)


def check_edit(data, max_text):
    """``{"room", "id", "text"}`` -> ``(room, id, text)``."""
    data, room, id = _target(data, "edit")
    return room, id, check_text(data, max_text)


def check_delete(data):
    """``{"room", "id"}`` -> ``(room, id)``."""
    return _target(data, "delete")[1:]


def check_react(data):
    """``{"room", "id", "emoji", "on"}`` -> ``(room, id, emoji, on)``."""
    data, room, id = _target(data, "react")
    emoji = _string(data, "emoji")
    if not 1 <= len(emoji) <= MAX_EMOJI:
        raise Invalid("emoji must be 1 to %d characters." % MAX_EMOJI)
    if any(ch.isspace() for ch in emoji) or _has_category(emoji, ("Cc",)):
        raise Invalid("emoji must not contain white space or control characters.")
    on = data.get("on")
    if not isinstance(on, bool):
        raise Invalid("on must be true or false.")
    return room, id, emoji, on


def check_read(data):
    """``{"room", "id"}`` -> ``(room, id)``; 0 is allowed (it moves nothing)."""
    data = _object(data, "read")
    return check_room(data.get("room")), _id(data, "id", 0, required=True)


def check_search(data):
    """``{"room", "q", "limit"?}`` -> ``(room, query words, limit)`` (see :mod:`realtime.words`)."""
    data = _object(data, "search")
    room = check_room(data.get("room"))
    q = _string(data, "q")
    if not 1 <= len(q) <= MAX_QUERY:
        raise Invalid("q must be 1 to %d characters." % MAX_QUERY)
    query = query_words(q)
    if not query:
        raise Invalid("q must contain a word (letters or digits).")
    limit = _integer(data, "limit", 1, SEARCH_MAX, SEARCH_DEFAULT)
    return room, query, limit


def check_history(data):
    """``{"room", "before"?, "limit"?}`` -> ``(room, before or None, limit)``."""
    data = _object(data, "history")
    room = check_room(data.get("room"))
    before = _id(data, "before", 1)
    limit = _integer(data, "limit", 1, HISTORY_MAX, HISTORY_DEFAULT)
    return room, before, limit


def check_typing(data):
    """``{"room", "typing"}`` -> ``(room, typing)``."""
    data = _object(data, "typing")
    room = check_room(data.get("room"))
    typing = data.get("typing")
    if not isinstance(typing, bool):
        raise Invalid("typing must be true or false.")
    return room, typing


def check_dm(data, max_text):
    """``{"to", "text"}`` -> ``(to, text)``."""
    data = _object(data, "dm")
    try:
        to = check_name(data.get("to"), key="to")
    except Invalid as exc:
        raise Invalid(str(exc) + ".")
    return to, check_text(data, max_text)


MAX_MUTE = 30 * 24 * 3600     # seconds: a mute lasts at most 30 days


def _target_name(data):
    try:
        return check_name(data.get("name"))
    except Invalid as exc:
        raise Invalid(str(exc) + ".")


def check_kick(data):
    """``{"room", "name"}`` -> ``(room, name)`` (the name trimmed, as connections have it)."""
    data = _object(data, "kick")
    return check_room(data.get("room")), _target_name(data)


def check_mute(data):
    """``{"room", "name", "seconds"}`` -> ``(room, name, seconds)``; 0 lifts a mute."""
    data = _object(data, "mute")
    room = check_room(data.get("room"))
    name = _target_name(data)
    value = data.get("seconds")
    if value is None:
        raise Invalid("seconds is required.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("seconds must be a whole number of seconds.")
    if not 0 <= value <= MAX_MUTE:
        raise Invalid("seconds must be between 0 and %d (30 days)." % MAX_MUTE)
    return room, name, value


def mute_until(seconds, now_ms):
    """When a mute of ``seconds`` set at ``now_ms`` ends (ms epoch); 0 lifts it."""
    return 0 if seconds == 0 else now_ms + seconds * 1000


def check_rooms(data):
    """``{}`` (or nothing) -> None."""
    if data is not None:
        _object(data, "rooms")


class RateLimiter:
    """At most ``count`` events in any window of ``seconds`` (sliding log).

    ``count == 0`` turns the limit off.  Pass the current time in, so the
    limiter stays pure::

        limiter = RateLimiter(20, 10.0)
        if not limiter.allow(time.monotonic()): ...
    """

    __slots__ = ("count", "seconds", "_times")

    def __init__(self, count, seconds):
        self.count = count
        self.seconds = seconds
        self._times = None          # made at the first event (an empty deque is 600 B)

    def allow(self, now):
        if not self.count:
            return True
        times = self._times
        if times is None:
            times = self._times = collections.deque()
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if len(times) >= self.count:
            return False
        times.append(now)
        return True
