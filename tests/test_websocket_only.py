"""--websocket-only: every client we ship connects with no extra flag; polling gets a reason.

The last tests follow the README's "Three processes on PostgreSQL + Redis"
walk as written (gunicorn's WebSocket worker, REALTIME_STORE, REALTIME_REDIS,
REALTIME_SECRET, REALTIME_WEBSOCKET_ONLY=1; two workers stand for the three
processes) with
the page and every shipped client, each with a token from `realtime token`.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import socketio

import browser
from support import ROOT, Client, ServerProcess, env_for, interrupt, timeout
from support_deploy import GunicornProcess, RedisServer
from test_scripts import Listener, run_cli, wait_joined

EXAMPLES = os.path.join(ROOT, "examples")


def readme_walk():
    """``(environment, gunicorn argv, pip lines)`` of the README's Redis walk, step 2."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", text, re.S)
                 if "REALTIME_WEBSOCKET_ONLY=1" in b)
    lines = [l.split("#")[0].strip() for l in block.replace("\\\n", " ").splitlines()]
    env = dict(shlex.split(l[len("export "):])[0].split("=", 1)
               for l in lines if l.startswith("export "))
    command = next(l for l in lines if l.startswith("gunicorn"))
    return env, shlex.split(command), [l for l in lines if l.startswith("pip install")]


WALK_ENV, WALK_ARGV, WALK_INSTALL = readme_walk()
SECRET = WALK_ENV["REALTIME_SECRET"]


class ReadmeGunicorn(GunicornProcess):
    """The README's command and environment as written, but for the Redis and
    PostgreSQL URLs (a test redis-server and database), the port (a free one)
    and two workers standing for three processes."""

    def __init__(self, redis_url, store_url):
        super().__init__(env=dict(WALK_ENV, REALTIME_REDIS=redis_url))
        self.env.pop("REALTIME_RATE")           # not in the README
        self.env["REALTIME_STORE"] = store_url

    def command(self):
        argv = list(WALK_ARGV)
        argv[argv.index("-w") + 1] = "2"
        argv[argv.index("--bind") + 1] = "127.0.0.1:%d" % self.port
        argv[0] = shutil.which("gunicorn") or os.path.join(
            os.path.dirname(os.path.realpath(sys.executable)), "gunicorn")
        return argv + ["--no-control-socket"]


def token(name):
    """`realtime token NAME` with the walk's secret."""
    out = subprocess.run([sys.executable, "-m", "realtime", "token", name], capture_output=True,
                         text=True, env=env_for({"REALTIME_SECRET": SECRET}), timeout=timeout(20))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def ws_only():
    """`realtime serve --websocket-only` (SQLite store, no rate limit)."""
    srv = ServerProcess(["--websocket-only"]).start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def walk(postgres_server):
    """The README's scale-out walk on one host: PostgreSQL, Redis, gunicorn -w 2,
    WebSocket only."""
    assert WALK_ENV["REALTIME_WEBSOCKET_ONLY"] == "1" and WALK_ARGV[-1] == "realtime.wsgi:app"
    assert WALK_ENV["REALTIME_STORE"].startswith("postgresql://")
    store = postgres_server.create_database("walk_%d" % os.getpid())
    with RedisServer() as redis:
        srv = ReadmeGunicorn(redis.url, store)
        srv.start()
        try:
            srv.wait_log("Booting worker", units=5)
            srv.wait_log("transports: websocket only")
            yield srv
        finally:
            srv.kill()


@pytest.fixture(scope="module")
def driver():
    d = browser.launch()
    yield d
    browser.close(d)


def polling_answer(url):
    try:
        urllib.request.urlopen(url + "/socket.io/?EIO=4&transport=polling", timeout=timeout(5))
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), json.loads(exc.read())
    raise AssertionError("a polling request was accepted")


def test_polling_request_gets_400_with_a_json_reason(ws_only):
    """A polling handshake gets 400 and a JSON body saying to use the WebSocket transport."""
    status, ctype, body = polling_answer(ws_only.url)
    assert (status, ctype) == (400, "application/json")
    assert body["code"] == 0
    assert "connect with the WebSocket transport" in body["message"]
    assert 'transports: ["websocket"]' in body["message"]


def test_default_python_socketio_client_is_told_why(ws_only):
    """A stock python-socketio client fails; its connect_error handler holds the reason."""
    sio = socketio.Client()
    reasons = []
    sio.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError) as info:
        sio.connect(ws_only.url, auth={"name": "stock"}, wait_timeout=timeout(5))
    assert "WebSocket" not in str(info.value)      # the exception keeps only the status
    assert "connect with the WebSocket transport" in reasons[0]["message"]
    sio.connect(ws_only.url, auth={"name": "stock"}, transports=["websocket"],
                wait_timeout=timeout(5))            # what the message says to do works
    assert sio.call("rooms", {}, timeout=timeout(5))["ok"] is True
    sio.disconnect()


def test_say_and_listen_need_no_flag(ws_only, room):
    """`realtime say` and `realtime listen` without --transport work against it."""
    watcher = Client(ws_only.url, "watcher")
    lst = Listener("--url", ws_only.url, "--name", "log", "--room", room)
    try:
        watcher.call("join", {"room": room})
        wait_joined(watcher, room, "log")
        said = run_cli("say", "--url", ws_only.url, "--name", "alice", "--room", room, "hi")
        assert said.returncode == 0, said.stderr
        msg = json.loads(said.stdout)
        assert lst.next() == msg
        assert lst.stop() == (0, "")
    finally:
        if lst.proc.poll() is None:
            lst.proc.kill()
        watcher.disconnect()


def test_forced_polling_is_refused_with_the_reason(ws_only):
    """`say --transport polling` exits 1 and prints the server's reason."""
    said = run_cli("say", "--url", ws_only.url, "--name", "alice", "--room", "lobby",
                   "--transport", "polling", "hi")
    assert said.returncode == 1
    assert "accepts only the WebSocket transport" in said.stderr
    assert said.stderr.count("\n") == 1


def test_chat_client_needs_no_flag(ws_only, room):
    """realtime.client.ChatClient connects over WebSocket by itself."""
    from realtime.client import ChatClient
    with ChatClient(ws_only.url, "scripted", timeout=timeout(5)) as chat:
        assert chat.sio.transport() == "websocket"
        assert chat.say(room, "from a script")["text"] == "from a script"


def test_echo_check_needs_no_flag(ws_only):
    """examples/echo_check.py round-trips against a WebSocket-only server."""
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "echo_check.py"),
                             "--url", ws_only.url], capture_output=True, text=True,
                            env=env_for(), timeout=timeout(20))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: message ")


def test_page_connects_to_a_websocket_only_server(ws_only, driver, room):
    """The chat page in Chromium connects (polling refused, then WebSocket) and chats."""
    page = browser.Page(driver).open(ws_only.url, "pia")
    page.join(room)
    bob = Client(ws_only.url, "bob")
    try:
        bob.call("join", {"room": room})
        page.send("hello over websocket only")
        page.wait_texts(["hello over websocket only"])
        assert bob.wait_for("message", lambda m: m["room"] == room)["name"] == "pia"
        page.wait(lambda: page.text_of("#clock") not in (None, ""))     # /clock shares it
    finally:
        bob.disconnect()


# -- the README's walk, exactly as written -----------------------------------------


def test_walk_installs_the_postgres_and_redis_extras():
    """The README's step installs the [postgres,redis] extras: psycopg, its pool, redis-py."""
    assert [shlex.split(l)[2] for l in WALK_INSTALL] == [".[postgres,redis]"]
    with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as f:
        text = f.read()
    assert re.search(r'"redis": \["redis>=5"\]', text)
    assert re.search(r'"postgres": \["psycopg\[binary\][^"]*", "psycopg-pool[^"]*"\]', text)



def test_walk_refuses_polling_with_the_reason(walk):
    """gunicorn with REALTIME_WEBSOCKET_ONLY=1 answers polling with the JSON reason."""
    assert "connect with the WebSocket transport" in polling_answer(walk.url)[2]["message"]
    assert "Traceback" not in walk.log()


def test_walk_page_and_cli_chat(walk, driver, room):
    """The page, `realtime say` and `realtime listen` chat through gunicorn -w 2 behind Redis."""
    page = browser.Page(driver).open(walk.url, "pam", token=token("pam"))
    page.join(room)
    said = run_cli("say", "--url", walk.url, "--name", "sam", "--room", room,
                   "--token", "-", "hi pam", stdin=token("sam"))
    assert said.returncode == 0, said.stderr
    page.wait_texts(["hi pam"])
    page.send("hi sam")
    lst = Listener("--url", walk.url, "--name", "log", "--room", room, "--since", "0",
                   "--token", token("log"))
    try:
        assert [lst.next()["text"], lst.next()["text"]] == ["hi pam", "hi sam"]
    finally:
        lst.stop()


def test_walk_examples(walk, room):
    """examples/echo_check.py and examples/time_bot.py work through the walk's gunicorn."""
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "echo_check.py"),
                             "--url", walk.url, "--token", token("echo-check")],
                            capture_output=True, text=True, env=env_for(), timeout=timeout(20))
    assert result.returncode == 0, result.stderr
    bot = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "time_bot.py"),
                            "--url", walk.url, "--room", room, "--token", token("timebot")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env_for())
    alice = Client(walk.url, auth={"name": "alice", "token": token("alice")})
    try:
        if "timebot" not in alice.call("join", {"room": room})["members"]:
            alice.wait_for("presence", lambda p: p["name"] == "timebot", units=10)
        alice.call("message", {"room": room, "text": "!time"})
        reply = alice.wait_for("message", lambda m: m["name"] == "timebot", units=10)
        assert reply["text"].startswith("It is ")
    finally:
        alice.disconnect()
        interrupt(bot, 10)
