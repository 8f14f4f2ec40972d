"""What happened to one recipient in one delivery attempt, in Sendmail's words.

:class:`Outcome` carries the result (sent, deferred, failed), the DSN status
code, the status text Sendmail shows in ``mailq`` and the log
(``Sent (...)``, ``Deferred: Connection refused by [127.0.0.1]``, ``User
unknown``), and what a DSN needs (diagnostic, remote MTA).  The ``sysexits.h``
numbers and Sendmail's texts for them (``SysExMsg``) live here too, with
:func:`smtp_to_dsn` (Sendmail's ``smtptodsn``) and :func:`errno_text`
(Sendmail's ``sm_errstring`` for connection errors).
"""

from __future__ import annotations

import enum
import errno as errno_mod
import os
from dataclasses import dataclass

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_NOUSER = 67
EX_NOHOST = 68
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_OSERR = 71
EX_OSFILE = 72
EX_CANTCREAT = 73
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_PROTOCOL = 76
EX_NOPERM = 77
EX_CONFIG = 78

# Sendmail's SysExMsg: (SMTP code, DSN status, text) per exit status.
SYSEXITS: dict[int, tuple[str, str, str]] = {
    EX_USAGE: ("500", "5.0.0", "Bad usage"),
    EX_DATAERR: ("501", "5.6.0", "Data format error"),
    EX_NOINPUT: ("550", "5.3.0", "Cannot open input"),
    EX_NOUSER: ("550", "5.1.1", "User unknown"),
    EX_NOHOST: ("550", "5.1.2", "Host unknown"),
    EX_UNAVAILABLE: ("554", "5.0.0", "Service unavailable"),
    EX_SOFTWARE: ("554", "5.3.0", "Internal error"),
    EX_OSERR: ("451", "4.0.0", "Operating system error"),
    EX_OSFILE: ("554", "5.3.5", "System file missing"),
    EX_CANTCREAT: ("550", "5.0.0", "Can't create output"),
    EX_IOERR: ("451", "4.0.0", "I/O error"),
    EX_TEMPFAIL: ("250", "4.0.0", "Deferred"),
    EX_PROTOCOL: ("554", "5.5.0", "Remote protocol error"),
    EX_NOPERM: ("550", "5.0.0", "Insufficient permission"),
    EX_CONFIG: ("554", "5.3.5", "Local configuration error"),
}


class Result(enum.Enum):
    """The three ends of an attempt."""

    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """One recipient's result.

    ``message`` is Sendmail's status text (the qf ``M`` line, mailq's
    ``(...)``, the log's ``stat=``).  ``diagnostic`` is what the DSN's
    ``Diagnostic-Code`` and the bounce's ``(reason: ...)`` show (an SMTP reply
    line, or a text for ``X-Unix``); ``remote_mta`` the host that answered;
    ``relay`` the log's ``relay=`` field.  ``relayed`` marks a success handed
    to an SMTP server that does not speak DSN (NOTIFY=SUCCESS gets a
    ``relayed`` report from us).  ``details`` is extra transcript text (a
    program's captured output).
    """

    result: Result
    status: str
    message: str
    diagnostic: str | None = None
    diagnostic_type: str = "smtp"
    remote_mta: str | None = None
    relay: str | None = None
    mailer: str = "local"
    exit_status: int = EX_OK
    relayed: bool = False
    details: str | None = None

    @property
    def done(self) -> bool:
        """True when the recipient leaves the queue (sent or failed)."""
        return self.result is not Result.DEFERRED


def sent(message: str = "Sent", *, status: str = "2.0.0", **kw: object) -> Outcome:
    """A success."""
    return Outcome(Result.SENT, status, message, **kw)  # type: ignore[arg-type]


def deferred(message: str, *, status: str = "4.0.0", **kw: object) -> Outcome:
    """A temporary failure; ``message`` should start with ``Deferred``."""
    return Outcome(Result.DEFERRED, status, message, exit_status=EX_TEMPFAIL, **kw)  # type: ignore[arg-type]


def failed(message: str, *, status: str = "5.0.0", **kw: object) -> Outcome:
    """A permanent failure."""
    return Outcome(Result.FAILED, status, message, **kw)  # type: ignore[arg-type]


def smtp_to_dsn(code: int) -> str:
    """Sendmail's ``smtptodsn``: an SMTP reply code to a DSN status."""
    table = {
        450: "4.2.0",
        451: "4.3.0",
        452: "4.3.1",
        500: "5.5.2",
        501: "5.5.4",
        502: "5.5.1",
        503: "5.5.1",
        504: "5.5.4",
        550: "5.2.0",
        551: "5.1.6",
        552: "5.2.2",
        553: "5.1.0",
        554: "5.0.0",
    }
    if code < 0:
        return "4.4.2"
    if code in table:
        return table[code]
    return {2: "2.0.0", 4: "4.0.0"}.get(code // 100, "5.0.0")


def errno_text(err: int, host: str | None, phase: str | None = None) -> str:
    """Sendmail's ``sm_errstring`` for the errors of a connection to ``host``."""
    if err == errno_mod.ECONNREFUSED and host:
        return f"Connection refused by {host}"
    if err == errno_mod.ETIMEDOUT and host:
        return f"Connection timed out with {host}"
    if err == errno_mod.ECONNRESET and host:
        return f"Connection reset by {host}" + (f" during {phase}" if phase else "")
    if err == errno_mod.EHOSTDOWN and host:
        return f"Host {host} is down"
    if err in (errno_mod.ENETUNREACH, errno_mod.EHOSTUNREACH) and host:
        return f"{os.strerror(err)} ({host})"
    return os.strerror(err)
