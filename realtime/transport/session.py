"""One Engine.IO session of :class:`realtime.transport.engine.EngineServer`.

:class:`Session` is python-engineio's ``Socket`` with the fast path:

- over WebSocket, once open (or upgraded), ``send()`` writes the packet's
  frame straight to the socket (:mod:`.websocket`); the frame is built once
  per packet object, so a broadcast's one shared packet is encoded once for
  all its recipients.  No writer greenlet, no per-session queue in use;
- heartbeats come from the server's one :class:`~.heartbeat.Heartbeat`,
  not from a greenlet per session;
- over long-polling, packets wait in the session's queue as in
  python-engineio; an answer carries at most ``MAX_POLL_PACKETS`` (its
  clients refuse more), a closed session answers a waiting GET with a NOOP,
  and a POST may carry up to ``MAX_DECODE_PACKETS`` packets;
- a session whose unsent packets pile up past the server's ``max_queue``
  is reported to ``server.overflow`` (and, over WebSocket, not queued).
"""

import time

import engineio.exceptions
import engineio.payload
import engineio.socket
import gevent
from engineio import packet

from .websocket import BINARY, TEXT, FastWebSocket, frame

MAX_DECODE_PACKETS = 512
MAX_POLL_PACKETS = 16
# How long a session closed by its client stays, for the GET it may have in flight.
NOOP_LINGER = 1.0

NOOP = packet.Packet(packet.NOOP)
NOOP.encode()


class BurstPayload(engineio.payload.Payload):
    """A polling POST may carry a burst of packets; the byte cap still bounds it."""

    max_decode_packets = MAX_DECODE_PACKETS


def _spawn_reader(pool, fn, *args):
    """Start a connection's reader: a raw greenlet, or, when the server counts
    its connections in a pool (gunicorn's gevent workers: worker_connections,
    and a graceful stop waits for the pool), a Greenlet tracked there."""
    if pool is not None:
        reader = gevent.Greenlet(fn, *args)
        try:
            pool.add(reader, blocking=False)
        except gevent.Timeout:       # full: this connection goes untracked
            pass
        reader.start()
        return
    gevent.spawn_raw(fn, *args)


def frame_of(pkt):
    """The WebSocket frame of an Engine.IO packet, built once per packet object."""
    data = getattr(pkt, "ws_frame", None)
    if data is None:
        if pkt.binary:
            data = frame(bytes(pkt.data), BINARY)
        else:
            data = frame(pkt.encode().encode("utf-8"), TEXT)
        pkt.ws_frame = data
    return data


class Session(engineio.socket.Socket):
    """python-engineio's Socket with the fast WebSocket path (see the module)."""

    def __init__(self, server, sid):
        # python-engineio's BaseSocket.__init__, but the queue is made on
        # first use: a WebSocket session never needs one.
        self.server = server
        self.sid = sid
        self._queue = None
        self.last_ping = time.time()
        self.connected = self.upgrading = self.upgraded = self.closing = self.closed = False
        self.session = {}
        self.ws = None          # the FastWebSocket, once packets go straight to it
        self.open_packet = None  # the handshake of a WebSocket session, sent first
        self._polling = False   # a GET waits for packets
        self.noop_due = False   # closed by its client: a GET in flight gets a NOOP

    @property
    def queue(self):
        queue = self._queue
        if queue is None:
            queue = self._queue = self.server.create_queue()
        return queue

    @queue.setter
    def queue(self, value):
        self._queue = value

    # -- sending ---------------------------------------------------------------

    def send(self, pkt):
        ws = self.ws
        if ws is not None:
            if not ws.write(frame_of(pkt), self.server.max_queue):
                self.server.overflow(self, ws.backlog)
            return
        if self.closed:
            return
        limit = self.server.max_queue
        if limit and self.queue.qsize() >= limit:
            self.server.overflow(self, self.queue.qsize())
            return
        self.queue.put(pkt)

    def close(self, wait=True, abort=False, reason=None):
        if self.closed or self.closing:
            return
        self.closing = True
        self.server._trigger_event("disconnect", self.sid,
                                   reason or self.server.reason.SERVER_DISCONNECT,
                                   run_async=False)
        if not abort:
            self.send(packet.Packet(packet.CLOSE))
        self.closed = True
        ws = self.ws
        if ws is not None:
            ws.close()          # after what is queued; the reader ends on the reply
            return
        if reason == self.server.reason.CLIENT_DISCONNECT and not self._polling:
            # Its client may have a GET in flight: answer it with a NOOP (as
            # a GET that was waiting gets), then forget the session.
            self.noop_due = True
            timer = gevent.get_hub().loop.timer(NOOP_LINGER)
            timer.start(self._forget, timer)
        self.queue.put(None)
        if wait:
            self.queue.join()

    def _forget(self, timer):
        timer.close()
        if self.server.sockets.get(self.sid) is self:
            del self.server.sockets[self.sid]

    # -- heartbeat -------------------------------------------------------------

    def schedule_ping(self):
        # Only after the previous cycle completed (a pong, or the handshake).
        if self.last_ping:
            self.last_ping = None
            self.server.heartbeat.ping_later(self)

    def ping_timed_out(self):
        """No pong within pingTimeout: close (with a CLOSE packet) and forget."""
        self.server.logger.info("%s: Client is gone, closing socket", self.sid)
        self.close(wait=False, abort=False, reason=self.server.reason.PING_TIMEOUT)
        if self.server.sockets.get(self.sid) is self:
            del self.server.sockets[self.sid]

    def check_ping_timeout(self):
        # The heartbeat closes silent sessions; nothing to check per send.
        if self.closed:
            raise engineio.exceptions.SocketIsClosedError()
        return True

    # -- long-polling ----------------------------------------------------------

    def handle_get_request(self, environ, start_response):
        connection = environ.get("HTTP_CONNECTION", "").lower()
        if "upgrade" in connection and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            if self.upgrading or self.upgraded:
                return self.server._bad_request("Unexpected WebSocket request")
            return super().handle_get_request(environ, start_response)
        if self.upgrading or self.upgraded:
            return [NOOP]       # the polling side ends; packets go to the WebSocket
        if self._polling:
            # Two GETs at once: the protocol closes the session (the first
            # GET gets the CLOSE packet).
            self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            return self.server._bad_request("Duplicate poll request")
        return super().handle_get_request(environ, start_response)

    def poll(self):
        """Wait for packets to answer a GET with: at most MAX_POLL_PACKETS;
        a NOOP when the session closed meanwhile."""
        empty = self.server.get_queue_empty_exception()
        self._polling = True
        try:
            first = self.queue.get(timeout=self.server.ping_interval + self.server.ping_timeout)
            self.queue.task_done()
        except empty:
            raise engineio.exceptions.QueueEmpty()
        finally:
            self._polling = False
        if first is None:
            self.queue.put(None)          # later GETs see the close too
            return [NOOP]
        packets = [first]
        while len(packets) < MAX_POLL_PACKETS:
            try:
                pkt = self.queue.get(block=False)
            except empty:
                break
            self.queue.task_done()
            if pkt is None:               # a close marker: leave it for the next poll
                self.queue.put(None)
                break
            packets.append(pkt)
        return packets

    def handle_post_request(self, environ):
        length = int(environ.get("CONTENT_LENGTH", "0") or 0)
        if length > self.server.max_http_buffer_size:
            raise engineio.exceptions.ContentTooLongError()
        body = environ["wsgi.input"].read(length)
        try:
            packets = BurstPayload(encoded_payload=body.decode("utf-8")).packets
        except (ValueError, TypeError, IndexError) as exc:
            # Not Engine.IO: the protocol closes the session (the caller answers 400).
            raise engineio.exceptions.EngineIOError("malformed payload: %s" % exc)
        for pkt in packets:
            self.receive(pkt)

    # -- WebSocket -------------------------------------------------------------

    def _websocket_handler(self, wsgi_ws):
        """The WebSocket transport: the handshake or upgrade here, on the pywsgi
        handler's greenlet; then the connection is detached and read on a
        fresh greenlet with a shallow stack, and the handler's greenlet ends."""
        server = self.server
        environ = wsgi_ws.environ
        ws = FastWebSocket.adopt(wsgi_ws._sock, server.max_http_buffer_size + 16)
        if self.connected:
            if not self._upgrade(ws):
                return []         # the session goes on over polling
        else:
            self.connected = True
            self._go_direct(ws)
        tracker = environ.get("realtime.connections") if environ else None
        pool = getattr(getattr(ws.handler, "server", None), "pool", None)
        ws.detach()
        if tracker is not None:
            tracker.hold(ws)
        _spawn_reader(pool, self._serve_ws, ws, tracker)
        return []

    def _serve_ws(self, ws, tracker):
        server = self.server
        try:
            self._read_loop(ws)
            self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
        except Exception:  # never let a reader die silently with the session open
            server.logger.exception("websocket reader failed")
            self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_ERROR)
        finally:
            self.ws = None
            if server.sockets.get(self.sid) is self:
                del server.sockets[self.sid]
            ws.release()
            if tracker is not None:
                tracker.release(ws)

    def _upgrade(self, ws):
        """The probe and upgrade exchange of a polling session; True when upgraded."""
        self.upgrading = True     # the polling side answers NOOPs meanwhile
        try:
            probe = ws.receive()
            if probe != "2probe":
                self.server.logger.info("%s: Failed websocket upgrade, no PING packet",
                                        self.sid)
                return False
            ws.write(frame(b"3probe"))
            self.queue.put(NOOP)      # ends the GET waiting on the polling side
            # No yield to the hub before reading the upgrade packet: a client
            # that sent it right behind the probe is upgraded before any
            # other request of it is handled.
            upgrade = ws.receive(yield_first=False)
            if upgrade != "5":
                self.server.logger.info("%s: Failed websocket upgrade, expected UPGRADE "
                                        "packet, received %s instead.", self.sid, upgrade)
                return False
            self._go_direct(ws)
            return True
        finally:
            self.upgrading = False

    def _go_direct(self, ws):
        """From here on packets go straight to ``ws``; what was queued goes first."""
        if self.open_packet is not None:
            ws.write(frame_of(self.open_packet))
            self.open_packet = None
        queue = self._queue
        upgraded = self.upgrading
        noop = False
        while queue is not None and not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is NOOP:
                noop = True
            elif pkt is not None:
                ws.write(frame_of(pkt))
        if noop or self._polling:
            self.queue.put(NOOP)    # the GET still waiting on the polling side ends with it
        self.upgraded = True
        self.upgrading = False
        self.ws = ws
        if not upgraded:
            self.queue = None   # never used again: packets go straight to ws
        if self.closed:
            ws.close()

    def _read_loop(self, ws):
        server = self.server
        sid = self.sid
        on_message = server.handlers.get("message")
        receive = ws.receive
        while not self.closed:
            data = receive()
            if data is None:
                return
            if data.__class__ is str:
                kind = data[0]
                if kind == "4":
                    data = data[1:]
                elif kind == "3":
                    self.schedule_ping()
                    continue
                elif kind == "1":
                    self.close(wait=False, abort=True,
                               reason=server.reason.CLIENT_DISCONNECT)
                    return
                elif kind == "5":
                    ws.write(frame_of(NOOP))
                    continue
                else:
                    continue          # OPEN, PING, NOOP from a client: ignored
            if len(data) > server.max_http_buffer_size:
                return
            if on_message is not None:
                try:
                    on_message(sid, data)
                except Exception:
                    server.logger.exception("message handler error")
