"""The search scenario: a room of 100,000 messages on SQLite, searched over WebSocket.

The store is seeded directly (:class:`realtime.store.sqlite.SQLiteStore`, not
through sockets, to keep the set-up short) and its search index built
before the server starts on the file; then one client sends ``search``
events one at a time, cycling through a fixed mix of queries (common and
rare words, one-, two- and three-letter prefixes, several words, a miss),
and the ack latencies give p50/p99.  The words are drawn from a Zipf-like
distribution over a made-up vocabulary, so some match most messages and
some almost none.
"""

import asyncio
import random
import time

from .procs import BenchError, cpu_s
from .scenarios import percentile
from .sioclient import SioClient

ROOM = "search"
SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "to", "su", "vi", "de", "po", "an", "el", "or",
             "us", "ix"]


def _vocabulary(rnd, size=8000):
    return ["".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(1, 4)))
            for _ in range(size)]


def queries(vocab):
    """The query mix: (label, q)."""
    return [("common word", vocab[0]), ("frequent word", vocab[10]),
            ("mid word", vocab[300]), ("rare word", vocab[6000]),
            ("1-letter prefix", "k"), ("2-letter prefix", "ra"), ("3-letter prefix", "kal"),
            ("two words", "%s %s" % (vocab[3], vocab[40])),
            ("three prefixes", "k l m"), ("miss", "zzqq")]


def seed(path, messages, noise=20000, seed_value=12):
    """Write ``messages`` into room ``search`` (plus ``noise`` elsewhere); build the index.

    Returns ``(vocabulary, seconds to index)``.
    """
    from realtime.store.sqlite import SQLiteStore
    rnd = random.Random(seed_value)
    vocab = _vocabulary(rnd)
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    store = SQLiteStore("sqlite:///" + path)
    try:
        rooms = [ROOM] * messages + ["noise%d" % (i % 4) for i in range(noise)]
        rnd.shuffle(rooms)
        batch = []
        for i, room in enumerate(rooms):
            text = " ".join(rnd.choices(vocab, weights, k=rnd.randint(3, 20)))
            batch.append((room, "u%d" % (i % 30), text, None, 1764240000000 + i))
            if len(batch) == 500:
                store.append_batch(batch)
                batch = []
        if batch:
            store.append_batch(batch)
        started = time.perf_counter()
        while store.index(5000):
            pass
        return vocab, time.perf_counter() - started
    finally:
        store.close()


async def _searches(host, port, mix, count):
    client = SioClient()
    await client.connect(host, port, auth={"name": "searcher"})
    try:
        lat, hits, failed = {}, {}, 0
        for n in range(count):
            label, q = mix[n % len(mix)]
            t0 = time.perf_counter()
            ack = await asyncio.wait_for(client.call("search", {"room": ROOM, "q": q}), 30)
            lat.setdefault(label, []).append(time.perf_counter() - t0)
            if not ack.get("ok"):
                failed += 1
            else:
                hits[label] = len(ack["messages"])
        return lat, hits, failed
    finally:
        client.close()


def search(opts, server, vocab, index_s):
    """Run the query mix ``opts.searches`` times over; return the figures."""
    from .scenarios import Session
    mix = queries(vocab)
    with Session(opts, server) as s:
        s.mark()
        cpu0 = cpu_s(server.pid) if server.pid else None
        lat, hits, failed = asyncio.run(_searches(server.host, server.port, mix, opts.searches))
        stall = s.stall()
    if failed:
        raise BenchError("%d searches failed" % failed)
    every = [x for xs in lat.values() for x in xs]
    out = {"searches": len(every), "room_messages": opts.search_messages,
           "index_s": index_s,
           "search_p50_ms": percentile(every, 50) * 1000.0,
           "search_p99_ms": percentile(every, 99) * 1000.0,
           "search_max_ms": max(every) * 1000.0,
           "per_query_p99_ms": {k: percentile(v, 99) * 1000.0 for k, v in lat.items()},
           "hits": hits}
    if cpu0 is not None:
        out["cpu_ms_per_search"] = (cpu_s(server.pid) - cpu0) / len(every) * 1000.0
    out.update(stall)
    return out
