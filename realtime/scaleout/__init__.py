"""Scale-out over Redis: deployment-wide presence (:mod:`.presence`) and
broadcasts between processes (:mod:`.pubsub`).  The Redis message store is
:mod:`realtime.store.redis`."""
