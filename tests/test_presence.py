"""Per-person presence, without sockets."""

from realtime.chat.presence import LocalPresence


def test_first_connection_enters_and_last_leaves():
    """Several tabs count once; the person leaves with the last one."""
    p = LocalPresence()
    assert p.enter("r", "alice") == (True, 1)
    assert p.enter("r", "alice") == (False, 1)
    assert p.exit("r", "alice") == (False, 1)
    assert p.exit("r", "alice") == (True, 0)


def test_members_are_sorted_and_counted():
    """members is sorted; count is people, not connections."""
    p = LocalPresence()
    for name in ("carol", "alice", "bob", "alice"):
        p.enter("r", name)
    assert p.members("r") == ["alice", "bob", "carol"] and p.count("r") == 3


def test_rooms_lists_only_rooms_with_people():
    """An emptied room disappears from rooms()."""
    p = LocalPresence()
    p.enter("b", "x")
    p.enter("a", "y")
    p.exit("b", "x")
    assert p.rooms() == [("a", 1)]


def test_online_counts_connections():
    """A person is online while any connection is."""
    p = LocalPresence()
    p.connect("bob")
    p.connect("bob")
    p.disconnect("bob")
    assert p.online("bob")
    p.disconnect("bob")
    assert not p.online("bob")
