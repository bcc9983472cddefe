"""The OpenAPI 3 description of the HTTP API, served at ``/api/openapi.json``.

    describe(max_text=2000, rate="100 requests per 10 s per API key", base="/")

Schemas follow :mod:`realtime.rules` exactly (patterns, lengths, ranges),
so that a property-based tester (schemathesis) can tell a valid request
from an invalid one the way the server does.
"""

from .. import __version__, rules

ROOM_PATTERN = r"^[A-Za-z0-9._-]{1,%d}$" % rules.MAX_ROOM
# White space as Python's str.strip() sees it, spelled out: "\s" differs
# between regex dialects (and schemathesis reads it as ASCII only).
_WS = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CC = r"\x00-\x1f\x7f-\x9f"          # control characters (Unicode Cc)
# A name: 1 to 32 characters once trimmed, no control characters inside.
NAME_PATTERN = r"^[%s]*[^%s%s](?:[^%s]{0,%d}[^%s%s])?[%s]*$" % (
    _WS, _WS, _CC, _CC, rules.MAX_NAME - 2, _WS, _CC, _WS)
TEXT_PATTERN = r"[^%s]" % _WS           # at least one character that is not white space

ERRORS = {
    400: "bad input: a path parameter, the query or the body breaks a rule",
    401: "no API key, or a wrong one",
    404: "unknown room or message (or no such path)",
    409: "state conflict: the message is deleted, the cid was used in another room, "
         "or the name is muted in the room",
    429: "rate limited",
    503: "the message store is unavailable; try again",
}


def _ref(name):
    return {"$ref": "#/components/schemas/%s" % name}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _id(minimum=1):
    return {"type": "integer", "minimum": minimum, "maximum": rules.MAX_ID}


def _schemas(max_text):
    name = {"type": "string", "pattern": NAME_PATTERN}
    return {
        "Error": {"type": "object", "required": ["error"], "additionalProperties": False,
                  "properties": {"error": {"type": "string", "minLength": 1}}},
        "Message": {
            "type": "object", "required": ["id", "room", "name", "text", "ts"],
            "properties": {
                "id": _id(), "room": {"type": "string", "pattern": ROOM_PATTERN},
                "name": {"type": "string", "minLength": 1, "maxLength": rules.MAX_NAME},
                "text": {"type": "string", "maxLength": max_text},
                "ts": {"type": "integer", "minimum": 0},
                "reply_to": _id(), "edited": {"type": "integer", "minimum": 0},
                "deleted": {"type": "boolean", "enum": [True]},
                "reactions": {"type": "object", "additionalProperties": {
                    "type": "array", "minItems": 1, "items": {"type": "string"}}},
            }},
        "MessageAnswer": {"type": "object", "required": ["message"],
                          "additionalProperties": False,
                          "properties": {"message": _ref("Message")}},
        "NewMessage": {
            "type": "object", "required": ["name", "text"],
            "properties": {
                "name": dict(name, description="the author shown to the room; 1 to 32 "
                                               "characters after trimming, no control "
                                               "characters"),
                "text": {"type": "string", "minLength": 1, "maxLength": max_text,
                         "pattern": TEXT_PATTERN,
                         "description": "1 to %d characters, not only white space; stored "
                                        "as given" % max_text},
                "cid": {"type": "string", "minLength": 1, "maxLength": rules.MAX_CID,
                        "nullable": True,
                        "description": "client id: the same name and cid again answers "
                                       "200 with the stored message"},
                "reply_to": dict(_id(), nullable=True,
                                 description="id of a live message of the same room"),
            }},
    }


def _errors(*codes):
    return {str(code): _json(_ref("Error"), ERRORS[code]) for code in codes}


def _param(name, where, schema, description, required=None):
    return {"name": name, "in": where, "required": where == "path" if required is None
            else required, "schema": schema, "description": description}


ROOM = _param("room", "path", {"type": "string", "pattern": ROOM_PATTERN},
              "room name: 1 to 64 of ASCII letters, digits, '-', '_', '.'")


def _paths():
    listing = {"type": "object", "required": ["messages", "more"],
               "additionalProperties": False,
               "properties": {"messages": {"type": "array", "items": _ref("Message")},
                              "more": {"type": "boolean"}}}
    rooms = {"type": "object", "required": ["rooms"], "additionalProperties": False,
             "properties": {"rooms": {"type": "array", "items": {
                 "type": "object", "required": ["room", "members"],
                 "additionalProperties": False,
                 "properties": {"room": {"type": "string", "pattern": ROOM_PATTERN},
                                "members": {"type": "integer", "minimum": 1}}}}}}
    members = {"type": "object", "required": ["room", "members"],
               "additionalProperties": False,
               "properties": {"room": {"type": "string", "pattern": ROOM_PATTERN},
                              "members": {"type": "array", "items": {"type": "string"}}}}
    gone = {"type": "object", "required": ["name", "connections"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string"},
                           "connections": {"type": "integer", "minimum": 0}}}
    return {
        "/api/rooms/{room}/messages": {
            "parameters": [ROOM],
            "post": {
                "operationId": "postMessage",
                "summary": "Post a message to a room as NAME (no membership needed)",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("NewMessage")}}},
                "responses": dict({
                    "201": _json(_ref("MessageAnswer"), "stored, then broadcast"),
                    "200": _json(_ref("MessageAnswer"), "a resend of the same name and cid: "
                                                        "the stored message, not broadcast"),
                }, **_errors(400, 401, 404, 409, 429, 503))},
            "get": {
                "operationId": "listMessages",
                "summary": "Messages of a room, oldest first, in their current state",
                "parameters": [
                    _param("before", "query", _id(), "only messages with a lower id "
                           "(the newest of them)"),
                    _param("since", "query", _id(0), "only messages with a higher id "
                           "(the oldest of them; with before, those in between)"),
                    _param("limit", "query", {"type": "integer", "minimum": 1,
                                              "maximum": rules.HISTORY_MAX,
                                              "default": rules.HISTORY_DEFAULT},
                           "at most this many"),
                ],
                "responses": dict({"200": _json(listing, "more: older (before, or no "
                                                "cursor) or newer (since) ones were left out")},
                                  **_errors(400, 401, 404, 429, 503))},
        },
        "/api/rooms/{room}/messages/{id}": {
            "parameters": [ROOM, _param("id", "path", _id(), "message id")],
            "delete": {
                "operationId": "deleteMessage",
                "summary": "Delete a message as a moderator; the update has by: null",
                "responses": dict({"200": _json(_ref("MessageAnswer"), "the deleted state "
                                                "(also when it was already deleted)")},
                                  **_errors(400, 401, 404, 429, 503))},
        },
        "/api/rooms": {
            "get": {
                "operationId": "listRooms",
                "summary": "Rooms with at least one member, as the rooms event",
                "responses": dict({"200": _json(rooms, "rooms and how many people")},
                                  **_errors(401, 429))},
        },
        "/api/rooms/{room}/members": {
            "parameters": [ROOM],
            "get": {
                "operationId": "listMembers",
                "summary": "Who is in a room, deployment-wide, names sorted",
                "responses": dict({"200": _json(members, "the members")},
                                  **_errors(400, 401, 404, 429))},
        },
        "/api/users/{name}/disconnect": {
            "parameters": [_param("name", "path", {"type": "string", "pattern": NAME_PATTERN},
                                  "the person's name")],
            "post": {
                "operationId": "disconnectUser",
                "summary": "Disconnect every connection of NAME, deployment-wide",
                "responses": dict({"200": _json(gone, "how many connections were closed")},
                                  **_errors(400, 401, 404, 429))},
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "describeApi",
                "summary": "This description (no key needed)",
                "security": [],
                "responses": {"200": _json({"type": "object", "required": ["openapi", "paths"]},
                                           "the OpenAPI 3 description")}},
        },
    }


def describe(max_text, rate, base="/", max_body=64 * 1024):
    """The whole OpenAPI 3.0 document, as a dict."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "realtime HTTP API", "version": __version__,
            "description": ("Post to rooms, read and delete messages, see who is in a room "
                            "and disconnect a person, from any language.  Every call but "
                            "this description needs 'Authorization: Bearer <key>' (a key "
                            "of --api-key).  Errors are {\"error\": \"<one sentence>\"}.  "
                            "Rate: %s.  Bodies: JSON, at most %d bytes." % (rate, max_body)),
        },
        "servers": [{"url": base}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(max_text),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a key of --api-key"}},
        },
    }
