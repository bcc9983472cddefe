"""Catching up on the page (web/rooms.js, updates.js): edits, deletes and reactions made
while a page was away arrive after a server restart, with no reload."""


from browser import Page
from support import Client


def test_updates_missed_across_a_restart_are_applied(server_factory, drivers):
    """Stop the server, change messages while a page is away, start it again on the same
    port and SQLite file: both open pages show the changes, once, in place."""
    srv = server_factory()
    a, b = Page(drivers[0]), Page(drivers[1])
    a.open(srv.url, "alice")
    b.open(srv.url, "bob")
    for text in ("one", "two", "three"):
        a.send(text)
    b.wait_texts(["one", "two", "three"])
    ids = [m["id"] for m in b.messages()]
    for page in (a, b):
        page.js("window.__sameDocument = true;")
    b.hold_offline()                  # bob's page misses what follows
    srv.kill()
    a.wait(lambda: a.conn_state() in ("reconnecting", "offline"))
    srv.restart()
    alice, carol = Client(srv.url, "alice"), Client(srv.url, "carol")
    try:
        for c in (alice, carol):
            c.call("join", {"room": "lobby"})
        assert alice.call("edit", {"room": "lobby", "id": ids[0], "text": "one, edited"})["ok"]
        assert alice.call("delete", {"room": "lobby", "id": ids[1]})["ok"]
        assert carol.call("react", {"room": "lobby", "id": ids[2], "emoji": "❤️", "on": True})["ok"]
        assert carol.call("message", {"room": "lobby", "text": "four",
                                      "reply_to": ids[2]})["ok"]
    finally:
        alice.disconnect()
        carol.disconnect()
    b.go_online()
    for page in (a, b):
        page.wait_texts(["one, edited", "message deleted", "three", "four"], units=20)
        shown = page.messages()
        assert [m["id"] for m in shown[:3]] == ids
        assert shown[0]["edited"] and shown[1]["deleted"]
        page.wait(lambda: page.by_text("three")["reactions"] == [
            {"emoji": "❤️", "count": 1, "who": "carol", "pressed": False}])
        assert page.by_text("four")["quote"]["text"] == "three"
        assert page.js("return window.__sameDocument;") is True
        assert page.conn_state() == "connected"


def test_dropped_connection_catches_up_past_500_entries(server, drivers, room):
    """More than 500 missed messages and reactions: the page joins again while `more`
    and ends with every message and every reaction, in place."""
    page = Page(drivers[0]).open(server.url, "dana")
    page.join(room)
    writer = Client(server.url, "eli")
    try:
        writer.call("join", {"room": room})
        first = writer.call("message", {"room": room, "text": "first"})["message"]
        page.wait_texts(["first"])
        page.hold_offline()
        ids = [writer.call("message", {"room": room, "text": "m%03d" % i})["message"]["id"]
               for i in range(300)]
        for id in [first["id"]] + ids[:-40]:
            assert writer.call("react", {"room": room, "id": id, "emoji": "❤️", "on": True})["ok"]
        assert writer.call("edit", {"room": room, "id": first["id"], "text": "first!"})["ok"]
    finally:
        writer.disconnect()
    page.go_online()
    page.wait_texts(["first!"] + ["m%03d" % i for i in range(300)], units=30)
    counts = page.js("return Array.from(document.querySelectorAll("
                     "'.log:not([hidden]) li.msg')).map(function (li) {"
                     " return li.querySelectorAll('.reaction').length; });")
    assert counts == [1] * 261 + [0] * 40
