"""A faster JSON codec for python-socketio, accepting and producing the same values.

orjson does the common case; whatever it refuses or reads differently (lone
surrogate escapes such as ``"\\ud800"``, ``NaN``, integers beyond 64 bits,
non-string keys, ...) goes to python-engineio's stdlib-based codec, so every
input is decoded (or refused) exactly as before and a bad payload still ends
in a failure ack.  One difference, on output only: a non-finite float
encodes as ``null`` (the stdlib wrote ``NaN``, which is not JSON and which
browsers refuse); the chat never sends floats::

    socketio.Server(json=jsoncodec, ...)
"""

import re

from engineio import json as _std

try:
    import orjson
except ImportError:  # optional: the stdlib codec alone behaves the same, slower
    orjson = None

# orjson reads integers beyond 64 bits as floats where the stdlib keeps ints:
# any run of 19+ digits (-2**63 - 1 has 19) takes the stdlib path.
_LONG_DIGITS = re.compile(r"[0-9]{19}")
_LONG_DIGITS_BYTES = re.compile(rb"[0-9]{19}")


def dumps(obj, **kwargs):
    """JSON text of ``obj`` (compact, like ``separators=(",", ":")``)."""
    if orjson is not None:
        try:
            return orjson.dumps(obj).decode("utf-8")
        except TypeError:          # orjson.JSONEncodeError is a TypeError
            pass
    return _std.dumps(obj, **kwargs)


def _has_float(value, _float=float, _list=list, _dict=dict):
    kind = value.__class__
    if kind is _float:
        return True
    items = value if kind is _list else value.values() if kind is _dict else ()
    for item in items:
        kind = item.__class__
        if (kind is _float or kind is _list or kind is _dict) and _has_float(item):
            return True
    return False


def loads(text, **kwargs):
    """The value of JSON ``text`` (str or bytes, e.g. from Redis pub/sub);
    raises ValueError like the stdlib codec."""
    if orjson is not None and not kwargs:
        try:
            value = orjson.loads(text)
        except (ValueError, TypeError):  # orjson.JSONDecodeError is a ValueError
            pass
        else:
            # A long integer would have come out as a float: without floats
            # (the usual chat payload) there is no text to scan for one.
            try:
                if not _has_float(value):
                    return value
            except RecursionError:
                pass
            long_digits = _LONG_DIGITS if isinstance(text, str) else _LONG_DIGITS_BYTES
            if long_digits.search(text) is None:
                return value
    return _std.loads(text, **kwargs)
