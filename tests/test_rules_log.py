"""The second release's payload rules and message changes, without sockets."""

import pytest

from realtime import rules
from realtime.chat.common import Conn, MODERATOR
from realtime.rules import Invalid
from realtime.store import Refused
from realtime.store import entries


def test_message_reply_to_is_an_optional_positive_id():
    """reply_to: absent, or an integer of at least 1."""
    assert rules.check_reply_to({"room": "r", "text": "x"}) is None
    assert rules.check_reply_to({"reply_to": 7}) == 7
    for bad, error in ((0, "at least 1"), ("7", "must be an integer"), (True, "integer"),
                       (2 ** 60, "reply_to must be at most 9007199254740991")):
        with pytest.raises(Invalid, match=error):
            rules.check_reply_to({"reply_to": bad})


@pytest.mark.parametrize("check, payload, error", [
    (lambda d: rules.check_edit(d, 10), {"room": "r", "text": "x"}, "id is required."),
    (lambda d: rules.check_edit(d, 10), {"room": "r", "id": 0, "text": "x"}, "id must be at least 1."),
    (lambda d: rules.check_edit(d, 10), {"room": "r", "id": 1.5, "text": "x"}, "id must be an integer."),
    (lambda d: rules.check_edit(d, 10), {"room": "r", "id": 1, "text": " "}, "text must contain"),
    (lambda d: rules.check_edit(d, 10), {"room": "r", "id": 1, "text": "x" * 11}, "too long"),
    (lambda d: rules.check_edit(d, 10), {"id": 1, "text": "x"}, "room is required."),
    (lambda d: rules.check_edit(d, 10), [], "edit payload must be an object."),
    (rules.check_delete, {"room": "r"}, "id is required."),
    (rules.check_delete, {"room": "r", "id": "1"}, "id must be an integer."),
    (rules.check_delete, "x", "delete payload must be an object."),
    (rules.check_react, {"room": "r", "id": 1, "on": True}, "emoji is required."),
    (rules.check_react, {"room": "r", "id": 1, "emoji": "", "on": True}, "emoji must be 1 to 16"),
    (rules.check_react, {"room": "r", "id": 1, "emoji": "x" * 17, "on": True}, "1 to 16"),
    (rules.check_react, {"room": "r", "id": 1, "emoji": "a b", "on": True}, "white space"),
    (rules.check_react, {"room": "r", "id": 1, "emoji": "\u00a0", "on": True}, "white space"),
    (rules.check_react, {"room": "r", "id": 1, "emoji": "a\x07", "on": True}, "control"),
    (rules.check_react, {"room": "r", "id": 1, "emoji": 5, "on": True}, "must be a string"),
    (rules.check_react, {"room": "r", "id": 1, "emoji": "👍"}, "on must be true or false."),
    (rules.check_react, {"room": "r", "id": 1, "emoji": "👍", "on": 1}, "on must be true"),
    (rules.check_read, {"room": "r"}, "id is required."),
    (rules.check_read, {"room": "r", "id": 2 ** 53}, "id must be at most 9007199254740991."),
    (rules.check_delete, {"room": "r", "id": 2 ** 80}, "id must be at most"),
    (rules.check_join, {"room": "r", "since": 2 ** 63}, "since must be at most"),
    (rules.check_history, {"room": "r", "before": 2 ** 64}, "before must be at most"),
    (rules.check_read, {"room": "r", "id": -1}, "id must be at least 0."),
    (rules.check_read, {"id": 3}, "room is required."),
    (rules.check_search, {"room": "r"}, "q is required."),
    (rules.check_search, {"room": "r", "q": ""}, "q must be 1 to 200 characters."),
    (rules.check_search, {"room": "r", "q": "x" * 201}, "q must be 1 to 200"),
    (rules.check_search, {"room": "r", "q": "?! -- "}, "q must contain a word"),
    (rules.check_search, {"room": "r", "q": 3}, "q must be a string."),
    (rules.check_search, {"room": "r", "q": "x", "limit": 0}, "between 1 and 50"),
    (rules.check_search, {"room": "r", "q": "x", "limit": 51}, "between 1 and 50"),
    (rules.check_search, {"room": "bad room", "q": "x"}, "room must be"),
])
def test_bad_payloads(check, payload, error):
    """Each broken rule names itself in one sentence."""
    with pytest.raises(Invalid, match=error.replace("?", r"\?")) as exc:
        check(payload)
    assert str(exc.value).endswith(".") and str(exc.value).count(". ") == 0


def test_good_payloads():
    """The checks return the normalised values."""
    assert rules.check_edit({"room": "r", "id": 3, "text": " new "}, 10) == ("r", 3, " new ")
    assert rules.check_delete({"room": "r", "id": 3}) == ("r", 3)
    assert rules.check_react({"room": "r", "id": 3, "emoji": "👍🏽", "on": False}) == (
        "r", 3, "👍🏽", False)
    assert rules.check_react({"room": "r", "id": 3, "emoji": "+1", "on": True})[2] == "+1"
    assert rules.check_read({"room": "r", "id": 0}) == ("r", 0)
    assert rules.check_search({"room": "r", "q": "Hello, wor"}) == ("r", ["hello", "wor"], 20)
    assert rules.check_search({"room": "r", "q": "x" * 200, "limit": 50})[2] == 50


def test_delete_rule_for_both_roles():
    """The author may delete; another member may not; a moderator may delete anything."""
    entries.may_delete("alice", "alice", moderator=False)
    with pytest.raises(Refused, match="^only a moderator can delete another person's message.$"):
        entries.may_delete("alice", "bob", moderator=False)
    entries.may_delete("alice", "mod", moderator=True)
    entries.may_delete("alice", None, moderator=True)          # an API delete (by: null)
    with pytest.raises(Refused):
        entries.may_delete("alice", None, moderator=False)


def test_connection_role_defaults_to_member():
    """A connection is a member unless something (a token, issue 13) says moderator."""
    conn = Conn("alice", None)
    assert conn.role == "member" and not conn.moderator
    conn.role = MODERATOR
    assert conn.moderator


STATE = {"id": 4, "room": "r", "name": "alice", "text": "hi", "ts": 1}


def test_edit_transition():
    """edit: the author's new text and time; same text is no change; others refused."""
    assert entries.edit(STATE, "alice", "hey", 9) == dict(STATE, text="hey", edited=9)
    assert entries.edit(STATE, "alice", "hi", 9) is None
    with pytest.raises(Refused, match="only the author"):
        entries.edit(STATE, "bob", "hey", 9)
    with pytest.raises(Refused, match="is deleted"):
        entries.edit(dict(STATE, text="", deleted=True), "alice", "hey", 9)


def test_delete_transition():
    """delete keeps id, room, author and ts only."""
    full = dict(STATE, edited=3, reply_to=2, reactions={"👍": ["bob"]})
    gone = entries.delete(full, "alice", False, 9)
    assert gone == {"id": 4, "room": "r", "name": "alice", "text": "", "ts": 1, "deleted": True}
    assert entries.delete(gone, "alice", False, 10) is None
    assert entries.delete(full, "mod", True, 9) == gone


def test_react_transition():
    """react adds in sorted order, removes, drops empty emoji, refuses a 21st."""
    s = entries.react(STATE, "carol", "👍", True)
    s = entries.react(s, "bob", "👍", True)
    assert s["reactions"] == {"👍": ["bob", "carol"]} and "reactions" not in STATE
    assert entries.react(s, "bob", "👍", True) is None
    assert entries.react(s, "bob", "🎉", False) is None
    s = entries.react(entries.react(s, "bob", "👍", False), "carol", "👍", False)
    assert s == STATE
    many = dict(STATE, reactions={"e%d" % i: ["x"] for i in range(20)})
    with pytest.raises(Refused, match="already has 20 different reactions"):
        entries.react(many, "y", "new", True)
    assert entries.react(many, "y", "e1", True)["reactions"]["e1"] == ["x", "y"]
