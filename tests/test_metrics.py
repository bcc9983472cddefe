"""The lock-free counters and histograms of realtime.metrics against prometheus_client's."""

import re

import prometheus_client as prom

from realtime.metrics import Counter, Histogram, Metrics


def _text(registry):
    """Exposition text without the _created timestamps (they differ by construction)."""
    text = prom.generate_latest(registry).decode()
    return re.sub(r"(_created(\{[^}]*\})?) \S+", r"\1 T", text)


def _feed(counter, histogram):
    for value in (0.0005, 0.001, 0.0025, 0.004, 0.3, 2.0, 0.001):
        histogram.labels("message").observe(value)
    histogram.labels("join").observe(0.02)
    counter.labels("message", "true").inc()
    counter.labels("message", "true").inc(2)
    counter.labels("join", "false").inc()


def test_same_text_as_prometheus_client():
    """Counter and Histogram render exactly as prometheus_client's (bucket edges included)."""
    ours, theirs = prom.CollectorRegistry(), prom.CollectorRegistry()
    buckets = (.001, .0025, .005, .01, .025, .05, .1, .25, 1)
    _feed(Counter("x_events", "Events.", ["event", "ok"], registry=ours),
          Histogram("x_seconds", "Time.", ["event"], registry=ours, buckets=buckets))
    _feed(prom.Counter("x_events", "Events.", ["event", "ok"], registry=theirs),
          prom.Histogram("x_seconds", "Time.", ["event"], registry=theirs, buckets=buckets))
    assert _text(ours) == _text(theirs)


def test_event_counts_and_observes():
    """Metrics.event() counts the event under its outcome and records its time."""
    m = Metrics()
    m.event("message", True, 0.003)
    m.event("message", False, 0.003)
    m.stored.inc()
    text = m.render()[0].decode()
    assert 'realtime_events_total{event="message",ok="true"} 1.0' in text
    assert 'realtime_events_total{event="message",ok="false"} 1.0' in text
    assert 'realtime_event_seconds_bucket{event="message",le="0.005"} 2.0' in text
    assert "realtime_messages_stored_total 1.0" in text
