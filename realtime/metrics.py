"""Prometheus metrics of one app, in a registry of its own (not the global one)."""

import prometheus_client as prom


class Metrics:
    """Counters and gauges the chat updates; ``render()`` gives the text format."""

    def __init__(self):
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.connections = prom.Gauge("realtime_connections", "Open chat connections.",
                                      registry=r)
        self.refused = prom.Counter("realtime_connections_refused",
                                    "Connections refused at connect.", registry=r)
        self.events = prom.Counter("realtime_events", "Client events handled.",
                                   ["event", "ok"], registry=r)
        self.latency = prom.Histogram("realtime_event_seconds", "Time to handle an event.",
                                      ["event"], registry=r,
                                      buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, 1))
        self.stored = prom.Counter("realtime_messages_stored", "Messages stored.", registry=r)
        self.updates = prom.Counter("realtime_updates_stored",
                                    "Edits, deletes and reactions stored.", registry=r)
        self.trimmed = prom.Counter("realtime_messages_trimmed",
                                    "Messages removed by retention.", registry=r)
        self.dms = prom.Counter("realtime_dms", "Direct messages delivered.", registry=r)
        self.hub_lag = prom.Histogram(
            "realtime_hub_lag_seconds", "How late the gevent hub ran a 50 ms timer.",
            registry=r, buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, 1))
        self.hub_lag_max = prom.Gauge("realtime_hub_lag_max_seconds",
                                      "Worst hub lag since start.", registry=r)
        self.store_up = prom.Gauge("realtime_store_up", "1 while the store answers.",
                                   registry=r)

    def event(self, name, success, seconds):
        self.events.labels(name, "true" if success else "false").inc()
        self.latency.labels(name).observe(seconds)

    def render(self):
        return prom.generate_latest(self.registry), prom.CONTENT_TYPE_LATEST
