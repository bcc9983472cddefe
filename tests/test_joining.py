"""The join hold-back and how held entries fold into a join ack, without sockets."""

from realtime.chat.joining import CATCHING_UP, HoldBack, merge_held
from realtime.store import Snapshot


def msg(id, name="bob", text="t"):
    return {"id": id, "room": "r", "name": name, "text": text, "ts": 1}


def upd(id, target, kind="edit", **state):
    return {"id": id, "room": "r", "kind": kind, "target": target, "by": "bob", "ts": 2,
            "message": dict(msg(target), **state)}


def test_held_entries_above_the_snapshot_join_the_ack():
    """Entries the read already had are dropped; newer ones follow, in id order."""
    snap = Snapshot([msg(1), msg(2)], [upd(3, 1)], False, 3, 0, 2)
    held = [msg(5), upd(3, 1), msg(2), upd(4, 2, text="new")]
    history, updates, more, unread, floor = merge_held(snap, held, 0, "alice", 500)
    assert [m["id"] for m in history] == [1, 2, 5]
    assert [u["id"] for u in updates] == [3, 4] and not more
    assert unread == 3 and floor == 5


def test_without_since_held_updates_replace_the_state_in_history():
    """A join without since has no updates: held ones change the history's messages."""
    snap = Snapshot([msg(1), msg(2)], [], True, 2, 0, 2)
    held = [upd(3, 2, text="edited"), msg(4), upd(5, 4, kind="delete", text="", deleted=True),
            upd(6, 99)]
    history, updates, more, unread, floor = merge_held(snap, held, None, "alice", 50)
    assert [m["text"] for m in history] == ["t", "edited", ""] and history[2]["deleted"]
    assert updates == [] and more is True and floor == 6
    assert unread == 2      # +1 for message 4, -1 for its delete


def test_the_500_cap_counts_held_entries_too():
    """With since, history + updates + held stay within the cap; cut means catching up."""
    snap = Snapshot([msg(1)], [upd(2, 1)], False, 2, 0, 1)
    history, updates, more, _, floor = merge_held(snap, [msg(3), msg(4)], 0, "alice", 3)
    assert [e["id"] for e in history + updates] == [1, 3, 2] and more and floor == CATCHING_UP


def test_catching_up_takes_no_live_entries():
    """A cut replay (more) ignores held entries: the next join brings them in order."""
    snap = Snapshot([msg(1)], [], True, 9, 0, 0)
    assert merge_held(snap, [msg(10)], 0, "a", 1)[0] == [msg(1)]
    assert merge_held(snap, [msg(10)], 0, "a", 1)[4] == CATCHING_UP


def test_unread_ignores_own_and_already_read_entries():
    """The reader's own messages and those at or below the marker do not count."""
    snap = Snapshot([], [], False, 10, 12, 0)
    held = [msg(11), msg(13, name="alice"), msg(14), upd(15, 13, kind="delete", name="alice")]
    assert merge_held(snap, held, None, "alice", 50)[3] == 1


def test_holdback_skips_held_and_covered_connections():
    """While held, a connection gets nothing live; afterwards only ids above its floor."""
    hb = HoldBack()
    held = hb.hold("r", "s1")
    assert hb.skip("r", msg(5)) == ["s1"] and held == [msg(5)]
    hb.release("r", "s1", 6)
    assert hb.skip("r", upd(6, 5)) == ["s1"]
    assert hb.skip("r", msg(7)) is None
    assert hb.skip("r", msg(6)) is None         # ordered: the floor is gone after 7


def test_unordered_floors_stay_until_forgotten():
    """With Redis (unordered), a floor keeps skipping lower ids that arrive late."""
    hb = HoldBack()
    hb.ordered = False
    hb.hold("r", "s1")
    hb.release("r", "s1", 10)
    assert hb.skip("r", msg(11)) is None and hb.skip("r", upd(9, 1)) == ["s1"]
    hb.forget("r", "s1")
    assert hb.skip("r", msg(8)) is None
