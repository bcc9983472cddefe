"""The HTTP API's WSGI side: keys, rate, paths, bodies, JSON answers.

:class:`Api` is a WSGI app for the paths under ``/api/``; the server's
HTTP app (:mod:`realtime.web`) hands them to it::

    api = Api(app)                 # app: realtime.app.App
    api(environ, start_response)   # PATH_INFO "/api/rooms", ...

Order of the checks, so an answer never tells more than the caller may
know: API off -> 404; ``/api/openapi.json`` (no key); key -> 401; rate
-> 429; path -> 404; method -> 405; body -> 400; then the handler
(:mod:`realtime.api.handlers`).
"""

import json
import logging
import re
import time
from urllib.parse import parse_qs

from ..rules import Invalid
from ..store import StoreError
from . import openapi
from .handlers import ApiError, Handlers
from .keys import Keys

log = logging.getLogger("realtime.api")

PREFIX = "/api"
MAX_BODY = 64 * 1024        # bytes; raised with --max-text (see body_limit)

#: (path pattern below /api, {method: handler name}); room and name may hold
#: any character here, the handlers apply the chat's rules to them.
ROUTES = (
    (re.compile(r"/rooms"), {"GET": "list_rooms"}),
    (re.compile(r"/rooms/(?P<room>.+)/messages"), {"GET": "list_messages",
                                                   "POST": "post_message"}),
    (re.compile(r"/rooms/(?P<room>.+)/messages/(?P<id>[^/]*)"), {"DELETE": "delete_message"}),
    (re.compile(r"/rooms/(?P<room>.+)/members"), {"GET": "list_members"}),
    (re.compile(r"/users/(?P<name>.+)/disconnect"), {"POST": "disconnect_user"}),
)
WITH_BODY = ("post_message",)
STATUS = {200: "200 OK", 201: "201 Created", 400: "400 Bad Request", 401: "401 Unauthorized",
          404: "404 Not Found", 405: "405 Method Not Allowed", 409: "409 Conflict",
          429: "429 Too Many Requests", 503: "503 Service Unavailable"}


def body_limit(max_text):
    """Bytes a request body may have: 64 KiB, or room for a text of ``max_text``
    characters written as JSON escapes (12 bytes each at worst)."""
    return max(MAX_BODY, 12 * max_text + 4096)


def is_api_path(path):
    return path == PREFIX or path.startswith(PREFIX + "/")


class Api:
    """The WSGI app of ``/api/...`` for one realtime :class:`~realtime.app.App`."""

    def __init__(self, app, disconnect=None):
        config = app.config
        self.keys = Keys(config.api_key, config.parse("api_rate"))
        self.handlers = Handlers(app, disconnect)
        self.max_body = body_limit(config.max_text)
        self.max_text = config.max_text
        self._described = {}

    @property
    def enabled(self):
        return self.keys.enabled

    def __call__(self, environ, start_response):
        try:
            status, body, headers = self._answer(environ)
        except ApiError as exc:
            status, body, headers = exc.status, {"error": exc.message}, exc.headers
        except Invalid as exc:
            status, body, headers = 400, {"error": _sentence(str(exc))}, ()
        except StoreError as exc:
            log.warning("API %s %s: %s", environ.get("REQUEST_METHOD"),
                        environ.get("PATH_INFO"), exc)
            status, body, headers = 503, {"error": "the message store is unavailable; "
                                                   "please try again."}, ()
        except Exception:
            log.exception("API %s %s failed", environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"))
            status, body, headers = 500, {"error": "internal server error; the request "
                                                   "was not processed."}, ()
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        start_response(STATUS.get(status, "500 Internal Server Error"),
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(data))),
                        ("Cache-Control", "no-store"),
                        ("X-Content-Type-Options", "nosniff"), *headers])
        return [data]

    def _answer(self, environ):
        if not self.keys.enabled:
            raise ApiError(404, "the HTTP API is off on this server (it needs --api-key).")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = _text_path(environ.get("PATH_INFO") or "/")[len(PREFIX):]
        if path == "/openapi.json":
            if method != "GET":
                raise ApiError(405, "use GET for /api/openapi.json.", [("Allow", "GET")])
            return 200, self.describe(environ), ()
        key = self.keys.match(environ.get("HTTP_AUTHORIZATION"))
        if key is None:
            why = ("a wrong API key." if environ.get("HTTP_AUTHORIZATION")
                   else "no API key: send 'Authorization: Bearer <key>'.")
            raise ApiError(401, "unauthorized: " + why, [("WWW-Authenticate", "Bearer")])
        if not self.keys.allow(key, time.monotonic()):
            seconds = self.keys.rate[1]
            raise ApiError(429, "rate limited: at most %s." % self.keys.describe_rate(),
                           [("Retry-After", str(max(1, int(round(seconds)))))])
        name, params = _route(path, method)
        if name in WITH_BODY:
            params["body"] = self._body(environ)
        if method == "GET":
            params["query"] = _query(environ.get("QUERY_STRING", ""))
        return getattr(self.handlers, name)(**params)

    def describe(self, environ):
        """The OpenAPI description, with the server URL this request came through."""
        base = environ.get("SCRIPT_NAME", "") or "/"
        if base not in self._described:
            self._described[base] = openapi.describe(self.max_text, self.keys.describe_rate(),
                                                     base, self.max_body)
        return self._described[base]

    def _body(self, environ):
        ctype = environ.get("CONTENT_TYPE", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise ApiError(400, "the body must be JSON, sent with "
                                "'Content-Type: application/json'.")
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            raise ApiError(400, "the Content-Length header is not a number.")
        if length > self.max_body:
            raise ApiError(400, "the body is too large (at most %d bytes)." % self.max_body)
        stream = environ["wsgi.input"]
        raw = stream.read(length) if length >= 0 else stream.read(self.max_body + 1)
        if len(raw) > self.max_body:
            raise ApiError(400, "the body is too large (at most %d bytes)." % self.max_body)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "the body is not valid JSON (UTF-8).")
        except RecursionError:
            raise ApiError(400, "the body's JSON is nested too deeply.")
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object.")
        return body


def _route(path, method):
    """(handler name, path parameters) for ``path`` below /api; 404 or 405 otherwise."""
    for pattern, methods in ROUTES:
        found = pattern.fullmatch(path)
        if found is None:
            continue
        if method not in methods:
            allowed = ", ".join(sorted(methods))
            raise ApiError(405, "use %s for this path." % " or ".join(sorted(methods)),
                           [("Allow", allowed)])
        return methods[method], dict(found.groupdict())
    raise ApiError(404, "there is no API path %s%s." % (PREFIX, path[:100]))


def _text_path(path):
    """PATH_INFO as text: WSGI gives the URL's bytes as latin-1; they are UTF-8."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise ApiError(400, "the path is not valid UTF-8.")


def _query(text):
    try:
        pairs = parse_qs(text, keep_blank_values=True, errors="strict")
    except (UnicodeError, ValueError):
        raise ApiError(400, "the query string is not valid UTF-8.")
    return {key: values[-1] for key, values in pairs.items()}


def _sentence(text):
    return text if text.endswith(".") else text + "."
