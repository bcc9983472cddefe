"""Read markers on the page (web/reads.js): unread badges per room, the "New messages"
divider, and reading on one tab clearing the badge on the person's other tab."""

import pytest

from browser import Page
from support import Client


@pytest.fixture
def writer(server):
    c = Client(server.url, "zoe")
    yield c
    c.disconnect()


def test_badges_divider_and_reading_on_another_tab(server, drivers, writer, room):
    """Both tabs count unread; the one that opens the room shows the divider, the other clears."""
    tab1, tab2 = Page(drivers[0]), Page(drivers[1])
    writer.call("join", {"room": room})
    for tab in (tab1, tab2):
        tab.open(server.url, "alice").join(room)
    old = writer.call("message", {"room": room, "text": "seen already"})["message"]
    for tab in (tab1, tab2):
        tab.wait_texts(["seen already"])
    assert writer.call("join", {"room": room})["ok"]
    # Both tabs looked at the room, so the marker reached the message.
    probe = Client(server.url, "alice")
    try:
        tab1.wait(lambda: probe.call("read", {"room": room, "id": 0})["read"] == old["id"])
    finally:
        probe.disconnect()
    for tab in (tab1, tab2):
        tab.open_room("lobby")
    fresh = [writer.call("message", {"room": room, "text": "new %d" % i})["message"]
             for i in range(3)]
    for tab in (tab1, tab2):
        tab.wait(lambda: tab.unread_badge(room) == 3, message="no badge of 3")
        assert tab.d.title.startswith("(3) ")
    tab1.open_room(room)
    tab1.wait_texts(["seen already", "new 0", "new 1", "new 2"])
    assert tab1.js("var d = document.querySelector('.log:not([hidden]) li.divider');"
                   "return d && d.nextElementSibling.dataset.id;") == str(fresh[0]["id"])
    assert tab1.text_of(".log:not([hidden]) li.divider") == "New messages"
    assert tab1.unread_badge(room) == 0
    tab2.wait(lambda: tab2.unread_badge(room) == 0, message="the other tab kept its badge")
    assert not tab2.d.title.startswith("(")
    # The marker is the server's: a reload of the other tab still shows nothing unread.
    tab2.d.refresh()
    tab2.wait_synced("lobby")
    tab2.wait(lambda: tab2.js("return document.querySelectorAll('#room-list .conv').length;") >= 2)
    assert tab2.unread_badge(room) == 0


def test_join_counts_unread_from_the_server(server, drivers, writer, room):
    """A room joined earlier shows the server's unread count after a reload, minus deletes."""
    tab = Page(drivers[0])
    writer.call("join", {"room": room})
    tab.open(server.url, "bea").join(room)
    tab.open_room("lobby")
    msgs = [writer.call("message", {"room": room, "text": "m%d" % i})["message"] for i in range(4)]
    tab.wait(lambda: tab.unread_badge(room) == 4)
    writer.call("delete", {"room": room, "id": msgs[0]["id"]})
    tab.wait(lambda: tab.unread_badge(room) == 3, message="a deleted unread still counted")
    tab.d.refresh()
    tab.wait_synced("lobby")
    tab.wait(lambda: tab.unread_badge(room) == 3, message="the join ack's unread not shown")
