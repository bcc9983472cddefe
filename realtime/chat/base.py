"""A Socket.IO namespace base that keeps clients away from lifecycle handlers.

python-socketio routes a client *event* named ``connect`` or ``disconnect``
to the same handlers as the real connect and disconnect.  A connected client
could then re-run authentication or drop its own state while its socket stays
open.  Real lifecycle calls arrive while the manager still counts the client
as connecting or disconnecting, so a call from a fully connected client is an
event and gets a failure ack instead.
"""

import socketio


class Namespace(socketio.Namespace):
    def trigger_event(self, event, *args):
        if event in ("connect", "disconnect") and args and \
                self.server.manager.is_connected(args[0], self.namespace):
            return {"ok": False, "error": "unknown event %r." % event}
        return self.handle_event(event, *args)

    def handle_event(self, event, *args):
        """Dispatch a real lifecycle call or a client event (override to wrap)."""
        return super().trigger_event(event, *args)
