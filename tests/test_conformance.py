"""The upstream Socket.IO and Engine.IO protocol suites against the product's stack.

``tests/conformance/reference.py`` mounts each suite's reference handlers on
the product's own server (pywsgi handler, guard, Engine.IO layer); the
suites run under Node.js with mocha (``tests/conformance/run``).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from support import env_for, interrupt, timeout

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance")
NEEDS_NODE = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm") and shutil.which("npx")),
    reason="node and npm are needed to run the upstream conformance suites")


@pytest.fixture
def reference():
    """Start ``reference.py KIND`` on a free port; yield its URL."""
    procs = []

    def start(kind):
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "reference.py"), kind],
                                stdout=subprocess.PIPE, env=env_for())
        procs.append(proc)
        line = proc.stdout.readline().decode().strip()
        assert line.startswith("listening on http://"), line
        return line.split()[-1]
    yield start
    for proc in procs:
        interrupt(proc)


def run_suite(suite, url):
    """Run one suite; return mocha's JSON report."""
    env = dict(os.environ, MOCHA_REPORTER="json")
    done = subprocess.run([os.path.join(HERE, "run"), suite, url], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout(60) + 300)      # the first run installs with npm
    out = done.stdout.decode("utf-8", "replace")
    assert "{" in out, "no report from mocha:\n%s\n%s" % (out[-2000:], done.stderr.decode()[-2000:])
    return json.loads(out[out.index("{"):])


def failures(report):
    return ["%s: %s" % (t["fullTitle"], (t.get("err") or {}).get("message", "?"))
            for t in report["failures"]]


@NEEDS_NODE
def test_socketio_protocol_suite_passes(reference):
    """socket.io-protocol (Engine.IO + Socket.IO, 32 tests) passes on the product's server."""
    report = run_suite("socket.io-protocol", reference("socketio"))
    assert failures(report) == []
    assert report["stats"]["passes"] == 32


@NEEDS_NODE
def test_engineio_protocol_suite_passes(reference):
    """engine.io-protocol (24 tests) passes on the product's Engine.IO layer."""
    report = run_suite("engine.io-protocol", reference("engineio"))
    assert failures(report) == []
    assert report["stats"]["passes"] == 24
