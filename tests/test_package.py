"""The sdist and the wheel: built, checked, installed into fresh venvs, served.

Slow (about half a minute): ``-m "not package"`` leaves it out on purpose.
It skips, with the reason in the summary, only when this Python cannot build
or make a venv at all; with ``CI`` set it fails instead.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile

import pytest

from support import ROOT, ServerProcess, assert_round_trip, timeout

pytestmark = pytest.mark.package

VERSION = re.search(r'^__version__ = "([^"]+)"',
                    open(os.path.join(ROOT, "realtime", "__init__.py")).read(), re.M).group(1)
# The checkout must not leak into the installed copy through the environment.
CLEAN_ENV = {"PYTHONPATH": "", "PYTHONNOUSERSITE": "1"}


def _cannot_build():
    """Why building is impossible here, or None."""
    if importlib.util.find_spec("build") is None:
        return "the 'build' package is not installed (pip install build)"
    if importlib.util.find_spec("venv") is None:
        return "this Python has no venv module"
    return None


def _require_building():
    reason = _cannot_build()
    if reason:
        if os.environ.get("CI"):
            pytest.fail("cannot build the package in CI: " + reason)
        pytest.skip("cannot build the package here: " + reason)


def _run(cmd, cwd=None, units=120, env=None):
    full_env = dict(os.environ, **CLEAN_ENV)
    full_env.update(env or {})
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout(units), env=full_env)
    assert result.returncode == 0, "%s failed:\n%s\n%s" % (cmd, result.stdout[-3000:],
                                                           result.stderr[-3000:])
    return result


@pytest.fixture(scope="module")
def wheelhouse():
    """A local wheel directory: build requirements now, the package's dependencies later.

    pip reaches the package index once, here; the builds and the venv
    installs then run offline from this directory (much faster).
    """
    _require_building()
    house = tempfile.mkdtemp(prefix="realtime-wheelhouse-")
    _run([sys.executable, "-m", "pip", "download", "--no-input", "--dest", house,
          "setuptools>=77", "wheel"], units=300)
    yield house
    shutil.rmtree(house, ignore_errors=True)


def _offline(house):
    """Environment making pip (and build isolation) install only from ``house``."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": house}


@pytest.fixture(scope="module")
def dist(wheelhouse):
    """sdist and wheel built from a clean copy of the checkout: {'sdist': path, 'wheel': path}."""
    work = tempfile.mkdtemp(prefix="realtime-dist-")
    src = os.path.join(work, "src")
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", "*.db", "*.db-*",
        ".pytest_cache", "artifacts", ".venv"))
    out = os.path.join(work, "dist")
    _run([sys.executable, "-m", "build", "--outdir", out, src], units=300,
         env=_offline(wheelhouse))
    files = os.listdir(out)
    found = {"sdist": [f for f in files if f.endswith(".tar.gz")],
             "wheel": [f for f in files if f.endswith(".whl")]}
    assert all(len(v) == 1 for v in found.values()), files
    # The dependencies, as the wheel declares them, from the package index.
    _run([sys.executable, "-m", "pip", "wheel", "--no-input", "--wheel-dir", wheelhouse,
          os.path.join(out, found["wheel"][0])], units=600)
    yield {kind: os.path.join(out, names[0]) for kind, names in found.items()}
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(request, dist, wheelhouse):
    """A fresh venv with only the artefact (and its declared dependencies) installed."""
    venv = tempfile.mkdtemp(prefix="realtime-venv-%s-" % request.param)
    # Without its own pip (ensurepip takes seconds): this pip installs into it.
    _run([sys.executable, "-m", "venv", "--without-pip", venv], units=120)
    _run([sys.executable, "-m", "pip", "--python", os.path.join(venv, "bin", "python"),
          "install", "--no-input", "--no-compile", dist[request.param]],
         units=600, env=_offline(wheelhouse))
    yield venv
    shutil.rmtree(venv, ignore_errors=True)


@pytest.fixture(scope="module")
def empty_dir():
    """An empty working directory: nothing of the checkout next to the process."""
    path = tempfile.mkdtemp(prefix="realtime-empty-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def installed_server(installed, empty_dir):
    """`realtime --port 0` of the venv, started in an empty directory."""
    srv = ServerProcess(command=[os.path.join(installed, "bin", "realtime")],
                        cwd=empty_dir, env=CLEAN_ENV).start()
    yield srv
    srv.kill()


def get(url):
    with urllib.request.urlopen(url, timeout=timeout(10)) as resp:
        return resp.status, resp.headers, resp.read()


def test_artefacts_pass_twine_check(dist):
    """twine check accepts the metadata of both artefacts."""
    result = _run([sys.executable, "-m", "twine", "check", "--strict",
                   dist["sdist"], dist["wheel"]])
    assert result.stdout.count("PASSED") == 2


def test_sdist_carries_docs_licence_page_and_tests(dist):
    """The sdist holds README, LICENSE, the page, the tests and the examples."""
    with tarfile.open(dist["sdist"]) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in ("README.md", "LICENSE", "MANIFEST.in", "web/index.html",
                   "web/socket.io.min.js", "tests/support.py", "tests/test_package.py",
                   "examples/flask_app.py", "realtime/__init__.py"):
        assert needed in names, needed


def test_wheel_carries_page_inside_package(dist):
    """The wheel has the page under realtime/web/, the licence, and no tests."""
    with zipfile.ZipFile(dist["wheel"]) as whl:
        names = set(whl.namelist())
        metadata = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    for needed in ("realtime/web.py", "realtime/web/index.html", "realtime/web/app.js",
                   "realtime/web/socket.io.min.js", "realtime/client.py"):
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    text = metadata.decode()
    assert "Version: %s\n" % VERSION in text
    assert "License-Expression: MIT" in text or "License: MIT" in text
    for python in ("3.10", "3.11", "3.12", "3.13"):
        assert "Programming Language :: Python :: %s" % python in text


def test_installed_copy_is_used_not_the_checkout(installed, empty_dir):
    """The venv imports its own installed realtime, page included."""
    python = os.path.join(installed, "bin", "python")
    out = _run([python, "-c", "import json, realtime, realtime.web; print(json.dumps("
                "[realtime.__file__, realtime.web.web_dir()]))"], cwd=empty_dir).stdout
    module, web = json.loads(out)
    venv = os.path.realpath(installed)
    assert os.path.realpath(module).startswith(venv + os.sep)
    assert os.path.realpath(web).startswith(venv + os.sep)


def test_installed_version_is_the_single_version(installed, empty_dir):
    """`realtime --version` prints the version from realtime/__init__.py."""
    out = _run([os.path.join(installed, "bin", "realtime"), "--version"], cwd=empty_dir)
    assert out.stdout.strip() == "realtime " + VERSION


def test_installed_serves_page(installed_server):
    """The installed server started in an empty directory serves the chat page."""
    status, headers, body = get(installed_server.url + "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"socket.io.min.js" in body


def test_installed_serves_js_client(installed_server):
    """The installed server serves the Socket.IO JavaScript client locally."""
    status, headers, body = get(installed_server.url + "/static/socket.io.min.js")
    assert status == 200
    assert "javascript" in headers["Content-Type"]
    assert b"Socket.IO" in body[:200]


def test_installed_chat_round_trip(installed_server, room):
    """Two python-socketio clients chat through the installed server."""
    assert_round_trip(installed_server.url, room, "from the wheel")


def test_installed_say_command(installed, installed_server, empty_dir, room):
    """The venv's `realtime say` (client dependencies included) posts a message."""
    out = _run([os.path.join(installed, "bin", "realtime"), "say", "--url",
                installed_server.url, "--name", "script", "--room", room, "scripted"],
               cwd=empty_dir, units=30)
    msg = json.loads(out.stdout)
    assert (msg["room"], msg["text"]) == (room, "scripted")
