"""Fixtures of the page tests: two Chromium browsers per module and page objects on them."""

import pytest

import browser
from browser import Page
from support import Client


@pytest.fixture(scope="module")
def drivers():
    """Two browsers (two people, or two tabs of one), shared by the module: a launch
    costs about a second."""
    pair = [browser.launch(), browser.launch()]
    yield pair
    for d in pair:
        browser.close(d)


@pytest.fixture
def a(drivers):
    return Page(drivers[0])


@pytest.fixture
def b(drivers):
    return Page(drivers[1])


@pytest.fixture
def clients():
    """Make Socket.IO clients beside the pages: ``clients(url, "zoe")``; all closed at the end."""
    made = []

    def make(url, name):
        c = Client(url, name)
        made.append(c)
        return c
    yield make
    for c in made:
        c.disconnect()
