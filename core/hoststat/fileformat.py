"""The host status file: Sendmail's ``mci_store_persistent`` / ``mci_read_persistent``.

:func:`format_status` writes the lines ``V0``, ``E<errno>``, ``H<h_errno>``,
``S<exit status>``, ``D<dsn>`` and ``R<reply>`` (each only if set, newlines
turned into spaces, cut at 80 bytes like ``%.80s``), ``U<last use>`` and
``.``, in that order.

:func:`parse_status` reads like Sendmail: ``fgets`` lines of at most 2047
bytes; the first byte picks the field (``atoi``/``atol`` for numbers, so
``E12abc`` is 12); ``.`` ends the file (whatever follows is never read); a
line starting with any other byte -- an empty line too -- makes the whole
file unusable ("Unknown host status line").  A file without ``.`` is usable
only if it had a ``V`` line; a ``V`` other than 0 is reported but the file is
still used.  :class:`ParsedStatus` also carries what Sendmail's global
``LineNumber`` holds afterwards, which ``hoststat`` shows in its error lines.
"""

from __future__ import annotations

from dataclasses import dataclass

MAXLINE = 2048
FIELD_MAX = 80
ENCODING = "utf-8"
ERRORS = "surrogateescape"


@dataclass(frozen=True)
class ParsedStatus:
    """The result of reading one status file (bytes as on disk)."""

    ok: bool
    errno: int = 0
    h_errno: int = 0
    exit_status: int = 0
    dsn: bytes | None = None
    reply: bytes | None = None
    last_use: int = 0
    line_number: int = 0
    """Sendmail's LineNumber after the read (restored on failure or EOF)."""
    bad_versions: tuple[tuple[int, int], ...] = ()
    """``(line, version)`` of each ``V`` line other than 0."""
    bad_line: bytes | None = None
    """The unknown line that made the file unusable, if that was the reason."""

    @property
    def reason(self) -> str:
        """Why the file is unusable (empty for a usable file)."""
        if self.ok:
            return ""
        if self.bad_line is not None:
            text = self.bad_line.decode(ENCODING, ERRORS)
            return f'Unknown host status line "{text}"'
        return "no version line and no end marker"


def format_status(
    errno: int,
    h_errno: int,
    exit_status: int,
    dsn: str | None,
    reply: str | None,
    last_use: int,
) -> bytes:
    """The file's bytes, as ``mci_store_persistent`` writes them."""
    out = [b"V0\n", b"E%d\n" % errno, b"H%d\n" % h_errno, b"S%d\n" % exit_status]
    if dsn is not None:
        out.append(b"D" + field_bytes(dsn) + b"\n")
    if reply is not None:
        out.append(b"R" + field_bytes(reply) + b"\n")
    out.append(b"U%d\n.\n" % last_use)
    return b"".join(out)


def field_bytes(text: str) -> bytes:
    """``%.80s`` of ``denlstring(text)``: NUL ends it, newlines become spaces."""
    raw = text.encode(ENCODING, ERRORS).split(b"\0", 1)[0]
    return raw.replace(b"\n", b" ")[:FIELD_MAX]


def parse_status(data: bytes, line_number: int = 0) -> ParsedStatus:
    """Read a status file's bytes; ``line_number`` is Sendmail's LineNumber before."""
    values = {"E": 0, "H": 0, "S": 0, "U": 0}
    texts: dict[str, bytes] = {}
    bad_versions: list[tuple[int, int]] = []
    version = -1
    count = 0
    ended = False
    bad_line = None
    for raw in fgets_lines(data):
        count += 1
        line = raw.removesuffix(b"\n").split(b"\0", 1)[0]
        code, rest = line[:1].decode("latin-1"), line[1:]
        if code == "V":
            version = c_atoi(rest)
            if version != 0:
                bad_versions.append((count, version))
        elif code in "EHS" and code:
            values[code] = c_atoi(rest)
        elif code == "U":
            values[code] = c_atol(rest)
        elif code in "DR" and code:
            texts[code] = rest
        elif code == ".":
            ended = True
            break
        else:
            bad_line = line
            break
    return ParsedStatus(
        ended or (bad_line is None and version >= 0),
        errno=values["E"],
        h_errno=values["H"],
        exit_status=values["S"],
        dsn=texts.get("D"),
        reply=texts.get("R"),
        last_use=values["U"],
        line_number=count if ended else line_number,
        bad_versions=tuple(bad_versions),
        bad_line=bad_line,
    )


def fgets_lines(data: bytes) -> list[bytes]:
    """Split like repeated ``fgets(buf, 2048)``: a long line continues as a new one."""
    lines = []
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos, pos + MAXLINE - 1)
        stop = nl + 1 if nl >= 0 else min(len(data), pos + MAXLINE - 1)
        lines.append(data[pos:stop])
        pos = stop
    return lines


def c_atol(raw: bytes) -> int:
    """glibc ``atol``: ``strtol`` base 10, clamped to the 64-bit range."""
    text = raw.lstrip(b" \t\n\v\f\r")
    sign = 1
    if text[:1] in (b"+", b"-"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = len(text) - len(text.lstrip(b"0123456789"))
    value = sign * int(text[:digits]) if digits else 0
    return max(-(2**63), min(2**63 - 1, value))


def c_atoi(raw: bytes) -> int:
    """glibc ``atoi``: ``(int) strtol(...)``, i.e. the low 32 bits, signed."""
    value = c_atol(raw) & 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value
