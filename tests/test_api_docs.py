"""docs/http-api.md works as written, and examples/webhook_relay.py relays for real."""

import hashlib
import hmac
import json
import os
import queue
import re
import subprocess
import sys
import threading

import requests

from support import ROOT, Client, ServerProcess, die_with_parent, env_for, interrupt, timeout
from support_api import KEY, ApiClient

DOC = os.path.join(ROOT, "docs", "http-api.md")
RELAY = os.path.join(ROOT, "examples", "webhook_relay.py")


def _blocks(lang):
    text = open(DOC, encoding="utf-8").read()
    return re.findall(r"```%s\n(.*?)```" % lang, text, re.S)


def curl_lines():
    """(command, documented status) for every curl line of the doc's sh blocks."""
    found = []
    for block in _blocks("sh"):
        for line in block.splitlines():
            m = re.fullmatch(r"(curl .*?)\s+# -> (\d{3})", line.strip())
            if m:
                found.append((m.group(1), int(m.group(2))))
    return found


def test_doc_has_curl_for_every_api_call():
    """Each method and path of the API has a curl line."""
    calls = set()
    for command, _ in curl_lines():
        method = re.search(r"-X (\w+)", command)
        path = re.search(r'\$REALTIME_URL(/api/[^"?]*)', command).group(1)
        path = re.sub(r"/rooms/[^/]+", "/rooms/{room}", path)
        path = re.sub(r"/messages/\d+", "/messages/{id}", path)
        path = re.sub(r"/users/[^/]+", "/users/{name}", path)
        calls.add((method.group(1) if method else "GET", path))
    assert calls >= {("POST", "/api/rooms/{room}/messages"), ("GET", "/api/rooms/{room}/messages"),
                     ("DELETE", "/api/rooms/{room}/messages/{id}"), ("GET", "/api/rooms"),
                     ("GET", "/api/rooms/{room}/members"),
                     ("POST", "/api/users/{name}/disconnect"), ("GET", "/api/openapi.json")}


def test_every_curl_line_answers_its_documented_status(server_factory):
    """Against a fresh server, in order, each curl line gets the status the doc says."""
    srv = server_factory("--api-key", KEY)
    env = dict(os.environ, REALTIME_URL=srv.url, REALTIME_API_KEY=KEY)
    lines = curl_lines()
    assert len(lines) >= 12
    for command, status in lines:
        run = subprocess.run(["bash", "-c", command.replace(
            "curl ", "curl -s -o /dev/null -w '%{http_code}' ", 1)],
            env=env, capture_output=True, text=True, timeout=timeout(10))
        assert run.stdout == str(status), (command, run.stdout, run.stderr)


def test_python_snippet_posts(server_factory, room):
    """The doc's Python function posts a message as written."""
    srv = server_factory("--api-key", KEY)
    [snippet] = _blocks("python")
    scope = {}
    old = dict(os.environ)
    os.environ.update(REALTIME_URL=srv.url, REALTIME_API_KEY=KEY)
    try:
        exec(snippet, scope)
        msg = scope["post"](room, "nightly ok", cid="n-1")
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert (msg["room"], msg["name"], msg["text"]) == (room, "cron", "nightly ok")


def start_relay(chat_url, room, secret):
    proc = subprocess.Popen([sys.executable, RELAY, "--port", "0", "--room", room,
                             "--secret", secret],
                            env=env_for({"REALTIME_URL": chat_url, "REALTIME_API_KEY": KEY}),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline().decode()),
                     daemon=True).start()
    first = lines.get(timeout=timeout(10))
    assert first.startswith("listening on http://"), first
    return proc, first.split()[-1]


def deliver(url, payload, secret, event="workflow_run", delivery="d-1"):
    raw = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return requests.post(url + "/hook", data=raw, timeout=timeout(10), headers={
        "Content-Type": "application/json", "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sig})


WORKFLOW = {"action": "completed", "repository": {"full_name": "acme/shop"},
            "workflow_run": {"name": "tests", "status": "completed", "conclusion": "success",
                             "head_branch": "main",
                             "html_url": "https://github.com/acme/shop/actions/runs/7"}}


def test_webhook_relay_posts_one_line_per_delivery(room):
    """A signed CI delivery becomes one chat line; a redelivery is not doubled;
    a bad signature is refused."""
    chat = ServerProcess(["--api-key", KEY]).start()
    alice = Client(chat.url, "alice")
    relay = None
    try:
        alice.call("join", {"room": room})
        relay, url = start_relay(chat.url, room, "s3cret")
        resp = deliver(url, WORKFLOW, "s3cret")
        assert resp.status_code == 200 and resp.json()["chat"] == 201
        msg = alice.wait_for("message")
        assert msg["name"] == "ci"
        assert msg["text"] == ("CI success: tests on main (acme/shop) "
                               "https://github.com/acme/shop/actions/runs/7")
        again = deliver(url, WORKFLOW, "s3cret")
        assert again.json()["chat"] == 200          # the same delivery id: the cid
        push = {"ref": "refs/heads/dev", "repository": {"full_name": "acme/shop"},
                "pusher": {"name": "bob"}, "commits": [{}, {}]}
        assert deliver(url, push, "s3cret", event="push", delivery="d-2").status_code == 200
        alice.wait_for("message", lambda m: m["text"] == "bob pushed 2 commits to acme/shop:dev")
        assert deliver(url, WORKFLOW, "wrong", delivery="d-3").status_code == 401
        alice.quiet("message", lambda m: m["text"].startswith("CI") and m["id"] != msg["id"])
        texts = [m["text"] for m in ApiClient(chat.url).get("/rooms/%s/messages" % room)[1]
                 ["messages"]]
        assert len(texts) == 2
    finally:
        if relay is not None:
            interrupt(relay)
        alice.disconnect()
        chat.kill()
