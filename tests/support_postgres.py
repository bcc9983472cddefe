"""PostgreSQL for tests: one throwaway server per session, a fresh database per test.

    def test_x(postgres_url): ...        # postgresql://realtime:...@127.0.0.1:P/t_N
    def test_y(postgres_server): ...     # the TempPostgres (url(), create_database())

Both are registered in conftest.py, so any module (a store contract
parametrized by URL, deployment tests) can ask for them.  Without the
PostgreSQL server binaries every such test is skipped with one reason.
"""

import itertools
import os

import pytest

from realtime.store.pgtemp import TempPostgres, Unavailable

_databases = itertools.count(1)


def start_postgres(**kwargs):
    """A started TempPostgres, or a pytest skip naming what is missing."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        pytest.skip("psycopg 3 / psycopg_pool not installed (pip install "
                    "'realtime-chat[postgres]'): %s" % exc)
    try:
        return TempPostgres(**kwargs).start()
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the whole session (fsync off: tests crash clients, not it)."""
    pg = start_postgres(durable=False)
    yield pg
    pg.remove()


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a new, empty database on the session's server."""
    return postgres_server.create_database("t_%d_%d" % (os.getpid(), next(_databases)))
