"""Two python-engineio limits that break long-polling clients, adjusted.

- A polling POST with more than 16 packets is dropped silently
  (``Payload.max_decode_packets``); the packet-size limit already bounds a
  POST, so the server accepts bursts.
- A polling GET answers with every queued packet at once, but
  python-engineio *clients* refuse a payload of more than 16 packets and
  disconnect; so each answer carries at most 16 and the rest follow on the
  next GET.  (The WebSocket writer drains the same queue uncapped.)

:func:`apply` is idempotent; :func:`realtime.create_app` calls it.
"""

import engineio.exceptions
import engineio.payload
import engineio.socket

MAX_DECODE_PACKETS = 512
MAX_POLL_PACKETS = 16


def _bounded_poll(self):
    """Wait for packets to send over polling; at most MAX_POLL_PACKETS."""
    empty = self.server.get_queue_empty_exception()
    try:
        first = self.queue.get(timeout=self.server.ping_interval + self.server.ping_timeout)
        self.queue.task_done()
    except empty:
        raise engineio.exceptions.QueueEmpty()
    if first is None:
        return []
    packets = [first]
    # The cap is for polling answers; a WebSocket writer sends frame by frame.
    limit = float("inf") if self.upgraded else MAX_POLL_PACKETS
    while len(packets) < limit:
        try:
            pkt = self.queue.get(block=False)
        except empty:
            break
        self.queue.task_done()
        if pkt is None:          # a close marker: leave it for the next poll
            self.queue.put(None)
            break
        packets.append(pkt)
    return packets


def apply():
    engineio.payload.Payload.max_decode_packets = max(
        engineio.payload.Payload.max_decode_packets, MAX_DECODE_PACKETS)
    engineio.socket.Socket.poll = _bounded_poll
