"""Command-line submission (``-bm``, ``-t``): a message on standard input into the queue.

Follows Sendmail: without ``-i`` a line holding only ``.`` ends the message;
``-t`` takes recipients from To/Cc/Bcc, deletes Bcc and ignores addresses on
the command line; ``-f`` sets the envelope sender (with an
X-Authentication-Warning when a non-root user sets someone else's address
and ``authwarnings`` is on). The message is durable before the command exits 0.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import getaddresses
from typing import BinaryIO

from ..config.model import Config
from ..policy.privacy import Privacy
from ..queue.store import QueueStore, QueueWriteError
from ..stats.recorder import LOCAL, StatsRecorder
from .commands import SyntaxReply, check_address
from .envelope import Origin, RecipientRequest, Transaction, build_queue_file
from .headers import HeaderSplitter
from .setup import local_user_checker

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOUSER = 67
EX_CANTCREAT = 73
EX_TEMPFAIL = 75


@dataclass(frozen=True)
class SubmitOptions:
    recipients: tuple[str, ...]
    sender: str | None = None
    full_name: str | None = None
    ignore_dots: bool = False
    from_headers: bool = False
    user: str = "root"


@dataclass(frozen=True)
class SubmitResult:
    status: int
    qid: str | None
    errors: tuple[str, ...] = ()


def _read_lines(stream: BinaryIO, ignore_dots: bool) -> list[bytes]:
    lines: list[bytes] = []
    for raw in stream:
        line = raw.rstrip(b"\n").removesuffix(b"\r")
        if not ignore_dots and line == b".":
            break
        lines.append(line)
    return lines


def _header_recipients(headers: list[tuple[str, str]]) -> list[str]:
    values = [v.replace("\n", " ") for n, v in headers if n.lower() in ("to", "cc", "bcc")]
    return [addr for _, addr in getaddresses(values) if addr]


def submit(
    config: Config,
    store: QueueStore,
    options: SubmitOptions,
    stream: BinaryIO | None = None,
    stats: StatsRecorder | None = None,
) -> SubmitResult:
    """Queue one message from ``stream`` (standard input by default)."""
    lines = _read_lines(stream or sys.stdin.buffer, options.ignore_dots)
    splitter = HeaderSplitter()
    body: list[bytes] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if not splitter.feed(line):
            body.append(line)
    if config.max_message_size and size > config.max_message_size:
        return SubmitResult(
            EX_DATAERR,
            None,
            (f"552 5.2.3 Message exceeds maximum fixed size ({config.max_message_size})",),
        )
    headers = splitter.headers
    if options.from_headers:
        wanted: Sequence[str] = _header_recipients(headers)
        headers[:] = [(n, v) for n, v in headers if n.lower() != "bcc"]
    else:
        wanted = options.recipients
    if not wanted:
        return SubmitResult(EX_USAGE, None, ("Recipient names must be specified",))
    known = local_user_checker(config)
    errors: list[str] = []
    accepted: list[RecipientRequest] = []
    for address in wanted:
        try:
            check_address(address, smtputf8=True)
        except SyntaxReply as exc:
            errors.append(f"{address}... {exc.reply[10:]}")
            continue
        local, at, domain = address.rpartition("@")
        is_local = not at or domain.lower() in config.local_domains
        if is_local and not known(local if at else address):
            errors.append(f"{address}... User unknown")
            continue
        accepted.append(RecipientRequest(address))
    if not accepted:
        return SubmitResult(EX_NOUSER, None, tuple(errors))
    sender = options.sender if options.sender is not None else options.user
    warnings: list[str] = []
    if (
        options.sender is not None
        and options.user != "root"
        and options.sender != options.user
        and config.privacy & Privacy.authwarnings
    ):
        warnings.append(
            f"{socket.gethostname()}: {options.user} set sender to {options.sender} using -f"
        )
    tx = Transaction(sender=sender, recipients=accepted)
    origin = Origin(
        protocol="",
        client=f"{options.user}@localhost",
        daemon_flags="c u",
        local_user=options.user,
        full_name=options.full_name,
    )
    try:
        writer = store.new_message()
        try:
            data = b"".join(line + b"\n" for line in body)
            writer.write(data)
            qf = build_queue_file(
                writer.qid,
                tx,
                origin,
                headers,
                size=size,
                has_8bit=any(not line.isascii() for line in lines),
                host_name=config.host_name,
                warnings=warnings,
            )
            writer.commit(qf)
        except BaseException:
            writer.abort()
            raise
    except (QueueWriteError, OSError) as exc:
        return SubmitResult(EX_CANTCREAT, None, (*errors, f"cannot queue message: {exc}"))
    if stats is not None:
        stats.received(LOCAL, size)
        stats.close()
    status = EX_NOUSER if errors else EX_OK
    return SubmitResult(status, writer.qid, tuple(errors))
