"""Screenshots of a conversation that uses replies, edits, deletes, reactions, the unread
divider and badges, at laptop and phone sizes (saved to artifacts/).

``REALTIME_UPDATE_SCREENSHOT=1 pytest tests/test_page_screens.py`` also refreshes
docs/screenshot.png.
"""

import os
import time


from browser import Page
from support import ROOT, Client
from test_page import png_size

ARTIFACTS = os.path.join(ROOT, "artifacts")


def shot(page, name, width, height, mobile):
    page.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    time.sleep(0.4)   # let layout and transitions settle
    path = os.path.join(ARTIFACTS, name)
    page.d.save_screenshot(path)
    assert png_size(path) == (width, height)
    return path


def post(c, room, text, **extra):
    ack = c.call("message", dict({"room": room, "text": text}, **extra))
    assert ack["ok"], ack
    return ack["message"]["id"]


def test_conversation_screenshots(server_factory, drivers):
    """One conversation with everything of the second release, at 1280x800 and 390x844."""
    srv = server_factory()
    os.makedirs(ARTIFACTS, exist_ok=True)
    a, b = Page(drivers[0]), Page(drivers[1])
    maria, sam = Client(srv.url, "maria"), Client(srv.url, "sam")
    try:
        for c in (maria, sam):
            c.call("join", {"room": "lobby"})
            c.call("join", {"room": "random"})
        m1 = post(maria, "lobby", "Good morning! The new build is on staging.")
        m2 = post(maria, "lobby", "Release notes are in the wikki.")
        s1 = post(sam, "lobby", "Found one thing: the footer overlaps on small screens.")
        post(sam, "lobby", "and the password is hunter2")
        b.open(srv.url, "bob")
        a.open(srv.url, "alice")
        a.find("#demo-dismiss").click()   # more room for the conversation
        a.join("random")
        a.open_room("lobby")
        a.open_menu("Found one thing: the footer overlaps on small screens.")
        a.find("#menu-reply").click()
        a.send("Nice catch, I'll fix the footer today.")
        a.wait(lambda: len(a.texts()) == 5)
        mine = a.by_text("Nice catch, I'll fix the footer today.")["id"]
        maria.call("edit", {"room": "lobby", "id": m2, "text": "Release notes are in the wiki."})
        sam.call("delete", {"room": "lobby", "id": s1 + 1})
        for who, emoji, target in ((sam, "❤️", mine), (maria, "❤️", mine), (sam, "😂", m1)):
            who.call("react", {"room": "lobby", "id": target, "emoji": emoji, "on": True})
        a.wait(lambda: len(a.by_text("Nice catch, I'll fix the footer today.")["reactions"]) == 1
               and a.by_text("Nice catch, I'll fix the footer today.")["reactions"][0]["count"] == 2)
        # The page marks what it has seen a moment after it shows it: leave the lobby only
        # once alice's read marker holds her last message, so a divider has a place.
        me = Client(srv.url, "alice")
        try:
            a.wait(lambda: me.call("join", {"room": "lobby"})["read"] >= mine)
        finally:
            me.disconnect()
        a.open_room("random")     # away from the lobby: what comes now is new
        post(maria, "lobby", "Footer fix looks good on my phone.", reply_to=mine)
        post(sam, "lobby", "Shipping it after lunch then.")
        post(maria, "random", "anyone up for lunch?")
        a.wait(lambda: a.unread_badge("lobby") == 2)
        a.open_room("lobby")
        a.wait(lambda: a.text_of(".log:not([hidden]) li.divider") == "New messages")
        post(maria, "random", "the usual place?")
        a.wait(lambda: a.unread_badge("random") == 1)
        b.find("#composer-input").send_keys("Sounds good")
        a.wait(lambda: a.text_of("#typing") == "bob is typing…")
        maria.call("dm", {"to": "alice", "text": "got a minute?"})
        a.wait(lambda: a.text_of("#dm-list .unread") == "1")
        try:
            # Headless Chromium has no mouse ("hover: none"), so the message
            # buttons show as on a phone; with a mouse they show on hover.
            desktop = shot(a, "conversation-desktop.png", 1280, 800, False)
            if os.environ.get("REALTIME_UPDATE_SCREENSHOT"):
                with open(desktop, "rb") as src, open(
                        os.path.join(ROOT, "docs", "screenshot.png"), "wb") as dst:
                    dst.write(src.read())
            shot(a, "conversation-phone.png", 390, 844, True)
            assert not a.find("#nav").is_displayed()
            a.open_menu("Nice catch, I'll fix the footer today.")
            shot(a, "conversation-phone-menu.png", 390, 844, True)
            menu = a.js("var r = document.getElementById('msg-menu').getBoundingClientRect();"
                        "return [r.left, r.right, r.bottom];")
            assert menu[0] >= 0 and menu[1] <= 390 and menu[2] <= 844   # a bottom sheet
            a.find("#menu-reply").click()
            a.wait(lambda: a.find("#compose-mode").is_displayed())
            shot(a, "conversation-phone-reply.png", 390, 844, True)
            a.find("#compose-cancel").click()
            a.find("#search-toggle").click()
            a.fill("#search-input", "footer\n")
            a.wait(lambda: a.js("return document.querySelectorAll('#search-list .result').length;")
                   == 3)
            shot(a, "conversation-phone-search.png", 390, 844, True)
            shot(a, "conversation-desktop-search.png", 1280, 800, False)
            a.find("#search-close").click()
            a.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
            shot(a, "conversation-desktop-dark.png", 1280, 800, False)
        finally:
            a.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            a.d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        assert a.severe_logs() == []
    finally:
        maria.disconnect()
        sam.disconnect()
