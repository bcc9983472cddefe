"""The store contract of the second release, on every backend (see test_store.py for
the backends and the ``store`` fixture): one log per room, replies, edits, deletes,
reactions, read markers and unread counts, replay, search."""

import re

import pytest

from realtime.store import Delete, Edit, Post, React, Read, Refused, open_store
from realtime.words import words
from test_store import apply, one, put, redis_server, store, store_url  # noqa: F401 (fixtures)


def test_messages_and_updates_share_one_increasing_sequence(store):
    """Updates take ids from the room's message sequence: all strictly increasing."""
    m1, _ = put(store, "r", "one")
    _, e1 = one(store, Edit("r", m1["id"], "alice", "one!", 2))
    m2, _ = put(store, "r", "two")
    _, r1 = one(store, React("r", m2["id"], "bob", "👍", True, 3))
    m3, _ = put(store, "r", "three")
    ids = [m1["id"], e1["id"], m2["id"], r1["id"], m3["id"]]
    assert ids == sorted(set(ids))


def test_reply_to(store):
    """reply_to names a live message of the same room; anything else is refused."""
    # Ids are per room: an id of room o that room r does not have (in any store).
    other = [put(store, "o", "elsewhere %d" % i)[0] for i in range(10)][-1]
    parent, _ = put(store, "r", "parent")
    reply, _ = put(store, "r", "child", reply_to=parent["id"])
    assert reply["reply_to"] == parent["id"] and store.latest("r", 1)[0][0] == reply
    _, upd = one(store, Edit("r", parent["id"], "alice", "edited", 2))
    for bad in (other["id"], upd["id"], 10 ** 9):
        with pytest.raises(Refused, match="reply_to must name a message of room r"):
            put(store, "r", "x", reply_to=bad)
    one(store, Delete("r", parent["id"], "alice", 3))
    with pytest.raises(Refused, match="not deleted"):
        put(store, "r", "late", reply_to=parent["id"])
    assert [m["text"] for m in store.latest("r", 10)[0]] == ["", "child"]


def test_edit(store):
    """The author edits: new text, edited time, an update with the whole new state."""
    msg, _ = put(store, "r", "teh typo", ts=10)
    state, upd = one(store, Edit("r", msg["id"], "alice", "the typo", 20))
    assert state == dict(msg, text="the typo", edited=20)
    assert upd == {"id": upd["id"], "room": "r", "kind": "edit", "target": msg["id"],
                   "by": "alice", "ts": 20, "message": state}
    assert store.latest("r", 1)[0] == [state] and store.after("r", 0, 5)[0] == [state]
    assert store.before("r", upd["id"] + 1, 5)[0] == [state]


def test_edit_rules(store):
    """Only the author, not deleted, a known message; the same text changes nothing."""
    msg, _ = put(store, "r", "mine")
    with pytest.raises(Refused, match="only the author can edit message %d" % msg["id"]):
        one(store, Edit("r", msg["id"], "bob", "hacked", 2))
    assert one(store, Edit("r", msg["id"], "alice", "mine", 2)) == (msg, None)
    with pytest.raises(Refused, match="there is no message 999999 in room r"):
        one(store, Edit("r", 999999, "alice", "x", 2))
    with pytest.raises(Refused, match="no message %d in room other" % msg["id"]):
        one(store, Edit("other", msg["id"], "alice", "x", 2))
    one(store, Delete("r", msg["id"], "alice", 3))
    with pytest.raises(Refused, match="message %d is deleted" % msg["id"]):
        one(store, Edit("r", msg["id"], "alice", "back", 4))
    assert store.latest("r", 5)[0][0]["text"] == ""


def test_delete_shape_and_rules(store):
    """A delete empties the text and drops reactions, reply and edit; only the
    author or a moderator; deleting again changes nothing."""
    parent, _ = put(store, "r", "parent")
    msg, _ = put(store, "r", "oops", reply_to=parent["id"], ts=7)
    one(store, React("r", msg["id"], "bob", "😀", True, 8))
    one(store, Edit("r", msg["id"], "alice", "oops!", 9))
    with pytest.raises(Refused, match="only a moderator can delete another person's message"):
        one(store, Delete("r", msg["id"], "bob", 10))
    state, upd = one(store, Delete("r", msg["id"], "alice", 11))
    assert state == {"id": msg["id"], "room": "r", "name": "alice", "text": "", "ts": 7,
                     "deleted": True}
    assert (upd["kind"], upd["by"], upd["target"], upd["message"]) == (
        "delete", "alice", msg["id"], state)
    assert one(store, Delete("r", msg["id"], "alice", 12)) == (state, None)
    assert store.latest("r", 1)[0] == [state]


def test_moderator_deletes_any_message(store):
    """moderator=True deletes another's message; by None is an API delete."""
    a, _ = put(store, "r", "a", name="alice")
    b, _ = put(store, "r", "b", name="bob")
    _, upd = one(store, Delete("r", a["id"], "mod", 2, moderator=True))
    assert upd["by"] == "mod" and upd["message"]["deleted"] is True
    _, upd = one(store, Delete("r", b["id"], None, 3, moderator=True))
    assert upd["by"] is None
    c, _ = put(store, "r", "c", name="carol")
    with pytest.raises(Refused, match="only a moderator"):
        one(store, Delete("r", c["id"], None, 4))


def test_delete_scrubs_earlier_updates(store):
    """After a delete no stored update of the message carries its text or reactions."""
    msg, _ = put(store, "r", "secret words")
    one(store, Edit("r", msg["id"], "alice", "more secret words", 2))
    one(store, React("r", msg["id"], "bob", "🔥", True, 3))
    other, _ = put(store, "r", "keep me")
    one(store, React("r", other["id"], "bob", "👍", True, 4))
    state, _ = one(store, Delete("r", msg["id"], "alice", 5))
    snap = store.replay("r", 0, 500)
    mine = [u for u in snap.updates if u["target"] == msg["id"]]
    assert [u["kind"] for u in mine] == ["edit", "react", "delete"]
    assert all(u["message"] == state for u in mine)
    assert "secret" not in repr(snap) and "🔥" not in repr(snap)
    kept = [u for u in snap.updates if u["target"] == other["id"]]
    assert kept[0]["message"]["reactions"] == {"👍": ["bob"]}


def test_cid_resend_returns_current_state(store):
    """A resend after an edit or delete gets the message as it is now."""
    msg, _ = put(store, "r", "first", cid="k")
    state, _ = one(store, Edit("r", msg["id"], "alice", "second", 2))
    assert put(store, "r", "first", cid="k") == (state, False)
    state, _ = one(store, Delete("r", msg["id"], "alice", 3))
    assert put(store, "r", "first", cid="k") == (state, False)


def test_reactions(store):
    """Names sorted per emoji; no-ops change nothing; an emptied emoji disappears."""
    msg, _ = put(store, "r", "react to me")
    state, upd = one(store, React("r", msg["id"], "carol", "👍", True, 2))
    assert state["reactions"] == {"👍": ["carol"]} and upd["kind"] == "react"
    assert upd["by"] == "carol"
    state, _ = one(store, React("r", msg["id"], "bob", "👍", True, 3))
    state, _ = one(store, React("r", msg["id"], "bob", "ok", True, 4))
    assert state["reactions"] == {"👍": ["bob", "carol"], "ok": ["bob"]}
    assert one(store, React("r", msg["id"], "bob", "👍", True, 5)) == (state, None)
    assert one(store, React("r", msg["id"], "dave", "👍", False, 5)) == (state, None)
    state, _ = one(store, React("r", msg["id"], "bob", "ok", False, 6))
    state, _ = one(store, React("r", msg["id"], "bob", "👍", False, 7))
    state, _ = one(store, React("r", msg["id"], "carol", "👍", False, 8))
    assert "reactions" not in state and store.latest("r", 1)[0] == [state]


def test_at_most_20_distinct_emoji(store):
    """A 21st distinct emoji is refused; more names on an existing one are fine."""
    msg, _ = put(store, "r", "popular")
    ops = [React("r", msg["id"], "bob", "e%d" % i, True, 2) for i in range(20)]
    assert not any(isinstance(r, Refused) for r in store.append_batch(ops))
    with pytest.raises(Refused, match="already has 20 different reactions"):
        one(store, React("r", msg["id"], "bob", "e20", True, 3))
    state, _ = one(store, React("r", msg["id"], "carol", "e0", True, 3))
    assert state["reactions"]["e0"] == ["bob", "carol"] and len(state["reactions"]) == 20


def test_react_to_deleted_or_missing_is_refused(store):
    """No reactions on a deleted or unknown message."""
    msg, _ = put(store, "r", "x")
    one(store, Delete("r", msg["id"], "alice", 2))
    with pytest.raises(Refused, match="is deleted"):
        one(store, React("r", msg["id"], "bob", "👍", True, 3))
    with pytest.raises(Refused, match="there is no message"):
        one(store, React("r", msg["id"] + 100, "bob", "👍", True, 3))


def test_a_refused_operation_leaves_the_rest_of_the_batch(store):
    """One refusal in a batch; the others apply, in order."""
    msg, _ = put(store, "r", "start")
    out = store.append_batch([Edit("r", msg["id"], "alice", "A", 2),
                              Edit("r", msg["id"], "bob", "B", 3),
                              Post("r", "bob", "after", None, 4),
                              React("r", msg["id"], "bob", "👍", True, 5)])
    assert isinstance(out[1], Refused) and not any(isinstance(r, Refused) for r in out[::2])
    state = store.latest("r", 5)[0]
    assert [m["text"] for m in state] == ["A", "after"] and state[0]["reactions"]


def test_replay_without_since_is_latest_messages(store):
    """replay(None) gives the last messages in current state and no updates."""
    ids = [put(store, "r", str(i))[0]["id"] for i in range(6)]
    _, upd = one(store, Edit("r", ids[-1], "alice", "five", 2))
    snap = store.replay("r", None, 4)
    assert [m["id"] for m in snap.history] == ids[2:] and snap.more is True
    assert snap.history[-1]["text"] == "five" and snap.updates == []
    assert snap.top == upd["id"] and (snap.read, snap.unread) == (0, 0)


def test_replay_with_since_merges_messages_and_updates_under_one_cap(store):
    """Entries above since, oldest first, at most limit in all; more when cut."""
    m1, _ = put(store, "r", "1")
    m2, _ = put(store, "r", "2")
    _, u1 = one(store, Edit("r", m1["id"], "alice", "1!", 2))
    m3, _ = put(store, "r", "3")
    _, u2 = one(store, React("r", m2["id"], "bob", "👍", True, 3))
    _, u3 = one(store, Delete("r", m3["id"], "alice", 4))
    order = [m1["id"], m2["id"], u1["id"], m3["id"], u2["id"], u3["id"]]
    snap = store.replay("r", m1["id"], 3)
    assert [e["id"] for e in snap.history + snap.updates] == [m2["id"], m3["id"], u1["id"]]
    assert snap.more is True and snap.top == u3["id"]
    rest = store.replay("r", u1["id"], 3)
    assert [e["id"] for e in rest.updates] == [u2["id"], u3["id"]] and rest.more is False
    assert [m["id"] for m in rest.history] == [m3["id"]]
    full = store.replay("r", 0, 500)
    assert sorted(e["id"] for e in full.history + full.updates) == order
    assert full.history[0]["text"] == "1!" and full.history[2]["deleted"] is True


def test_replaying_updates_twice_changes_nothing(store):
    """Folding the replay into state, once or twice, gives the store's current state."""
    msgs = [put(store, "r", "m%d" % i, name="alice" if i % 2 else "bob")[0] for i in range(4)]
    one(store, Edit("r", msgs[1]["id"], "alice", "edited", 2))
    one(store, React("r", msgs[0]["id"], "alice", "🎉", True, 3))
    one(store, Delete("r", msgs[2]["id"], "bob", 4))
    one(store, React("r", msgs[0]["id"], "carol", "🎉", True, 5))
    since = msgs[0]["id"]
    snap = store.replay("r", since, 500)
    early = {msgs[0]["id"]: msgs[0]}
    once = apply(snap.history + snap.updates, early)
    twice = apply(snap.updates, once)
    now = {m["id"]: m for m in store.latest("r", 10)[0]}
    assert once == twice == now


def test_read_marker_moves_forward_only(store):
    """read moves the person's marker up, never back; above the room's top is refused."""
    ids = [put(store, "r", str(i), name="bob")[0]["id"] for i in range(5)]
    assert one(store, Read("r", "alice", ids[2])) == (ids[2], 2, True)
    assert one(store, Read("r", "alice", ids[1])) == (ids[2], 2, False)
    assert one(store, Read("r", "alice", ids[2])) == (ids[2], 2, False)
    assert one(store, Read("r", "alice", 0)) == (ids[2], 2, False)
    with pytest.raises(Refused, match="id %d is above the last entry of room r" % (ids[4] + 1)):
        one(store, Read("r", "alice", ids[4] + 1))
    assert one(store, Read("r", "alice", ids[4])) == (ids[4], 0, True)
    assert store.replay("r", None, 50, "alice")[4:] == (ids[4], 0)
    assert store.replay("r", None, 50, "carol")[4:] == (0, 5)


def test_read_up_to_an_update_id(store):
    """The marker may be any id of the room's log, an update's too."""
    msg, _ = put(store, "r", "x", name="bob")
    _, upd = one(store, React("r", msg["id"], "bob", "👍", True, 2))
    assert one(store, Read("r", "alice", upd["id"])) == (upd["id"], 0, True)


def test_read_of_a_room_without_entries(store):
    """id 0 of an empty room acks 0; anything higher is above its top."""
    assert one(store, Read("empty", "alice", 0)) == (0, 0, False)
    with pytest.raises(Refused):
        one(store, Read("empty", "alice", 1))


def test_unread_counts_others_live_messages_above_the_marker(store):
    """unread: messages above the marker, not deleted, not written by the person."""
    ids = []
    for i, name in enumerate(["bob", "alice", "bob", "carol", "alice", "bob"]):
        ids.append(put(store, "r", str(i), name=name)[0]["id"])
    assert store.replay("r", None, 50, "alice").unread == 4
    assert one(store, Read("r", "alice", ids[1]))[1] == 3
    one(store, Delete("r", ids[2], "bob", 2))            # bob's, above alice's marker
    one(store, Delete("r", ids[4], "alice", 2))          # alice's own
    one(store, Delete("r", ids[0], "bob", 2))            # below the marker
    snap = store.replay("r", None, 50, "alice")
    assert (snap.read, snap.unread) == (ids[1], 2)
    assert store.replay("r", None, 50, "bob").unread == 2      # alice's 1 and carol's
    put(store, "r", "new", name="dave")
    assert store.replay("r", None, 50, "alice").unread == 3


def test_read_markers_are_per_person_and_room(store):
    """Markers of two people and two rooms are separate."""
    a, _ = put(store, "r1", "x", name="bob")
    b, _ = put(store, "r2", "y", name="bob")
    one(store, Read("r1", "alice", a["id"]))
    assert store.replay("r1", None, 50, "alice").read == a["id"]
    assert store.replay("r2", None, 50, "alice")[4:] == (0, 1)
    assert store.replay("r1", None, 50, "carol")[4:] == (0, 1)
    assert one(store, Read("r2", "alice", b["id"]))[:2] == (b["id"], 0)


def test_search_word_rule(store):
    """Every query word must start a word of the text, case-insensitively."""
    texts = ["Hello World", "hello there, world!", "worldly hellos", "say HELLO",
             "help the world", "unrelated", "Straße nach Köln", "ÉCOLE d'été", "x_y z-w"]
    ids = {t: put(store, "r", t)[0]["id"] for t in texts}

    def find(*q, limit=20):
        return [m["text"] for m in store.search("r", words(" ".join(q)), limit)]
    assert find("hello", "world") == ["worldly hellos", "hello there, world!", "Hello World"]
    assert find("hel") == ["help the world", "say HELLO", "worldly hellos",
                           "hello there, world!", "Hello World"]
    assert find("orld") == [] and find("ello") == []
    assert find("strasse") == ["Straße nach Köln"] and find("köln") == find("KÖLN")
    assert find("koln") == [] and find("école") == ["ÉCOLE d'été"] and find("ete") == []
    assert find("y") == ["x_y z-w"] and find("w") == ["x_y z-w", "help the world",
                                                     "worldly hellos", "hello there, world!",
                                                     "Hello World"]
    assert find("hello", limit=2) == ["say HELLO", "worldly hellos"]
    assert ids and find("nothing") == []


def test_search_follows_edits_and_deletes(store):
    """An edit replaces the words found; a deleted message is never found."""
    a, _ = put(store, "r", "apples and pears")
    b, _ = put(store, "r", "apples only")
    put(store, "other", "apples elsewhere")
    assert [m["id"] for m in store.search("r", ["apples"], 20)] == [b["id"], a["id"]]
    store.index(100000)
    one(store, Edit("r", a["id"], "alice", "bananas and pears", 2))
    one(store, Delete("r", b["id"], "alice", 3))
    c, _ = put(store, "r", "apples again")
    one(store, Edit("r", c["id"], "alice", "cherries again", 4))
    assert store.search("r", ["apples"], 20) == []
    found = store.search("r", ["bananas"], 20)
    assert [m["id"] for m in found] == [a["id"]] and found[0]["edited"] == 2
    assert [m["id"] for m in store.search("r", ["cher"], 20)] == [c["id"]]
    assert store.search("r", ["only"], 20) == []


def test_search_finds_messages_of_every_author_in_current_state(store):
    """Search results are message objects in their current state."""
    msg, _ = put(store, "r", "find me", name="bob")
    state, _ = one(store, React("r", msg["id"], "alice", "👀", True, 2))
    assert store.search("r", ["find"], 20) == [state]


def test_same_answers_as_the_reference_store(store):
    """A random mix of every operation gives the same results, pages, unread counts
    and searches as the memory store (the reference)."""
    import random
    rnd = random.Random(7)
    ref = open_store("memory://")
    names = ["ann", "bob", "cy"]
    vocab = ["alpha", "beta", "gamma", "delta", "ÉCOLE", "straße", "x_y", "42"]
    ids = {"r1": ([], []), "r2": ([], [])}      # room -> (reference ids, this store's ids)
    for step in range(300):
        room, name, pick = rnd.choice(["r1", "r2"]), rnd.choice(names), rnd.random()
        theirs, ours = ids[room]
        if pick < 0.4 or not theirs:
            text = " ".join(rnd.choice(vocab) for _ in range(rnd.randint(1, 4)))
            cid = rnd.choice([None, "c%d" % rnd.randint(0, 40)])
            k = rnd.randrange(len(theirs)) if theirs and rnd.random() < 0.2 else None

            def make(seq):
                return Post(room, name, text, cid, step, None if k is None else seq[k])
        else:
            k = rnd.randrange(len(theirs))
            kind, word = rnd.choice(["edit", "delete", "react", "react", "read"]), \
                rnd.choice(vocab)
            flag, emoji = rnd.random() < 0.3, rnd.choice("ab")

            def make(seq):
                return {"edit": Edit(room, seq[k], name, word + " edited", step),
                        "delete": Delete(room, seq[k], name, step, moderator=flag),
                        "react": React(room, seq[k], name, emoji, not flag, step),
                        "read": Read(room, name, seq[k])}[kind]
        op_ref, op = make(theirs), make(ours)
        [a] = ref.append_batch([op_ref])
        [b] = store.append_batch([op])
        assert type(a) is type(b), (op, a, b)
        if isinstance(a, Refused):
            assert re.sub(r"\d+", "N", str(a)) == re.sub(r"\d+", "N", str(b))
        elif isinstance(op, Post) and a[1]:
            theirs.append(a[0]["id"])
            ours.append(b[0]["id"])
        elif isinstance(op, Read):
            assert a[1:] == b[1:]

    def strip(messages):
        return [{k: v for k, v in m.items() if k not in ("id", "reply_to")} for m in messages]
    for room in ("r1", "r2"):
        assert strip(ref.latest(room, 500)[0]) == strip(store.latest(room, 500)[0])
        for name in names:
            assert ref.replay(room, None, 50, name).unread == \
                store.replay(room, None, 50, name).unread
        for q in ("alpha", "b", "ecole", "école", "strasse", "x", "y", "4", "edited al"):
            assert strip(ref.search(room, words(q), 50)) == strip(store.search(room, words(q), 50))
    ref.close()


