"""The transport's defences against hostile clients.

:class:`GuardedServer` is a ``socketio.Server`` that checks every packet
before python-socketio sees it: per-connection packet rate, connection caps
per address and in total (refused with a ``connect_error`` that says why),
unknown namespaces (refused with an object, as protocol v5 wants, not a bare
string), malformed packets (one throttled log line, no traceback), client
events named like reserved ones (``connect``), and binary attachments (the
chat protocol has none).  The HTTP and WebSocket checks live in
:mod:`realtime.transport.handler`::

    sio = GuardedServer(limits=Limits(config), packet_rate=(300, 10.0), async_mode="gevent")
"""

import gc
import logging
import time

import gevent
import greenlet
from engineio import packet as eio_packet
from socketio import packet

from .deferred import Server as DeferredServer
from .engine import EngineServer
from .. import jsoncodec
from ..rules import RateLimiter

log = logging.getLogger("realtime.guard")

# Events a client must never trigger: they would re-run the connect handler
# (another name on the same connection) or fake a disconnect.
RESERVED = frozenset(("connect", "connect_error", "disconnect"))
# Refused Engine.IO sessions linger until they read their refusal; beyond
# this many at once, further ones get a bare HTTP 401.
MAX_REFUSED_PENDING = 1000
# The refusal of a connect to a namespace the server does not have, in the
# words of the Socket.IO reference server (clients may compare it).
INVALID_NAMESPACE = "Invalid namespace"


class LogThrottle:
    """At most ``burst`` warnings per ``window`` seconds; the rest are counted.

    Hostile clients can provoke a warning per packet; this keeps the log
    readable and bounded while still saying that something happened.
    """

    def __init__(self, logger, burst=10, window=60.0):
        self.logger = logger
        self.burst = burst
        self.window = window
        self._start = 0.0
        self._count = 0
        self.suppressed = 0

    def warning(self, fmt, *args):
        now = time.monotonic()
        if now - self._start > self.window:
            if self.suppressed:
                self.logger.warning("%d more warnings about hostile clients were suppressed",
                                    self.suppressed)
            self._start, self._count, self.suppressed = now, 0, 0
        self._count += 1
        if self._count <= self.burst:
            self.logger.warning(fmt, *args)
        else:
            self.suppressed += 1


class _OneLine(logging.Filter):
    """Turn library tracebacks into one throttled line (full ones at DEBUG level).

    python-socketio and python-engineio log a traceback for many malformed
    packets; a hostile client could fill the disk with them.
    """

    def __init__(self, throttle):
        super().__init__()
        self.throttle = throttle

    def filter(self, record):
        if record.exc_info and not logging.getLogger().isEnabledFor(logging.DEBUG):
            exc = record.exc_info[1]
            record.msg = "%s (%s: %s)" % (record.getMessage(), type(exc).__name__,
                                          str(exc)[:80])
            record.args = None
            record.exc_info = None
            record.exc_text = None
        if record.levelno >= logging.ERROR:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        if record.levelno == logging.WARNING:
            self.throttle.warning("%s", record.getMessage())
            return False
        return True


def library_logger(name, throttle):
    """A logger for python-socketio/engineio: warnings and up, no tracebacks."""
    logger = logging.getLogger("realtime." + name)
    if not logger.filters:
        logger.addFilter(_OneLine(throttle))
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.WARNING)     # their INFO lines come per packet
    return logger


class _Session:
    __slots__ = ("address", "refusal", "packets")

    def __init__(self, address, refusal, packets):
        self.address = address
        self.refusal = refusal
        self.packets = packets


_PLAIN = (str, bool, int, float, tuple)


def request_values(environ):
    """The plain values of a WSGI environ (headers, address, path, ...).

    python-socketio keeps each session's environ for its connect handlers;
    without the request's objects (input stream, socket, WebSocket) a
    WebSocket connection does not keep its whole HTTP request alive.
    """
    return {k: v for k, v in environ.items() if isinstance(v, _PLAIN)}


class GuardedEngineIO(EngineServer):
    """The product's Engine.IO server (:class:`~.engine.EngineServer`) under the guard."""


class ChatPacket(packet.Packet):
    """Socket.IO packets coded with :mod:`realtime.jsoncodec` (python-socketio's
    ``json=`` would set the codec on its own classes, for the whole process),
    decoding the common shapes (``2[...]``, ``2<id>[...]``, on ``/``) directly."""

    json = jsoncodec

    def decode(self, encoded_packet):
        ep = encoded_packet
        if isinstance(ep, str) and len(ep) > 2 and "0" <= ep[0] <= "9":
            if ep[1] == "[":
                self.packet_type, self.namespace = int(ep[0]), None
                self.data = self.json.loads(ep[1:])
                return 0
            end = ep.find("[", 2, 102)
            if end > 1 and ep[1:end].isdigit():
                self.packet_type, self.namespace = int(ep[0]), None
                self.id = int(ep[1:end])
                self.data = self.json.loads(ep[end:])
                return 0
        return super().decode(encoded_packet)


class TextPacket(ChatPacket):
    """ChatPacket for a server that takes no binary data: no recursive search
    for bytes in every packet it sends (5% of the message path)."""

    uses_binary_events = False


class GuardedServer(DeferredServer):
    """The app's ``socketio.Server`` (with deferred acks) plus the checks above.

    ``limits`` is a :class:`realtime.transport.limits.Limits`.
    """

    def __init__(self, *args, limits, packet_rate=(0, 0.0), max_queue=0, accept_binary=False,
                 **kwargs):
        warn = LogThrottle(log)
        kwargs.setdefault("serializer", ChatPacket if accept_binary else TextPacket)
        if not kwargs.get("logger"):
            kwargs["logger"] = library_logger("socketio", warn)
        if not kwargs.get("engineio_logger"):
            kwargs["engineio_logger"] = library_logger("engineio", warn)
        super().__init__(*args, **kwargs)
        self.eio.max_queue = max_queue
        self.accept_binary = accept_binary
        self.limits = limits
        self.packet_rate = packet_rate
        self.sessions = {}           # eio_sid -> _Session
        self.refused_pending = 0
        self.bad_packets = 0         # for /metrics
        self.floods = 0
        self.warn = warn

    def _engineio_server_class(self):
        return GuardedEngineIO

    # -- sending: straight to the session (see realtime.transport) ---------------

    def _send_eio_packet(self, eio_sid, eio_pkt):
        session = self.eio.sockets.get(eio_sid)
        if session is not None:
            session.send(eio_pkt)

    def _send_packet(self, eio_sid, pkt):
        session = self.eio.sockets.get(eio_sid)
        if session is None:
            return
        encoded = pkt.encode()
        if isinstance(encoded, list):
            for part in encoded:
                session.send(eio_packet.Packet(eio_packet.MESSAGE, part))
        else:
            session.send(eio_packet.Packet(eio_packet.MESSAGE, encoded))

    # -- Engine.IO sessions ----------------------------------------------------

    def _handle_eio_connect(self, eio_sid, environ):
        address = self.limits.address(environ)     # once per connection, behind proxies
        refusal = self.limits.open(address, time.monotonic())
        if refusal is not None:
            if self.refused_pending >= MAX_REFUSED_PENDING:
                return False
            self.refused_pending += 1
        self.sessions[eio_sid] = _Session(address, refusal, RateLimiter(*self.packet_rate))
        return super()._handle_eio_connect(eio_sid, request_values(environ))

    def _handle_eio_disconnect(self, eio_sid, *args):
        try:
            return super()._handle_eio_disconnect(eio_sid, *args)
        finally:
            session = self.sessions.pop(eio_sid, None)
            if session is not None:
                if session.refusal is None:
                    self.limits.close(session.address, time.monotonic())
                else:
                    self.refused_pending -= 1

    def _close_soon(self, eio_sid):
        # Closing from inside the socket's own reader would cut the refusal
        # or ack still queued for it; let the writer flush first.
        def close():
            gevent.sleep(0.2)
            try:
                self.eio.disconnect(eio_sid)
            except Exception:  # already gone
                pass
        self.start_background_task(close)

    # -- packets ---------------------------------------------------------------

    def _handle_eio_message(self, eio_sid, data):
        session = self.sessions.get(eio_sid)
        if session is not None and not session.packets.allow(time.monotonic()):
            self.floods += 1
            self.warn.warning("closing a connection from %s: more than %d packets in %gs",
                              session.address, *self.packet_rate)
            session.packets = RateLimiter(0, 0)      # warn once per connection
            self.eio.disconnect(eio_sid)
            return
        if not isinstance(data, str):
            if self.accept_binary and eio_sid in self._binary_packet:
                return self._attachment(eio_sid, session, data)
            # A binary attachment: the chat protocol has none; drop it.
            self.bad_packets += 1
            return
        try:
            pkt = self.packet_class(encoded_packet=data)
            self._dispatch(eio_sid, session, pkt)
        except Exception as exc:
            self.bad_packets += 1
            self.warn.warning("closing a connection from %s after a malformed packet (%s: %s)",
                              session.address if session else "?", type(exc).__name__,
                              str(exc)[:80])
            self._close_soon(eio_sid)

    def _attachment(self, eio_sid, session, data):
        try:
            super()._handle_eio_message(eio_sid, data)
        except Exception as exc:
            self.bad_packets += 1
            self.warn.warning("closing a connection from %s after a bad attachment (%s)",
                              session.address if session else "?", type(exc).__name__)
            self._close_soon(eio_sid)

    def _dispatch(self, eio_sid, session, pkt):
        kind = pkt.packet_type
        namespace = pkt.namespace or "/"
        if kind == packet.CONNECT:
            if session is not None and session.refusal is not None:
                self._refuse(eio_sid, namespace, session.refusal)
                self._close_soon(eio_sid)
            elif namespace not in self.namespace_handlers and namespace not in self.handlers:
                self._refuse(eio_sid, namespace, INVALID_NAMESPACE)
            elif self.manager.sid_from_eio_sid(eio_sid, namespace) is not None:
                self._refuse(eio_sid, namespace, "already connected to %s" % namespace)
            else:
                self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == packet.DISCONNECT:
            self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        elif kind == packet.EVENT:
            if not isinstance(pkt.data, list):
                # Not the Socket.IO format (an event is an array): close, as
                # the reference server does.
                raise ValueError("event payload is not an array")
            event = pkt.data[0] if pkt.data else None
            if not isinstance(event, str):
                self._fail(eio_sid, pkt, "malformed event packet.")
            elif event in RESERVED:
                self._fail(eio_sid, pkt, "unknown event %r." % event)
            else:
                self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind in (packet.BINARY_EVENT, packet.BINARY_ACK) and self.accept_binary:
            if self.manager.sid_from_eio_sid(eio_sid, namespace) is None:
                raise ValueError("binary packet before connecting")
            self._binary_packet[eio_sid] = pkt
        elif kind == packet.BINARY_EVENT:
            # Answer at once; the attachments that follow are dropped above.
            self._fail(eio_sid, pkt, "binary data is not accepted.")
        elif kind in (packet.ACK, packet.BINARY_ACK):
            pass                     # the server never asks clients for acks
        else:
            raise ValueError("unexpected packet type %r" % kind)

    def _handle_event(self, eio_sid, namespace, id, data):
        # python-socketio's, less its per-event log call.
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if not self.manager.is_connected(sid, namespace):
            self.logger.warning("%s is not connected to namespace %s", sid, namespace)
            return
        self._handle_event_internal(self, sid, eio_sid, data, namespace, id)

    def _refuse(self, eio_sid, namespace, message):
        self._send_packet(eio_sid, self.packet_class(
            packet.CONNECT_ERROR, data={"message": message}, namespace=namespace))

    def _fail(self, eio_sid, pkt, error):
        self.bad_packets += 1
        if pkt.id is None:
            return
        self._send_packet(eio_sid, self.packet_class(
            packet.ACK, namespace=pkt.namespace, id=pkt.id,
            data=[{"ok": False, "error": error}]))


def socketio_server(config, limits, **kwargs):
    """The product's ``socketio.Server`` for ``config``: the guard and the fast path.

    ``kwargs`` go to :class:`GuardedServer` (``client_manager``,
    ``cors_allowed_origins``, ``accept_binary``, ...).
    """
    options = dict(
        limits=limits,
        packet_rate=config.parse("packet_rate"),
        max_queue=config.max_queue,
        async_mode="gevent",
        async_handlers=False,       # one connection's events in order
        always_connect=False,
        max_http_buffer_size=config.max_packet,
        ping_interval=config.ping_interval,
        ping_timeout=config.ping_timeout,
        transports=["websocket"] if config.websocket_only else None,
        logger=False,
        engineio_logger=False)
    options.update(kwargs)
    return GuardedServer(**options)


def count_greenlets():
    """Live greenlets in this process (a full gc scan: call it rarely)."""
    return sum(1 for obj in gc.get_objects() if isinstance(obj, greenlet.greenlet))


def add_metrics(registry, sio):
    """Export the guard's counters, live greenlets and process memory on ``registry``."""
    import prometheus_client as prom
    prom.ProcessCollector(registry=registry)
    gauges = (
        ("realtime_greenlets", "Live greenlets (gc scan at scrape time).", count_greenlets),
        ("realtime_bad_packets", "Malformed or unexpected packets dropped.",
         lambda: sio.bad_packets),
        ("realtime_packet_floods", "Connections closed for sending too many packets.",
         lambda: sio.floods),
        ("realtime_connections_capped", "Connections refused by a connection limit.",
         lambda: sio.limits.refused),
        ("realtime_slow_clients", "Clients disconnected for not reading their messages.",
         lambda: sio.eio.slow_clients),
        ("realtime_engineio_sessions", "Open Engine.IO sessions (all namespaces).",
         lambda: len(sio.sessions)),
        ("realtime_tracked_addresses", "Client addresses with limit state.",
         sio.limits.addresses),
    )
    for name, doc, fn in gauges:
        prom.Gauge(name, doc, registry=registry).set_function(fn)
