"""Searching a room on the page (web/search.js): results as text, jump to the message."""

import pytest

import browser
from browser import Page
from support import Client

XSS = "<img src=x onerror=\"window.__xss = 1\"> budget <b>draft</b>"


@pytest.fixture(scope="module")
def driver():
    d = browser.launch()
    yield d
    browser.close(d)


@pytest.fixture
def writer(server):
    c = Client(server.url, "sam")
    yield c
    c.disconnect()


def results(page):
    return page.js("return Array.from(document.querySelectorAll('#search-list .result'))"
                   ".map(function (r) { return {id: Number(r.dataset.id),"
                   " text: r.querySelector('.result-text').textContent,"
                   " marks: Array.from(r.querySelectorAll('mark')).map(function (m) {"
                   " return m.textContent; })}; });")


def test_search_renders_text_and_jumps_into_older_history(server, driver, writer, room):
    """Matches (newest first) show as text with the matched word starts; a click loads
    older pages until the message is shown."""
    writer.call("join", {"room": room})
    old = writer.call("message", {"room": room, "text": "The quarterly Budget is due"})["message"]
    for i in range(120):
        writer.call("message", {"room": room, "text": "chatter %03d" % i})
    xss = writer.call("message", {"room": room, "text": XSS})["message"]
    page = Page(driver).open(server.url, "alice")
    page.join(room)
    assert old["id"] not in [m["id"] for m in page.messages()]
    page.find("#search-toggle").click()
    page.wait(lambda: page.js("return document.activeElement.id;") == "search-input")
    page.find("#search-input").send_keys("budg quart\n")
    page.wait(lambda: len(results(page)) == 1 and "match" in page.text_of("#search-status"))
    assert results(page) == [{"id": old["id"], "text": "The quarterly Budget is due",
                              "marks": ["quart", "Budg"]}]
    page.fill("#search-input", "budget\n")
    page.wait(lambda: [r["id"] for r in results(page)] == [xss["id"], old["id"]])
    assert results(page)[0]["text"] == XSS
    assert page.js("return document.querySelectorAll('#search-list img, #search-list b').length;") == 0
    assert page.js("return window.__xss;") is None
    page.fill("#search-input", "nothing-like-this\n")
    page.wait(lambda: page.text_of("#search-status").startswith("No message"))
    page.fill("#search-input", "quarterly\n")
    page.wait(lambda: len(results(page)) == 1)
    page.find("#search-list .result").click()
    page.wait(lambda: page.js("return document.activeElement.dataset.id;") == str(old["id"]),
              units=15, message="the found message was not shown")
    assert not page.find("#search-results").is_displayed()
    ids = [m["id"] for m in page.messages()]
    assert ids == sorted(set(ids)) and len(ids) == 122
    page.find("#search-input").send_keys("\ue00c")   # Escape closes the search
    page.wait(lambda: not page.find("#search-form").is_displayed())
    assert page.severe_logs() == []
