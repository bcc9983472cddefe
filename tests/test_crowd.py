"""500 people behind one address (an office NAT, a proxy) under the shipped defaults.

A behaviour test, not a benchmark: every connection, join and message must be
accepted; the waits are bounded and scale with REALTIME_TEST_UNIT.  The 500
clients are lean asyncio Socket.IO clients (benchmarks/sioclient.py): as many
python-socketio clients would cost this 2-core machine more than the server.
"""

import asyncio
import time

from benchmarks.sioclient import ConnectError, SioClient
from support import timeout

PEOPLE = 500
ROOMS = 50                 # ten people a room: presence and broadcasts stay small
CONCURRENT_CONNECTS = 50   # below the listen backlog, so no SYN is retried


async def _connect_all(port):
    gate = asyncio.Semaphore(CONCURRENT_CONNECTS)

    async def one(i):
        async with gate:
            client = SioClient()
            try:
                await client.connect("127.0.0.1", port, auth={"name": "p%d" % i},
                                     timeout=timeout(20))
                return client, None
            except (ConnectError, OSError, asyncio.TimeoutError) as exc:
                client.close()
                return client, "%s: %s" % (type(exc).__name__, exc)
    return await asyncio.gather(*(one(i) for i in range(PEOPLE)))


async def _chat(clients):
    async def one(i, client):
        room = "crowd-%d" % (i % ROOMS)
        joined = await client.call("join", {"room": room})
        if not joined.get("ok"):
            return "join: %r" % joined
        posted = await client.call("message", {"room": room, "text": "hello from p%d" % i})
        return None if posted.get("ok") else "message: %r" % posted
    return await asyncio.wait_for(
        asyncio.gather(*(one(i, c) for i, c in enumerate(clients))), timeout(30))


async def _crowd(port):
    started = time.monotonic()
    results = await _connect_all(port)
    connected_s = time.monotonic() - started
    clients = [c for c, error in results if error is None]
    try:
        refused = [error for _, error in results if error is not None]
        assert not refused, "%d of %d refused, e.g. %s" % (len(refused), PEOPLE, refused[:3])
        started = time.monotonic()
        failures = [f for f in await _chat(clients) if f is not None]
        chatted_s = time.monotonic() - started
        assert not failures, "%d of %d failed, e.g. %s" % (len(failures), PEOPLE, failures[:3])
        return connected_s, chatted_s
    finally:
        for c in clients:
            c.close()


def test_crowd_behind_one_address_connects_joins_and_posts(server_factory):
    """500 connections at once from one address, then a join and a message each: all accepted."""
    srv = server_factory(defaults=True)       # every limit as shipped, --rate 20/10 included
    connected_s, chatted_s = asyncio.run(_crowd(srv.port))
    print("\ncrowd: %d connections from 127.0.0.1 in %.1f s, %d joins + %d messages in %.1f s"
          % (PEOPLE, connected_s, PEOPLE, PEOPLE, chatted_s))
    assert "Traceback" not in srv.log()
