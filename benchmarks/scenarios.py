"""The scenarios: message path, fan-out and capacity, each against one server.

Each function takes the options and a started server (:mod:`benchmarks.procs`)
and returns the raw figures of one run; :mod:`benchmarks.report` aggregates.
"""

import math
import multiprocessing
import time
import urllib.request
from array import array

from .procs import BenchError, Workers, cpu_s, rss_kb, tree_cpu_s

PER_PROCESS = 7000          # idle connections per generator process (fd limit 20,000)


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(math.ceil(q / 100.0 * len(values))) - 1))
    return values[k]


def _unpack(blob):
    out = array("d")
    out.frombytes(blob)
    return out


def _split(items, parts):
    return [items[i::parts] for i in range(parts)]


def hub_lag_buckets(server):
    """The chat server's own hub-lag histogram from /metrics: ``{le: cumulative count}``
    (None for a server without it, like the bare app)."""
    try:
        url = "http://%s:%d/metrics" % (server.host, server.port)
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith("realtime_hub_lag_seconds_bucket{"):
            out[float(line.split('le="', 1)[1].split('"', 1)[0])] = float(line.rsplit(" ", 1)[1])
    return out or None


def hub_lag_figures(before, after):
    """Between two scrapes: the bucket bound holding the worst and the p99 lag (ms),
    and how many 50 ms ticks ran more than 50 ms late."""
    if not before or not after:
        return {}
    delta = {le: after[le] - before.get(le, 0.0) for le in after}
    total = delta.get(float("inf"), 0.0)
    if not total:
        return {}

    def bound(share):
        le = min(le for le in sorted(delta) if delta[le] >= share * total)
        return None if math.isinf(le) else le * 1000.0
    return {"hub_lag_max_ms": bound(1.0), "hub_lag_p99_ms": bound(0.99),
            "hub_lags_over_50ms": total - delta.get(0.05, total)}


class Session:
    """Generator processes around one server; stops everything on exit."""

    def __init__(self, opts, server):
        self.opts = opts
        self.server = server
        self.ctx = multiprocessing.get_context("spawn")
        self.groups = []

    def workers(self, role, count):
        w = Workers(self.ctx, self.server, role, count, self.opts.gen_cpus)
        self.groups.append(w)
        return w

    def __enter__(self):
        self.clock = self.workers("clock", 1)
        self.clock.ask({"op": "setup"}, 30)
        return self

    def mark(self):
        if self.opts.profile and getattr(self.opts, "spy", None) is None:
            self.opts.spy = self.opts.start_profile()
            time.sleep(0.3)           # py-spy attaches
        self.clock.ask({"op": "mark"}, 10)
        self.lag0 = hub_lag_buckets(self.server)
        self.marked = time.monotonic()
        self.cpu0 = cpu_s(self.server.pid) if self.server.pid else None
        self.db_pid = getattr(self.server, "db_pid", None)
        self.db_cpu0 = tree_cpu_s(self.db_pid) if self.db_pid else None

    def stall(self):
        """Longest /clock tick gap since mark(), and the server's CPU use."""
        gap = self.clock.ask({"op": "collect"}, 10)[0]["max_gap"]
        out = {"tick_gap_ms": gap * 1000.0, "stall_ms": max(0.0, gap - 1.0) * 1000.0}
        out.update(hub_lag_figures(self.lag0, hub_lag_buckets(self.server)))
        if self.cpu0 is not None:
            out["server_cpu_s"] = cpu_s(self.server.pid) - self.cpu0
            out["server_cpu"] = out["server_cpu_s"] / (time.monotonic() - self.marked)
        if self.db_cpu0 is not None:
            out["db_cpu"] = (tree_cpu_s(self.db_pid) - self.db_cpu0) / (
                time.monotonic() - self.marked)
        return out

    def __exit__(self, *exc):
        for w in reversed(self.groups):
            w.stop()


# -- scenarios -----------------------------------------------------------------

def message_path(opts, server, window):
    """Scenario 1: ``opts.senders`` connections posting with ``window`` acks outstanding."""
    with Session(opts, server) as s:
        ids = list(range(opts.senders))
        parts = _split(ids, min(opts.procs, len(ids)))
        w = s.workers("senders", len(parts))
        w.ask([{"op": "setup", "ids": p} for p in parts], 120)
        s.mark()
        t0 = time.monotonic() + 0.5
        replies = w.ask([{"op": "run", "ids": p, "t0": t0, "duration": opts.duration,
                          "warm": opts.warm, "window": window, "cid": opts.cid}
                         for p in parts],
                        opts.duration + 30)
        stall = s.stall()
    for r in replies:
        if r.get("error"):
            raise BenchError(r["error"])
    lat = [x for r in replies for x in _unpack(r["lat"])]
    acks = sum(r["acks"] for r in replies)
    seconds = opts.duration - opts.warm
    out = {"acks_per_s": acks / seconds, "ack_p50_ms": _ms(percentile(lat, 50)),
           "ack_p99_ms": _ms(percentile(lat, 99)),
           "failed_acks": sum(r["failed"] for r in replies),
           "first_failure": next((r["first_failure"] for r in replies if r["first_failure"]),
                                 None),
           "unanswered": sum(r["unanswered"] for r in replies),
           "outstanding": window * opts.senders}
    out.update(stall)
    total = sum(r["all_acks"] for r in replies)
    if "server_cpu_s" in out and total:
        out["cpu_us_per_ack"] = out["server_cpu_s"] / total * 1e6
    return out


def _ms(seconds):
    return None if seconds is None else seconds * 1000.0


def fan_out(opts, server):
    """Scenario 2: ``opts.members`` in one room, one sender at each rate in turn."""
    room = "fan"
    receivers = opts.members - 1           # the sender is a member too
    steps = []
    with Session(opts, server) as s:
        ids = list(range(receivers))
        parts = _split(ids, opts.procs)
        members = s.workers("members", len(parts))
        members.ask([{"op": "setup", "ids": p, "room": room} for p in parts], 300)
        sender = s.workers("fan_sender", 1)
        sender.ask({"op": "setup", "room": room}, 60)
        # Each join sent a presence event to the whole room: let that flood
        # drain before measuring, or the first rate measures the backlog.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if min(r["idle"] for r in members.ask({"op": "quiet"}, 10)) > 1.0:
                break
            time.sleep(0.5)
        for step, rate in enumerate(opts.rates, 1):
            count = max(1, int(rate * opts.fan_duration))
            members.ask({"op": "run", "step": step}, 30)
            s.mark()
            t0 = time.monotonic() + 0.3
            sent = sender.ask({"op": "run", "step": step, "t0": t0, "rate": rate,
                               "count": count, "room": room}, opts.fan_duration + 60)[0]
            got = members.ask([{"op": "collect", "expect": count * len(p),
                                "wait": opts.drain} for p in parts], opts.drain + 30)
            stall = s.stall()
            lat = [x for r in got for x in _unpack(r["lat"])]
            delivered = sum(r["got"] for r in got)
            expected = count * receivers
            last = max((r["last"] for r in got if r["last"]), default=sent["last"])
            span = max(last - sent["first"], count / rate)
            ack = list(_unpack(sent["ack_lat"]))
            row = {"rate": rate, "delivered_per_s": delivered / span,
                   "offered_per_s": rate * receivers,
                   "complete": delivered / expected if expected else None,
                   "p50_ms": _ms(percentile(lat, 50)), "p99_ms": _ms(percentile(lat, 99)),
                   "ack_p99_ms": _ms(percentile(ack, 99)), "sender_late": sent["late"]}
            row.update(stall)
            if "server_cpu_s" in row and delivered:
                row["cpu_us_per_delivery"] = row["server_cpu_s"] / delivered * 1e6
            steps.append(row)
            if row["complete"] < 0.98 or (row["p99_ms"] or 0) > opts.saturation_ms:
                break                     # saturated: higher rates only queue up
            time.sleep(0.5)
    return {"steps": steps}


def capacity(opts, server, count):
    """Scenario 3: ``count`` idle connections; connect rate and server RSS per connection."""
    with Session(opts, server) as s:
        nprocs = max(opts.procs, int(math.ceil(count / PER_PROCESS)))
        parts = _split(list(range(count)), nprocs)
        w = s.workers("idle", nprocs)
        w.ask({"op": "setup"}, 30)
        time.sleep(0.5)
        before = rss_kb(server.pid) if server.pid else None
        s.mark()
        t0 = time.monotonic() + 0.3
        replies = w.ask([{"op": "run", "ids": p, "t0": t0, "concurrency": opts.concurrency}
                         for p in parts], 180)
        stall = s.stall()
        time.sleep(1.0)
        after = rss_kb(server.pid) if server.pid else None
    connected = sum(r["connected"] for r in replies)
    seconds = max(r["last"] for r in replies) - min(r["first"] for r in replies)
    out = {"connections": count, "connected": connected,
           "failed": sum(r["failed"] for r in replies),
           "first_error": next((r["error"] for r in replies if r["error"]), None),
           "connect_s": seconds, "connects_per_s": connected / seconds if seconds else None,
           "rss_before_mb": before / 1024.0 if before else None,
           "rss_after_mb": after / 1024.0 if after else None,
           "kb_per_conn": (after - before) / connected if before and connected else None}
    out.update(stall)
    return out
