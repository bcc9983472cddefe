"""Payload rules, without sockets."""

import pytest

from realtime import rules
from realtime.rules import Invalid, RateLimiter


def test_name_is_trimmed():
    """Surrounding white space is removed from a name."""
    assert rules.check_name("  alice \t") == "alice"


@pytest.mark.parametrize("value, error", [
    (None, "name is required"),
    ("   ", "name is required"),
    (5, "name must be a string"),
    ("a" * 33, "name must be at most 32 characters"),
    ("al\x00ice", "name must not contain control characters"),
    ("al\x7fice", "name must not contain control characters"),
    ("\ud800x", "name contains unpaired surrogate characters"),
])
def test_bad_names_are_refused(value, error):
    """Each broken name rule names itself."""
    with pytest.raises(Invalid, match="^%s$" % error):
        rules.check_name(value)


def test_name_of_32_code_points_is_allowed():
    """The limit counts code points, not bytes."""
    assert rules.check_name("é" * 32) == "é" * 32


def test_names_are_case_sensitive():
    """Alice and alice are different people."""
    assert rules.check_name("Alice") != rules.check_name("alice")


def test_auth_must_be_an_object():
    """A non-object auth is refused with a reason."""
    with pytest.raises(Invalid, match="auth must be an object"):
        rules.check_auth(["alice"])


def test_auth_without_name_is_refused():
    """The contract's wording: name is required."""
    with pytest.raises(Invalid, match="^name is required$"):
        rules.check_auth({})


def test_auth_returns_name_and_token():
    """Token is passed through for the secret mode."""
    assert rules.check_auth({"name": " bob ", "token": "t"}) == ("bob", "t")


@pytest.mark.parametrize("room", ["lobby", "a", "A-b_c.9", "x" * 64])
def test_good_rooms(room):
    """Letters, digits, - _ . up to 64."""
    assert rules.check_room(room) == room


@pytest.mark.parametrize("room", ["", "x" * 65, "a b", "a/b", "é", "lobby\n", "a:b", 7, None])
def test_bad_rooms(room):
    """Anything else is refused."""
    with pytest.raises(Invalid, match="^room "):
        rules.check_room(room)


def test_join_with_and_without_since():
    """since is optional and must be a non-negative integer."""
    assert rules.check_join({"room": "r"}) == ("r", None)
    assert rules.check_join({"room": "r", "since": 0}) == ("r", 0)
    assert rules.check_join({"room": "r", "since": 42}) == ("r", 42)


@pytest.mark.parametrize("since", [-1, "3", 1.5, True])
def test_join_bad_since(since):
    """A mistyped since is refused."""
    with pytest.raises(Invalid, match="since"):
        rules.check_join({"room": "r", "since": since})


@pytest.mark.parametrize("payload", [None, "lobby", ["lobby"], 3])
def test_payload_must_be_object(payload):
    """Every event refuses a non-object payload."""
    with pytest.raises(Invalid, match="payload must be an object"):
        rules.check_join(payload)


def test_message_keeps_text_exactly():
    """Text is stored exactly as sent, white space included."""
    room, text, cid = rules.check_message({"room": "r", "text": "  hi <b>\n"}, 2000)
    assert (room, text, cid) == ("r", "  hi <b>\n", None)


def test_message_text_limit_is_configurable():
    """max_text counts code points."""
    assert rules.check_message({"room": "r", "text": "é" * 10}, 10)[1] == "é" * 10
    with pytest.raises(Invalid, match="text is too long"):
        rules.check_message({"room": "r", "text": "x" * 11}, 10)


@pytest.mark.parametrize("text, error", [
    (None, "text is required"),
    ("", "text must contain"),
    (" \n\t", "text must contain"),
    (5, "text must be a string"),
    ("\udc00", "unpaired surrogate"),
])
def test_message_bad_text(text, error):
    """Empty, blank, mistyped or unencodable text is refused."""
    with pytest.raises(Invalid, match=error):
        rules.check_message({"room": "r", "text": text}, 2000)


def test_message_cid_rules():
    """cid is optional, a string of 1 to 64 characters."""
    assert rules.check_message({"room": "r", "text": "t", "cid": "c" * 64}, 10)[2] == "c" * 64
    for bad in ("", "c" * 65, 12):
        with pytest.raises(Invalid, match="cid"):
            rules.check_message({"room": "r", "text": "t", "cid": bad}, 10)


def test_history_defaults_and_bounds():
    """limit defaults to 50 and must be 1 to 100; before is optional."""
    assert rules.check_history({"room": "r"}) == ("r", None, 50)
    assert rules.check_history({"room": "r", "before": 9, "limit": 100}) == ("r", 9, 100)
    for limit in (0, 101, "5"):
        with pytest.raises(Invalid, match="limit"):
            rules.check_history({"room": "r", "limit": limit})


def test_typing_needs_a_bool():
    """typing must be true or false."""
    assert rules.check_typing({"room": "r", "typing": False}) == ("r", False)
    with pytest.raises(Invalid, match="typing must be true or false"):
        rules.check_typing({"room": "r", "typing": "yes"})


def test_dm_validates_recipient_and_text():
    """to follows the name rules; text the message rules."""
    assert rules.check_dm({"to": " bob ", "text": "x"}, 10) == ("bob", "x")
    with pytest.raises(Invalid, match="^to is required.$"):
        rules.check_dm({"text": "x"}, 10)


def test_rooms_accepts_empty_object_or_nothing():
    """rooms takes {} (or no payload) and refuses other types."""
    rules.check_rooms({})
    rules.check_rooms(None)
    with pytest.raises(Invalid):
        rules.check_rooms("x")


def test_errors_are_one_sentence():
    """A failure message is a single sentence."""
    with pytest.raises(Invalid) as info:
        rules.check_message({"room": "r", "text": "x" * 3000}, 2000)
    assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")


def test_rate_limiter_sliding_window():
    """At most count events in any window of the given length."""
    limiter = RateLimiter(3, 10.0)
    assert [limiter.allow(t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow(9.9) is False
    assert limiter.allow(10.0) is True
    assert limiter.allow(10.5) is False


def test_rate_limiter_zero_is_off():
    """A count of 0 never limits."""
    limiter = RateLimiter(0, 10.0)
    assert all(limiter.allow(0) for _ in range(1000))


@pytest.mark.parametrize("category", ["Cs", "Cc"])
def test_fast_category_checks_match_unicodedata(category):
    """The regex used for a category finds exactly the code points unicodedata puts in it."""
    import sys
    import unicodedata
    pattern = rules._CATEGORY_RE[category]
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        assert (pattern.search(ch) is not None) == (unicodedata.category(ch) == category), hex(cp)
