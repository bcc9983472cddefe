"""Security headers on the page and its assets; the page needs no inline script."""

import html.parser
import urllib.request

import pytest

from support import timeout


def get(server, path):
    return urllib.request.urlopen(server.url + path, timeout=timeout(5))


def csp(server):
    header = get(server, "/").headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_page_has_a_strict_content_security_policy(server):
    """CSP: scripts only from the server itself, no inline script, no plugins, no framing."""
    policy = csp(server)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert not any("unsafe" in v for values in policy.values() for v in values)


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/static/socket.io.min.js",
                                  "/healthz", "/metrics", "/nope"])
def test_responses_forbid_content_sniffing(server, path):
    """Every response says X-Content-Type-Options: nosniff."""
    try:
        headers = get(server, path).headers
    except urllib.error.HTTPError as exc:
        headers = exc.headers
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_page_sends_no_referrer(server):
    """The page sets Referrer-Policy: no-referrer."""
    assert get(server, "/").headers["Referrer-Policy"] == "no-referrer"


class _Scripts(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline, self.handlers, self.sources = [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [k for k in attrs if k.lower().startswith("on")]
        self.handlers += [k for k, v in attrs.items() if (v or "").strip().lower().startswith(
            "javascript:")]
        if tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.sources.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:40])


def test_page_needs_no_inline_script(server):
    """The page's scripts are all files from the server: no inline code or handlers."""
    parser = _Scripts()
    parser.feed(get(server, "/").read().decode("utf-8"))
    assert parser.inline == [] and parser.handlers == []
    assert parser.sources and all(src.startswith("/static/") for src in parser.sources)
    for src in parser.sources:
        assert get(server, src).headers["Content-Type"].startswith(
            ("application/javascript", "text/javascript"))
