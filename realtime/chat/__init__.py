"""The chat on Socket.IO: the ``/`` namespace (:mod:`.namespace`), the
``/clock`` namespace (:mod:`.clock`) and per-process presence
(:mod:`.presence`).  Payload rules live in :mod:`realtime.rules` (pure)."""
