"""Real headless Chromium for the page tests (Selenium + Debian's chromedriver).

::

    driver = launch()
    page = Page(driver).open(server.url, "alice")
    page.join("random")
    page.send("hi")
    page.wait(lambda: page.texts() == ["hi"])
    driver.quit()
"""

import shutil
import tempfile

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from support import timeout

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# The log of the visible conversation: its confirmed messages, oldest first.
_MESSAGES_JS = """
var log = document.querySelector('.log:not([hidden])');
if (!log) return [];
return Array.from(log.querySelectorAll('ol.msgs:not(.pending) > li.msg')).map(function (li) {
  return {id: li.dataset.id === undefined ? null : Number(li.dataset.id),
          name: li.querySelector('.author').textContent,
          text: li.querySelector('.text').textContent,
          mine: li.classList.contains('mine'),
          time: li.querySelector('time').getAttribute('datetime'),
          deleted: li.dataset.deleted === 'true',
          edited: !!li.querySelector('.edited'),
          quote: li.querySelector('.quote') ? {
            parent: Number(li.querySelector('.quote').dataset.parent),
            author: (li.querySelector('.quote-author') || {}).textContent || '',
            text: li.querySelector('.quote-text').textContent} : null,
          reactions: Array.from(li.querySelectorAll('.reaction')).map(function (r) {
            return {emoji: r.dataset.emoji, count: Number(r.querySelector('.reaction-count')
                    .textContent), who: r.title, pressed: r.getAttribute('aria-pressed') === 'true'};
          })};
});
"""

_PENDING_JS = """
var log = document.querySelector('.log:not([hidden])');
if (!log) return [];
return Array.from(log.querySelectorAll('ol.pending > li.msg')).map(function (li) {
  return {text: li.querySelector('.text').textContent, state: li.dataset.state,
          label: li.querySelector('.state').textContent};
});
"""


def launch():
    """A fresh headless Chromium with its own throw-away profile."""
    profile = tempfile.mkdtemp(prefix="realtime-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                "--window-size=1280,900", "--lang=en-US"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Always pass the driver path, or selenium-manager tries the internet.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.profile_dir = profile
    return driver


def close(driver):
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver.profile_dir, ignore_errors=True)


class Page:
    """One browser showing the chat page, with the steps a person takes."""

    def __init__(self, driver):
        self.d = driver

    # -- waiting and reading -------------------------------------------------

    def wait(self, condition, units=10, message=""):
        """Wait (bounded) until ``condition()`` is truthy; return its value."""
        # A condition may assert on something not there yet (by_text): poll on.
        return WebDriverWait(self.d, timeout(units), poll_frequency=0.05,
                             ignored_exceptions=(AssertionError,)).until(
            lambda d: condition(), message)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def find(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def messages(self):
        return self.js(_MESSAGES_JS)

    def texts(self):
        return [m["text"] for m in self.messages()]

    def pending(self):
        return self.js(_PENDING_JS)

    def text_of(self, css):
        return self.js("var e = document.querySelector(arguments[0]);"
                       "return e ? e.textContent : null;", css)

    def conn_state(self):
        return self.js("return document.getElementById('conn').dataset.state;")

    def members(self):
        return self.js("return Array.from(document.querySelectorAll('#member-list .member'))"
                       ".map(function (b) { return b.dataset.name; });")

    def no_alert(self):
        try:
            self.d.switch_to.alert
        except NoAlertPresentException:
            return True
        return False

    def severe_logs(self):
        """Console errors of the page (CSP violations, exceptions), minus network noise."""
        return [e for e in self.d.get_log("browser")
                if e["level"] == "SEVERE" and "net::ERR" not in e["message"]
                and "favicon" not in e["message"]]

    # -- acting ----------------------------------------------------------------

    def open(self, url, name, token=None):
        """Load the page with empty storage, pick ``name``, wait until connected."""
        self.d.get(url + "/")
        self.js("localStorage.clear(); sessionStorage.clear();")
        self.d.get(url + "/")
        self.d.get_log("browser")   # start each test with an empty console
        self.wait(lambda: self.js("return document.getElementById('login').open;"))
        self.fill("#login-name", name)
        if token is not None:
            self.wait(lambda: self.find("#login-token").is_displayed())
            self.fill("#login-token", token)
        self.find("#login-name").send_keys(Keys.ENTER)
        self.wait_synced("lobby")
        return self

    def fill(self, css, text):
        box = self.find(css)
        box.clear()
        box.send_keys(text)
        return box

    def wait_synced(self, room):
        self.wait(lambda: self.conn_state() == "connected", message="not connected")
        self.wait(lambda: self.js(
            "var l = document.querySelector('.log:not([hidden])');"
            "return !!l && l.dataset.key === arguments[0] && l.dataset.synced === 'true';",
            "room:" + room), message="room %s not joined" % room)

    def join(self, room):
        """Join (or create) a room through the side form and wait for its history."""
        toggle = self.find("#nav-toggle")
        if toggle.is_displayed():   # phones: the room list is a drawer
            toggle.click()
        self.fill("#room-input", room).send_keys(Keys.ENTER)
        self.wait_synced(room)

    def send(self, text):
        self.find("#composer-input").send_keys(text + Keys.ENTER)

    def by_text(self, text):
        """The visible conversation's message whose text is ``text`` (its dict)."""
        found = [m for m in self.messages() if m["text"] == text]
        assert len(found) == 1, (text, self.texts())
        return found[0]

    def msg_css(self, id):
        return ".log:not([hidden]) li.msg[data-id='%d']" % id

    def open_menu(self, text):
        """Open the actions menu of the message showing ``text``."""
        css = self.msg_css(self.by_text(text)["id"])
        self.find(css + " .msg-actions").click()
        self.wait(lambda: self.js("return document.getElementById('msg-menu')"
                                  ".matches(':popover-open');"), message="menu not open")

    def menu_items(self):
        return self.js("return Array.from(document.querySelectorAll('#msg-menu .menu-item'))"
                       ".filter(function (b) { return !b.hidden; })"
                       ".map(function (b) { return b.textContent; });")

    def unread_badge(self, room):
        """The unread count shown for ``room`` in the room list (0 when none)."""
        return self.js("var name = '#' + arguments[0];"
                       "var b = Array.from(document.querySelectorAll('#room-list .conv'))"
                       ".filter(function (c) { return c.querySelector('.conv-name').textContent"
                       " === name; })[0];"
                       "var u = b && b.querySelector('.unread');"
                       "return u ? Number(u.textContent) : 0;", room)

    def open_room(self, room):
        """Show an already joined room from the room list."""
        toggle = self.find("#nav-toggle")
        if toggle.is_displayed():
            toggle.click()
        self.js("var name = '#' + arguments[0];"
                "Array.from(document.querySelectorAll('#room-list .conv')).filter(function (c) {"
                " return c.querySelector('.conv-name').textContent === name; })[0].click();", room)
        self.wait_synced(room)

    def hold_offline(self):
        """Cut the page's connection with automatic reconnection off (see go_online)."""
        self.js("""var emit = io.Socket.prototype.emit;
                   io.Socket.prototype.emit = function () {
                     if (this.nsp === '/') window.__sock = this;
                     return emit.apply(this, arguments);
                   };""")
        self.find("#composer-input").send_keys("x")
        self.wait(lambda: self.js("return !!window.__sock;"))
        self.find("#composer-input").send_keys(Keys.BACKSPACE)
        self.js("window.__sock.io.reconnection(false); window.__sock.io.engine.close();")
        self.wait(lambda: self.conn_state() != "connected")

    def go_online(self):
        self.js("window.__sock.io.reconnection(true); window.__sock.connect();")
        self.wait(lambda: self.conn_state() == "connected", units=20)

    def wait_texts(self, expected, units=10):
        """Wait until the visible conversation shows exactly ``expected``."""
        try:
            return self.wait(lambda: self.texts() == expected, units)
        except Exception:
            raise AssertionError("page shows %r, expected %r" % (self.texts(), expected))
