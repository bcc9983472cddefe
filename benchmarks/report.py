"""Medians, ratios to the bare baseline, targets; JSON and a Markdown table."""

import json
import os
import platform
import statistics
import time


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "platform": platform.platform()}


def _median(values):
    values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return statistics.median(values) if values else None


def _merge(results):
    """Median of each numeric field over repeated runs (fan-out: per rate)."""
    good = [r for r in results if "error" not in r]
    out = {"runs": len(results), "errors": [r["error"] for r in results if "error" in r]}
    if not good:
        return out
    if any("steps" in r for r in good):
        rates = []
        for r in good:
            for step in r["steps"]:
                if step["rate"] not in rates:
                    rates.append(step["rate"])
        out["steps"] = []
        for rate in rates:
            rows = [s for r in good for s in r["steps"] if s["rate"] == rate]
            merged = {k: _median([s.get(k) for s in rows]) for k in rows[0]}
            merged["rate"] = rate
            merged["runs_reached"] = len(rows)
            out["steps"].append(merged)
        return out
    for key in good[0]:
        out[key] = _median([r.get(key) for r in good])
    return out


def summarise(runs):
    """``{scenario: {kind: merged figures}}``."""
    summary = {}
    for run in runs:
        summary.setdefault(run["scenario"], {}).setdefault(run["kind"], []).append(run["result"])
    return {sc: {kind: _merge(rs) for kind, rs in kinds.items()} for sc, kinds in summary.items()}


# A fan-out rate is "sustained" when every message reached every member with
# p99 under this.
SUSTAINED_P99_MS = 1000.0


def _targets(scenario, key):
    """``(check(chat, bare, node), text)`` for a figure, or ``(None, "")``."""
    if key in ("stall_ms",):
        return (lambda c, b, n: c is not None and c <= 50), "<= 50 ms"
    if scenario == "message" and key == "acks_per_s":
        return (lambda c, b, n: c is not None and b and c >= 1.5 * b), ">= 1.5x bare"
    if scenario == "message500" and key == "ack_p99_ms":
        return (lambda c, b, n: c is not None and c < 50), "< 50 ms"
    if scenario == "fanout:80" and key == "p99_ms":
        return (lambda c, b, n: c is not None and c < 100 and (n is None or c <= n)), \
            "< 100 ms, <= node"
    if scenario == "fanout:80" and key == "complete":
        return (lambda c, b, n: c is not None and c >= 1.0), "all"
    if scenario == "fanout" and key == "sustained_rate":
        return (lambda c, b, n: c is not None and (n is None or c >= n)), ">= node"
    if scenario == "search" and key == "search_p99_ms":
        return (lambda c, b, n: c is not None and c < 50), "< 50 ms"
    if scenario == "capacity:15000":
        if key == "kb_per_conn":
            return (lambda c, b, n: c is not None and c <= 25), "<= 25 KB"
        if key == "connect_s":
            return (lambda c, b, n: c is not None and (n is None or c <= n)), "<= node"
        if key == "connected":
            return (lambda c, b, n: c == 15000), "all"
    return None, ""


FIGURES = {
    "message": [("acks_per_s", "acks/s"), ("ack_p50_ms", "ack p50 ms"),
                ("ack_p99_ms", "ack p99 ms"), ("stall_ms", "hub stall ms"),
                ("hub_lag_max_ms", "hub lag max ms (/metrics bucket)"),
                ("server_cpu", "server CPU (cores)"), ("cpu_us_per_ack", "server CPU us per ack")],
    "fanout": [("delivered_per_s", "delivered msgs/s"), ("complete", "delivered share"),
               ("p50_ms", "delivery p50 ms"), ("p99_ms", "delivery p99 ms"),
               ("stall_ms", "hub stall ms"), ("server_cpu", "server CPU (cores)"),
               ("cpu_us_per_delivery", "server CPU us per delivery")],
    "search": [("room_messages", "messages in the room"), ("search_p50_ms", "search p50 ms"),
               ("search_p99_ms", "search p99 ms"), ("search_max_ms", "search max ms"),
               ("cpu_ms_per_search", "server CPU ms per search"),
               ("index_s", "index build s (seeding)"), ("stall_ms", "hub stall ms")],
    "capacity": [("connected", "connected"), ("connect_s", "connect time s"),
                 ("connects_per_s", "connects/s"), ("kb_per_conn", "KB per connection"),
                 ("stall_ms", "hub stall ms")],
}
KINDS = ("chat", "bare", "node")


def sustained_rate(steps):
    """The highest fan-out rate delivered in full with p99 under SUSTAINED_P99_MS."""
    kept = [s["rate"] for s in steps or ()
            if (s.get("complete") or 0) >= 0.999 and s.get("p99_ms") is not None
            and s["p99_ms"] < SUSTAINED_P99_MS]
    return max(kept) if kept else None


def _ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return a / b
    return None


# Rows comparing the chat on PostgreSQL (chat column) with the chat on SQLite (bare column).
PG_VS_SQLITE = [("acks_per_s", "acks/s (PostgreSQL, SQLite)"),
                ("ack_p99_ms", "ack p99 ms (PostgreSQL, SQLite)"),
                ("stall_ms", "hub stall ms (PostgreSQL, SQLite)"),
                ("db_cpu", "PostgreSQL server CPU (cores; SQLite's is in-process)"),
                ("cpu_us_per_ack", "server CPU us per ack (PostgreSQL, SQLite)")]


def rows(summary):
    """Flat table rows: scenario, figure, chat, bare, node, ratios, target, met."""
    out = []

    def add(label, figures, figs, target_scenario):
        for key, name in figures:
            c, b, n = ((figs.get(kind) or {}).get(key) for kind in KINDS)
            check, text = _targets(target_scenario, key)
            met = None if check is None else bool(check(c, b, n))
            out.append({"scenario": label, "figure": name, "key": key, "chat": c, "bare": b,
                        "node": n, "ratio": _ratio(c, b), "ratio_node": _ratio(c, n),
                        "target": text, "met": met})

    for scenario, kinds in summary.items():
        if scenario.startswith("message"):
            outstanding = next((kinds[k].get("outstanding") for k in KINDS
                                if kinds.get(k) and kinds[k].get("outstanding")), None)
            label = "message path (%s acks outstanding)" % (
                int(outstanding) if outstanding else "?")
            add(label, FIGURES["message"], kinds, scenario)
            pg = kinds.get("chat-pg")
            if pg:
                # The chat on PostgreSQL against bare and node, then against the
                # chat on SQLite (in the bare column).
                add(label + ", PostgreSQL store", FIGURES["message"],
                    dict(kinds, chat=pg), scenario)
                add(label + ", PostgreSQL / SQLite store", PG_VS_SQLITE,
                    {"chat": pg, "bare": kinds.get("chat")}, "")
        elif scenario == "fanout":
            steps = {k: {s["rate"]: s for s in (kinds.get(k) or {}).get("steps", [])}
                     for k in KINDS}
            for rate in sorted(set().union(*(set(v) for v in steps.values()))):
                add("fan-out %g msg/s" % rate, FIGURES["fanout"],
                    {k: steps[k].get(rate) for k in KINDS}, "fanout:%g" % rate)
            add("fan-out", [("sustained_rate", "highest rate sustained (msg/s)")],
                {k: {"sustained_rate": sustained_rate((kinds.get(k) or {}).get("steps"))}
                 for k in KINDS if kinds.get(k)}, "fanout")
        elif scenario.startswith("capacity"):
            add("capacity %s idle" % scenario.split(":")[1], FIGURES["capacity"], kinds,
                scenario)
        elif scenario == "search":
            add("search (SQLite, FTS5)", FIGURES["search"], kinds, scenario)
    return out


def _fmt(v, key=""):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if key == "complete":
        return "%.1f%%" % (100 * v)
    if isinstance(v, float):
        if abs(v) >= 100:
            return "{:,.0f}".format(v)
        if abs(v) >= 10:
            return "%.1f" % v
        return "%.2f" % v
    return "{:,}".format(v) if isinstance(v, int) else str(v)


def markdown(table, meta):
    lines = ["Run %s on %s (%s cores, %s), Python %s; medians of %d run(s)%s."
             % (meta["date"], meta["machine"]["cpu"], meta["machine"]["nproc"],
                meta["machine"]["platform"], meta["machine"]["python"], meta["repeat"],
                ", server and generator pinned to separate cores" if meta.get("pin") else ""),
             "",
             "| scenario | figure | realtime | bare | node | realtime/bare | realtime/node "
             "| target | met |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in table:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["figure"], _fmt(r["chat"], r["key"]), _fmt(r["bare"], r["key"]),
            _fmt(r.get("node"), r["key"]),
            "-" if r["ratio"] is None else "%.2f" % r["ratio"],
            "-" if r.get("ratio_node") is None else "%.2f" % r["ratio_node"],
            r["target"], met))
    return "\n".join(lines) + "\n"


def write(out_dir, runs, opts_dict):
    os.makedirs(out_dir, exist_ok=True)
    summary = summarise(runs)
    table = rows(summary)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
            "repeat": opts_dict.get("repeat"), "pin": opts_dict.get("pin"),
            "options": opts_dict}
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary, "table": table, "runs": runs}, f,
                  indent=1, default=str)
    text = markdown(table, meta)
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(text)
    return text
