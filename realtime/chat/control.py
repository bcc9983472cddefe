"""The control channel of one process: moderation commands run here.

:class:`realtime.scaleout.control.RedisControl` has the same methods and runs
each command on every process sharing a Redis::

    control = LocalControl()
    control.handler = lambda command: 0     # fn(command) -> connections touched
    control.request({"op": "disconnect", "name": "eve"})
"""


class LocalControl:
    """One process, no Redis: a request runs the command here."""

    kind = "local"

    def __init__(self):
        self.handler = None         # fn(command) -> int
        self.on_subscribe = None    # never called: nothing can be missed

    def request(self, command, wait=None):
        """Run ``command``; return the handler's count."""
        return self.handler(command)

    def close(self):
        pass
