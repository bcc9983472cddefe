"""The client scripts in examples/ run against the real server subprocess."""

import os
import signal
import subprocess
import sys

import pytest

from support import ROOT, Client, env_for, interrupt, timeout

EXAMPLES = os.path.join(ROOT, "examples")


@pytest.fixture
def bot(server, room):
    """examples/time_bot.py answering in `room`; stopped with SIGINT."""
    proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "time_bot.py"),
                             "--url", server.url, "--room", room],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env_for())
    yield proc
    interrupt(proc, 10)


def test_time_bot_answers_time_command(server, room, bot):
    """The bot answers `!time` in the room with the current UTC time."""
    alice = Client(server.url, "alice")
    alice.call("join", {"room": room})
    alice.wait_for("presence", lambda p: p["name"] == "timebot", units=10)
    alice.call("message", {"room": room, "text": "hello"})
    question = alice.call("message", {"room": room, "text": "!time"})["message"]
    reply = alice.wait_for("message", lambda m: m["name"] == "timebot", units=10)
    assert reply["text"].startswith("It is ") and reply["text"].endswith(" UTC.")
    assert reply["id"] > question["id"]
    alice.quiet("message", lambda m: m["name"] == "timebot" and m["id"] != reply["id"])
    alice.disconnect()


def test_time_bot_stops_on_sigint(server, room, bot):
    """SIGINT stops the bot with exit code 0."""
    alice = Client(server.url, "alice")
    alice.call("join", {"room": room})
    alice.wait_for("presence", lambda p: p["name"] == "timebot", units=10)
    bot.send_signal(signal.SIGINT)
    assert bot.wait(timeout(10)) == 0
    alice.disconnect()


def test_echo_check_passes_against_live_server(server):
    """echo_check posts, sees its own broadcast and exits 0."""
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "echo_check.py"),
                             "--url", server.url], capture_output=True, text=True,
                            env=env_for(), timeout=timeout(20))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: message ")


def test_echo_check_fails_without_server():
    """echo_check exits 1 with a reason when no server answers."""
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "echo_check.py"),
                             "--url", "http://127.0.0.1:9", "--timeout", "2"],
                            capture_output=True, text=True, env=env_for(), timeout=timeout(20))
    assert result.returncode == 1
    assert "cannot connect" in result.stderr
