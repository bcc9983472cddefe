"""Relay CI webhooks to a chat room through the HTTP API.

    REALTIME_URL=http://127.0.0.1:5000 REALTIME_API_KEY=... \\
        python examples/webhook_relay.py --port 8080 --room builds [--secret S]

Point a GitHub-style webhook (``Content-Type: application/json``) at
``http://HOST:8080/hook``.  Each delivery becomes one line in the room,
posted as ``ci`` with ``POST /api/rooms/ROOM/messages``; the delivery id
(``X-GitHub-Delivery``) is the message's ``cid``, so a redelivery is not
posted twice.  With ``--secret`` (or ``RELAY_SECRET``) the
``X-Hub-Signature-256`` HMAC is checked and a delivery without a valid one
is refused (401).  Only the standard library is used.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


def line(event, payload):
    """The chat line for one webhook delivery (GitHub's event names)."""
    repo = (payload.get("repository") or {}).get("full_name", "?")
    if event == "workflow_run":
        run = payload.get("workflow_run") or {}
        outcome = run.get("conclusion") or run.get("status") or "updated"
        text = "CI %s: %s on %s (%s) %s" % (outcome, run.get("name", "workflow"),
                                           run.get("head_branch", "?"), repo,
                                           run.get("html_url", ""))
        return text.strip()
    if event == "push":
        branch = str(payload.get("ref", "")).rsplit("/", 1)[-1]
        who = (payload.get("pusher") or {}).get("name", "someone")
        count = len(payload.get("commits") or [])
        return "%s pushed %d commit%s to %s:%s" % (who, count, "" if count == 1 else "s",
                                                  repo, branch)
    return "%s event from %s" % (event or "unknown", repo)


def post(url, key, room, name, text, cid=None):
    """POST the line to the chat's API; return (status, answer)."""
    body = {"name": name, "text": text[:2000]}
    if cid:
        body["cid"] = cid[:64]
    request = urllib.request.Request(
        "%s/api/rooms/%s/messages" % (url.rstrip("/"), room),
        data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)
    except (OSError, ValueError) as exc:        # chat server down, bad --url
        return 0, {"error": "the chat server did not answer (%s)" % exc}


def make_handler(args):
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != "/hook":
                return self._answer(404, {"error": "POST to /hook."})
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                return self._answer(400, {"error": "a JSON body of at most 1 MiB."})
            raw = self.rfile.read(length)
            if args.secret:
                want = "sha256=" + hmac.new(args.secret.encode(), raw, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(want, self.headers.get("X-Hub-Signature-256", "")):
                    return self._answer(401, {"error": "bad or missing signature."})
            try:
                payload = json.loads(raw)
            except ValueError:
                return self._answer(400, {"error": "the body is not JSON."})
            if not isinstance(payload, dict):
                return self._answer(400, {"error": "the body must be a JSON object."})
            event = self.headers.get("X-GitHub-Event", "")
            status, answer = post(args.url, args.key, args.room, args.name,
                                  line(event, payload), self.headers.get("X-GitHub-Delivery"))
            self._answer(200 if status in (200, 201) else 502,
                         {"chat": status, "answer": answer})

        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):     # one line per delivery, to stderr
            sys.stderr.write("relay: " + fmt % args + "\n")
    return Hook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--room", default="builds")
    parser.add_argument("--name", default="ci")
    parser.add_argument("--url", default=os.environ.get("REALTIME_URL",
                                                        "http://127.0.0.1:5000"))
    parser.add_argument("--secret", default=os.environ.get("RELAY_SECRET", ""))
    args = parser.parse_args(argv)
    args.key = os.environ.get("REALTIME_API_KEY", "").split(",")[0]
    if not args.key:
        parser.error("set REALTIME_API_KEY to a key of the chat server's --api-key")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args))
    print("listening on http://%s:%d" % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
