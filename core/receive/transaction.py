"""MAIL, RCPT and DATA: building a transaction and committing it durably.

Nothing is acknowledged before it is on disk: DATA goes into a buffered
queue writer (memory, or its ``df`` once it is large), and ``250`` is sent
only after the group committer has written and synced the ``df`` and the
``qf`` and fsynced the queue directory.  While the committer owns the writer
the session marks itself ``committing``, so a shutdown never removes files
the committer is still writing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..aliases import AccessKind
from ..policy.privacy import Privacy
from ..policy.relay import RcptVerdict
from ..queue.store import QueueFullError, QueueTooBigError, QueueWriteError
from ..stats.recorder import ESMTP, LOCAL
from .commands import (
    MAX_ENVID,
    Command,
    SyntaxReply,
    decode_xtext,
    parse_notify,
    parse_orcpt,
    parse_path,
)
from .data import DataReader
from .envelope import Origin, RecipientRequest, Transaction, build_queue_file
from .errors import MAX_BAD_RECIPIENTS, CloseSession

if TYPE_CHECKING:
    from .session import SmtpSession

DSN_PARAMS = ("RET", "ENVID", "NOTIFY", "ORCPT")


def register_transaction(
    session: SmtpSession, table: dict[str, Callable[[Command], Awaitable[None]]]
) -> None:
    table["MAIL"] = lambda cmd: do_mail(session, cmd)
    table["RCPT"] = lambda cmd: do_rcpt(session, cmd)
    table["DATA"] = lambda cmd: do_data(session, cmd)


def _refuse_dsn(session: SmtpSession, params: dict[str, str | None]) -> bool:
    if not session.privacy & Privacy.noreceipts:
        return False
    for name in DSN_PARAMS:
        if name in params:
            session.reply(f"504 5.7.0 Sorry, {name} not supported, we do not allow DSN")
            return True
    return False


_free_space: dict[str, tuple[float, int]] = {}  # queue folder -> (when looked, bytes free)
FREE_SPACE_AGE = 1.0  # seconds a free-space reading is reused


def _disk_ok(session: SmtpSession) -> bool:
    """Postfix's rule: keep 1.5 x the size limit free before accepting a MAIL.

    The free space is read at most once a second per queue folder.
    """
    limit = session.ctx.config.max_message_size or 10 * 1024 * 1024
    folder = str(session.ctx.store.queue_dir)
    now = time.monotonic()
    seen = _free_space.get(folder)
    if seen is None or now - seen[0] > FREE_SPACE_AGE:
        try:
            st = os.statvfs(folder)
        except OSError:
            return True
        seen = (now, st.f_bavail * st.f_frsize)
        _free_space[folder] = seen
    return seen[1] >= int(limit * 1.5)


async def do_mail(session: SmtpSession, cmd: Command) -> None:
    if session.tx is not None:
        session.reply("503 5.5.0 Sender already specified")
        return
    if session.helo is None and (session.privacy & Privacy.needmailhelo or session.tls_reset):
        session.reply("503 5.0.0 Polite people say HELO first")
        return
    port = session.listener.port
    if "a" in port.modifiers and "A" not in port.modifiers and not session.authenticated:
        session.reply("530 5.7.0 Authentication required")
        return
    try:
        path = parse_path(cmd.arg, "FROM", smtputf8_allowed=True)
    except SyntaxReply as exc:
        session.reply(exc.reply)
        return
    params = path.params
    if params and not session.esmtp:
        session.reply("555 5.5.4 ESMTP parameters need EHLO")
        return
    if _refuse_dsn(session, params):
        return
    tx = Transaction(sender=path.address, smtputf8="SMTPUTF8" in params)
    max_size = session.ctx.config.max_message_size
    for name, value in params.items():
        if name == "SIZE":
            if value is None or not value.isdigit() or len(value) > 20:
                session.reply("501 5.5.4 Syntax error in SIZE parameter")
                return
            if max_size and int(value) > max_size:
                session.reply(
                    f"552 5.3.4 Message size exceeds fixed maximum message size ({max_size})"
                )
                return
        elif name == "BODY":
            body = (value or "").upper()
            if body not in ("7BIT", "8BITMIME"):
                session.reply("501 5.5.4 Unknown BODY type")
                return
            tx.body_type = body
        elif name == "SMTPUTF8":
            if value is not None:
                session.reply("501 5.5.4 SMTPUTF8 takes no value")
                return
        elif name == "RET":
            ret = (value or "").upper()
            if ret not in ("FULL", "HDRS"):
                session.reply("501 5.5.4 Bad argument for RET parameter")
                return
            tx.ret = ret
        elif name == "ENVID":
            try:
                tx.envid = value if value is not None else ""
                decode_xtext(tx.envid, "ENVID", MAX_ENVID)
            except SyntaxReply as exc:
                session.reply(exc.reply)
                return
            if not tx.envid:
                session.reply("501 5.5.4 Syntax error in ENVID parameter value")
                return
        elif name == "AUTH":
            if value is None:
                session.reply("501 5.5.4 Syntax error in AUTH parameter value")
                return
        else:
            session.reply(f"555 5.5.4 {name[:20]} parameter unrecognized")
            return
    sender = path.address
    if sender and "@" not in sender and "f" in port.modifiers and "u" not in port.modifiers:
        session.reply(f"553 5.5.4 <{sender}>... Domain name required for sender address {sender}")
        return
    access = session.ctx.maps.access
    if access is not None and session.trusted_local is None:
        result = access.check_mail(sender)
        refusal = result.reply(f"<{sender}>") if result is not None else None
        if refusal is not None:
            session.ctx.stats.rejected(_mailer(session))
            session.log(
                4,
                f"ruleset=check_mail, arg1=<{sender}>, relay={session.client_name}, "
                f"reject={refusal}",
            )
            session.reply(refusal)
            return
        if result is not None and result.kind is AccessKind.DISCARD:
            tx.discard = True
    if not _disk_ok(session):
        session.reply("452 4.4.5 Insufficient disk space; try again later")
        return
    session.tx = tx
    session.bad_recipients = 0
    session.reply(f"250 2.1.0 <{sender}>... Sender ok")


async def do_rcpt(session: SmtpSession, cmd: Command) -> None:
    tx = session.tx
    if tx is None:
        session.reply("503 5.0.0 Need MAIL before RCPT")
        return
    try:
        path = parse_path(cmd.arg, "TO", smtputf8_allowed=tx.smtputf8)
    except SyntaxReply as exc:
        session.reply(exc.reply)
        return
    if path.params and not session.esmtp:
        session.reply("555 5.5.4 ESMTP parameters need EHLO")
        return
    if _refuse_dsn(session, path.params):
        return
    request = RecipientRequest(path.address)
    try:
        for name, value in path.params.items():
            if name == "NOTIFY":
                request.notify = parse_notify(value)
            elif name == "ORCPT":
                request.orcpt = parse_orcpt(value)
            else:
                session.reply(f"555 5.5.4 {name[:20]} parameter unrecognized")
                return
    except SyntaxReply as exc:
        session.reply(exc.reply)
        return
    if not path.address:
        session.reply("553 5.0.0 <>... User address required")
        return
    if len(tx.recipients) >= session.ctx.config.max_recipients:
        session.reply("452 4.5.3 Too many recipients")
        return
    mapped = _map_recipient(session, path.address)
    if mapped is not None:
        if mapped.startswith("250 "):
            tx.recipients.append(request)
        else:
            session.ctx.stats.rejected(_mailer(session))
            session.log(
                4,
                f"ruleset=check_rcpt, arg1=<{path.address}>, "
                f"relay={session.client_name}, reject={mapped}",
            )
        session.reply(mapped)
        return
    decision = session.ctx.relay.check_recipient(
        path.address,
        client_ip=session.client_ip or "",
        authenticated=bool(session.authenticated)
        or session.trusted_local is not None
        or session.access_relay,
    )
    session.reply(decision.reply)
    if decision.verdict in (RcptVerdict.LOCAL, RcptVerdict.RELAY):
        tx.recipients.append(request)
        return
    if decision.verdict in (RcptVerdict.DENIED, RcptVerdict.MALFORMED):
        session.ctx.stats.rejected(_mailer(session))
    session.log(
        4,
        f"ruleset=check_rcpt, arg1=<{path.address}>, relay={session.client_name}, "
        f"reject={decision.reply}",
    )
    if decision.verdict is RcptVerdict.UNKNOWN_USER:
        session.bad_recipients += 1
        if session.bad_recipients >= MAX_BAD_RECIPIENTS:
            session.reply(f"421 4.7.0 {session.host} Too many bad recipients; closing connection")
            raise CloseSession


def _map_recipient(session: SmtpSession, address: str) -> str | None:
    """The reply the access map or virtusertable decides for RCPT, or None to go on."""
    maps = session.ctx.maps
    ok = f"250 2.1.5 <{address}>... Recipient ok"
    if maps.access is not None and session.trusted_local is None:
        result = maps.access.check_rcpt(address)
        if result is not None:
            refusal = result.reply(f"<{address}>")
            if refusal is not None:
                return refusal
            if result.kind in (AccessKind.OK, AccessKind.RELAY):
                return ok
    if maps.virtusers is not None:
        domain = address.rpartition("@")[2].lower()
        if domain in session.ctx.config.local_domains:
            virtual = maps.virtusers.lookup(address)
            if virtual is not None:
                return virtual.error.reply if virtual.error is not None else ok
    return None


def _mailer(session: SmtpSession) -> int:
    """Sendmail's mailer number for where the mail came from: local or esmtp."""
    return LOCAL if session.trusted_local is not None else ESMTP


def _origin(session: SmtpSession) -> Origin:
    if session.trusted_local is not None:
        protocol = "ESMTP" if session.esmtp else "SMTP"
    else:
        protocol = "ESMTP" if session.esmtp else "SMTP"
        if session.esmtp and session.conn.tls_active:
            protocol += "S"
        if session.esmtp and session.authenticated:
            protocol += "A"
    return Origin(
        protocol=protocol,
        client=session.client_name,
        helo=session.helo,
        client_address=session.client_ip,
        daemon_flags=session.listener.daemon_flags,
        authenticated_as=session.authenticated,
    )


def _warnings(session: SmtpSession) -> list[str]:
    if not session.privacy & Privacy.authwarnings:
        return []
    host = session.ctx.system_hostname
    found: list[str] = []
    if session.helo is None:
        found.append(f"{host}: {session.client_name} didn't use HELO protocol")
    if session.trusted_local is not None and session.trusted_local != "root":
        found.append(f"{host}: {session.trusted_local} owned process doing -bs")
    return found


async def do_data(session: SmtpSession, cmd: Command) -> None:
    tx = session.tx
    if tx is None:
        session.reply("503 5.0.0 Need MAIL command")
        return
    if not tx.recipients:
        session.reply("503 5.0.0 Need RCPT (recipient)")
        return
    writer = session.ctx.store.new_message(buffered=True)
    session.writer = writer
    write_error: list[BaseException] = []

    def sink(data: bytes) -> None:
        if write_error:
            return
        if session.writer is not writer:
            return  # dropped: the daemon is shutting down
        try:
            writer.write(data)
        except (QueueWriteError, OSError) as exc:
            write_error.append(exc)

    session.reply("354 End data with <CR><LF>.<CR><LF>")
    traffic = session.ctx.traffic
    reader = DataReader(
        session.conn,
        sink,
        max_size=session.ctx.config.max_message_size,
        trace=traffic.read if traffic is not None else None,
    )
    session.conn.set_deadline(float(session.ctx.config.timeouts.get("datablock", 3600.0)))
    try:
        result = await reader.read()
    except TimeoutError:
        session.abort_message()
        session.reply(f"421 4.4.2 {session.host} Timeout during DATA; closing connection")
        raise CloseSession from None
    finally:
        session.conn.set_deadline(None)
    if session.writer is not writer:
        raise CloseSession  # shutdown dropped the message and said 421
    session.tx = None
    if result.reply is not None:
        session.abort_message()
        session.log(4, f"message refused ({result.log_note}): {result.reply}")
        session.reply(result.reply)
        return
    if write_error:
        session.abort_message()
        session.reply(_write_failure_reply(write_error[0]))
        return
    if tx.discard:  # Sendmail's DISCARD: the client sees success, nothing is queued
        session.abort_message()
        session.ctx.stats.discarded(_mailer(session))
        session.log(4, "discarded (access map DISCARD)", writer.qid)
        session.reply(f"250 2.0.0 {writer.qid} Message accepted for delivery")
        return
    qf = build_queue_file(
        writer.qid,
        tx,
        _origin(session),
        result.headers,
        size=result.size,
        has_8bit=result.has_8bit,
        host_name=session.host,
        warnings=_warnings(session),
    )
    session.committing = True
    try:
        await session.ctx.committer.submit_async(writer, qf)
    except (QueueWriteError, OSError) as exc:
        writer.abort()
        session.log(1, f"queue write failed: {exc}", writer.qid)
        session.reply(_write_failure_reply(exc))
        return
    finally:
        session.committing = False
        session.writer = None
    session.ctx.stats.received(_mailer(session), result.size)
    msgid = next((h.value for h in qf.headers if h.name.lower() == "message-id"), "")
    session.log(
        5,
        f"from={qf.sender}, size={result.size}, class=0, nrcpts={len(tx.recipients)}, "
        f"msgid={msgid}, proto={_origin(session).protocol}, "
        f"daemon={session.listener.port.name}, relay={session.client_name}",
        writer.qid,
    )
    session.reply(f"250 2.0.0 {writer.qid} Message accepted for delivery")


def _write_failure_reply(exc: BaseException) -> str:
    if isinstance(exc, QueueFullError):
        return "452 4.3.1 Insufficient system storage"
    if isinstance(exc, QueueTooBigError):
        return "552 5.3.4 Message too big for the queue file system"
    return "451 4.3.0 Temporary failure writing the queue; try again later"
