"""The ``/clock`` namespace: server time, once a second, from one task per process."""

import datetime
import time

from .base import Namespace


def tick():
    """The tick payload for now: ``{"ts": ms epoch, "iso": ISO 8601 UTC}``."""
    now = time.time_ns() // 1_000_000
    iso = datetime.datetime.fromtimestamp(now / 1000, datetime.timezone.utc)
    return {"ts": now, "iso": iso.isoformat(timespec="milliseconds").replace("+00:00", "Z")}


class ClockNamespace(Namespace):
    """No auth; a new client gets a tick at once, then every second."""

    def __init__(self):
        super().__init__("/clock")
        self._ticker = None

    def on_connect(self, sid, environ, auth=None):
        if self._ticker is None:
            self._ticker = self.server.start_background_task(self._run)
        # Emitting here would overtake the connect reply; send just after it.
        self.server.start_background_task(self.emit, "tick", tick(), to=sid)

    def _run(self):
        while True:
            # Sleep to the next whole second so ticks land on the second.
            self.server.sleep(1.0 - (time.time() % 1.0))
            self.emit("tick", tick())
