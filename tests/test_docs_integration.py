"""docs/integration.md's minting code, run as written, makes tokens the server accepts."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from support import ROOT, Client, ServerProcess, env_for, timeout

SECRET = "docs-secret-" + os.urandom(16).hex()


def block(opening):
    with open(os.path.join(ROOT, "docs", "integration.md"), encoding="utf-8") as f:
        text = f.read()
    return next(b for b in re.findall(r"```\w*\n(.*?)```", text, re.S) if b.startswith(opening))


@pytest.fixture(scope="module")
def server():
    """The documented HS256 command line (audience chat, issuer https://app.example)."""
    line = next(l for l in block("# a shared secret").splitlines() if l.startswith("realtime"))
    args = line.replace('"$CHAT_JWT_SECRET"', SECRET).split()[2:]
    srv = ServerProcess(args).start()
    yield srv
    srv.kill()


def run(argv, tmp_path, name, code):
    path = tmp_path / name
    path.write_text(code)
    out = subprocess.run(argv + [str(path)], capture_output=True, text=True, timeout=timeout(20),
                         env=env_for({"CHAT_JWT_SECRET": SECRET}))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def chats_as_alice(url, token, room):
    c = Client(url, auth={"token": token})
    try:
        assert c.call("join", {"room": room})["ok"]
        return c.call("message", {"room": room, "text": "hi"})["message"]["name"]
    finally:
        c.disconnect()


def test_python_minting_code(server, tmp_path, room):
    """The PyJWT snippet's token connects as alice."""
    token = run([sys.executable], tmp_path, "mint_jwt.py", block("# mint_jwt.py"))
    assert chats_as_alice(server.url, token, room) == "alice"


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_node_minting_code(server, tmp_path, room):
    """The node crypto snippet's token connects as alice."""
    token = run(["node"], tmp_path, "mint_jwt.js", block("// mint_jwt.js"))
    assert chats_as_alice(server.url, token, room) == "alice"


def test_http_api_section_links_its_page():
    """The integration guide has an HTTP API section linking docs/http-api.md."""
    with open(os.path.join(ROOT, "docs", "integration.md"), encoding="utf-8") as f:
        text = f.read()
    assert "\n## HTTP API\n" in text and "(http-api.md)" in text
