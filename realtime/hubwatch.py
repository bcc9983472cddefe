"""Measure how late the gevent hub runs timers: the server's own stall gauge.

A greenlet sleeps a short interval again and again; any time beyond the
interval is time the hub spent elsewhere (a blocking call, CPU-heavy work).
The figures go to /metrics as ``realtime_hub_lag_seconds``::

    watch = HubWatch(metrics)      # starts its greenlet
    watch.max_lag                  # worst lag seen, in seconds
"""

import time

import gevent

INTERVAL = 0.05


class HubWatch:
    def __init__(self, metrics, interval=INTERVAL):
        self.metrics = metrics
        self.interval = interval
        self.max_lag = 0.0
        self._greenlet = gevent.spawn(self._run)

    def _run(self):
        while True:
            started = time.perf_counter()
            gevent.sleep(self.interval)
            lag = max(0.0, time.perf_counter() - started - self.interval)
            self.metrics.hub_lag.observe(lag)
            if lag > self.max_lag:
                self.max_lag = lag
                self.metrics.hub_lag_max.set(lag)

    def stop(self):
        self._greenlet.kill(block=False)
