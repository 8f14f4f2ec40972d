"""The texts ``hoststat`` prints: error strings, sysexits messages, intervals.

- :func:`errstring` -- Sendmail's ``sm_errstring`` as ``hoststat`` sees it
  (no current host, no SMTP phase): its own texts for EPERM, the
  ``E_SM_*`` pseudo-errors (256...), resolver errors (``E_DNSBASE`` = 276 +
  h_errno, "Name server: ...") and libsmdb errors, else the C library's
  ``strerror`` (``Unknown error N`` for numbers it does not know).  The
  LDAP range (326 and up) is printed as ``Unknown error``, which is what
  OpenLDAP says for every number that is not one of its result codes.
- :func:`sysexits_text` -- the text after the SMTP code in ``sm_sysexmsg``
  (``5.1.2 Host unknown`` for 68), or None for an unknown status.
- :func:`pintvl` -- the brief interval form ``[D+]HH:MM:SS`` with C's
  truncating division (a future time shows e.g. ``00:00:-5``), and
  ``too long`` for exactly -1 (Sendmail's ``NOW`` marker).
- :func:`result_text` -- the Results column for one status, cut to ``width``.
"""

from __future__ import annotations

import os

EX_TEMPFAIL = 75
E_PSEUDOBASE = 256
E_DNSBASE = E_PSEUDOBASE + 20
E_SMDBBASE = E_PSEUDOBASE + 40
E_LDAP_LOW = E_PSEUDOBASE + 70

_PSEUDO = (
    "Timeout on file open",
    "Symbolic links not allowed",
    "Hard links not allowed",
    "Regular files only",
    "Executable files not allowed",
    "World writable directory",
    "Group writable directory",
    "File changed after open",
    "World writable file",
    "Group writable file",
    "Group readable file",
    "World readable file",
)
_DNS = {
    1: "Name server: host not found",
    2: "Name server: host name lookup failure",
    3: "Name server: non-recoverable error",
    4: "Name server: no data known",
}
_SMDB = {
    1: "Memory allocation failed",
    2: "GDBM is not supported",
    3: "Unsupported action",
    4: "Key already exists",
    5: "Database open failed",
    6: "Key not found",
    7: "Unknown database type",
    8: "Support for database type not compiled into this program",
    9: "DB sync did not finish",
    10: "Key is empty",
    11: "Key already exists",
    12: "Locker killed to resolve deadlock",
    13: "Lock unavailable",
    14: "Lock not held by locker",
    15: "Database panic, run recovery",
    16: "I/O error",
    17: "Database opened read-only",
    18: "Name too long",
    19: "Invalid parameter",
    20: "Only one cursor allowed",
    21: "Invalid cursor",
    23: "Berkeley DB file is an old version, recreate it",
    24: "Berkeley DB version mismatch between include file and library",
}
# sm_sysexmsg: the DSN code and text for each sysexits value (64..78).
_SYSEXITS = {
    64: "5.0.0 Command line usage error",
    65: "5.6.0 Data format error",
    66: "5.3.0 Cannot open input",
    67: "5.1.1 User unknown",
    68: "5.1.2 Host unknown",
    69: "5.0.0 Service unavailable",
    70: "5.3.0 Internal error",
    71: "4.0.0 Operating system error",
    72: "5.3.5 System file missing",
    73: "5.0.0 Can't create output",
    74: "4.0.0 I/O error",
    75: "4.0.0 Deferred",
    76: "5.5.0 Remote protocol error",
    77: "5.0.0 Insufficient permission",
    78: "5.3.5 Local configuration error",
}


def errstring(errnum: int) -> str:
    """``sm_errstring(errnum)`` with no current host (what hoststat prints)."""
    if E_PSEUDOBASE <= errnum < E_PSEUDOBASE + len(_PSEUDO):
        return _PSEUDO[errnum - E_PSEUDOBASE]
    if errnum - E_DNSBASE in _DNS:
        return _DNS[errnum - E_DNSBASE]
    if errnum - E_SMDBBASE in _SMDB:
        return _SMDB[errnum - E_SMDBBASE]
    if errnum >= E_LDAP_LOW:
        return "Unknown error"
    return os.strerror(errnum)


def sysexits_text(status: int) -> str | None:
    """``&sm_sysexmsg(status)[5]``: ``"5.1.2 Host unknown"``, or None."""
    return _SYSEXITS.get(status)


def pintvl(seconds: int) -> str:
    """Sendmail's ``pintvl(seconds, true)``."""
    if seconds == -1:
        return "too long"
    se, rest = _cdivmod(seconds, 60)
    mi, rest = _cdivmod(rest, 60)
    hr, days = _cdivmod(rest, 24)
    prefix = f"{days}+" if days > 0 else ""
    return f"{prefix}{hr:02d}:{mi:02d}:{se:02d}"


def _cdivmod(value: int, by: int) -> tuple[int, int]:
    """(remainder, quotient) with C's truncation toward zero."""
    quotient = abs(value) // by * (1 if value >= 0 else -1)
    return value - quotient * by, quotient


def result_text(errno: int, exit_status: int, reply: bytes | None, width: int) -> bytes:
    """The Results column: R, else Deferred/sysexits/OK text, cut to ``width`` bytes."""
    if reply is not None:
        return reply[:width]
    if exit_status == EX_TEMPFAIL and errno != 0:
        return b"Deferred: " + _b(errstring(errno))[: width - 10]
    if exit_status != 0:
        text = sysexits_text(exit_status)
        if text is None:
            text = f"Unknown mailer error {exit_status}"
        return _b(text)[:width]
    if errno == 0:
        return b"OK"
    return b"OK: " + _b(errstring(errno))[: width - 4]


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")
