"""Engine.IO heartbeats for every connection from one greenlet.

python-engineio sleeps in a greenlet per connection until its next ping
and runs a monitor task over all of them.  Here one :class:`Heartbeat`
keeps two first-in-first-out lines, which stay sorted by themselves
because the interval and the timeout are the same for everyone:

- pings due: a session enters ``pingInterval`` after its handshake or its
  last pong; when it is due it gets a PING and enters the second line;
- pongs due: a session still without a pong ``pingTimeout`` after its ping
  is closed (reason ``ping timeout``), as advertised in the handshake.

::

    beat = Heartbeat(interval=25.0, timeout=20.0)
    beat.ping_later(session)      # after the handshake and after every pong
"""

import collections
import logging
import time

import gevent
import gevent.event
from engineio import packet

log = logging.getLogger("realtime.guard")

PING = packet.Packet(packet.PING)
PING.encode()                     # cached once, shared by every session
# Pings may go out this much early so that sessions due together share a wake-up.
SLACK = 0.01
# At most this many sessions handled per wake-up before yielding to the hub.
BATCH = 500


class Heartbeat:
    """The one timer behind every session's pings and ping timeouts."""

    def __init__(self, interval, timeout):
        self.interval = float(interval)
        self.timeout = float(timeout)
        self._pings = collections.deque()     # (due, session)
        self._pongs = collections.deque()     # (deadline, session, ping stamp)
        self._wake = gevent.event.Event()
        self._target = float("inf")
        self._greenlet = None
        self.timed_out = 0                    # sessions closed for a missing pong

    def ping_later(self, session):
        """Ping ``session`` one interval from now."""
        due = time.monotonic() + self.interval
        self._pings.append((due, session))
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)
        elif due < self._target:
            self._wake.set()

    def stop(self):
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def _run(self):
        while True:
            try:
                self._tick()
            except Exception:  # one bad session must not stop every heartbeat
                log.exception("heartbeat failed")
                gevent.sleep(0.1)

    def _tick(self):
        now = time.monotonic()
        pings, pongs, done = self._pings, self._pongs, 0
        while pings and pings[0][0] <= now + SLACK and done < BATCH:
            session = pings.popleft()[1]
            done += 1
            if session.closing or session.closed or session.last_ping is not None:
                continue
            stamp = session.last_ping = time.time()
            session.send(PING)
            pongs.append((now + self.timeout, session, stamp))
        while pongs and pongs[0][0] <= now and done < BATCH:
            _, session, stamp = pongs.popleft()
            done += 1
            if session.last_ping == stamp and not (session.closing or session.closed):
                self.timed_out += 1
                session.ping_timed_out()
        if done >= BATCH:
            gevent.sleep(0)
            return
        target = min(pings[0][0] - SLACK if pings else float("inf"),
                     pongs[0][0] if pongs else float("inf"))
        self._target = target
        self._wake.clear()
        if target == float("inf"):
            self._wake.wait()
        else:
            self._wake.wait(max(0.0, target - time.monotonic()))
        self._target = float("inf")
