"""Splitting a byte stream into protocol lines, with a limit on a line's length.

Used by the SSH transport, whose channel delivers bytes in arbitrary pieces:
``feed(data)`` adds bytes, ``pop()`` returns the next complete line (with its ``\\n``)
or None.  A line longer than ``limit`` raises ``TransportError``: the peer is not
speaking the protocol, and buffering more would let it exhaust memory.
"""

from __future__ import annotations

from postroom.core.control.client import TransportError


class LineBuffer:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data = bytearray()
        self._scanned = 0

    def feed(self, data: bytes) -> None:
        self._data += data

    def pop(self) -> bytes | None:
        end = self._data.find(b"\n", self._scanned)
        if end < 0:
            self._scanned = len(self._data)
            if self._scanned > self.limit:
                raise TransportError(f"protocol error: a line longer than {self.limit} bytes")
            return None
        line = bytes(self._data[: end + 1])
        del self._data[: end + 1]
        self._scanned = 0
        if len(line) > self.limit + 1:
            raise TransportError(f"protocol error: a line longer than {self.limit} bytes")
        return line

    @property
    def pending(self) -> int:
        """Bytes held that do not yet form a complete line."""
        return len(self._data)
