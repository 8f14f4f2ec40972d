"""The *esmtp* agent: one message to the recipients of one next hop.

:meth:`SmtpAgent.deliver` finds the hosts (:mod:`.mx`, or the SmartHost),
and for each in turn: skips it when its status says it failed recently
(:mod:`.hosts`), takes an idle session from the pool or connects (source
address from ClientPortOptions), reads the greeting, says EHLO (HELO after
a 5xx), starts TLS when offered (opportunistic, unverified; a failed
handshake is retried once in clear), and runs the transaction with
PIPELINING when offered.  Connection-level temporary failures (refused,
timeouts, a 4xx greeting or MAIL) move on to the next host; per-recipient
answers are final for this attempt.  Every host tried gets its status
recorded (refused: errno 111, S75, D4.4.1; greeting/MAIL failures with the
reply as R).  Outcomes use Sendmail's texts: ``Sent (<reply text>)``,
``Deferred: Connection refused by [127.0.0.1]``, ``Deferred: 451 4.3.0 ...``.
"""

from __future__ import annotations

import errno as errno_mod
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..hoststat import HostStatus
from ..policy.ports import ClientPort
from .address import Target
from .hosts import HostStatusCache
from .message import MessageSource, smtp_chunks
from .mx import HostUnknown, MailHost, MailRouter, RouteError
from .outcome import (
    EX_CONFIG,
    EX_NOHOST,
    EX_TEMPFAIL,
    EX_UNAVAILABLE,
    Outcome,
    deferred,
    errno_text,
    failed,
    sent,
    smtp_to_dsn,
)
from .pool import ConnectionPool, close
from .smtpclient import (
    ConnectFailed,
    Reply,
    SmtpClosed,
    SmtpConnection,
    SmtpError,
    SmtpTimeout,
    Timeouts,
)
from .transcript import Transcript

MAX_RCPTS_PER_TRANSACTION = 100


@dataclass(frozen=True)
class NextHop:
    """Where a group of recipients goes: a domain (MX), a literal, or the SmartHost."""

    destination: str
    port: int
    mx_lookup: bool = True
    mailer: str = "esmtp"


@dataclass(frozen=True)
class SmtpRecipient:
    """One recipient of the transaction; ``key`` identifies it in the job."""

    key: int
    target: Target
    notify: str | None = None
    orcpt: str | None = None


@dataclass(frozen=True)
class Envelope:
    """MAIL FROM and its parameters."""

    sender: str
    ret: str | None = None
    envid: str | None = None
    eight_bit: bool = False


class _HostFailed(Exception):
    """This host cannot take the message now; try the next one."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class SmtpAgent:
    """Delivers over SMTP."""

    def __init__(
        self,
        *,
        router: MailRouter,
        hosts: HostStatusCache,
        pool: ConnectionPool,
        timeouts: Timeouts,
        helo_name: str,
        client_port: ClientPort | None = None,
        tls_context: ssl.SSLContext | None = None,
        ignore_host_status: bool = False,
        on_connect: Callable[[], None] = lambda: None,
    ) -> None:
        self.router = router
        self.hosts = hosts
        self.pool = pool
        self.timeouts = timeouts
        self.helo_name = helo_name
        self.client_port = client_port
        self.tls_context = tls_context
        self.ignore_host_status = ignore_host_status
        self.on_connect = on_connect
        self._no_tls: set[str] = set()

    async def deliver(
        self,
        hop: NextHop,
        rcpts: list[SmtpRecipient],
        envelope: Envelope,
        source: MessageSource,
        transcript: Transcript,
    ) -> dict[int, Outcome]:
        """Outcomes for ``rcpts`` (every key gets one)."""
        results: dict[int, Outcome] = {}
        for start in range(0, len(rcpts), MAX_RCPTS_PER_TRANSACTION):
            chunk = rcpts[start : start + MAX_RCPTS_PER_TRANSACTION]
            results.update(await self._deliver_chunk(hop, chunk, envelope, source, transcript))
        return results

    async def _deliver_chunk(
        self,
        hop: NextHop,
        rcpts: list[SmtpRecipient],
        envelope: Envelope,
        source: MessageSource,
        transcript: Transcript,
    ) -> dict[int, Outcome]:
        try:
            hosts = await self.router.hosts(hop.destination, mx_lookup=hop.mx_lookup)
        except RouteError as exc:
            outcome = self._route_failure(hop, exc)
            return {r.key: outcome for r in rcpts}
        results: dict[int, Outcome] = {}
        pending = list(rcpts)
        last: Outcome | None = None
        shown = ", ".join(r.target.shown for r in rcpts)
        for host in hosts:
            if not pending:
                break
            cached = None if self.ignore_host_status else self.hosts.recent_failure(host.name)
            if cached is not None:
                last = self._from_status(cached, host.name, hop.mailer)
                if cached.exit_status == EX_NOHOST:
                    break
                continue
            transcript.say(f"{shown}... Connecting to {host.name} via {hop.mailer}...")
            try:
                conn, hold = await self._session(host, hop, transcript)
            except _HostFailed as exc:
                last = exc.outcome
                continue
            try:
                done = await self._transaction(conn, pending, envelope, source, hop, host)
            except _HostFailed as exc:
                last = exc.outcome
                await close(conn, hold)
                continue
            await self.pool.give_back(conn, hold)
            results.update(done)
            pending = [r for r in pending if r.key not in results]
        for r in pending:
            results[r.key] = last or deferred("Deferred: no usable host", status="4.4.1")
        return results

    # -- routing and host status -------------------------------------------
    def _route_failure(self, hop: NextHop, exc: RouteError) -> Outcome:
        text = str(exc)
        if exc.temporary:
            self.hosts.record(hop.destination, h_errno=2, exit_status=EX_TEMPFAIL, dsn=exc.status)
            return deferred(f"Deferred: {text}", status=exc.status, mailer=hop.mailer)
        if isinstance(exc, HostUnknown):
            self.hosts.record(hop.destination, h_errno=1, exit_status=EX_NOHOST, dsn=exc.status)
            message = f"Host unknown ({text})"
            code = EX_NOHOST
        else:
            message = text
            code = EX_CONFIG
        return failed(
            message,
            status=exc.status,
            diagnostic=f"550 {exc.status} {message}",
            mailer=hop.mailer,
            exit_status=code,
        )

    def _from_status(self, status: HostStatus, host: str, mailer: str) -> Outcome:
        """The outcome a recently failed host gives without being tried."""
        dsn = status.dsn or "4.0.0"
        if status.exit_status == EX_NOHOST:
            message = f"Host unknown (Name server: {host}: host not found)"
            return failed(message, status=dsn, diagnostic=f"550 {dsn} {message}", mailer=mailer)
        if status.reply:
            text = status.reply
        elif status.errno:
            text = errno_text(status.errno, host)
        else:
            text = f"{host}: host recently failed"
        return deferred(f"Deferred: {text}", status=dsn, mailer=mailer, remote_mta=host)

    def _host_failure(
        self, host: str, err: int, status: str, mailer: str, reply: Reply | None = None
    ) -> _HostFailed:
        self.hosts.record(
            host,
            errno=err,
            exit_status=EX_TEMPFAIL,
            dsn=status,
            reply=reply.text if reply else None,
        )
        text = reply.text if reply is not None else errno_text(err, host)
        return _HostFailed(
            deferred(
                f"Deferred: {text}",
                status=status,
                mailer=mailer,
                remote_mta=host,
                diagnostic=reply.text if reply else None,
            )
        )

    # -- sessions ---------------------------------------------------------
    async def _session(
        self, host: MailHost, hop: NextHop, transcript: Transcript
    ) -> tuple[SmtpConnection, Any]:
        cached = self.pool.take(host.name, hop.port)
        if cached is not None:
            conn, hold = cached
            conn.observer = transcript
            transcript.session(host.name)
            return conn, hold
        last: _HostFailed | None = None
        for address in host.addresses:
            try:
                return await self._open(host, address, hop, transcript)
            except _HostFailed as exc:
                last = exc
        raise last or self._host_failure(host.name, errno_mod.EHOSTUNREACH, "4.4.1", hop.mailer)

    async def _open(
        self, host: MailHost, address: str, hop: NextHop, transcript: Transcript
    ) -> tuple[SmtpConnection, Any]:
        source = None
        if self.client_port is not None and (self.client_port.addr or self.client_port.port):
            source = (
                self.client_port.addr or ("::" if ":" in address else "0.0.0.0"),  # noqa: S104
                self.client_port.port,
            )
        try:
            conn = await SmtpConnection.connect(
                host.name, address, hop.port, self.timeouts, source=source
            )
        except ConnectFailed as exc:
            status = "4.4.1"
            raise self._host_failure(host.name, exc.errno, status, hop.mailer) from exc
        self.on_connect()
        conn.observer = transcript
        transcript.session(host.name)
        hold = self.hosts.hold(host.name)
        try:
            await self._setup(conn, host, hop)
        except BaseException:
            await close(conn, hold)
            raise
        return conn, hold

    async def _setup(self, conn: SmtpConnection, host: MailHost, hop: NextHop) -> None:
        try:
            greeting = await conn.greeting()
            if greeting.kind != 2:
                raise self._reply_failure(host.name, greeting, hop.mailer)
            hello = await conn.hello(self.helo_name)
            if hello.kind != 2:
                raise self._reply_failure(host.name, hello, hop.mailer)
            self._check_loop(hello, host, hop)
            if self._want_tls(conn):
                reply = await self._starttls(conn, host)
                if reply is not None and reply.kind == 2:
                    hello = await conn.hello(self.helo_name)
                    if hello.kind != 2:
                        raise self._reply_failure(host.name, hello, hop.mailer)
        except SmtpError as exc:
            raise self._session_error(conn, host.name, exc, hop.mailer) from exc

    def _check_loop(self, hello: Reply, host: MailHost, hop: NextHop) -> None:
        name = hello.text[4:].split(" ", 1)[0]
        if name.lower().rstrip(".") == self.helo_name.lower().rstrip("."):
            message = f"553 5.3.5 {host.name} config error: mail loops back to me (MX problem?)"
            self.hosts.record(host.name, exit_status=EX_CONFIG, dsn="5.3.5", reply=message)
            raise _HostFailed(
                failed(
                    message[10:],
                    status="5.3.5",
                    diagnostic=message,
                    mailer=hop.mailer,
                    remote_mta=host.name,
                )
            )

    def _want_tls(self, conn: SmtpConnection) -> bool:
        if self.tls_context is None or conn.tls or not conn.supports("STARTTLS"):
            return False
        if self.client_port is not None and "S" in self.client_port.modifiers:
            return False
        return conn.host.lower() not in self._no_tls

    async def _starttls(self, conn: SmtpConnection, host: MailHost) -> Reply | None:
        assert self.tls_context is not None
        try:
            return await conn.starttls(self.tls_context)
        except SmtpClosed:
            self._no_tls.add(conn.host.lower())
            raise

    def _reply_failure(self, host: str, reply: Reply, mailer: str) -> _HostFailed:
        status = reply.enhanced() or smtp_to_dsn(reply.code)
        if reply.kind == 5:
            self.hosts.record(host, exit_status=EX_UNAVAILABLE, dsn="5.5.0", reply=reply.text)
            return _HostFailed(
                deferred(
                    f"Deferred: {reply.text}",
                    status="4.5.0",
                    diagnostic=reply.text,
                    remote_mta=host,
                    mailer=mailer,
                )
            )
        return self._host_failure(host, 0, status, mailer, reply)

    def _session_error(
        self, conn: SmtpConnection, host: str, exc: SmtpError, mailer: str
    ) -> _HostFailed:
        conn.abort()
        if isinstance(exc, SmtpTimeout) and conn.observer is not None:
            conn.observer.note(
                f"451 4.4.1 timeout waiting for input from {host} during {exc.phase}"
            )
        return self._host_failure(host, exc.errno, "4.4.2", mailer)

    # -- the transaction ---------------------------------------------------
    def _mail_line(self, conn: SmtpConnection, envelope: Envelope, size: int) -> str:
        line = f"MAIL From:<{envelope.sender}>"
        if conn.supports("SIZE"):
            line += f" SIZE={size}"
        if envelope.eight_bit and conn.supports("8BITMIME"):
            line += " BODY=8BITMIME"
        if conn.supports("DSN"):
            if envelope.ret:
                line += f" RET={envelope.ret}"
            if envelope.envid:
                line += f" ENVID={envelope.envid}"
        return line

    def _rcpt_line(self, conn: SmtpConnection, rcpt: SmtpRecipient) -> str:
        line = f"RCPT To:<{rcpt.target.address}>"
        if conn.supports("DSN"):
            if rcpt.notify:
                line += f" NOTIFY={rcpt.notify}"
            if rcpt.orcpt:
                line += f" ORCPT={rcpt.orcpt}"
        return line

    async def _transaction(
        self,
        conn: SmtpConnection,
        rcpts: list[SmtpRecipient],
        envelope: Envelope,
        source: MessageSource,
        hop: NextHop,
        host: MailHost,
    ) -> dict[int, Outcome]:
        size = source.size(hop.mailer)
        limit = conn.extensions.get("SIZE", "")
        if limit.isdigit() and 0 < int(limit) < size:
            text = f"552 5.2.3 Message is too large; {limit} bytes max"
            out = failed(
                text[10:], status="5.2.3", diagnostic=text, mailer=hop.mailer, remote_mta=host.name
            )
            return {r.key: out for r in rcpts}
        try:
            return await self._dialogue(conn, rcpts, envelope, source, hop, host, size)
        except SmtpError as exc:
            raise self._session_error(conn, host.name, exc, hop.mailer) from exc

    async def _dialogue(
        self,
        conn: SmtpConnection,
        rcpts: list[SmtpRecipient],
        envelope: Envelope,
        source: MessageSource,
        hop: NextHop,
        host: MailHost,
        size: int,
    ) -> dict[int, Outcome]:
        t = self.timeouts
        enhanced = conn.supports("ENHANCEDSTATUSCODES")
        mail = self._mail_line(conn, envelope, size)
        lines = [self._rcpt_line(conn, r) for r in rcpts]
        conn.dirty = True
        rcpt_replies: list[Reply] = []
        data_reply: Reply | None = None
        if conn.supports("PIPELINING"):
            conn.write_command(mail)
            for line in lines:
                conn.write_command(line)
            conn.write_command("DATA")
            await conn.flush(t.mail, "client MAIL")
            mail_reply = await conn.read_reply(t.mail, "client MAIL")
            for _ in lines:
                rcpt_replies.append(await conn.read_reply(t.rcpt, "client RCPT"))
            data_reply = await conn.read_reply(t.datainit, "client DATA 354")
        else:
            mail_reply = await conn.command(mail, t.mail, "client MAIL")
            if mail_reply.kind == 2:
                for line in lines:
                    rcpt_replies.append(await conn.command(line, t.rcpt, "client RCPT"))
                if any(r.kind == 2 for r in rcpt_replies):
                    data_reply = await conn.command("DATA", t.datainit, "client DATA 354")
        accepted = [r for r, reply in zip(rcpts, rcpt_replies, strict=False) if reply.kind == 2]
        if (
            data_reply is not None
            and data_reply.code == 354
            and (mail_reply.kind != 2 or not accepted)
        ):
            final = await conn.send_message(())  # the server wants data it cannot use
            data_reply = None
            del final
        if mail_reply.kind != 2:
            await conn.rset()
            if mail_reply.kind == 5:
                out = self._reply_outcome(mail_reply, enhanced, host, hop)
                return {r.key: out for r in rcpts}
            raise self._host_failure(
                host.name,
                0,
                mail_reply.enhanced() or smtp_to_dsn(mail_reply.code),
                hop.mailer,
                mail_reply,
            )
        results: dict[int, Outcome] = {}
        for rcpt, reply in zip(rcpts, rcpt_replies, strict=False):
            if reply.kind != 2:
                results[rcpt.key] = self._reply_outcome(reply, enhanced, host, hop)
        if not accepted:
            await conn.rset()
            return results
        assert data_reply is not None
        if data_reply.code != 354:
            out = self._reply_outcome(data_reply, enhanced, host, hop)
            await conn.rset()
            return {**results, **{r.key: out for r in accepted}}
        final = await conn.send_message(smtp_chunks(source, hop.mailer))
        if final.kind == 2:
            conn.dirty = False
            self.hosts.record(host.name, dsn=final.enhanced() or "2.0.0", reply=final.text)
            out = sent(
                f"Sent ({final.message(enhanced)})",
                status=(final.enhanced() if enhanced else None) or "2.0.0",
                diagnostic=final.text,
                remote_mta=host.name,
                relay=self._relay(conn, host),
                mailer=hop.mailer,
                relayed=not conn.supports("DSN"),
            )
        else:
            out = self._reply_outcome(final, enhanced, host, hop)
            await conn.rset()
        return {**results, **{r.key: out for r in accepted}}

    def _relay(self, conn: SmtpConnection, host: MailHost) -> str:
        return f"{host.name} [{conn.address}]"

    def _reply_outcome(self, reply: Reply, enhanced: bool, host: MailHost, hop: NextHop) -> Outcome:
        status = (reply.enhanced() if enhanced else None) or smtp_to_dsn(reply.code)
        kw: dict[str, Any] = {
            "status": status,
            "diagnostic": reply.text,
            "remote_mta": host.name,
            "mailer": hop.mailer,
        }
        if reply.kind == 4:
            return deferred(f"Deferred: {reply.text}", **kw)
        return failed(reply.text, **kw)
