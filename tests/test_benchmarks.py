"""The benchmark's own parts: the bare baseline app and the lean load-generator client."""

import asyncio
import subprocess
import sys

import pytest

from support import Client, env_for, timeout

from benchmarks import report
from benchmarks.sioclient import SioClient


@pytest.fixture
def bare():
    """The bare baseline app (benchmarks/bare.py) on a free port."""
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bare", "--port", "0"],
                            stdout=subprocess.PIPE, env=env_for())
    try:
        line = proc.stdout.readline().decode().strip()
        assert line.startswith("listening on http://"), line
        yield line.split()[-1]
    finally:
        proc.kill()
        proc.wait(timeout(10))


def test_bare_app_acks_join_and_message_like_the_chat(bare, room):
    """The bare app answers join and message with the chat's ack shapes and broadcasts."""
    alice = Client(bare, "alice")
    try:
        assert alice.call("join", {"room": room}) == {
            "ok": True, "room": room, "members": [], "history": [], "more": False}
        ack = alice.call("message", {"room": room, "text": "hi"})
        assert ack["ok"] is True
        assert set(ack["message"]) == {"id", "room", "name", "text", "ts"}
        assert ack["message"]["name"] == "alice" and ack["message"]["text"] == "hi"
        assert alice.wait_for("message")["id"] == ack["message"]["id"]
    finally:
        alice.disconnect()


def test_lean_client_joins_posts_and_receives_the_broadcast(server, room):
    """sioclient.SioClient connects, gets acks and sees the room's broadcast (raw)."""
    seen = []

    async def scenario():
        client = SioClient(on_event=lambda ns, raw: seen.append((ns, raw)))
        await client.connect("127.0.0.1", server.port, auth={"name": "gen"})
        try:
            joined = await asyncio.wait_for(client.call("join", {"room": room}), timeout(5))
            posted = await asyncio.wait_for(
                client.call("message", {"room": room, "text": "1|2.5"}), timeout(5))
            for _ in range(int(timeout(5) / 0.05)):
                if any(raw.startswith(b'["message"') for _, raw in seen):
                    break
                await asyncio.sleep(0.05)
            return joined, posted
        finally:
            client.close()

    joined, posted = asyncio.run(scenario())
    assert joined["ok"] and joined["members"] == ["gen"]
    assert posted["ok"] and posted["message"]["text"] == "1|2.5"
    assert any(ns == "/" and raw.startswith(b'["message"') and b'"1|2.5"' in raw
               for ns, raw in seen)


def test_report_marks_targets_and_ratios():
    """The table divides chat by bare medians and checks the targets on the chat figure."""
    runs = [{"scenario": "message", "kind": kind, "repeat": r,
             "result": {"acks_per_s": acks, "ack_p99_ms": 10.0, "stall_ms": stall}}
            for r, (kind, acks, stall) in enumerate([("bare", 1000.0, 5.0), ("chat", 1500.0, 80.0),
                                                     ("bare", 3000.0, 5.0), ("chat", 900.0, 80.0)])]
    table = {(r["key"]): r for r in report.rows(report.summarise(runs))}
    assert table["acks_per_s"]["chat"] == 1200.0 and table["acks_per_s"]["bare"] == 2000.0
    assert table["acks_per_s"]["ratio"] == pytest.approx(0.6)
    assert table["acks_per_s"]["met"] is False
    assert table["stall_ms"]["met"] is False


def test_report_puts_postgresql_beside_sqlite():
    """A chat-pg run gets its own rows against bare and a PostgreSQL / SQLite ratio row."""
    runs = [{"scenario": "message", "kind": kind, "repeat": 0,
             "result": {"acks_per_s": acks, "stall_ms": 4.0, "outstanding": 50}}
            for kind, acks in [("bare", 4000.0), ("chat", 3000.0), ("chat-pg", 1500.0)]]
    table = {(r["scenario"], r["key"]): r for r in report.rows(report.summarise(runs))}
    vs = table[("message path (50 acks outstanding), PostgreSQL / SQLite store", "acks_per_s")]
    assert (vs["chat"], vs["bare"], vs["ratio"]) == (1500.0, 3000.0, 0.5)
    assert table[("message path (50 acks outstanding), PostgreSQL store",
                  "acks_per_s")]["ratio"] == pytest.approx(0.375)


def test_hub_lag_figures_from_two_scrapes():
    """The /metrics histogram delta gives the bucket of the worst and the p99 lag."""
    from benchmarks.scenarios import hub_lag_figures
    inf = float("inf")
    before = {0.001: 10.0, 0.005: 10.0, 0.05: 10.0, 0.1: 10.0, inf: 10.0}
    after = {0.001: 100.0, 0.005: 200.0, 0.05: 209.0, 0.1: 210.0, inf: 210.0}
    figures = hub_lag_figures(before, after)
    assert figures == {"hub_lag_max_ms": 100.0, "hub_lag_p99_ms": 50.0,
                       "hub_lags_over_50ms": 1.0}
    assert hub_lag_figures(None, after) == {}


def test_search_scenario_seeds_a_room_and_the_server_answers(tmp_path):
    """searchbench.seed writes and indexes a room; the server searches it over WebSocket."""
    from benchmarks import searchbench
    from support import ServerProcess
    path = str(tmp_path / "seeded.db")
    vocab, index_s = searchbench.seed(path, 3000, noise=500)
    assert index_s >= 0 and len(vocab) == 8000
    srv = ServerProcess(store="sqlite:///" + path).start()
    try:
        mix = searchbench.queries(vocab)
        lat, hits, failed = asyncio.run(searchbench._searches("127.0.0.1", srv.port, mix,
                                                              2 * len(mix)))
        assert failed == 0 and set(lat) == {label for label, _ in mix}
        assert hits["common word"] == 20 and hits["miss"] == 0
    finally:
        srv.kill()


def test_storestall_measures_sqlite_and_postgresql():
    """benchmarks.storestall runs the archive on both stores and reports acks and hub lag."""
    from realtime.store.pgtemp import Unavailable, bindir
    try:
        bindir()
    except Unavailable as exc:
        pytest.skip(str(exc))
    from benchmarks import storestall
    results = storestall.main(["--seconds", "0.5", "--repeat", "1", "--writers", "5",
                               "--edits"])
    for store in ("sqlite", "postgresql"):
        [run] = results[store]
        assert run["acks_per_s"] > 0 and 0 <= run["lag_p50_ms"] <= run["lag_max_ms"]


def test_trimstall_trims_a_seeded_room_and_prints_the_lag():
    """benchmarks.trimstall seeds a room, trims it to --keep and prints lag and delays."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.trimstall", "--messages", "3000",
                          "--keep", "100", "--quiet", "0.3", "--batch", "200"],
                         capture_output=True, text=True, env=env_for(), timeout=timeout(30))
    assert out.returncode == 0, out.stderr
    assert "trimmed " in out.stdout and "retention pass" in out.stdout, out.stdout
    assert int(out.stdout.split("trimmed ")[1].split()[0]) >= 2900
