"""Acks that are sent later, in order, without a greenlet per event.

A connection's events run one at a time on its own greenlet
(``async_handlers=False``), which keeps them in order.  A handler that must
wait for the disk would then hold up every later event of that connection.
Instead it returns a :class:`Later`; the server sends the ack when the
``Later`` is resolved, and the connection's next event is handled at once::

    def on_message(self, sid, data):
        later = Later()
        archive.submit(item, lambda result: later.resolve({"ok": True, ...}))
        return later
"""

import socketio
from socketio import packet


class Later:
    """A value to come; ``then(fn)`` callbacks run on ``resolve`` in order."""

    __slots__ = ("_callbacks", "_done", "_value")

    def __init__(self):
        self._callbacks = []
        self._done = False
        self._value = None

    def then(self, fn):
        if self._done:
            fn(self._value)
        else:
            self._callbacks.append(fn)

    def resolve(self, value):
        self._done, self._value = True, value
        callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            fn(value)


class Server(socketio.Server):
    """socketio.Server whose handlers may return a :class:`Later` as their ack."""

    def _handle_event_internal(self, server, sid, eio_sid, data, namespace, id):
        result = server._trigger_event(data[0], namespace, sid, *data[1:])
        if isinstance(result, Later):
            if id is not None:
                result.then(lambda value: self._ack(eio_sid, namespace, id, value))
            return
        if result is not self.not_handled and id is not None:
            self._ack(eio_sid, namespace, id, result)

    def _ack(self, eio_sid, namespace, id, value):
        data = [] if value is None else list(value) if isinstance(value, tuple) else [value]
        self._send_packet(eio_sid, self.packet_class(
            packet.ACK, namespace=namespace, id=id, data=data))
