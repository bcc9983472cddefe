"""The HTTP API under ``/api/`` (PROTOCOL.md, "HTTP API"), for bots and webhooks.

On with ``--api-key`` / ``REALTIME_API_KEY``; the app builds it
(``app.api``, a WSGI app) and :mod:`realtime.web` serves it.  Layers:
:mod:`.routes` (keys, rate, paths, bodies), :mod:`.handlers` (each call, on
the chat's archive, presence and broadcast), :mod:`.openapi` (the
description at ``/api/openapi.json``), :mod:`.keys`.
"""

from .routes import Api, is_api_path

__all__ = ["Api", "is_api_path"]
