"""The PostgreSQL store beyond the common contract (tests/test_store.py runs that too):
schema versions, concurrent writers and starters, PostgreSQL down and back."""

import threading
import time

import pytest

from realtime.store import StoreError, open_store
from realtime.store import pgsql
from support import timeout
from support_postgres import start_postgres
from test_store import put


@pytest.fixture
def store(postgres_url):
    s = open_store(postgres_url)
    yield s
    s.close()


def versions(url):
    import psycopg
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM realtime_schema ORDER BY 1")]


def run_threads(target, args_list):
    errors = []

    def wrapped(*args):
        try:
            target(*args)
        except BaseException as exc:          # surfaced in the main thread below
            errors.append(exc)
    threads = [threading.Thread(target=wrapped, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout(60))
    assert not errors, errors


def test_url_opens_the_postgresql_store(store, postgres_url):
    """postgresql:// picks the cooperative PostgreSQL backend; describe() hides the password."""
    assert store.kind == "postgresql" and store.blocking is False
    password = postgres_url.split(":")[2].split("@")[0]
    assert password not in store.describe() and ":***@" in store.describe()


def test_postgres_scheme_works_too(postgres_url):
    """postgres:// is the same store."""
    s = open_store("postgres://" + postgres_url.split("://", 1)[1])
    assert put(s, "r", "x")[1] and s.kind == "postgresql"
    s.close()


def test_schema_is_created_once_and_recorded(store, postgres_url):
    """The first start applies every migration step; a restart applies none again."""
    first, _ = put(store, "r", "x", cid="c")
    assert versions(postgres_url) == [v for v, _, _ in pgsql.MIGRATIONS]
    again = open_store(postgres_url)
    assert versions(postgres_url) == [v for v, _, _ in pgsql.MIGRATIONS]
    assert again.latest("r", 10)[0] == [first] and put(again, "r", "x", cid="c") == (first, False)
    assert put(again, "r", "y")[0]["id"] > first["id"]
    again.close()


def test_newer_schema_refuses_to_start(store, postgres_url):
    """A database migrated by a newer server stops an older one with a clear error."""
    import psycopg
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO realtime_schema (version, what) VALUES (%s, 'future')",
                     (pgsql.LATEST + 1,))
    with pytest.raises(ValueError, match="newer than this server knows"):
        open_store(postgres_url)


def test_starters_at_once_on_an_empty_database_do_not_race(postgres_url):
    """Six stores opening one empty database at the same moment all start, schema once."""
    opened, gate = [], threading.Barrier(6)

    def start():
        gate.wait()
        opened.append(open_store(postgres_url))
    run_threads(start, [()] * 6)
    assert len(opened) == 6 and versions(postgres_url) == [v for v, _, _ in pgsql.MIGRATIONS]
    for s in opened:
        s.close()


def test_concurrent_writers_commit_in_id_order(postgres_url):
    """Writers on separate connections interleave in one room while a reader follows
    with `after(since)`: ids strictly increase and the reader never skips one."""
    writers = [open_store(postgres_url) for _ in range(3)]
    reader = open_store(postgres_url)
    done = threading.Event()
    seen = []

    def write(s, n):
        for i in range(60):
            size = 1 + (i * 7 + n) % 9
            s.append_batch([("r", "w%d" % n, "%d-%d-%d" % (n, i, k), None, 1)
                            for k in range(size)])

    def follow():
        since = 0
        while True:
            finished = done.is_set()
            msgs, more = reader.after("r", since, 100)
            seen.extend(m["id"] for m in msgs)
            if msgs:
                since = msgs[-1]["id"]
            elif finished:
                return
    follower = threading.Thread(target=follow)
    follower.start()
    run_threads(write, [(s, n) for n, s in enumerate(writers)])
    done.set()
    follower.join(timeout(30))
    stored = [m["id"] for m in reader.after("r", 0, 10000)[0]]
    assert stored == list(range(1, len(stored) + 1))     # no gap, no repeat
    assert seen == stored, "the follower skipped ids that committed later"
    for s in writers + [reader]:
        s.close()


def test_cid_is_idempotent_under_concurrent_writers(postgres_url):
    """The same name + cid sent through six stores at once, into different rooms:
    stored once, and every writer gets that one message back."""
    stores = [open_store(postgres_url) for _ in range(6)]
    results, gate = [], threading.Barrier(6)

    def send(n, s):
        gate.wait()
        results.append(s.append_batch([("room%d" % n, "alice", "once", "cid-1", n),
                                       ("room%d" % n, "bob", "own %d" % n, None, n)]))
    run_threads(send, list(enumerate(stores)))
    firsts = [batch[0] for batch in results]
    assert sum(created for _, created in firsts) == 1
    assert len({(m["room"], m["id"]) for m, _ in firsts}) == 1
    rooms_with_once = [s for s in range(6) if stores[0].latest("room%d" % s, 10)[0][:1]
                       and stores[0].latest("room%d" % s, 10)[0][0]["text"] == "once"]
    assert len(rooms_with_once) == 1
    assert all(batch[1][1] for batch in results)          # bob's own messages all stored
    for s in stores:
        s.close()


def test_cids_with_nul_and_backslash_stay_distinct(store):
    """cids that differ only by NUL versus an escaped-looking backslash do not collide."""
    a = put(store, "r", "a", cid="x\x00")
    b = put(store, "r", "b", cid="x\\0")
    assert a[1] and b[1] and a[0]["id"] != b[0]["id"]
    assert put(store, "r", "a", cid="x\x00") == (a[0], False)


def test_big_batch_keeps_order_across_rooms(store):
    """A batch of 512 over 7 rooms: each room's ids increase in batch order from 1."""
    items = [("room%d" % (i % 7), "a", str(i), "c%d" % i if i % 3 else None, i)
             for i in range(512)]
    out = store.append_batch(items)
    assert all(created for _, created in out)
    for r in range(7):
        mine = [m for m, _ in out if m["room"] == "room%d" % r]
        assert [m["id"] for m in mine] == list(range(1, len(mine) + 1))
        assert [m["text"] for m in store.after("room%d" % r, 0, 1000)[0]] == \
            [m["text"] for m in mine]


def test_unreachable_server_at_start_is_a_clear_error(postgres_server):
    """No PostgreSQL at the URL: start-up fails within its wait, naming the URL
    without its password."""
    from realtime.store.pgtemp import _free_port
    from realtime.store.postgres import PostgresStore
    url = "postgresql://realtime:sekrit@127.0.0.1:%d/x" % _free_port()
    began = time.monotonic()
    with pytest.raises(ValueError, match="cannot reach PostgreSQL") as info:
        PostgresStore(url, startup_wait=1)
    assert time.monotonic() - began < timeout(10)
    assert "sekrit" not in str(info.value) and ":***@" in str(info.value)


def test_wrong_password_is_a_clear_error(postgres_server):
    """A wrong password fails start-up naming the cause, never the password."""
    from realtime.store.postgres import PostgresStore
    url = postgres_server.url("postgres").replace(postgres_server.password, "wrongpass")
    with pytest.raises(ValueError, match="password authentication failed") as info:
        PostgresStore(url, startup_wait=0.5)
    assert "wrongpass" not in str(info.value)


def test_down_then_back():
    """PostgreSQL stopped: calls fail fast with StoreError (dm ids still come); started
    again: the same store works by itself."""
    pg = start_postgres(durable=False)
    try:
        s = open_store(pg.create_database("downup"))
        put(s, "r", "before")
        pg.stop()
        began = time.monotonic()
        with pytest.raises(StoreError, match="unavailable"):
            put(s, "r", "lost")
        with pytest.raises(StoreError):
            s.ping()
        with pytest.raises(StoreError):
            s.latest("r", 5)
        assert time.monotonic() - began < timeout(10)
        assert s.next_dm_id() > 0
        pg.start()
        deadline = time.monotonic() + timeout(10)
        while True:
            try:
                s.ping()
                break
            except StoreError:
                assert time.monotonic() < deadline, "the store did not recover"
                time.sleep(0.1)
        assert put(s, "r", "after")[1]
        assert [m["text"] for m in s.latest("r", 5)[0]] == ["before", "after"]
        s.close()
    finally:
        pg.remove()


COOPERATIVE = r"""
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
from realtime.store import open_store
import psycopg.waiting
store = open_store(sys.argv[1])
ticks = []
def tick():
    while True:
        ticks.append(time.perf_counter()); gevent.sleep(0.01)
ticker = gevent.spawn(tick)
gevent.sleep(0.05)
def query():
    with store._connection() as conn:
        conn.execute("SELECT pg_sleep(0.5)")
began = time.perf_counter()
gevent.spawn(query).join()
store.append_batch([("r", "a", str(i), None, 1) for i in range(512)])
during = [t for t in ticks if t > began]
gaps = [b - a for a, b in zip(during, during[1:])]
print(psycopg.waiting.wait.__name__, len(during), round(max(gaps), 3))
"""


def test_queries_yield_to_the_hub_under_gevent(postgres_url):
    """In a gevent-patched process psycopg waits cooperatively: a greenlet keeps
    ticking while a query sleeps 0.5 s in PostgreSQL."""
    import subprocess
    import sys
    from support import env_for
    out = subprocess.run([sys.executable, "-c", COOPERATIVE, postgres_url], env=env_for(),
                         capture_output=True, text=True, timeout=timeout(30))
    assert out.returncode == 0, out.stderr
    wait, ticks, worst_gap = out.stdout.split()
    assert wait != "wait_c" and int(ticks) >= 20, out.stdout
    assert float(worst_gap) < 0.25 * timeout(1), out.stdout
    assert "imported before gevent" not in out.stderr


def test_describe_hides_every_form_of_password():
    """A password in the user part or in the query string never reaches a log line."""
    from realtime.store.postgres import hide_password
    assert hide_password("postgresql://u:p%40ss@h:5432/db?sslmode=require&password=zz") == \
        "postgresql://u:***@h:5432/db?sslmode=require&password=***"
    assert hide_password("postgres://h/db?password=zz&x=1") == "postgres://h/db?password=***&x=1"
    assert hide_password("postgresql://u@h/db") == "postgresql://u@h/db"
