"""The server process: start-up line and logs, clean stop on signals, /healthz 503."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import pytest

from support import ServerProcess, env_for, timeout


def test_port_zero_prints_the_bound_url(server_factory):
    """--port 0 picks a free port and prints `listening on http://HOST:PORT`."""
    srv = server_factory()
    assert srv.port > 0 and srv.url == "http://127.0.0.1:%d" % srv.port


def test_startup_log_names_store_and_handler(server_factory):
    """The log says which store and WebSocket handler are in use."""
    log = server_factory().log()
    assert "store: sqlite:///" in log and "geventwebsocket.handler.WebSocketHandler" in log


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly(server_factory, sig):
    """SIGINT and SIGTERM stop the server with exit code 0, quickly."""
    srv = server_factory()
    assert srv.stop(sig) == 0
    assert "Traceback" not in srv.log()


def test_default_store_is_realtime_db_in_working_directory():
    """Without --store, history goes to realtime.db in the current directory."""
    cwd = tempfile.mkdtemp()
    proc = subprocess.Popen([sys.executable, "-m", "realtime", "--port", "0"],
                            cwd=cwd, env=env_for(), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("listening on http://127.0.0.1:")
        assert os.path.exists(os.path.join(cwd, "realtime.db"))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout(15))


def test_bad_store_url_is_a_clear_error():
    """An unknown store scheme stops start-up with a message, exit 2."""
    out = subprocess.run([sys.executable, "-m", "realtime", "--port", "0",
                          "--store", "ftp://x"], env=env_for(), capture_output=True,
                         text=True, timeout=timeout(20))
    assert out.returncode == 2 and "unknown store URL scheme" in out.stderr


def test_version_flag():
    """realtime --version prints the package version."""
    import realtime
    out = subprocess.run([sys.executable, "-m", "realtime", "--version"], env=env_for(),
                         capture_output=True, text=True, timeout=timeout(20))
    assert out.stdout.strip() == "realtime " + realtime.__version__


def test_healthz_503_when_store_breaks():
    """/healthz says degraded with 503 when the store stops working."""
    srv = ServerProcess().start()
    try:
        path = srv.store[len("sqlite:///"):]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        os.mkdir(path)      # the database path is now a directory
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(srv.url + "/healthz", timeout=10)
        assert info.value.code == 503
        assert json.loads(info.value.read())["status"] == "degraded"
    finally:
        srv.kill()
