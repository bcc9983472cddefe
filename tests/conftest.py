import itertools
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from support import Client, ServerProcess  # noqa: E402
from support_postgres import postgres_server, postgres_url  # noqa: E402,F401  (fixtures)
from support_page import a, b, clients, drivers  # noqa: E402,F401  (fixtures)

_rooms = itertools.count(1)


@pytest.fixture
def room():
    """A fresh room name, so tests sharing a server do not meet."""
    return "room-%d-%d" % (os.getpid(), next(_rooms))


@pytest.fixture
def server_factory():
    """Start servers with extra flags; every one is stopped at the end."""
    started = []

    def start(*args, **kwargs):
        srv = ServerProcess(args, **kwargs).start()
        started.append(srv)
        return srv
    yield start
    for srv in started:
        srv.kill()


@pytest.fixture(scope="module")
def server():
    """One server per test module (SQLite store, no rate limit)."""
    srv = ServerProcess().start()
    yield srv
    srv.kill()


@pytest.fixture(params=["websocket", "polling"])
def transport(request):
    return request.param


@pytest.fixture
def connect(server, transport):
    """Connect a recording client to the module's server: ``connect("alice")``."""
    made = []

    def make(name="alice", url=None, **kwargs):
        kwargs.setdefault("transport", transport)
        c = Client(url or server.url, name, **kwargs)
        made.append(c)
        return c
    yield make
    for c in made:
        c.disconnect()
