"""Property tests: every rules.check_* returns normalised values or raises Invalid."""

import string

from hypothesis import HealthCheck, given, settings, strategies as st

from realtime import rules
from realtime.rules import Invalid

# Characters that break naive code: lone surrogates, RTL/LTR overrides,
# zero-width, NUL and other controls, BOM, combining marks, astral emoji.
NASTY = ["\ud800", "\udfff", "\u202e", "\u202d", "\u200b", "\u200d", "\ufeff", "\x00",
         "\x1b", "\x7f", "\u0301", "\U0001f600", "\u2028", " ", "\t", "\n"]
nasty_text = st.lists(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=80).map(
    "".join)
texts = st.one_of(st.text(max_size=50), nasty_text, st.text(min_size=1990, max_size=2010))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts,
                    st.integers(min_value=-2**70, max_value=2**70))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
room_like = st.one_of(st.sampled_from(["lobby", "a", "x" * 64, "x" * 65, "a:b", "a b"]),
                      st.text(alphabet=string.ascii_letters + "-_.:/ ", max_size=70), texts)
fields = {
    "room": room_like, "text": texts, "cid": texts, "since": json_values,
    "before": json_values, "limit": json_values, "typing": json_values, "to": texts,
    "name": texts, "token": texts,
}


@st.composite
def payloads(draw):
    """Mostly objects with the protocol's keys (valid or not), sometimes anything."""
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    keys = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=5))
    data = {k: draw(st.one_of(fields[k], json_values)) for k in keys}
    if draw(st.booleans()):
        data.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return data


CHECKS = {
    "join": lambda d: rules.check_join(d),
    "leave": lambda d: rules.check_leave(d),
    "message": lambda d: rules.check_message(d, 2000),
    "history": lambda d: rules.check_history(d),
    "typing": lambda d: rules.check_typing(d),
    "dm": lambda d: rules.check_dm(d, 2000),
    "rooms": lambda d: rules.check_rooms(d),
    "auth": lambda d: rules.check_auth(d),
}


def valid_room(room):
    return isinstance(room, str) and rules._ROOM_RE.fullmatch(room) is not None


def valid_text(text, max_text=2000):
    return (isinstance(text, str) and text.strip() and len(text) <= max_text
            and not any(0xD800 <= ord(c) <= 0xDFFF for c in text))


def check_result(event, data, result):
    """The normalised values each check promises."""
    if event == "join":
        room, since = result
        assert valid_room(room) and (since is None or (type(since) is int and since >= 0))
    elif event == "leave":
        assert valid_room(result)
    elif event == "message":
        room, text, cid = result
        assert valid_room(room) and valid_text(text) and text == data["text"]
        assert cid is None or (isinstance(cid, str) and 1 <= len(cid) <= 64)
    elif event == "history":
        room, before, limit = result
        assert valid_room(room) and type(limit) is int and 1 <= limit <= 100
        assert before is None or (type(before) is int and before >= 1)
    elif event == "typing":
        room, typing = result
        assert valid_room(room) and typing in (True, False)
    elif event == "dm":
        to, text = result
        assert isinstance(to, str) and 1 <= len(to) <= 32 and to == to.strip()
        assert valid_text(text)
    elif event == "rooms":
        assert result is None
    elif event == "auth":
        name, token = result
        assert isinstance(name, str) and 1 <= len(name) <= 32 and name == name.strip()
        assert not any(c < " " or c == "\x7f" or 0xD800 <= ord(c) <= 0xDFFF for c in name)
        assert token is None or isinstance(token, str)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(event=st.sampled_from(sorted(CHECKS)), data=payloads())
def test_checks_return_normalised_values_or_raise_invalid(event, data):
    """Any payload: a well-formed result or Invalid with one short sentence, nothing else."""
    try:
        result = CHECKS[event](data)
    except Invalid as exc:
        message = str(exc)
        assert message and len(message) < 200 and "\n" not in message
        return
    check_result(event, data, result)


@settings(max_examples=200, deadline=None, database=None)
@given(name=texts)
def test_check_name_never_returns_control_or_surrogate_characters(name):
    """A name passes only trimmed, 1-32 characters, no Cc/Cs characters."""
    try:
        got = rules.check_name(name)
    except Invalid:
        return
    assert got == name.strip() and 1 <= len(got) <= 32
    assert not any(c < " " or "\x7f" <= c <= "\x9f" or 0xD800 <= ord(c) <= 0xDFFF for c in got)
