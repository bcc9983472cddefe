"""The browser chat page (web/) in real headless Chromium against the real server."""

import json
import os
import struct
import time
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from support import ROOT, timeout

ARTIFACTS = os.path.join(ROOT, "artifacts")
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_TEXT = ("<script>window.__xss = 1</script><b>bold</b>"
            "<img src=x onerror=\"window.__xss = 2\"> & &amp; \"quotes\"")


def seed(client, room, texts):
    client.call("join", {"room": room})
    for text in texts:
        ack = client.call("message", {"room": room, "text": text})
        assert ack["ok"], ack


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def test_two_pages_chat(server, a, b, room):
    """Two people on two pages see each other's messages, author, time and 'mine' marks."""
    a.open(server.url, "alice").join(room)
    b.open(server.url, "bob").join(room)
    a.send("hello from alice")
    b.wait_texts(["hello from alice"])
    b.send("hi alice")
    a.wait_texts(["hello from alice", "hi alice"])
    b.wait_texts(["hello from alice", "hi alice"])
    seen_by_a = a.messages()
    assert [(m["name"], m["mine"]) for m in seen_by_a] == [("alice", True), ("bob", False)]
    assert [(m["name"], m["mine"]) for m in b.messages()] == [("alice", False), ("bob", True)]
    assert all(m["id"] is not None and m["time"] for m in seen_by_a)
    assert a.pending() == [] and b.pending() == []
    assert a.severe_logs() == [] and b.severe_logs() == []


def test_keyboard_only_chat(server, a, room):
    """With the keyboard alone: skip link to the message box, type, Enter sends."""
    a.open(server.url, "kim").join(room)
    a.d.refresh()   # focus starts at the top of a freshly loaded page
    a.wait_synced(room)
    ActionChains(a.d).send_keys(Keys.TAB).perform()
    assert a.js("return document.activeElement.className;") == "skip-link"
    a.d.switch_to.active_element.send_keys(Keys.ENTER)
    a.wait(lambda: a.js("return document.activeElement.id;") == "composer-input")
    a.d.switch_to.active_element.send_keys("typed without a mouse" + Keys.ENTER)
    a.wait_texts(["typed without a mouse"])


def test_name_is_remembered(server, a):
    """After a reload the page signs in again with the remembered name, no dialog."""
    a.open(server.url, "carol")
    a.d.refresh()
    a.wait_synced("lobby")
    assert not a.js("return document.getElementById('login').open;")
    assert a.text_of("#me-name") == "carol"


def test_demo_mode_notice(server, a):
    """Without a secret the page says that names are unverified."""
    a.open(server.url, "dora")
    notice = a.find("#demo-notice")
    assert notice.is_displayed() and "not verified" in notice.text


def test_demo_notice_can_be_hidden_for_the_session(server, a):
    """The demo-mode notice can be dismissed; it stays hidden on reload in that tab."""
    a.open(server.url, "dora")
    a.find("#demo-dismiss").click()
    a.wait(lambda: not a.find("#demo-notice").is_displayed())
    a.d.refresh()
    a.wait_synced("lobby")
    assert a.js("return document.getElementById('demo-notice').hidden;") is True


def test_healthz_says_whether_names_are_verified(server, server_factory):
    """/healthz tells the page whether names are unverified (no secret) or need tokens."""
    with urllib.request.urlopen(server.url + "/healthz", timeout=timeout(5)) as r:
        assert json.load(r)["unverified"] is True
    srv = server_factory("--secret", "another-secret")
    with urllib.request.urlopen(srv.url + "/healthz", timeout=timeout(5)) as r:
        assert json.load(r)["unverified"] is False


def test_token_required_with_secret(server_factory, a):
    """With a secret the page asks for a token, shows a refusal, then signs in."""
    from realtime import auth
    srv = server_factory("--secret", "page-test-secret")
    a.d.get(srv.url + "/")
    a.js("localStorage.clear();")
    a.d.get(srv.url + "/")
    a.wait(lambda: a.find("#login-token").is_displayed())
    assert not a.find("#demo-notice").is_displayed()
    a.fill("#login-name", "erin")
    a.fill("#login-token", "v1.1.forged").send_keys(Keys.ENTER)
    a.wait(lambda: "invalid token" in a.text_of("#login-error"))
    a.fill("#login-token", auth.issue("page-test-secret", "erin", 3600)).send_keys(Keys.ENTER)
    a.wait_synced("lobby")
    assert a.text_of("#me-name") == "erin"


def test_history_pages_load_on_scroll_up(server, a, clients, room):
    """Joining shows the last 50; scrolling up loads every older page once, in order."""
    texts = ["seed %03d" % i for i in range(130)]
    seed(clients(server.url, "seeder"), room, texts)
    a.open(server.url, "frank").join(room)
    a.wait_texts(texts[-50:])

    def scrolled_to_start():
        a.js("document.querySelector('.log:not([hidden])').scrollTop = 0;")
        return a.texts() == texts
    try:
        a.wait(scrolled_to_start, 15)
    except Exception:
        raise AssertionError("after scrolling up: %r" % a.texts()[:5])
    assert a.find(".log:not([hidden]) .log-start").is_displayed()
    ids = [m["id"] for m in a.messages()]
    assert ids == sorted(set(ids))


def test_presence_between_pages(server, a, b, room):
    """Members come from the join ack, then presence deltas add and remove people."""
    a.open(server.url, "gina").join(room)
    a.wait(lambda: a.members() == ["gina"])
    b.open(server.url, "hank").join(room)
    b.wait(lambda: b.members() == ["gina", "hank"])
    a.wait(lambda: a.members() == ["gina", "hank"])
    assert "2 people" in a.text_of("#view-sub")
    b.find("#leave-btn").click()
    a.wait(lambda: a.members() == ["gina"])


def test_typing_between_pages(server, a, b, room):
    """Typing shows on the other page and goes away by itself when typing stops."""
    a.open(server.url, "ivan").join(room)
    b.open(server.url, "jane").join(room)
    b.find("#composer-input").send_keys("I am wri")
    a.wait(lambda: a.text_of("#typing") == "jane is typing…")
    assert b.text_of("#typing") == ""
    a.wait(lambda: a.text_of("#typing") == "", units=10)


def test_direct_message_between_pages(server, a, b):
    """A direct message reaches the other page, marked unread until opened."""
    a.open(server.url, "kate")
    b.open(server.url, "liam")
    a.wait(lambda: "liam" in a.members())
    a.find("#member-list .member[data-name='liam']").click()
    a.wait(lambda: a.text_of("#view-title") == "liam")
    a.send("psst, liam")
    a.wait(lambda: a.texts() == ["psst, liam"])
    b.wait(lambda: b.text_of("#dm-list .unread") == "1")
    b.find("#dm-list .conv").click()
    b.wait_texts(["psst, liam"])
    assert b.messages()[0]["name"] == "kate" and not b.messages()[0]["mine"]


def test_xss_payloads_render_as_text(server, a, b, room):
    """Markup in a name and a message shows literally; nothing in it runs or renders."""
    a.open(server.url, XSS_NAME).join(room)
    b.open(server.url, "mona").join(room)
    a.send(XSS_TEXT)
    b.wait_texts([XSS_TEXT])
    assert b.messages()[0]["name"] == XSS_NAME
    b.wait(lambda: XSS_NAME in b.members())
    for page in (a, b):
        assert page.no_alert()
        assert page.js("return window.__xss;") is None
        assert page.js("return document.querySelectorAll("
                       "'#logs img, #logs script, #logs b, .sidebar img, .members img').length;") == 0
    assert a.text_of("#me-name") == XSS_NAME


def test_failure_ack_shows_error_and_retry_reuses_cid(server_factory, a, clients):
    """A rate-limited message shows the error; Retry resends it with the same cid."""
    srv = server_factory(rate="2/2")
    a.open(srv.url, "nina")
    a.js("""window.__sent = [];
            var emit = io.Socket.prototype.emit;
            io.Socket.prototype.emit = function (event, payload) {
              if (event === 'message') window.__sent.push(payload);
              return emit.apply(this, arguments);
            };""")
    for text in ("one", "two", "three"):
        a.send(text)
    a.wait(lambda: [p["state"] for p in a.pending()] == ["failed"])
    assert a.pending()[0]["text"] == "three"
    assert "rate limited" in a.pending()[0]["label"]
    assert a.find(".log:not([hidden]) .retry-btn").is_displayed()
    time.sleep(timeout(2.2))   # let the rate window pass
    a.find(".log:not([hidden]) .retry-btn").click()
    a.wait_texts(["one", "two", "three"])
    assert a.pending() == []
    sent = [p for p in a.js("return window.__sent;") if p["text"] == "three"]
    assert len(sent) == 2 and sent[0]["cid"] == sent[1]["cid"]
    history = clients(srv.url, "checker").call("history", {"room": "lobby"})
    assert [m["text"] for m in history["messages"]] == ["one", "two", "three"]


def test_restart_loses_nothing(server_factory, a, b, clients):
    """Across a SIGKILL and restart a page catches up on everything, once, in order, no reload."""
    srv = server_factory()
    a.open(srv.url, "olga")
    b.open(srv.url, "pete")
    b.send("before the crash")
    a.wait_texts(["before the crash"])
    a.js("window.__sameDocument = true;")
    srv.kill()
    for page in (a, b):
        page.wait(lambda: page.conn_state() in ("reconnecting", "offline"))
    b.send("typed while offline 1")
    b.send("typed while offline 2")
    b.wait(lambda: [p["state"] for p in b.pending()] == ["queued", "queued"])
    srv.restart()
    quick = clients(srv.url, "quinn")
    seed(quick, "lobby", ["sent during the outage %d" % i for i in range(5)])
    b.wait(lambda: b.pending() == [] and b.conn_state() == "connected", units=20)
    stored = quick.call("history", {"room": "lobby"})["messages"]
    assert len(stored) == 8 and stored[0]["text"] == "before the crash"
    expected = [m["text"] for m in stored]
    a.wait_texts(expected, units=20)
    b.wait_texts(expected, units=20)
    assert [m["id"] for m in a.messages()] == [m["id"] for m in stored]
    assert a.js("return window.__sameDocument;") is True
    assert a.conn_state() == "connected"


def _shot(page, name, width, height, mobile):
    page.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    time.sleep(0.3)   # let layout and transitions settle
    path = os.path.join(ARTIFACTS, name)
    page.d.save_screenshot(path)
    assert png_size(path) == (width, height)
    return path


def test_screenshots_desktop_and_phone(server_factory, a, b, clients):
    """Screenshots at laptop and phone sizes, with the panels laid out for each."""
    srv = server_factory()
    os.makedirs(ARTIFACTS, exist_ok=True)
    maria, sam = clients(srv.url, "maria"), clients(srv.url, "sam")
    seed(sam, "design", [])
    seed(maria, "random", ["anyone up for lunch?"])
    seed(maria, "lobby", ["Good morning! The new build is on staging.",
                          "Release notes are in the wiki."])
    seed(sam, "lobby", ["Thanks, looking at it now.",
                        "Found one thing: the footer overlaps on small screens."])
    b.open(srv.url, "bob")
    a.open(srv.url, "alice")
    a.send("Nice catch, I'll fix the footer today.")
    b.wait(lambda: len(b.texts()) == 5)
    maria.call("message", {"room": "lobby", "text": "+1, ship it"})
    b.find("#composer-input").send_keys("Sounds good")
    a.wait(lambda: a.text_of("#typing") == "bob is typing…" and len(a.texts()) == 6)
    maria.call("dm", {"to": "alice", "text": "got a minute?"})
    a.wait(lambda: a.text_of("#dm-list .unread") == "1")
    try:
        _shot(a, "page-desktop.png", 1280, 800, False)
        assert a.find("#members").is_displayed() and a.find("#nav").is_displayed()
        _shot(a, "page-phone.png", 390, 844, True)
        assert not a.find("#nav").is_displayed() and not a.find("#members").is_displayed()
        assert a.find("#composer-input").is_displayed()
        a.find("#nav-toggle").click()
        a.wait(lambda: a.find("#nav").is_displayed())
        _shot(a, "page-phone-rooms.png", 390, 844, True)
        a.find("#nav-toggle").send_keys(Keys.ESCAPE)   # Escape closes a drawer
        a.wait(lambda: not a.find("#nav").is_displayed())
        a.find("#members-toggle").click()
        a.wait(lambda: a.find("#members").is_displayed())
        _shot(a, "page-phone-people.png", 390, 844, True)
    finally:
        a.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert a.severe_logs() == []


def test_network_drop_catches_up_past_500(server, a, clients, room):
    """After a dropped connection the page pages through more than 500 missed messages."""
    a.open(server.url, "rita").join(room)
    writer = clients(server.url, "sven")
    seed(writer, room, ["first"])
    a.wait_texts(["first"])
    # Grab the page's socket through the client library, then cut the transport
    # with automatic reconnection off, so the page misses what comes next.
    a.js("""var emit = io.Socket.prototype.emit;
            io.Socket.prototype.emit = function () {
              if (this.nsp === '/') window.__sock = this;
              return emit.apply(this, arguments);
            };""")
    a.find("#composer-input").send_keys("x")
    a.wait(lambda: a.js("return !!window.__sock;"))
    a.find("#composer-input").send_keys(Keys.BACKSPACE)
    a.js("window.__sock.io.reconnection(false); window.__sock.io.engine.close();")
    a.wait(lambda: a.conn_state() != "connected")
    missed = ["missed %03d" % i for i in range(510)]
    seed(writer, room, missed)
    a.js("window.__sock.io.reconnection(true); window.__sock.connect();")
    a.wait_texts(["first"] + missed, units=20)
    assert a.conn_state() == "connected"
