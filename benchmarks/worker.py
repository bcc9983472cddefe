"""Load-generator processes: each runs one role on its own asyncio loop.

The runner starts a worker with :func:`main` (multiprocessing, spawn) and
drives it over a pipe with ``{"op": ...}`` commands; each command gets one
reply.  Roles:

- ``senders``: ``message`` with acks from many connections, each keeping a
  window of acks outstanding (scenario 1);
- ``members``: room members recording the delivery latency of each message
  (scenario 2), ``fan_sender``: the one sender at a fixed rate;
- ``idle``: many idle connections opened as fast as allowed (scenario 3);
- ``clock``: a ``/clock`` client recording the gaps between ticks (scenario 4).

Every wait is bounded; only loopback addresses are used.
"""

import array
import asyncio
import os
import re
import resource
import time

from .sioclient import SioClient

TEXT_RE = re.compile(rb'"text": ?"(\d+)\|([0-9.]+)"')
SETUP_CONCURRENCY = 32


def raise_nofile():
    """Raise the soft open-file limit to the hard one; return the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _pack(values):
    return array.array("d", values).tobytes()


async def _bounded(coros, limit):
    """Run coroutine factories with at most ``limit`` at a time; return results."""
    sem = asyncio.Semaphore(limit)

    async def one(factory):
        async with sem:
            return await factory()
    return await asyncio.gather(*(one(f) for f in coros), return_exceptions=True)


async def _sleep_until(t):
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


class Worker:
    def __init__(self, pipe, spec):
        self.pipe = pipe
        self.spec = spec
        self.host = spec["host"]
        self.port = spec["port"]
        self.clients = []
        self.role = spec["role"]
        self.inbox = asyncio.Queue()

    def _on_pipe(self):
        try:
            msg = self.pipe.recv()
        except EOFError:
            msg = {"op": "stop"}
        self.inbox.put_nowait(msg)

    async def serve(self):
        loop = asyncio.get_running_loop()
        loop.add_reader(self.pipe.fileno(), self._on_pipe)
        while True:
            cmd = await self.inbox.get()
            op = cmd["op"]
            try:
                reply = await getattr(self, "%s_%s" % (self.role, op))(cmd)
            except AttributeError:
                if op == "stop":
                    reply = await self.close_all(cmd)
                else:
                    reply = {"error": "unknown op %s for %s" % (op, self.role)}
            except Exception as exc:  # reported to the runner, which gives up cleanly
                reply = {"error": "%s: %s" % (type(exc).__name__, exc)}
            self.pipe.send(reply)
            if op == "stop":
                loop.remove_reader(self.pipe.fileno())
                return

    async def close_all(self, cmd=None):
        for c in self.clients:
            c.close()
        deadline = time.monotonic() + 10
        while any(not c.closed for c in self.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = sum(1 for c in self.clients if not c.closed)
        self.clients = []
        return {"ok": True, "left_open": left}

    async def _connect(self, name, room=None, on_event=None, timeout=30.0):
        c = SioClient(on_event=on_event)
        await c.connect(self.host, self.port, auth={"name": name}, timeout=timeout)
        self.clients.append(c)
        if room is not None:
            reply = await asyncio.wait_for(c.call("join", {"room": room}), timeout)
            if not reply.get("ok"):
                raise RuntimeError("join refused: %r" % reply)
        return c

    async def _setup_many(self, names_rooms, on_event=None):
        started = time.monotonic()
        results = await _bounded(
            [lambda n=n, r=r: self._connect(n, r, on_event) for n, r in names_rooms],
            SETUP_CONCURRENCY)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise RuntimeError("%d of %d connections failed, first: %r"
                               % (len(errors), len(results), errors[0]))
        self.ordered = results       # clients in the order of names_rooms
        return {"ok": True, "seconds": time.monotonic() - started}

    # -- scenario 1: message path ------------------------------------------

    async def senders_setup(self, cmd):
        return await self._setup_many([("s%d" % i, "mp%d" % i) for i in cmd["ids"]])

    async def senders_run(self, cmd):
        t0, t_end, warm_end = cmd["t0"], cmd["t0"] + cmd["duration"], cmd["t0"] + cmd["warm"]
        window, text = cmd["window"], cmd.get("text", "hello from the benchmark")
        lat, counts = [], {"acks": 0, "failed": 0, "all": 0}

        use_cid = cmd.get("cid", False)
        serial = [0]

        def sender(client, room):
            payload = {"room": room, "text": text}

            def send():
                if use_cid:       # as the page sends: a fresh client id per message
                    serial[0] += 1
                    client.emit("message", {"room": room, "text": text,
                                            "cid": "%s-%d" % (room, serial[0])}, ack=on_ack)
                else:
                    client.emit("message", payload, ack=on_ack)

            def on_ack(reply, sent):
                now = time.monotonic()
                counts["all"] += 1
                if not reply.get("ok"):
                    counts["failed"] += 1
                    counts.setdefault("first_failure", repr(reply)[:200])
                elif sent >= warm_end and now <= t_end:
                    counts["acks"] += 1
                    lat.append(now - sent)
                if now < t_end:
                    send()
            return send

        await _sleep_until(t0)
        for i, c in zip(cmd["ids"], self.ordered):
            send = sender(c, "mp%d" % i)
            for _ in range(window):
                send()
        await _sleep_until(t_end)
        deadline = t_end + 10
        while any(c.outstanding for c in self.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return {"acks": counts["acks"], "failed": counts["failed"], "lat": _pack(lat),
                "first_failure": counts.get("first_failure"), "all_acks": counts["all"],
                "seconds": cmd["duration"] - cmd["warm"],
                "unanswered": sum(c.outstanding for c in self.clients)}

    # -- scenario 2: fan-out -------------------------------------------------

    async def members_setup(self, cmd):
        self.step = None
        self.lat = []
        self.got = 0
        self.last = 0.0

        self.last_event = time.monotonic()

        def on_event(ns, raw):
            self.last_event = time.monotonic()
            if raw.startswith(b'["message"'):
                m = TEXT_RE.search(raw)
                if m is not None and int(m.group(1)) == self.step:
                    now = time.monotonic()
                    self.lat.append(now - float(m.group(2)))
                    self.got += 1
                    self.last = now
        return await self._setup_many([("m%d" % i, cmd["room"]) for i in cmd["ids"]],
                                      on_event)

    async def members_quiet(self, cmd):
        """Seconds since the last event of any kind (presence floods after joins)."""
        return {"idle": time.monotonic() - self.last_event}

    async def members_run(self, cmd):
        self.step, self.lat, self.got, self.last = cmd["step"], [], 0, 0.0
        return {"ok": True}

    async def members_collect(self, cmd):
        """Wait (bounded) until ``expect`` deliveries arrived; return them."""
        deadline = time.monotonic() + cmd["wait"]
        while self.got < cmd["expect"] and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        reply = {"got": self.got, "lat": _pack(self.lat), "last": self.last}
        self.step, self.lat = None, []
        return reply

    async def fan_sender_setup(self, cmd):
        self.sender = await self._connect("fan-sender", cmd["room"])
        return {"ok": True}

    async def fan_sender_run(self, cmd):
        t0, rate, count, step = cmd["t0"], cmd["rate"], cmd["count"], cmd["step"]
        room = cmd["room"]
        acks, late = [], 0

        def on_ack(reply, sent):
            if reply.get("ok"):
                acks.append(time.monotonic() - sent)

        sent_first = None
        for k in range(count):
            due = t0 + k / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                late += 1
            now = time.monotonic()
            if sent_first is None:
                sent_first = now
            self.sender.emit("message", {"room": room, "text": "%d|%.6f" % (step, now)},
                             ack=on_ack)
        sent_last = time.monotonic()
        deadline = sent_last + 10
        while self.sender.outstanding and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return {"sent": count, "first": sent_first, "last": sent_last, "late": late,
                "ack_lat": _pack(acks)}

    # -- scenario 3: idle connections ------------------------------------------

    async def idle_setup(self, cmd):
        return {"ok": True, "nofile": raise_nofile()}

    async def idle_run(self, cmd):
        await _sleep_until(cmd["t0"])
        first = time.monotonic()
        done = []

        async def one(i):
            await self._connect("c%d" % i, None, timeout=60.0)
            done.append(time.monotonic())
        results = await _bounded([lambda i=i: one(i) for i in cmd["ids"]],
                                 cmd["concurrency"])
        errors = [r for r in results if isinstance(r, BaseException)]
        return {"first": first, "last": max(done) if done else first, "connected": len(done),
                "failed": len(errors), "error": repr(errors[0]) if errors else None}

    # -- scenario 4: hub stall -------------------------------------------------

    async def clock_setup(self, cmd):
        self.ticks = []

        def on_event(ns, raw):
            if ns == "/clock":
                self.ticks.append(time.monotonic())
        c = SioClient(on_event=on_event)
        await c.connect(self.host, self.port, auth=None, namespaces=("/clock",))
        self.clients.append(c)
        return {"ok": True}

    async def clock_mark(self, cmd):
        self.ticks = []
        self.marked = time.monotonic()
        return {"ok": True}

    async def clock_collect(self, cmd):
        # The window's edges count too, so a stall at either end is seen.
        ticks = [self.marked] + self.ticks + [time.monotonic()]
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        return {"ticks": len(self.ticks), "max_gap": max(gaps)}


def main(pipe, spec):
    """Entry point of a worker process."""
    raise_nofile()
    try:
        os.nice(0)
    except OSError:
        pass
    asyncio.run(Worker(pipe, spec).serve())
