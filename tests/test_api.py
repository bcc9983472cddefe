"""The HTTP API's messages paths against a real server (realtime/api)."""

import pytest

from support import Client, ServerProcess
from support_api import KEY, OTHER_KEY, ApiClient


@pytest.fixture(scope="module")
def server():
    srv = ServerProcess(["--api-key", "%s,%s" % (KEY, OTHER_KEY), "--api-rate", "0",
                         "--max-text", "100"]).start()
    yield srv
    srv.kill()


@pytest.fixture
def api(server):
    client = ApiClient(server.url)
    yield client
    client.close()


@pytest.fixture
def member(server):
    clients = []

    def make(name, room=None):
        c = Client(server.url, name)
        clients.append(c)
        if room:
            assert c.call("join", {"room": room})["ok"]
        return c
    yield make
    for c in clients:
        c.disconnect()


def post(api, room, text, name="bot", **fields):
    return api.post("/rooms/%s/messages" % room, dict(fields, name=name, text=text))


def test_post_stores_and_broadcasts_as_name(api, member, room):
    """POST answers 201 with the stored message; members get it as a message event."""
    alice = member("alice", room)
    status, body = post(api, room, "deploy done", name="ci")
    assert status == 201
    msg = body["message"]
    assert (msg["room"], msg["name"], msg["text"]) == (room, "ci", "deploy done")
    assert isinstance(msg["id"], int) and isinstance(msg["ts"], int)
    assert alice.wait_for("message", lambda m: m["id"] == msg["id"]) == msg


def test_post_needs_no_membership_and_creates_the_room(api, room):
    """The first message creates the room; history of it then works."""
    assert post(api, room, "first")[0] == 201
    status, body = api.get("/rooms/%s/messages" % room)
    assert status == 200 and [m["text"] for m in body["messages"]] == ["first"]


def test_cid_resend_answers_200_and_broadcasts_nothing(api, member, room):
    """The same name + cid again: 200, the stored message, no second broadcast."""
    alice = member("alice", room)
    status, first = post(api, room, "once", cid="job-17")
    assert status == 201
    alice.wait_for("message", lambda m: m["id"] == first["message"]["id"])
    status, again = post(api, room, "once", cid="job-17")
    assert status == 200
    assert again == first
    alice.quiet("message", lambda m: m["id"] != first["message"]["id"])
    assert len(alice.events("message")) == 1
    assert len(api.get("/rooms/%s/messages" % room)[1]["messages"]) == 1


def test_cid_is_scoped_to_the_name(api, room):
    """Another name may use the same cid: a new message."""
    assert post(api, room, "a", name="bot1", cid="same")[0] == 201
    assert post(api, room, "b", name="bot2", cid="same")[0] == 201


def test_cid_used_in_another_room_is_a_conflict(api, room):
    """The same name + cid in another room: 409, nothing stored there."""
    assert post(api, room, "here", cid="moved")[0] == 201
    status, body = post(api, room + "-b", "there", cid="moved")
    assert status == 409 and "cid moved" in body["error"]
    assert api.get("/rooms/%s-b/messages" % room)[0] == 404


@pytest.mark.parametrize("fields, words", [
    ({"text": "hi"}, "name is required"),
    ({"name": "   ", "text": "hi"}, "name is required"),
    ({"name": "x" * 33, "text": "hi"}, "at most 32"),
    ({"name": "a\x07b", "text": "hi"}, "control characters"),
    ({"name": 5, "text": "hi"}, "name must be a string"),
    ({"name": "bot"}, "text is required"),
    ({"name": "bot", "text": "  \n"}, "non-space"),
    ({"name": "bot", "text": "x" * 101}, "too long"),
    ({"name": "bot", "text": "hi", "cid": ""}, "cid must be 1 to 64"),
    ({"name": "bot", "text": "hi", "cid": 3}, "cid must be a string"),
    ({"name": "bot", "text": "hi", "reply_to": "1"}, "reply_to must be an integer"),
    ({"name": "bot", "text": "hi", "reply_to": 0}, "reply_to must be"),
])
def test_bad_post_is_400_with_one_sentence(api, member, room, fields, words):
    """A body breaking the message rules: 400, the rule named, nothing stored or sent."""
    alice = member("alice", room)
    status, body = api.post("/rooms/%s/messages" % room, fields)
    assert status == 400
    assert set(body) == {"error"} and words in body["error"]
    assert body["error"].endswith(".") and "\n" not in body["error"]
    alice.quiet("message")


def test_bad_room_in_path_is_400(api):
    """A room name breaking the rules (here with a space) is 400."""
    status, body = api.post("/rooms/no%20way/messages", {"name": "bot", "text": "hi"})
    assert status == 400 and "room must be" in body["error"]


@pytest.mark.parametrize("headers, raw, words", [
    ({"Content-Type": "text/plain"}, b'{"name": "bot", "text": "hi"}', "Content-Type"),
    ({}, b'{"name": "bot", "text": "hi"}', "Content-Type"),
    ({"Content-Type": "application/json"}, b'{"name": "bot", ', "not valid JSON"),
    ({"Content-Type": "application/json"}, b'\xff\xfe', "not valid JSON"),
    ({"Content-Type": "application/json"}, b'["bot", "hi"]', "a JSON object"),
    ({"Content-Type": "application/json"}, b"[" * 60000, "nested too deeply"),
    ({"Content-Type": "application/json"}, b'{"name": "bot", "text": "%s"}'
     % (b"x" * 70000), "too large"),
])
def test_bad_body_is_400(api, room, headers, raw, words):
    """Wrong Content-Type, broken JSON, not an object, too large: 400 each."""
    status, body = api.post("/rooms/%s/messages" % room, raw=raw, headers=headers)
    assert status == 400 and words in body["error"]


def test_json_with_charset_is_accepted(api, room):
    """application/json; charset=utf-8 is JSON too."""
    status, body = api.post("/rooms/%s/messages" % room, raw='{"name": "b", "text": "é"}'
                            .encode(), headers={"Content-Type":
                                                "application/json; charset=utf-8"})
    assert status == 201 and body["message"]["text"] == "é"


def test_reply_to_live_message(api, room):
    """reply_to naming a live message of the room is kept."""
    first = post(api, room, "question")[1]["message"]
    status, body = post(api, room, "answer", reply_to=first["id"])
    assert status == 201 and body["message"]["reply_to"] == first["id"]


def test_reply_to_unknown_is_404_and_deleted_is_409(api, room):
    """reply_to of no message: 404; of a deleted one: 409."""
    first = post(api, room, "soon gone")[1]["message"]
    assert post(api, room, "r", reply_to=first["id"] + 50)[0] == 404
    assert api.delete("/rooms/%s/messages/%d" % (room, first["id"]))[0] == 200
    status, body = post(api, room, "r", reply_to=first["id"])
    assert status == 409 and "deleted" in body["error"]


def test_get_messages_pages_back_with_before(api, room):
    """Default 50 and more; before pages back; oldest first."""
    ids = [post(api, room, "m%d" % i)[1]["message"]["id"] for i in range(55)]
    status, body = api.get("/rooms/%s/messages" % room)
    assert status == 200 and body["more"] is True
    assert [m["id"] for m in body["messages"]] == ids[5:]
    status, body = api.get("/rooms/%s/messages" % room, params={"before": ids[5], "limit": 3})
    assert [m["id"] for m in body["messages"]] == ids[2:5] and body["more"] is True
    status, body = api.get("/rooms/%s/messages" % room, params={"before": ids[2], "limit": 3})
    assert [m["id"] for m in body["messages"]] == ids[:2] and body["more"] is False


def test_get_messages_since_and_between(api, room):
    """since: the oldest newer ones and more; since + before: those in between."""
    ids = [post(api, room, "m%d" % i)[1]["message"]["id"] for i in range(6)]
    body = api.get("/rooms/%s/messages" % room, params={"since": ids[1], "limit": 2})[1]
    assert [m["id"] for m in body["messages"]] == ids[2:4] and body["more"] is True
    body = api.get("/rooms/%s/messages" % room, params={"since": ids[3]})[1]
    assert [m["id"] for m in body["messages"]] == ids[4:] and body["more"] is False
    body = api.get("/rooms/%s/messages" % room,
                   params={"since": ids[0], "before": ids[4], "limit": 2})[1]
    assert [m["id"] for m in body["messages"]] == ids[1:3] and body["more"] is True
    body = api.get("/rooms/%s/messages" % room,
                   params={"since": ids[0], "before": ids[4]})[1]
    assert [m["id"] for m in body["messages"]] == ids[1:4] and body["more"] is False


def test_get_messages_current_state_and_no_updates(api, room):
    """A deleted message comes deleted; the delete's update entry is not listed."""
    ids = [post(api, room, t)[1]["message"]["id"] for t in ("a", "b")]
    api.delete("/rooms/%s/messages/%d" % (room, ids[0]))
    body = api.get("/rooms/%s/messages" % room)[1]
    assert body["messages"][0] == {"id": ids[0], "room": room, "name": "bot", "text": "",
                                   "ts": body["messages"][0]["ts"], "deleted": True}
    assert [m["id"] for m in body["messages"]] == ids


@pytest.mark.parametrize("params, words", [
    ({"limit": "0"}, "limit must be between 1 and 100"),
    ({"limit": "101"}, "limit must be between 1 and 100"),
    ({"limit": "ten"}, "limit must be an integer"),
    ({"before": "0"}, "before must be"),
    ({"since": "-1"}, "since must be"),
    ({"since": "1.5"}, "since must be an integer"),
])
def test_get_messages_bad_query_is_400(api, room, params, words):
    """Out-of-range or non-integer before/since/limit: 400."""
    post(api, room, "x")
    status, body = api.get("/rooms/%s/messages" % room, params=params)
    assert status == 400 and words in body["error"]


def test_get_messages_of_unknown_room_is_404(api, room):
    """A room with no members and no messages is unknown."""
    status, body = api.get("/rooms/%s/messages" % room)
    assert status == 404 and body == {"error": "unknown room %s." % room}


def test_delete_as_moderator_broadcasts_update_by_null(api, member, room):
    """DELETE of anyone's message: 200 with the deleted state; update by: null."""
    alice = member("alice", room)
    ack = alice.call("message", {"room": room, "text": "oops"})
    mid = ack["message"]["id"]
    status, body = api.delete("/rooms/%s/messages/%d" % (room, mid))
    assert status == 200
    assert body["message"]["deleted"] is True and body["message"]["name"] == "alice"
    upd = alice.wait_for("update", lambda u: u["target"] == mid)
    assert (upd["kind"], upd["by"], upd["message"]) == ("delete", None, body["message"])
    # Again: the same state, nothing broadcast.
    assert api.delete("/rooms/%s/messages/%d" % (room, mid)) == (200, body)
    alice.quiet("update", lambda u: u["id"] != upd["id"])


def test_delete_unknown_message_is_404(api, room):
    """No such id in the room (or no such room): 404."""
    mid = post(api, room, "x")[1]["message"]["id"]
    assert api.delete("/rooms/%s/messages/%d" % (room, mid + 10))[0] == 404
    assert api.delete("/rooms/%s-none/messages/1" % room)[0] == 404


@pytest.mark.parametrize("id", ["abc", "0", "-3", "1.0", "9007199254740992"])
def test_delete_bad_id_is_400(api, room, id):
    """An id that is not an integer from 1 to 2**53-1: 400."""
    status, body = api.delete("/rooms/%s/messages/%s" % (room, id))
    assert status == 400 and "id must be" in body["error"]
