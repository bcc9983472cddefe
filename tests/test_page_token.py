"""The page takes a token handed to it in the address (/#token=...), in real Chromium."""

import pytest

import browser
from browser import Page
from support import Client
from support_jwt import HS_SECRET, mint


@pytest.fixture(scope="module")
def jwt_server():
    from support import ServerProcess
    srv = ServerProcess(["--jwt-key", HS_SECRET]).start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def page():
    driver = browser.launch()
    yield Page(driver)
    browser.close(driver)


def page_state(page):
    """The page's shared state S (web/state.js), read through the same module instance."""
    return page.d.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "import(new URL('static/state.js', location.href).href).then(function (m) {"
        "  done({me: m.S.me, role: m.S.role, token: !!m.S.token}); });")


def clear_storage(page, url):
    """Empty the origin's storage, on another path than the page's (a later /#token=... load
    is then a new page load, not a hash change)."""
    page.d.get(url + "/healthz")
    page.js("localStorage.clear(); sessionStorage.clear();")


def open_with_token(page, url, token):
    clear_storage(page, url)
    page.d.get(url + "/#token=" + token)
    page.d.get_log("browser")
    page.wait_synced("lobby")


def test_page_chats_under_the_jwt_name(jwt_server, page):
    """/#token=JWT signs in with no dialog, under the token's name; the hash is cleared."""
    token = mint(HS_SECRET, sub="u-7", name="Grace")
    bob = Client(jwt_server.url, auth={"token": mint(HS_SECRET, sub="bob")})
    try:
        bob.call("join", {"room": "lobby"})
        open_with_token(page, jwt_server.url, token)
        assert page.text_of("#me-name") == "Grace"
        assert "token" not in page.d.current_url and page.js("return location.hash;") == ""
        page.send("hello from the page")
        msg = bob.wait_for("message", lambda m: m["text"] == "hello from the page")
        assert msg["name"] == "Grace"
        page.wait(lambda: [m["name"] for m in page.messages()
                           if m["text"] == "hello from the page"] == ["Grace"])
        assert page_state(page) == {"me": "Grace", "role": "member", "token": True}
        logs = page.d.get_log("browser")
        assert not any(token in e["message"] for e in logs), logs
    finally:
        bob.disconnect()


def test_page_learns_the_moderator_role(jwt_server, page):
    """A JWT with role moderator sets the page's role, for its moderator actions."""
    open_with_token(page, jwt_server.url, mint(HS_SECRET, sub="mia", role="moderator"))
    assert page_state(page) == {"me": "mia", "role": "moderator", "token": True}


def test_page_shows_a_bad_token_refusal(jwt_server, page):
    """An expired JWT in the address: the sign-in dialog says why."""
    import time
    expired = mint(HS_SECRET, sub="old", exp=int(time.time()) - 600, iat=int(time.time()) - 900)
    clear_storage(page, jwt_server.url)
    page.d.get(jwt_server.url + "/#token=" + expired)
    page.wait(lambda: "token expired" in (page.text_of("#login-error") or ""))
    assert "token" not in page.d.current_url


def test_token_link_in_an_open_page_signs_in_anew(jwt_server, page):
    """A #token= link followed in a tab already showing the page switches to its holder."""
    open_with_token(page, jwt_server.url, mint(HS_SECRET, sub="first"))
    page.js("location.hash = arguments[0];", "token=" + mint(HS_SECRET, sub="second"))
    page.wait(lambda: page.text_of("#me-name") == "second")
    page.wait_synced("lobby")
    assert "token" not in page.d.current_url


@pytest.fixture(scope="module")
def flask_login():
    import os
    import sys
    from support import ROOT, ServerProcess
    pytest.importorskip("flask")
    srv = ServerProcess(command=[sys.executable, os.path.join(
        ROOT, "examples", "flask_session_login.py")]).start()
    yield srv
    srv.kill()


def test_page_behind_the_flask_login(flask_login, page, room):
    """Signed in to the Flask app, the page at /chat/ chats under the account with no token."""
    from selenium.webdriver.common.keys import Keys
    from test_examples_hooks import login
    url = flask_login.url
    page.d.get(url + "/chat/healthz")
    page.js("localStorage.clear(); sessionStorage.clear();")
    page.d.get(url + "/login")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", "alice").send_keys(Keys.ENTER)
    page.wait(lambda: "Signed in as alice" in page.js("return document.body.textContent;"))
    bob = Client(url, headers={"Cookie": login(url, "bob", "bob")})
    try:
        bob.call("join", {"room": "lobby"})
        page.d.get(url + "/chat/")
        page.wait(lambda: page.js("return document.getElementById('login').open;"))
        assert not page.find("#login-token").is_displayed()
        page.fill("#login-name", "mallory").send_keys(Keys.ENTER)
        page.wait(lambda: "you are signed in as alice" in (page.text_of("#login-error") or ""))
        page.fill("#login-name", "alice").send_keys(Keys.ENTER)
        page.wait_synced("lobby")
        page.send("from my account")
        assert bob.wait_for("message", lambda m: m["text"] == "from my account")["name"] == "alice"
    finally:
        bob.disconnect()
