"""The transport: Engine.IO and WebSocket handling under gevent's pywsgi.

- :mod:`.handler`: the pywsgi handler (WebSocket upgrade, header timeout,
  origin check);
- :mod:`.websocket`: the WebSocket connection (non-blocking writer), its
  reading half :mod:`.wsreader` (frame caps, fast reader) and :mod:`.frames`
  (building and unmasking frames);
- :mod:`.guard`: the ``socketio.Server`` subclass that checks every packet
  (rates, caps, malformed input) and sends straight to the sessions;
- :mod:`.engine`, :mod:`.session`, :mod:`.heartbeat`: the ``engineio.Server``
  and ``Socket`` subclasses (the fast path, polling fixes, one heartbeat);
- :mod:`.address`: the client address behind trusted proxies (pure parsing);
- :mod:`.limits`: per-address flood limits (pure bookkeeping);
- :mod:`.websocket_only`: the 400 a polling client gets from ``--websocket-only``;
- :mod:`.deferred`: acks sent later, in order;
- :mod:`.connections`: the TCP side of a graceful stop.

Every adjusted library class is a subclass handed in where the library
builds the object; python-engineio and python-socketio keep their stock
classes for anyone else in the process.

The path of one broadcast, from ``emit`` to ``send()``::

    ChatNamespace.emit("message", msg, room="lobby")
      socketio Manager.emit                      python-socketio, unchanged:
        packet_class(EVENT, ...).encode()        Socket.IO packet, encoded once
        eio_packet.Packet(MESSAGE, encoded)      one Engine.IO packet, shared
        for each member of the room:
          GuardedServer._send_eio_packet(eio_sid, pkt)      guard.py
            Session.send(pkt)                               session.py
              frame_of(pkt)        Engine.IO + WebSocket frame bytes, built on
                                   the first recipient, cached on the packet
              FastWebSocket.write(frame)                    websocket.py
                nothing queued:  socket.send(frame)   non-blocking, right here
                                 in the emitting greenlet; the rest of a
                                 partial send is queued first.  Later writes
                                 in the same hub turn, and every write inside
                                 corked() (a slice of a store batch's
                                 broadcasts and acks), are joined into one
                                 send() per connection at its end
                queued already:  append (over --max-queue: drop the client)
                                 a hub watcher drains the queue once the
                                 socket is writable

Long-polling sessions keep python-engineio's queue: ``Session.send`` puts the
packet there and the client's next GET takes it.
"""
