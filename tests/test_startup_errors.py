"""Every start-up mistake: one line naming the problem and the setting, never a traceback.

Exit code 1 for a problem of the machine or the network, 2 for a usage error
(a value that can never work).
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from support import ServerProcess, env_for, timeout
from support_deploy import RedisServer, free_port

CLI = [sys.executable, "-m", "realtime"]


def run(*args, env=None, stdin=None):
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True,
                          input=stdin, env=env_for(env), timeout=timeout(30))


def one_line(result, code, *words):
    """The command exited with ``code`` and printed one line holding ``words`` on stderr."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- realtime serve ------------------------------------------------------------------


def test_port_in_use():
    """A busy port: one line naming the port setting, exit 1."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line(run("serve", "--port", port, "--store", "memory://"), 1,
                 "cannot listen on 127.0.0.1:%d" % port, "already in use", "--port")


def test_port_out_of_range():
    """--port 99999 is a usage error naming --port."""
    one_line(run("serve", "--port", "99999"), 2, "bad value for --port", "0 to 65535")
    one_line(run("serve", env={"PORT": "http"}), 2, "bad value for PORT")


def test_host_not_on_this_machine():
    """--host an address this machine does not have: one line naming --host, exit 1."""
    one_line(run("serve", "--host", "192.0.2.1", "--port", "0", "--store", "memory://"), 1,
             "192.0.2.1 is not an address of this machine", "--host")
    one_line(run("serve", "--host", "no-such-host.invalid", "--port", "0",
                 "--store", "memory://"), 1, "no such host name", "--host")


def test_unknown_log_level():
    """--log-level loud is a usage error listing the levels."""
    one_line(run("serve", "--log-level", "loud"), 2, "bad value for --log-level",
             "debug, info, warning or error")


def test_store_is_a_directory():
    """--store sqlite:////tmp: the path is a directory; exit 1 naming --store."""
    directory = tempfile.mkdtemp()
    one_line(run("serve", "--port", "0", "--store", "sqlite:///" + directory), 1,
             "is a directory", "--store")


def test_store_directory_is_not_created():
    """A store in a directory that does not exist is refused; the directory is not made."""
    missing = os.path.join(tempfile.mkdtemp(), "no", "such", "dir")
    one_line(run("serve", "--port", "0", "--store", "sqlite:///%s/x.db" % missing), 1,
             "the directory %s does not exist" % missing, "--store")
    assert not os.path.exists(os.path.dirname(missing))


def test_unknown_store_scheme_names_the_setting():
    """An unknown store URL is a usage error naming --store."""
    one_line(run("serve", "--port", "0", "--store", "ftp://x"), 2,
             "unknown store URL scheme 'ftp'", "--store / REALTIME_STORE")


def test_redis_without_the_redis_package():
    """--redis without the redis package installed: one line saying what to install."""
    code = ("import sys; sys.modules['redis'] = None; "
            "sys.argv = ['realtime', 'serve', '--port', '0', '--store', 'memory://', "
            "'--redis', 'redis://127.0.0.1:1/0']; "
            "import runpy; runpy.run_module('realtime', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env_for(), timeout=timeout(30))
    one_line(result, 2, "needs the redis package", "[redis] extra",
             "--redis")


# -- Redis that is not usable at start: one ERROR line, the server keeps running ------


def error_lines(srv):
    deadline = time.monotonic() + timeout(5)
    while "listening" not in srv.log() and "websocket handler" not in srv.log():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return [line for line in srv.log().splitlines() if " ERROR " in line]


def assert_degraded(srv):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(srv.url + "/healthz", timeout=timeout(10))
    assert info.value.code == 503


@pytest.mark.parametrize("flag", ["--redis", "--store"])
def test_unreachable_redis_is_one_error_line(server_factory, flag):
    """A Redis nobody listens on: one ERROR line naming the setting; /healthz 503."""
    url = "redis://127.0.0.1:%d/0" % free_port()
    args = ["--redis", url] if flag == "--redis" else []
    srv = server_factory(*args, store=url)
    lines = error_lines(srv)
    assert len(lines) == 1, srv.log()
    assert "redis at %s (%s / " % (url, flag) in lines[0] and "Connection refused" in lines[0]
    assert "Traceback" not in srv.log()
    assert_degraded(srv)


def test_bad_redis_database_index_is_one_error_line(server_factory):
    """redis://.../99 on a Redis with 16 databases: one ERROR line saying so; /healthz 503."""
    with RedisServer() as redis:
        url = redis.url.rsplit("/", 1)[0] + "/99"
        srv = server_factory("--redis", url, store=url)
        lines = error_lines(srv)
        assert len(lines) == 1 and "DB index is out of range" in lines[0], srv.log()
        assert "--redis / REALTIME_REDIS" in lines[0]
        assert_degraded(srv)
        assert "Traceback" not in srv.log()


# -- realtime say / listen -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["say", "listen"])
def test_connection_refused(command):
    """Nothing listening: one line 'connection refused', exit 1, no library text."""
    port = free_port()
    args = ["--url", "http://127.0.0.1:%d" % port, "--name", "n", "--room", "lobby",
            "--timeout", "3"] + (["hi"] if command == "say" else [])
    line = one_line(run(command, *args), 1, "cannot connect to http://127.0.0.1:%d" % port,
                    "connection refused")
    assert "HTTPConnectionPool" not in line and "urllib3" not in line


@pytest.mark.parametrize("command", ["say", "listen"])
@pytest.mark.parametrize("args, words", [
    (["--url", "127.0.0.1:5000"], "must start with http:// or https://"),
    (["--url", "http://127.0.0.1:5000", "--timeout", "0"], "more than 0 seconds"),
    (["--url", "http://127.0.0.1:5000", "--timeout", "soon"], "expected a number"),
])
def test_usage_errors_of_say_and_listen(command, args, words):
    """A URL with no scheme or a --timeout of 0: one line, exit 2."""
    extra = ["hi"] if command == "say" else []
    one_line(run(command, "--name", "n", "--room", "lobby", *args, *extra), 2, words,
             "realtime %s:" % command)


def test_negative_since_is_a_usage_error():
    """listen --since -5: one line, exit 2."""
    one_line(run("listen", "--url", "http://127.0.0.1:5000", "--name", "n", "--room", "lobby",
                 "--since", "-5"), 2, "--since", "must be 0 or more")


# -- realtime token ------------------------------------------------------------------------


@pytest.mark.parametrize("ttl, words", [("-5", "more than 0 seconds"),
                                        ("abc", "expected a whole number of seconds")])
def test_token_ttl_is_checked(ttl, words):
    """realtime token --ttl -5 / abc: one line naming --ttl, exit 2, no token printed."""
    result = run("token", "alice", "--ttl", ttl, env={"REALTIME_SECRET": "s"})
    line = one_line(result, 2, "--ttl", words)
    assert "--token-ttl" not in line and result.stdout == ""


def test_token_ttl_from_the_environment_is_checked():
    """A bad REALTIME_TOKEN_TTL names the variable."""
    one_line(run("token", "alice", env={"REALTIME_SECRET": "s", "REALTIME_TOKEN_TTL": "-5"}),
             2, "bad value for REALTIME_TOKEN_TTL")


def test_token_ttl_is_used():
    """--ttl sets the lifetime: a token issued for 60 s works now."""
    result = run("token", "alice", "--ttl", "60", env={"REALTIME_SECRET": "s3cret"})
    assert result.returncode == 0 and result.stdout.strip()
    srv = ServerProcess(env={"REALTIME_SECRET": "s3cret"}).start()
    try:
        from support import Client
        c = Client(srv.url, auth={"name": "alice", "token": result.stdout.strip()})
        assert c.call("rooms", {})["ok"] is True
        c.disconnect()
    finally:
        srv.kill()


# -- JWT keys ------------------------------------------------------------------------


BAD_PEM = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"


def test_missing_jwt_key_file():
    """--jwt-key naming a file that does not exist: one line naming the file and the setting."""
    one_line(run("serve", "--port", "0", "--store", "memory://", "--jwt-key", "/no/such/key.pem"),
             2, "cannot read the JWT key file /no/such/key.pem", "No such file",
             "--jwt-key / REALTIME_JWT_KEY")


def test_bad_pem_jwt_key(tmp_path):
    """A PEM that does not parse, in a file or in the environment: one line, exit 2."""
    path = tmp_path / "bad.pem"
    path.write_text(BAD_PEM)
    for result in (run("serve", "--port", "0", "--store", "memory://", "--jwt-key", path),
                   run("serve", "--port", "0", "--store", "memory://",
                       env={"REALTIME_JWT_KEY": BAD_PEM})):
        one_line(result, 2, "the JWT key is not a valid PEM public key", "--jwt-key")


def test_private_jwt_key_is_refused(tmp_path):
    """A private key where the public one belongs: one line saying to give the public key."""
    from support_jwt import KeyPair
    path = tmp_path / "private.pem"
    path.write_text(KeyPair("ES256").private_pem())
    one_line(run("serve", "--port", "0", "--store", "memory://", "--jwt-key", path), 2,
             "the JWT key is a private key", "--jwt-key")
