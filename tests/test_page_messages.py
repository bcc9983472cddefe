"""Messages that live on the page (web/message.js, actions.js, compose.js, updates.js):
replies, edits, deletes and reactions between two people in real headless Chromium."""

import base64
import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from support import timeout


def _jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims) + ".c2lnbmF0dXJl"


def two(server, a, b, room):
    a.open(server.url, "alice").join(room)
    b.open(server.url, "bob").join(room)
    b.wait(lambda: b.members() == ["alice", "bob"])


def stored(clients, server, room):
    return clients(server.url, "checker").call("history", {"room": room})["messages"]


def test_reply_by_keyboard_shows_the_quote_on_both_pages(server, a, b, clients, room):
    """Reply from the menu with the keyboard alone: the reply quotes its parent everywhere."""
    two(server, a, b, room)
    b.send("which day suits you?")
    a.wait_texts(["which day suits you?"])
    parent = a.by_text("which day suits you?")
    a.js("document.querySelector(arguments[0] + ' .msg-actions').focus();", a.msg_css(parent["id"]))
    a.d.switch_to.active_element.send_keys(Keys.ENTER)
    a.wait(lambda: a.js("return document.getElementById('msg-menu').matches(':popover-open');"))
    assert a.menu_items() == ["More reactions…", "Reply"]   # bob's message: no edit, no delete
    a.d.switch_to.active_element.send_keys(Keys.END)
    a.d.switch_to.active_element.send_keys(Keys.ENTER)
    a.wait(lambda: a.find("#compose-mode").is_displayed())
    assert a.text_of("#compose-mode-label") == "Replying to bob"
    assert a.js("return document.activeElement.id;") == "composer-input"
    a.d.switch_to.active_element.send_keys("Tuesday works" + Keys.ENTER)
    for page in (a, b):
        page.wait_texts(["which day suits you?", "Tuesday works"])
        reply = page.by_text("Tuesday works")
        assert reply["quote"] == {"parent": parent["id"], "author": "bob",
                                  "text": "which day suits you?"}
    assert not a.find("#compose-mode").is_displayed()
    assert stored(clients, server, room)[-1]["reply_to"] == parent["id"]


def test_quote_of_an_old_message_loads_history_and_jumps(server, a, clients, room):
    """A reply to a message older than the loaded page quotes it; a click loads and shows it."""
    carl = clients(server.url, "carl")
    carl.call("join", {"room": room})
    first = carl.call("message", {"room": room, "text": "the very first one"})["message"]
    for i in range(80):
        carl.call("message", {"room": room, "text": "filler %02d" % i})
    carl.call("message", {"room": room, "text": "back to the first", "reply_to": first["id"]})
    a.open(server.url, "alice").join(room)
    a.wait(lambda: a.by_text("back to the first")["quote"]["text"] == "the very first one")
    assert first["id"] not in [m["id"] for m in a.messages()]
    a.find(a.msg_css(a.by_text("back to the first")["id"]) + " .quote").click()
    a.wait(lambda: a.js("var li = document.activeElement;"
                        "return li && li.dataset.id === String(arguments[0]);", first["id"]),
           units=15, message="the parent was not shown")
    assert a.js("var li = document.activeElement, log = li.closest('.log');"
                "var r = li.getBoundingClientRect(), l = log.getBoundingClientRect();"
                "return r.top >= l.top && r.bottom <= l.bottom;")


def test_edit_from_the_menu_and_with_up(server, a, b, room):
    """Edit from the menu, and Up in an empty box edits the last one; edits are marked."""
    two(server, a, b, room)
    a.send("teh first")
    a.send("second one")
    b.wait_texts(["teh first", "second one"])
    box = a.find("#composer-input")
    box.send_keys(Keys.ARROW_UP)
    a.wait(lambda: box.get_attribute("value") == "second one")
    assert a.text_of("#compose-mode-label") == "Editing your message"
    assert a.text_of("#send-btn") == "Save"
    box.send_keys(" (fixed)" + Keys.ENTER)
    b.wait(lambda: b.texts() == ["teh first", "second one (fixed)"])
    a.wait(lambda: a.by_text("second one (fixed)")["edited"])
    assert b.by_text("second one (fixed)")["edited"]
    assert box.get_attribute("value") == "" and not a.find("#compose-mode").is_displayed()

    box.send_keys("a draft")
    a.open_menu("teh first")
    assert a.menu_items() == ["More reactions…", "Reply", "Edit", "Delete…"]
    a.find("#menu-edit").click()
    a.wait(lambda: box.get_attribute("value") == "teh first")
    box.send_keys(Keys.ESCAPE)   # cancel: the draft comes back, nothing changed
    a.wait(lambda: box.get_attribute("value") == "a draft")
    assert not a.by_text("teh first")["edited"]
    a.open_menu("teh first")
    a.find("#menu-edit").click()
    a.wait(lambda: box.get_attribute("value") == "teh first")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("the first" + Keys.ENTER)
    b.wait(lambda: b.texts() == ["the first", "second one (fixed)"])
    assert b.by_text("the first")["edited"]
    a.wait(lambda: box.get_attribute("value") == "a draft")
    b.open_menu("the first")
    assert b.menu_items() == ["More reactions…", "Reply"]


def test_delete_after_confirming(server, a, b, clients, room):
    """Delete asks first; 'message deleted' then stays in place, also in quotes of it."""
    two(server, a, b, room)
    a.send("before")
    a.send("oops, wrong room")
    a.send("after")
    b.wait_texts(["before", "oops, wrong room", "after"])
    target = b.by_text("oops, wrong room")["id"]
    b.open_menu("oops, wrong room")
    b.find("#menu-reply").click()
    b.send("what room?")
    a.wait(lambda: len(a.texts()) == 4)
    a.open_menu("oops, wrong room")
    a.find("#menu-delete").click()
    a.wait(lambda: a.js("return document.getElementById('confirm-delete').open;"))
    assert a.text_of("#confirm-quote") == "oops, wrong room"
    assert a.js("return document.activeElement.id;") == "confirm-cancel"
    a.find("#confirm-cancel").click()
    a.wait(lambda: not a.js("return document.getElementById('confirm-delete').open;"))
    assert a.by_text("oops, wrong room")["id"] == target
    a.open_menu("oops, wrong room")
    a.find("#menu-delete").click()
    a.wait(lambda: a.js("return document.getElementById('confirm-delete').open;"))
    a.find("#confirm-ok").click()
    for page in (a, b):
        page.wait(lambda: page.texts() == ["before", "message deleted", "after", "what room?"])
        gone = page.by_text("message deleted")
        assert gone["id"] == target and gone["deleted"] and gone["name"] == "alice"
        assert page.by_text("what room?")["quote"]["text"] == "message deleted"
        assert page.js("return document.querySelectorAll(arguments[0] + ' .msg-actions').length;",
                       page.msg_css(target)) == 0
    assert [m.get("deleted", False) for m in stored(clients, server, room)] == [
        False, True, False, False]


def test_reactions_toggle_with_counts_and_names(server, a, b, room):
    """Quick reactions and the picker add; a chip click toggles; names on hover and long press."""
    two(server, a, b, room)
    a.send("lunch at noon?")
    b.wait_texts(["lunch at noon?"])
    b.open_menu("lunch at noon?")
    b.find("#menu-quick .quick[data-emoji='👍']").click()
    a.wait(lambda: a.by_text("lunch at noon?")["reactions"] == [
        {"emoji": "👍", "count": 1, "who": "bob", "pressed": False}])
    css = a.msg_css(a.by_text("lunch at noon?")["id"])
    a.find(css + " .reaction[data-emoji='👍']").click()
    for page, me in ((a, True), (b, True)):
        page.wait(lambda: page.by_text("lunch at noon?")["reactions"] == [
            {"emoji": "👍", "count": 2, "who": "alice, bob", "pressed": me}])
    b.open_menu("lunch at noon?")
    b.find("#menu-more").click()
    b.wait(lambda: b.js("return document.getElementById('emoji-picker').matches(':popover-open');"))
    assert b.js("return document.querySelectorAll('#emoji-grid .pick').length;") >= 16
    b.find("#emoji-grid .pick[data-emoji='🎉']").click()
    a.wait(lambda: [r["emoji"] for r in a.by_text("lunch at noon?")["reactions"]] == ["👍", "🎉"])
    a.find(css + " .reaction[data-emoji='👍']").click()   # off again
    b.wait(lambda: b.by_text("lunch at noon?")["reactions"][0] == {
        "emoji": "👍", "count": 1, "who": "bob", "pressed": True})
    # A long press names who reacted and does not toggle.
    chip = a.find(css + " .reaction[data-emoji='🎉']")
    ActionChains(a.d).click_and_hold(chip).pause(timeout(0.3) + 0.6).release().perform()
    a.wait(lambda: a.find("#react-tip").is_displayed())
    assert a.text_of("#react-tip") == "🎉 bob"
    assert a.by_text("lunch at noon?")["reactions"][1] == {
        "emoji": "🎉", "count": 1, "who": "bob", "pressed": False}
    assert a.severe_logs() == [] and b.severe_logs() == []


def test_menu_closes_with_escape_and_gives_focus_back(server, a, b, room):
    """Escape closes the message menu; focus returns to the message's actions button."""
    two(server, a, b, room)
    b.send("press escape")
    a.wait_texts(["press escape"])
    a.open_menu("press escape")
    a.d.switch_to.active_element.send_keys(Keys.ESCAPE)
    a.wait(lambda: not a.js("return document.getElementById('msg-menu').matches(':popover-open');"))
    a.wait(lambda: a.js("return document.activeElement.classList.contains('msg-actions');"))


@pytest.mark.parametrize("token", [_jwt({"name": "mod", "role": "moderator"}),
                                   "v2.moderator.4102444800.c2lnbmF0dXJl"])
def test_moderator_flag_offers_delete_everywhere_and_member_tools(server, a, b, room, token):
    """A page whose token says moderator offers Delete on others' messages and kick/mute in
    the people list; the server still decides (here: a member, so it refuses, and says so)."""
    b.open(server.url, "bob").join(room)
    b.send("not yours to delete")
    a.d.get(server.url + "/")
    a.js("localStorage.clear(); localStorage.setItem('realtime.name', 'mod');"
         "localStorage.setItem('realtime.token', arguments[0]);", token)
    a.d.get(server.url + "/")
    a.wait_synced("lobby")
    a.join(room)
    a.wait_texts(["not yours to delete"])
    a.open_menu("not yours to delete")
    assert a.menu_items() == ["More reactions…", "Reply", "Delete…"]
    a.find("#menu-delete").click()
    a.wait(lambda: a.js("return document.getElementById('confirm-delete').open;"))
    assert a.text_of("#confirm-who") == "bob's message"
    a.find("#confirm-ok").click()
    a.wait(lambda: a.find("#toast").is_displayed())
    assert "only a moderator can delete" in a.text_of("#toast")
    assert a.texts() == ["not yours to delete"]
    a.wait(lambda: a.js("return document.querySelectorAll("
                        "'#member-list .member-tools .tool-btn').length;") == 2)
    assert a.js("return document.querySelectorAll('#member-list li').length;") == 2


def test_reply_and_react_at_phone_width(server, a, b, room):
    """On a phone the menu is a sheet at the bottom; reply and react work from it."""
    two(server, a, b, room)
    b.send("on my phone?")
    a.wait_texts(["on my phone?"])
    a.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        a.wait(lambda: not a.find("#nav").is_displayed())
        a.open_menu("on my phone?")
        box = a.js("var r = document.getElementById('msg-menu').getBoundingClientRect();"
                   "return [r.left, r.right, r.bottom];")
        assert box[0] == 0 and box[1] == 390 and abs(box[2] - 844) < 2
        a.find("#menu-quick .quick[data-emoji='❤️']").click()
        b.wait(lambda: b.by_text("on my phone?")["reactions"] == [
            {"emoji": "❤️", "count": 1, "who": "alice", "pressed": False}])
        a.open_menu("on my phone?")
        a.find("#menu-reply").click()
        a.send("yes, on my phone")
        b.wait(lambda: b.texts() == ["on my phone?", "yes, on my phone"])
        assert b.by_text("yes, on my phone")["quote"]["text"] == "on my phone?"
    finally:
        a.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
