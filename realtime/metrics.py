"""Prometheus metrics of one app, in a registry of its own (not the global one).

The counters and histograms that the message path updates per event are
plain numbers (:class:`Counter`, :class:`Histogram`), read by a collector
at scrape time: prometheus_client's own take a lock per update, and under
gevent's monkey-patching that lock is a gevent semaphore (about 14 us of
the hub's CPU per message, measured).  They are updated from the hub
thread only.  /metrics shows them exactly as prometheus_client would
(``_total``, ``_created``, ``_bucket``, ``_count``, ``_sum`` samples)::

    m = Metrics()
    m.event("message", True, 0.004)
    body, content_type = m.render()
"""

import bisect
import time

import prometheus_client as prom
from prometheus_client.core import Metric

LATENCY_BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, 1)


class _CounterChild:
    __slots__ = ("value", "created")

    def __init__(self):
        self.value = 0.0
        self.created = time.time()

    def inc(self, amount=1):
        self.value += amount


class _HistogramChild:
    __slots__ = ("counts", "sum", "created", "_bounds")

    def __init__(self, bounds):
        self._bounds = bounds
        self.counts = [0] * (len(bounds) + 1)     # per bucket, not cumulative; +Inf last
        self.sum = 0.0
        self.created = time.time()

    def observe(self, value):
        # le buckets: a value equal to a bound belongs to that bound's bucket.
        self.counts[bisect.bisect_left(self._bounds, value)] += 1
        self.sum += value


class _Family:
    """A metric with optional labels; ``labels(*values)`` gives the child to update."""

    kind = None

    def __init__(self, name, documentation, labelnames=(), registry=None, **child):
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._child = child
        self._children = {}
        if not self.labelnames:
            self._children[()] = self._new()
        if registry is not None:
            registry.register(self)

    def labels(self, *values):
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError("%s takes labels %s" % (self.name, self.labelnames))
            child = self._children[values] = self._new()
        return child

    def describe(self):
        return [Metric(self.name, self.documentation, self.kind)]

    def collect(self):
        metric = Metric(self.name, self.documentation, self.kind)
        for values, child in list(self._children.items()):
            self._samples(metric, dict(zip(self.labelnames, values)), child)
        return [metric]


class Counter(_Family):
    """prometheus_client's ``Counter`` without the lock (hub thread only)."""

    kind = "counter"

    def _new(self):
        return _CounterChild()

    def inc(self, amount=1):
        self._children[()].value += amount

    def _samples(self, metric, labels, child):
        metric.add_sample(self.name + "_total", labels, child.value)
        metric.add_sample(self.name + "_created", labels, child.created)


class Histogram(_Family):
    """prometheus_client's ``Histogram`` without the lock (hub thread only)."""

    kind = "histogram"

    def __init__(self, name, documentation, labelnames=(), registry=None,
                 buckets=LATENCY_BUCKETS):
        self.bounds = tuple(float(b) for b in buckets)
        super().__init__(name, documentation, labelnames, registry)

    def _new(self):
        return _HistogramChild(self.bounds)

    def observe(self, value):
        self._children[()].observe(value)

    def _samples(self, metric, labels, child):
        total = 0
        for bound, count in zip(self.bounds + (float("inf"),), child.counts):
            total += count
            le = "+Inf" if bound == float("inf") else prom.utils.floatToGoString(bound)
            metric.add_sample(self.name + "_bucket", dict(labels, le=le), float(total))
        metric.add_sample(self.name + "_count", labels, float(total))
        metric.add_sample(self.name + "_sum", labels, child.sum)
        metric.add_sample(self.name + "_created", labels, child.created)


class Metrics:
    """Counters and gauges the chat updates; ``render()`` gives the text format."""

    def __init__(self):
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.connections = prom.Gauge("realtime_connections", "Open chat connections.",
                                      registry=r)
        self.refused = Counter("realtime_connections_refused",
                               "Connections refused at connect.", registry=r)
        self.events = Counter("realtime_events", "Client events handled.",
                              ["event", "ok"], registry=r)
        self.latency = Histogram("realtime_event_seconds", "Time to handle an event.",
                                 ["event"], registry=r)
        self.stored = Counter("realtime_messages_stored", "Messages stored.", registry=r)
        self.updates = Counter("realtime_updates_stored",
                               "Edits, deletes and reactions stored.", registry=r)
        self.trimmed = Counter("realtime_messages_trimmed",
                               "Messages removed by retention.", registry=r)
        self.dms = Counter("realtime_dms", "Direct messages delivered.", registry=r)
        self.hub_lag = Histogram(
            "realtime_hub_lag_seconds", "How late the gevent hub ran a 50 ms timer.",
            registry=r)
        self.hub_lag_max = prom.Gauge("realtime_hub_lag_max_seconds",
                                      "Worst hub lag since start.", registry=r)
        self.store_up = prom.Gauge("realtime_store_up", "1 while the store answers.",
                                   registry=r)
        self._event_children = {}

    def event(self, name, success, seconds):
        children = self._event_children.get((name, success))
        if children is None:
            children = self._event_children[(name, success)] = (
                self.events.labels(name, "true" if success else "false"),
                self.latency.labels(name))
        children[0].value += 1
        children[1].observe(seconds)

    def render(self):
        return prom.generate_latest(self.registry), prom.CONTENT_TYPE_LATEST
