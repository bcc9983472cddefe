"""The embedding examples (hooks, app.sio) run for real as server processes."""

import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support import ROOT, Client, ServerProcess, timeout
from support_jwt import connect_error

EXAMPLES = os.path.join(ROOT, "examples")


def example(name):
    srv = ServerProcess(command=[sys.executable, os.path.join(EXAMPLES, name)]).start()
    return srv


@pytest.fixture(scope="module")
def word_filter():
    srv = example("word_filter.py")
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def command_bot():
    srv = example("command_bot.py")
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def custom_namespace():
    srv = example("custom_namespace.py")
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def flask_login():
    pytest.importorskip("flask")
    srv = example("flask_session_login.py")
    yield srv
    srv.kill()


def pair(url, room, transport, *names):
    clients = [Client(url, n, transport=transport) for n in names]
    for c in clients:
        assert c.call("join", {"room": room})["ok"]
    return clients


def test_word_filter_masks_words_for_everyone(word_filter, transport, room):
    """A masked word is stored and broadcast with asterisks; history has the same."""
    alice, bob = pair(word_filter.url, room, transport, "alice", "bob")
    try:
        ack = alice.call("message", {"room": room, "text": "oh Darn it"})
        assert ack["ok"] and ack["message"]["text"] == "oh **** it"
        assert bob.wait_for("message", lambda m: m["room"] == room)["text"] == "oh **** it"
        history = bob.call("history", {"room": room})["messages"]
        assert [m["text"] for m in history] == ["oh **** it"]
        edited = alice.call("edit", {"room": room, "id": ack["message"]["id"],
                                     "text": "what the heck"})
        assert edited["message"]["text"] == "what the ****"
    finally:
        alice.disconnect()
        bob.disconnect()


def test_word_filter_refuses_links_with_a_failure_ack(word_filter, transport, room):
    """A link gets the hook's sentence as the failure ack; nothing is stored or broadcast."""
    alice, bob = pair(word_filter.url, room, transport, "alice", "bob")
    try:
        ack = alice.call("message", {"room": room, "text": "see https://spam.example"})
        assert ack == {"ok": False, "error": "links are not allowed in %s." % room}
        bob.quiet("message", lambda m: m["room"] == room)
        assert alice.call("history", {"room": room})["ok"] is True
        assert alice.call("history", {"room": room})["messages"] == []
    finally:
        alice.disconnect()
        bob.disconnect()


def test_command_bot_answers_time_after_the_question(command_bot, transport, room):
    """/time is stored, and the bot's answer follows it with the next id, to every member."""
    alice, bob = pair(command_bot.url, room, transport, "alice", "bob")
    try:
        question = alice.call("message", {"room": room, "text": "/time"})["message"]
        answer = bob.wait_for("message", lambda m: m["room"] == room and m["name"] == "bot")
        assert answer["text"].startswith("It is ") and answer["text"].endswith(" UTC.")
        assert answer["id"] > question["id"]
        assert alice.wait_for("message", lambda m: m["name"] == "bot") == answer
        assert [m["id"] for m in alice.call("history", {"room": room})["messages"]] == \
            [question["id"], answer["id"]]
    finally:
        alice.disconnect()
        bob.disconnect()


def test_command_bot_refuses_unknown_commands(command_bot, transport, room):
    """An unknown command gets a failure ack naming it; plain text is untouched."""
    (alice,) = pair(command_bot.url, room, transport, "alice")
    try:
        assert alice.call("message", {"room": room, "text": "/frobnicate now"}) == \
            {"ok": False, "error": "unknown command /frobnicate; try /help."}
        assert alice.call("message", {"room": room, "text": "plain"})["message"]["text"] == "plain"
        alice.quiet("message", lambda m: m["name"] == "bot")
    finally:
        alice.disconnect()


def test_custom_namespace_beside_the_chat(custom_namespace, transport, room):
    """/tools answers stats, / answers the host's ping, and the chat still works."""
    c = Client(custom_namespace.url, "alice", transport=transport, namespaces=["/", "/tools"])
    try:
        assert c.call("join", {"room": room})["ok"]
        assert c.call("message", {"room": room, "text": "hi"})["ok"]
        stats = c.call("stats", namespace="/tools")
        assert stats["ok"] and stats["for"] == "alice" and stats["connections"] >= 1
        assert stats["rooms"] >= 1
        assert c.call("ping")["ok"] is True and c.call("ping")["ts"] > 0
        assert c.call("rooms", {})["ok"] is True          # the chat's own events are intact
    finally:
        c.disconnect()


def test_custom_namespace_uses_the_chats_rules(custom_namespace):
    """/tools refuses what the chat refuses (here: no name)."""
    import socketio
    sio = socketio.Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(custom_namespace.url, namespaces=["/tools"], auth={},
                    wait_timeout=timeout(5))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(url, name, password):
    """The session cookie Flask sets on a good login (or the error code)."""
    body = urllib.parse.urlencode({"name": name, "password": password}).encode()
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        resp = opener.open(url + "/login", data=body, timeout=timeout(10))
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            return exc.code
        resp = exc
    return resp.headers["Set-Cookie"].split(";")[0]


def test_flask_session_users_chat_under_their_account(flask_login, transport, room):
    """After a Flask login, the session cookie alone connects under the account's name."""
    cookie = login(flask_login.url, "alice", "alice")
    assert cookie.startswith("session=")
    c = Client(flask_login.url, transport=transport, auth={}, headers={"Cookie": cookie})
    try:
        assert c.call("join", {"room": room})["ok"]
        assert c.call("message", {"room": room, "text": "hi"})["message"]["name"] == "alice"
    finally:
        c.disconnect()


def test_flask_session_moderator_role(flask_login, transport, room):
    """The account's role comes through: mod may delete alice's message."""
    alice = Client(flask_login.url, transport=transport, auth={"name": "alice"},
                   headers={"Cookie": login(flask_login.url, "alice", "alice")})
    mod = Client(flask_login.url, transport=transport,
                 headers={"Cookie": login(flask_login.url, "mod", "mod")})
    try:
        for c in (alice, mod):
            assert c.call("join", {"room": room})["ok"]
        msg = alice.call("message", {"room": room, "text": "x"})["message"]
        assert mod.call("delete", {"room": room, "id": msg["id"]})["message"]["deleted"]
    finally:
        alice.disconnect()
        mod.disconnect()


def test_flask_session_refusals(flask_login, transport):
    """No session: `not signed in`; a forged cookie too; another name than the account's refused."""
    assert login(flask_login.url, "alice", "wrong") == 401
    assert connect_error(flask_login.url, {"name": "alice"}, transport) == "not signed in"
    forged = Client(flask_login.url, transport=transport, auth={}, connect=False,
                    headers={"Cookie": "session=eyJ1c2VyIjoibW9kIn0.forged.sig"})
    with pytest.raises(Exception):
        forged.connect()
    assert forged.refusal() == "not signed in"
    cookie = login(flask_login.url, "bob", "bob")
    other = Client(flask_login.url, transport=transport, auth={"name": "alice"}, connect=False,
                   headers={"Cookie": cookie})
    with pytest.raises(Exception):
        other.connect()
    assert other.refusal() == "you are signed in as bob; use that name"
