"""A small chat client for scripts, bots and the ``say``/``listen`` commands.

Built on python-socketio's synchronous client; events arrive in wire order::

    from realtime.client import ChatClient, ChatError

    with ChatClient("http://127.0.0.1:5000", "bot") as chat:
        stored = chat.say("lobby", "hello")        # joins first; returns the stored message
        for msg in chat.messages("lobby"):          # live messages, forever
            print(msg["name"], msg["text"])         # reconnects and replays with `since`

Every refusal or failure ack raises :class:`ChatError` with the server's
sentence.  It connects over WebSocket and falls back to long-polling only
when WebSocket does not get through, so it works with servers started with
``--websocket-only`` and behind proxies that drop WebSocket alike.
"""

import queue
import socket
import threading
import time
import urllib.parse
import uuid

import engineio
import socketio

# What the reader thread hands to the caller, in wire order.
_CONNECTED, _DISCONNECTED, _MESSAGE = "connect", "disconnect", "message"


class ChatError(Exception):
    """The server refused the connection or answered with a failure ack."""


class _OrderedEngineIO(engineio.Client):
    # engineio runs each incoming message's handler in a new thread, so two
    # chat messages can be handled out of order; here they run on the reader
    # thread, in wire order.  Our handlers only put items on a queue.
    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _OrderedClient(socketio.Client):
    def _engineio_client_class(self):
        return _OrderedEngineIO


def _unreachable(url, timeout):
    """Why nothing listens at ``url``'s host and port (in words), or None if something does."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    try:
        socket.create_connection((host, port), timeout=min(timeout, 5.0)).close()
    except socket.gaierror:
        return "no such host %r" % host
    except ConnectionRefusedError:
        return "connection refused (is the server running on port %d?)" % port
    except (socket.timeout, TimeoutError):
        return "no answer from %s:%d within %g s" % (host, port, min(timeout, 5.0))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _plain(exc):
    """python-socketio's connection errors, without library internals."""
    text = str(exc)
    if "Unexpected status code" in text:
        return "the server answered HTTP %s: is this a realtime server?" % text.split()[3]
    if text in ("Connection error", "Connection refused by the server") or not text:
        return "the server did not complete the Socket.IO handshake"
    return text.splitlines()[0][:200]


class ChatClient:
    """One connection to a realtime server as ``name``.

    ``token`` is needed when the server runs with a secret or a JWT key (a
    JWT names its holder: ``name`` may then be None, or must be the token's
    name); ``transports``
    is e.g. ``["websocket"]`` or ``["polling"]`` (default: WebSocket, then
    long-polling if WebSocket fails); ``timeout`` bounds the connect and each
    acknowledged call, in seconds.  ``reconnect=True`` keeps reconnecting after a drop
    (:meth:`messages` then rejoins with ``since``).
    """

    def __init__(self, url, name, token=None, transports=None, timeout=10.0, reconnect=False):
        self.url = url
        self.name = name
        self.token = token
        self.transports = transports
        self.timeout = timeout
        self.events = queue.Queue()
        self.joined = set()
        self._refusal = None
        self._lock = threading.Lock()
        self._top = 0
        self._stopped = False
        # handle_sigint=False: its handler cannot run under gevent; Ctrl-C is the
        # caller's KeyboardInterrupt.
        self.sio = _OrderedClient(reconnection=reconnect, reconnection_delay=0.5,
                                  handle_sigint=False, request_timeout=timeout,
                                  reconnection_delay_max=5)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("message", lambda msg: self.events.put((_MESSAGE, msg)))

    # -- connection ---------------------------------------------------------

    def _on_connect(self):
        self.events.put((_CONNECTED, None))

    def _on_disconnect(self, reason=None):
        self.joined.clear()
        self.events.put((_DISCONNECTED, reason))

    def _on_connect_error(self, data=None):
        # The server's refusal is an object with a message; a transport
        # failure comes as a plain string and is reported by connect().
        if isinstance(data, dict):
            self._refusal = data.get("message") or "connection refused"

    def connect(self):
        """Connect; raise :class:`ChatError` if refused or unreachable."""
        auth = {"name": self.name} if self.name is not None else {}
        if self.token:
            auth["token"] = self.token
        # WebSocket first: a --websocket-only server refuses polling, and a
        # WebSocket needs no upgrade dance; polling for when it cannot pass.
        attempts = [self.transports] if self.transports else [["websocket"], ["polling"]]
        error = None
        for transports in attempts:
            self._refusal = None
            try:
                self.sio.connect(self.url, auth=auth, transports=transports,
                                 wait_timeout=self.timeout)
                return self
            except socketio.exceptions.ConnectionError as exc:
                if self._refusal:
                    raise ChatError("connection refused: %s" % self._refusal) from None
                error = exc
                why = _unreachable(self.url, self.timeout)
                if why:
                    break           # no transport will do better
        raise ChatError("cannot connect to %s: %s" % (self.url, why or _plain(error))) from None

    def stop(self):
        """Make :meth:`messages` return soon; safe from a signal handler."""
        self._stopped = True
        self.events.put_nowait((_DISCONNECTED, "stopped"))

    def close(self):
        """Disconnect (no reconnect after this)."""
        try:
            self.sio.disconnect()
        except Exception:  # already closed
            pass

    def __enter__(self):
        if not self.sio.connected:
            self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests -------------------------------------------------------------

    def call(self, event, payload):
        """Send ``event`` with an ack; return the success ack or raise ChatError."""
        with self._lock:
            try:
                ack = self.sio.call(event, payload, timeout=self.timeout)
            except socketio.exceptions.TimeoutError:
                raise ChatError("no answer to %s within %g s" % (event, self.timeout)) from None
            except socketio.exceptions.BadNamespaceError:
                raise ChatError("not connected") from None
        if not isinstance(ack, dict) or not ack.get("ok"):
            error = ack.get("error") if isinstance(ack, dict) else None
            raise ChatError(error or "%s failed: %r" % (event, ack))
        return ack

    def join(self, room, since=None):
        """Join ``room``; return the ack (``members``, ``history``, ``more``)."""
        payload = {"room": room}
        if since is not None:
            payload["since"] = since
        ack = self.call("join", payload)
        self.joined.add(room)
        return ack

    def say(self, room, text, cid=None):
        """Post ``text`` to ``room`` (joining it first); return the stored message.

        ``cid`` makes a retry idempotent; a fresh one is made when omitted.
        """
        if room not in self.joined:
            self.join(room)
        ack = self.call("message", {"room": room, "text": text,
                                    "cid": cid or uuid.uuid4().hex})
        return ack["message"]

    def wait_message(self, predicate, timeout=None):
        """The next received message for which ``predicate(msg)`` is true.

        Consumes the events before it; raises :class:`ChatError` after
        ``timeout`` seconds (default: the client's timeout).
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            try:
                kind, data = self.events.get(timeout=max(left, 0.001))
            except queue.Empty:
                raise ChatError("no matching message within %g s"
                                % (self.timeout if timeout is None else timeout)) from None
            if kind == _MESSAGE and isinstance(data, dict) and predicate(data):
                return data

    # -- the stream -----------------------------------------------------------

    def messages(self, room, since=None, poll=0.5):
        """Yield ``room``'s messages in order, forever; reconnect-safe.

        With ``since``, every stored message with a larger id comes first;
        without it, only messages posted from now on.  After a reconnect the
        room is joined again with the highest id seen, so nothing is missed
        or repeated.  Stop by breaking out of the loop or calling :meth:`stop`.
        A refused first join raises :class:`ChatError`; a failed rejoin is
        retried.
        """
        last = since
        first = True
        while not self._stopped:
            if room not in self.joined and self.sio.connected:
                try:
                    for msg in self._catch_up(room, last):
                        if last is None or msg["id"] > last:
                            last = msg["id"]
                            yield msg
                except ChatError:
                    if first:
                        raise
                    self.joined.discard(room)
                    self.sio.sleep(poll)
                    continue
                if last is None:
                    last = self._top
                first = False
            try:
                kind, data = self.events.get(timeout=poll)
            except queue.Empty:
                continue
            if kind == _MESSAGE and isinstance(data, dict) and data.get("room") == room:
                if last is not None and isinstance(data.get("id"), int) and data["id"] > last:
                    last = data["id"]
                    yield data

    def _catch_up(self, room, since):
        """Join (with ``since``, paging while ``more``); yield the replayed messages.

        Without ``since`` nothing is replayed; ``self._top`` is where the
        room's history ends, so a reconnect replays from there.
        """
        ack = self.join(room, since)
        if since is None:
            history = ack.get("history") or []
            self._top = history[-1]["id"] if history else 0
            return
        while True:
            history = ack.get("history") or []
            yield from history
            if not ack.get("more") or not history:
                return
            ack = self.join(room, history[-1]["id"])
