"""The transport: Engine.IO and WebSocket handling under gevent's pywsgi.

- :mod:`.handler`: the pywsgi handler (WebSocket upgrade, header timeout,
  origin check, frame caps);
- :mod:`.guard`: the ``socketio.Server`` and ``engineio.Server`` subclasses
  that check every packet (rates, caps, malformed input, slow readers);
- :mod:`.address`: the client address behind trusted proxies (pure parsing);
- :mod:`.limits`: per-address flood limits (pure bookkeeping);
- :mod:`.websocket_only`: the 400 a polling client gets from ``--websocket-only``;
- :mod:`.engine`: adjustments to python-engineio's long-polling;
- :mod:`.deferred`: acks sent later, in order;
- :mod:`.connections`: the TCP side of a graceful stop.
"""
