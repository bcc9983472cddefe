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


# (figure key, label, unit, target check on the chat figure (and bare), target text)
def _targets(scenario, key):
    if key in ("stall_ms",):
        return (lambda c, b: c is not None and c <= 50), "<= 50 ms"
    if scenario == "message" and key == "acks_per_s":
        return (lambda c, b: c is not None and b and c >= b), ">= bare"
    if scenario == "message500" and key == "ack_p99_ms":
        return (lambda c, b: c is not None and c < 100), "< 100 ms"
    if scenario == "fanout:80" and key == "p99_ms":
        return (lambda c, b: c is not None and c < 100), "< 100 ms"
    if scenario == "search" and key == "search_p99_ms":
        return (lambda c, b: c is not None and c < 50), "< 50 ms"
    if scenario == "capacity:15000":
        if key == "kb_per_conn":
            return (lambda c, b: c is not None and c <= 35), "<= 35 KB"
        if key == "connect_s":
            return (lambda c, b: c is not None and c < 6), "< 6 s"
        if key == "connected":
            return (lambda c, b: c == 15000), "all"
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


# Rows comparing the chat on PostgreSQL (chat column) with the chat on SQLite (bare column).
PG_VS_SQLITE = [("acks_per_s", "acks/s (PostgreSQL, SQLite)"),
                ("ack_p99_ms", "ack p99 ms (PostgreSQL, SQLite)"),
                ("stall_ms", "hub stall ms (PostgreSQL, SQLite)"),
                ("db_cpu", "PostgreSQL server CPU (cores; SQLite's is in-process)"),
                ("cpu_us_per_ack", "server CPU us per ack (PostgreSQL, SQLite)")]


def rows(summary):
    """Flat table rows: scenario, figure, chat, bare, ratio, target, met."""
    out = []

    def add(label, figures, chat, bare, target_scenario):
        for key, name in figures:
            c = chat.get(key) if chat else None
            b = bare.get(key) if bare else None
            ratio = c / b if isinstance(c, (int, float)) and isinstance(b, (int, float)) and b \
                else None
            check, text = _targets(target_scenario, key)
            met = None if check is None else bool(check(c, b))
            out.append({"scenario": label, "figure": name, "key": key, "chat": c, "bare": b,
                        "ratio": ratio, "target": text, "met": met})

    for scenario, kinds in summary.items():
        chat, bare = kinds.get("chat"), kinds.get("bare")
        if scenario.startswith("message"):
            pg = kinds.get("chat-pg")
            outstanding = (chat or bare or pg or {}).get("outstanding")
            label = "message path (%s acks outstanding)" % (
                int(outstanding) if outstanding else "?")
            add(label, FIGURES["message"], chat, bare, scenario)
            if pg:
                # The chat on PostgreSQL against bare, then against the chat on SQLite.
                add(label + ", PostgreSQL store", FIGURES["message"], pg, bare, scenario)
                add(label + ", PostgreSQL / SQLite store", PG_VS_SQLITE, pg, chat, "")
        elif scenario == "fanout":
            bare_steps = {s["rate"]: s for s in (bare or {}).get("steps", [])}
            chat_steps = {s["rate"]: s for s in (chat or {}).get("steps", [])}
            for rate in sorted(set(bare_steps) | set(chat_steps)):
                add("fan-out %g msg/s" % rate, FIGURES["fanout"], chat_steps.get(rate),
                    bare_steps.get(rate), "fanout:%g" % rate)
        elif scenario.startswith("capacity"):
            add("capacity %s idle" % scenario.split(":")[1], FIGURES["capacity"], chat, bare,
                scenario)
        elif scenario == "search":
            add("search (SQLite, FTS5)", FIGURES["search"], chat, bare, scenario)
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
             "| scenario | figure | chat | bare | chat/bare | target | met |",
             "| --- | --- | ---: | ---: | ---: | --- | --- |"]
    for r in table:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["figure"], _fmt(r["chat"], r["key"]), _fmt(r["bare"], r["key"]),
            "-" if r["ratio"] is None else "%.2f" % r["ratio"], r["target"], met))
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
