"""The product's Engine.IO server: python-engineio's, adjusted by subclass only.

:class:`EngineServer` is handed to python-socketio through
``socketio.Server._engineio_server_class()`` (see :mod:`.guard`); other
users of python-engineio in the same process keep its stock classes.  It
differs from ``engineio.Server`` in:

- sessions are :class:`~.session.Session` objects (the WebSocket fast
  path, bounded polling answers, bursts in a POST);
- one :class:`~.heartbeat.Heartbeat` for every session instead of a ping
  greenlet per session and a monitor task;
- the handshake advertises pingInterval/pingTimeout in exact milliseconds
  (python-engineio truncates fractional seconds);
- a request with no ``transport`` or with a method other than GET, POST
  or OPTIONS gets 400, as the Engine.IO protocol's reference server answers;
- ``max_queue``: a session with that many packets unsent is reported to
  :meth:`EngineServer.overflow` (the guard drops it).

::

    eio = EngineServer(async_mode="gevent", ping_interval=25, ping_timeout=20)
    app = engineio.WSGIApp(eio)
"""

import logging
import urllib.parse

import engineio
from engineio import exceptions, packet

from .heartbeat import Heartbeat
from .session import NOOP, Session

log = logging.getLogger("realtime.guard")

ALLOWED_METHODS = ("GET", "POST", "OPTIONS")


class EngineServer(engineio.Server):
    """engineio.Server with the product's sessions and heartbeat (see the module)."""

    session_class = Session
    max_queue = 0
    slow_clients = 0          # for /metrics

    def __init__(self, *args, **kwargs):
        # The heartbeat closes silent sessions; no monitor task is needed.
        kwargs.setdefault("monitor_clients", False)
        super().__init__(*args, **kwargs)
        self.heartbeat = Heartbeat(self.ping_interval + self.ping_interval_grace_period,
                                   self.ping_timeout)
        self._dropping = set()

    # -- requests --------------------------------------------------------------

    def refuse_request(self, environ, query):
        """The reason to answer 400 before python-engineio looks at a request, or None."""
        if environ.get("REQUEST_METHOD") not in ALLOWED_METHODS:
            return "Bad request method"
        if "transport" not in query:
            return "Transport unknown"
        return None

    def handle_request(self, environ, start_response):
        text = environ.get("QUERY_STRING", "")
        # python-engineio parses the query again; parse here only what may matter.
        query = urllib.parse.parse_qs(text) if "sid=" in text or "transport=" not in text \
            else {"transport": None}
        reason = self.refuse_request(environ, query)
        if reason is not None:
            return self._answer(environ, start_response, self._bad_request(reason))
        sid = query.get("sid", (None,))[0]
        if sid is not None and environ.get("REQUEST_METHOD") == "GET":
            s = self.sockets.get(sid)
            if s is not None and s.closed and s.noop_due:
                # The GET that was in flight when its client closed the session.
                self.sockets.pop(sid, None)
                return self._answer(environ, start_response, self._ok([NOOP]))
        return super().handle_request(environ, start_response)

    def _answer(self, environ, start_response, r):
        start_response(r["status"], r["headers"] + self._cors_headers(environ))
        return [r["response"]]

    def _handle_connect(self, environ, start_response, transport, jsonp_index=None):
        """python-engineio's handshake, with :attr:`session_class` sessions."""
        sid = self.generate_id()
        s = self.session_class(self, sid)
        self.sockets[sid] = s
        open_packet = packet.Packet(packet.OPEN, {
            "sid": sid,
            "upgrades": self._upgrades(sid, transport),
            "pingTimeout": int(round(self.ping_timeout * 1000)),
            "pingInterval": int(round(
                (self.ping_interval + self.ping_interval_grace_period) * 1000)),
            "maxPayload": self.max_http_buffer_size,
        })
        if transport == "websocket":
            s.open_packet = open_packet     # the first frame, once the socket is up
        else:
            s.send(open_packet)
        ret = self._trigger_event("connect", sid, environ, run_async=False)
        if ret is not None and ret is not True:
            self.sockets.pop(sid, None)
            self.logger.warning("Application rejected connection")
            return self._unauthorized(ret or None)
        s.schedule_ping()
        if transport == "websocket":
            ret = s.handle_get_request(environ, start_response)
            if s.closed and self.sockets.get(sid) is s:
                del self.sockets[sid]
            return ret
        s.connected = True
        headers = None
        if self.cookie:
            attributes = self.cookie if isinstance(self.cookie, dict) else {
                "name": self.cookie, "path": "/", "SameSite": "Lax"}
            headers = [("Set-Cookie", self._generate_sid_cookie(sid, attributes))]
        try:
            return self._ok(s.poll(), headers=headers, jsonp_index=jsonp_index)
        except exceptions.QueueEmpty:
            return self._bad_request()

    def _ok(self, packets=None, headers=None, jsonp_index=None):
        r = super()._ok(packets, headers=headers, jsonp_index=jsonp_index)
        if packets is None:
            r["response"] = b"ok"         # a POST's answer, as the protocol's server says it
        return r

    # -- sending ---------------------------------------------------------------

    def send_packet(self, sid, pkt):
        s = self.sockets.get(sid)
        if s is not None:
            s.send(pkt)

    def overflow(self, session, backlog):
        """``session`` has ``backlog`` packets unsent (over ``max_queue``): drop it.

        A client that does not read (but still answers pings) would make the
        server hold every broadcast for it in memory.
        """
        sid = session.sid
        if sid in self._dropping:
            return
        self.slow_clients += 1
        log.info("disconnecting a client that does not read (%d packets queued)", backlog)
        if session.ws is not None:
            # Its queued frames are dropped with the TCP connection; its reader
            # then ends the session (not here, inside someone's broadcast loop).
            session.ws.abort()
            return
        self._dropping.add(sid)
        self.start_background_task(self._drop, sid)

    def _drop(self, sid):
        try:
            self.disconnect(sid)
        finally:
            self._dropping.discard(sid)

    def disconnect(self, sid=None):
        # python-engineio waits until the close packet is fetched; a polling
        # client that never polls again (say, after POSTing a bad packet)
        # would hold the calling request and its greenlet for good.
        if sid is None:
            for s in list(self.sockets.values()):
                s.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
            self.sockets = {}
            return
        s = self.sockets.pop(sid, None)
        if s is not None:
            s.close(wait=False, reason=self.reason.SERVER_DISCONNECT)

    def shutdown(self):
        self.heartbeat.stop()
        super().shutdown()
