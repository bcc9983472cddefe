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


def loads(text, **kwargs):
    """The value of JSON ``text`` (str or bytes, e.g. from Redis pub/sub);
    raises ValueError like the stdlib codec."""
    if orjson is not None and not kwargs:
        long_digits = _LONG_DIGITS if isinstance(text, str) else _LONG_DIGITS_BYTES
        try:
            if long_digits.search(text) is None:
                return orjson.loads(text)
        except (ValueError, TypeError):  # orjson.JSONDecodeError is a ValueError
            pass
    return _std.loads(text, **kwargs)
