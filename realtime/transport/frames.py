"""WebSocket frames (RFC 6455): opcodes, building an unmasked frame, unmasking.

::

    frame(b"42[...]")             # one final text frame, as bytes
    unmask(payload, mask)         # a client's payload, unmasked
"""

import struct

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(payload, opcode=TEXT):
    """One unmasked, final WebSocket frame (bytes) carrying ``payload`` (bytes)."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n <= 0xFFFF:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def unmask(payload, mask):
    """XOR ``payload`` with the 4-byte ``mask``, in C speed (one big-integer XOR)."""
    n = len(payload)
    if not n:
        return b""
    key = (mask * ((n >> 2) + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        n, "little")
