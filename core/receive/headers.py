"""Splitting a message's header section from its body, line by line.

Sendmail keeps headers in the qf (``H`` lines) and only the body in the df.
``HeaderSplitter`` takes lines without terminators and says whether each one
belonged to the header section; the first empty line ends it (and is not part
of the body), as does the first line that is not a header.
"""

from __future__ import annotations

import re

MAX_HEADER_BYTES = 64 * 1024
_HEADER_NAME = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class HeaderSplitter:
    """Collects ``(name, value)`` pairs; folded lines stay in the value after ``\\n``."""

    def __init__(self, limit: int = MAX_HEADER_BYTES) -> None:
        self.headers: list[tuple[str, str]] = []
        self.in_headers = True
        self.too_large = False
        self._limit = limit
        self._size = 0

    def feed(self, raw: bytes) -> bool:
        """True when ``raw`` was consumed by the header section."""
        if not self.in_headers:
            return False
        if raw == b"":
            self.in_headers = False
            return True
        if raw[:1] in (b" ", b"\t") and self.headers:
            name, value = self.headers[-1]
            self.headers[-1] = (name, value + "\n" + _text(raw))
        elif _HEADER_NAME.match(raw):
            name_b, _, value_b = raw.partition(b":")
            self.headers.append((_text(name_b), _text(value_b).lstrip(" \t")))
        else:
            self.in_headers = False
            return False
        self._size += len(raw) + 1
        if self._size > self._limit:
            self.too_large = True
        return True
