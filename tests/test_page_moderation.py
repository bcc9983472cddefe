"""Moderators on the page (web/moderation.js): delete anyone's message, kick and mute from
the people list, and what the person acted on sees; two people in real headless Chromium
against a real server with a secret (moderator and member tokens)."""

import datetime
import time

import pytest
from selenium.webdriver.common.keys import Keys

import browser
from browser import Page
from realtime import auth
from support import ServerProcess

SECRET = "page-moderation-secret"


@pytest.fixture(scope="module")
def server():
    srv = ServerProcess(env={"REALTIME_SECRET": SECRET}).start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def drivers():
    """Two browsers (two people), shared by the module: a launch costs about a second."""
    pair = [browser.launch(), browser.launch()]
    yield pair
    for d in pair:
        browser.close(d)


@pytest.fixture
def mod(drivers):
    return Page(drivers[0])


@pytest.fixture
def bob(drivers):
    return Page(drivers[1])


@pytest.fixture
def room(request):
    return "mod-" + request.node.name[5:][:40].replace("_", "-")


def sign_in(page, url, name, role="member"):
    """Open the page as ``name`` with a token of ``role`` left in its storage."""
    token = auth.issue(SECRET, name, 3600, role=role)
    page.d.get(url + "/healthz")
    page.js("localStorage.clear(); sessionStorage.clear();"
            "localStorage.setItem('realtime.name', arguments[0]);"
            "localStorage.setItem('realtime.token', arguments[1]);", name, token)
    page.d.get(url + "/")
    page.d.get_log("browser")
    page.wait_synced("lobby")
    return page


def both(server, mod, bob, room):
    sign_in(mod, server.url, "mia", role="moderator").join(room)
    sign_in(bob, server.url, "bob").join(room)
    mod.wait(lambda: mod.members() == ["bob", "mia"])


def tool(page, name, label):
    """The Kick or Mute button next to ``name`` in the people list (None when absent)."""
    return page.js("var name = arguments[0], label = arguments[1];"
                   "var li = Array.from(document.querySelectorAll('#member-list li')).filter("
                   " function (l) { var b = l.querySelector('.member');"
                   " return b && b.dataset.name === name; })[0];"
                   "return li ? Array.from(li.querySelectorAll('.tool-btn')).filter("
                   " function (b) { return b.textContent === label; })[0] || null : null;",
                   name, label)


def toast(page):
    return page.text_of("#toast") if page.find("#toast").is_displayed() else ""


def joined_rooms(page):
    return page.js("return Array.from(document.querySelectorAll('#room-list .conv.joined'))"
                   ".map(function (c) { return c.querySelector('.conv-name').textContent; });")


def test_moderator_deletes_a_members_message(server, mod, bob, room):
    """The moderator deletes bob's message from its menu, after confirming; both see it go."""
    both(server, mod, bob, room)
    bob.send("spam spam spam")
    mod.wait_texts(["spam spam spam"])
    mod.open_menu("spam spam spam")
    assert mod.menu_items() == ["More reactions…", "Reply", "Delete…"]
    mod.find("#menu-delete").click()
    mod.wait(lambda: mod.js("return document.getElementById('confirm-delete').open;"))
    assert mod.text_of("#confirm-who") == "bob's message"
    mod.find("#confirm-ok").click()
    for page in (mod, bob):
        page.wait(lambda: [(m["text"], m["deleted"]) for m in page.messages()]
                  == [("message deleted", True)], message="not deleted on the page")
    assert not mod.severe_logs() and not bob.severe_logs()


def test_moderator_kicks_a_member(server, mod, bob, room):
    """Kick in the people list: bob is told who removed him, the room leaves his page and
    the moderator's people list drops him."""
    both(server, mod, bob, room)
    kick = tool(mod, "bob", "Kick")
    assert kick.get_attribute("aria-label") == "Remove bob from #" + room
    kick.click()
    bob.wait(lambda: toast(bob) == "You were removed from #%s by mia." % room)
    bob.wait(lambda: "#" + room not in joined_rooms(bob))
    assert bob.js("return document.querySelector('.log:not([hidden])').dataset.key;") \
        == "room:lobby"
    assert bob.js("return document.querySelectorAll('.log[data-key=\"room:' + arguments[0]"
                  " + '\"]').length;", room) == 0
    mod.wait(lambda: mod.members() == ["mia"])
    mod.wait(lambda: toast(mod) == "bob was removed from #" + room + ".")
    # Not a ban: bob may come back, and the page joins again.
    bob.join(room)
    mod.wait(lambda: mod.members() == ["bob", "mia"])


def test_moderator_mutes_a_member_by_keyboard(server, mod, bob, room):
    """Mute (10 minutes) from the keyboard: bob sees until when, his next message is refused
    and kept, with Retry; the moderator sees the end of the mute too."""
    both(server, mod, bob, room)
    mute = tool(mod, "bob", "Mute")
    assert mute.get_attribute("aria-label") == "Mute bob in #%s for 10 minutes" % room
    mute.send_keys(Keys.ENTER)
    started = time.time()
    mod.wait(lambda: toast(mod).startswith("bob is muted in #%s until " % room))
    bob.wait(lambda: bob.find("#mute-note").is_displayed(), message="no mute notice")
    note = bob.text_of("#mute-note")
    assert note.startswith("You are muted in #%s until " % room) and " by mia." in note, note
    until = bob.js("return document.querySelector('#mute-note time').dateTime;")
    until = datetime.datetime.fromisoformat(until.replace("Z", "+00:00")).timestamp()
    assert started + 590 < until < time.time() + 610, (until, started)
    bob.send("let me speak")
    bob.wait(lambda: [p["state"] for p in bob.pending()] == ["failed"])
    pending = bob.pending()[0]
    assert pending["text"] == "let me speak"
    assert pending["label"].startswith("not sent: you are muted until "), pending
    assert toast(bob).startswith("You are muted in #%s until " % room)
    assert bob.find(".log:not([hidden]) ol.pending .retry-btn").is_displayed()
    assert bob.texts() == [] and mod.texts() == []
    # In another room bob may still write.
    bob.open_room("lobby")
    assert not bob.find("#mute-note").is_displayed()


def test_member_sees_no_moderator_tools(server, mod, bob, room):
    """A member's page offers neither Kick nor Mute, nor Delete on another's message."""
    both(server, mod, bob, room)
    mod.send("a moderator speaks")
    bob.wait_texts(["a moderator speaks"])
    bob.wait(lambda: bob.members() == ["bob", "mia"])
    assert bob.js("return document.querySelectorAll('#member-list .tool-btn').length;") == 0
    bob.open_menu("a moderator speaks")
    assert bob.menu_items() == ["More reactions…", "Reply"]
    bob.find("#menu-reply").send_keys(Keys.ESCAPE)
    # The moderator sees the tools next to bob only, not next to herself.
    assert tool(mod, "bob", "Kick") and tool(mod, "bob", "Mute")
    assert tool(mod, "mia", "Kick") is None


def test_unmute_then_retry_sends_the_kept_message(server, mod, bob, room):
    """The refused message waits with Retry; after Unmute it goes out, once, to both."""
    both(server, mod, bob, room)
    tool(mod, "bob", "Mute").click()
    bob.wait(lambda: bob.find("#mute-note").is_displayed(), message="no mute notice")
    bob.send("after the mute")
    bob.wait(lambda: [p["state"] for p in bob.pending()] == ["failed"])
    unmute = mod.wait(lambda: tool(mod, "bob", "Unmute"), message="no Unmute button")
    assert unmute.get_attribute("aria-label") == "Unmute bob in #" + room
    unmute.click()
    mod.wait(lambda: toast(mod) == "bob may write in #%s again." % room)
    bob.wait(lambda: toast(bob) == "You may write in #%s again." % room)
    assert not bob.find("#mute-note").is_displayed()
    assert tool(mod, "bob", "Mute") is not None
    bob.find(".log:not([hidden]) ol.pending .retry-btn").click()
    for page in (mod, bob):
        page.wait_texts(["after the mute"])
    assert bob.pending() == []


def test_mute_shows_again_after_a_reload(server, mod, bob, room):
    """A page (re)joining a room where its person is muted shows the mute at once."""
    both(server, mod, bob, room)
    tool(mod, "bob", "Mute").click()
    bob.wait(lambda: bob.find("#mute-note").is_displayed(), message="no mute notice")
    bob.d.refresh()
    bob.wait_synced(room)
    bob.wait(lambda: bob.find("#mute-note").is_displayed(), message="no mute notice")
    assert bob.text_of("#mute-note").startswith("You are muted in #%s until " % room)


def test_kicked_from_the_lobby_joins_again_from_the_list(server, mod, bob):
    """The lobby stays on screen after a kick; selecting it in the room list joins again."""
    sign_in(mod, server.url, "mia", role="moderator")
    sign_in(bob, server.url, "bob")
    mod.wait(lambda: "bob" in mod.members())
    tool(mod, "bob", "Kick").click()
    bob.wait(lambda: toast(bob) == "You were removed from #lobby by mia. "
             "Select #lobby to join again.")
    mod.wait(lambda: "bob" not in mod.members())
    assert "#lobby" not in joined_rooms(bob)
    bob.open_room("lobby")
    mod.wait(lambda: "bob" in mod.members())
    assert "#lobby" in joined_rooms(bob)


def test_kick_says_what_was_left_unsent(server, mod, bob, room):
    """A kick takes the room's refused messages with it, and the notice says so."""
    both(server, mod, bob, room)
    tool(mod, "bob", "Mute").click()
    bob.wait(lambda: bob.find("#mute-note").is_displayed(), message="no mute notice")
    bob.send("never sent")
    bob.wait(lambda: [p["state"] for p in bob.pending()] == ["failed"])
    tool(mod, "bob", "Kick").click()
    bob.wait(lambda: toast(bob) == "You were removed from #%s by mia. "
             "1 unsent message to it was not sent." % room)
    assert bob.pending() == [] and not bob.find("#mute-note").is_displayed()
