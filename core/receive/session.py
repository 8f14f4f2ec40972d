"""One SMTP session: the command loop, per-session limits and the connection-level verbs.

The transaction verbs (MAIL, RCPT, DATA) live in :mod:`.transaction`; the
informational ones (VRFY, EXPN, ETRN, VERB, HELP) in :mod:`.inquiry`. This
module owns the session state, greeting, EHLO/HELO, STARTTLS, AUTH, RSET,
NOOP, QUIT, timeouts and shutdown. Replies and texts follow Sendmail 8.17
(SENDMAIL.md §4.2) where Sendmail defines them and BAD-INPUTS.md elsewhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from .. import __version__
from ..aliases import AccessKind
from ..policy.privacy import Privacy
from ..queue.store import MessageWriter
from .commands import Command, echo, parse_command, valid_helo_name
from .connection import ConnectionClosed, SmtpConnection
from .context import ListenerInfo, ReceiverContext, is_loopback
from .envelope import Transaction, rfc5322_date
from .errors import CloseSession
from .inquiry import register_inquiry
from .sasl import MAX_SASL_LINE, MECHANISMS, SaslAbort, read_credentials
from .transaction import register_transaction

MAX_COMMAND = 512  # octets including CRLF (RFC 5321 §4.5.3.1.4)
MAX_AUTH_FAILURES = 3
MAX_UNKNOWN_COMMANDS = 20


class SmtpSession:
    """State and command loop of one client conversation."""

    def __init__(
        self,
        conn: SmtpConnection,
        context: ReceiverContext,
        listener: ListenerInfo,
        *,
        client_ip: str | None,
        trusted_local: str | None = None,
    ) -> None:
        self.conn = conn
        self.ctx = context
        self.listener = listener
        self.client_ip = client_ip
        self.trusted_local = trusted_local  # login name for -bs submissions
        if trusted_local is not None:
            self.client_name = f"{trusted_local}@localhost"
        elif client_ip and is_loopback(client_ip):
            self.client_name = f"localhost [{client_ip}]"
        else:
            self.client_name = f"[{client_ip}]"
        self.helo: str | None = None
        self.esmtp = False
        self.tls_reset = False
        self.authenticated: str | None = None
        self.tx: Transaction | None = None
        self.writer: MessageWriter | None = None
        self.committing = False  # the group committer owns ``writer`` until it answers
        self.verbose = False
        self.bad_recipients = 0
        self.auth_failures = 0
        self.unknown_commands = 0
        self.closing = False
        self.connect_refusal: str | None = None  # access map: every command refused
        self.access_relay = False  # access map: this client may relay
        self._handlers: dict[str, Callable[[Command], Awaitable[None]]] = {}

    # -- output ----------------------------------------------------------
    def reply(self, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape") + b"\r\n"
        self.conn.write(data)
        if self.ctx.traffic is not None:
            self.ctx.traffic.wrote(data)

    def reply_lines(self, code: str, lines: list[str]) -> None:
        for i, line in enumerate(lines):
            sep = " " if i == len(lines) - 1 else "-"
            self.reply(f"{code}{sep}{line}")

    def log(self, level: int, text: str, qid: str | None = None) -> None:
        self.ctx.log.log(level, text, qid)

    @property
    def privacy(self) -> Privacy:
        return self.ctx.privacy

    @property
    def host(self) -> str:
        return self.ctx.host_name

    @property
    def command_timeout(self) -> float:
        return float(self.ctx.config.timeouts.get("command", 300.0))

    # -- capabilities ----------------------------------------------------
    def tls_offered(self) -> bool:
        return (
            self.ctx.tls is not None
            and "S" not in self.listener.port.modifiers
            and self.trusted_local is None
            and not self.conn.tls_active
        )

    def auth_available(self) -> bool:
        """AUTH exists on this listener at all (users file configured, no ``A``)."""
        return (
            self.ctx.auth_users is not None
            and "A" not in self.listener.port.modifiers
            and self.trusted_local is None
        )

    def auth_allowed_now(self) -> bool:
        """AUTH may be used now: over TLS, or on a loopback listener."""
        return self.auth_available() and (
            self.conn.tls_active or self.listener.loopback or not self.ctx.config.auth_require_tls
        )

    def ehlo_keywords(self) -> list[str]:
        p = self.privacy
        words = ["ENHANCEDSTATUSCODES", "PIPELINING"]
        if not p & Privacy.noexpn:
            words.append("EXPN")
        if not p & (Privacy.noexpn | Privacy.noverb):
            words.append("VERB")
        words.append("8BITMIME")
        size = self.ctx.config.max_message_size
        words.append(f"SIZE {size}" if size else "SIZE")
        if not p & Privacy.noreceipts:
            words.append("DSN")
        words.append("SMTPUTF8")
        if not p & Privacy.noetrn and "E" not in self.listener.port.modifiers:
            words.append("ETRN")
        if self.auth_allowed_now() and not self.authenticated:
            words.append("AUTH " + " ".join(MECHANISMS))
        if self.tls_offered():
            words.append("STARTTLS")
        words.append("HELP")
        return words

    # -- main loop -------------------------------------------------------
    async def run(self) -> None:
        self._handlers = {
            "HELO": self.do_helo,
            "EHLO": self.do_helo,
            "STARTTLS": self.do_starttls,
            "AUTH": self.do_auth,
            "RSET": self.do_rset,
            "NOOP": self.do_noop,
            "QUIT": self.do_quit,
        }
        register_transaction(self, self._handlers)
        register_inquiry(self, self._handlers)
        self.check_connect_access()
        date = rfc5322_date(time.time())
        self.reply(f"220 {self.host} ESMTP Postroom {__version__}; {date}")
        if self.listener.port.name and self.ctx.log.enabled(12):
            self.log(12, f"connect from {self.client_name} on {self.listener.port.name}")
        try:
            while not self.closing:
                await self.step()
        except (ConnectionClosed, CloseSession):
            pass
        finally:
            self.abort_message()
            self.conn.close()

    async def read_line(self, limit: int) -> tuple[bytes, bool]:
        """Read a command-channel line under the command timeout; 421 on timeout."""
        try:
            line = await self.conn.readline(limit, self.command_timeout)
        except TimeoutError:
            self.reply(f"421 4.4.2 {self.host} Timeout waiting for input; closing connection")
            self.log(2, f"timeout waiting for input from {self.client_name}")
            raise CloseSession from None
        if line.ending == "lf":
            self.log(15, f"{self.client_name}: bare_lf in command")
        return line.data, line.overflow

    async def step(self) -> None:
        raw, overflow = await self.read_line(MAX_COMMAND)
        if self.ctx.traffic is not None:
            self.ctx.traffic.read(_redact(raw))
        if overflow:
            self.reply("500 5.5.2 Line too long")
            return
        cmd = parse_command(raw)
        if self.ctx.log.enabled(15):
            self.log(15, f"<-- {_redact(raw).decode('utf-8', 'replace')}")
        if self.connect_refusal and cmd.verb not in ("QUIT", "NOOP", "RSET", "HELO", "EHLO"):
            self.reply(self.connect_refusal)
            return
        handler = self._handlers.get(cmd.verb)
        if handler is None:
            await self.unknown(cmd, raw)
            return
        await handler(cmd)

    def check_connect_access(self) -> None:
        """The access map's ``Connect:`` entry for this client (REJECT, ERROR, RELAY)."""
        access = self.ctx.maps.access
        if access is None or not self.client_ip or self.trusted_local is not None:
            return
        result = access.check_connect(self.client_ip)
        if result is None:
            return
        if result.kind is AccessKind.RELAY:
            self.access_relay = True
            return
        refusal = result.reply()
        if refusal is not None:
            self.connect_refusal = refusal
            self.log(4, f"ruleset=check_relay, arg1={self.client_name}, reject={refusal}")

    async def unknown(self, cmd: Command, raw: bytes) -> None:
        if cmd.verb == "BDAT":
            self.reply("502 5.5.1 BDAT (CHUNKING) not implemented")
        elif self.privacy & Privacy.noreflection:
            self.reply("500 5.5.1 Command unrecognized")
        else:
            text = echo(raw.decode("utf-8", "replace"))
            self.reply(f'500 5.5.1 Command unrecognized: "{text}"')
        self.unknown_commands += 1
        if self.unknown_commands >= MAX_UNKNOWN_COMMANDS:
            self.reply(f"421 4.7.0 {self.host} Too many errors; closing connection")
            raise CloseSession

    def abort_message(self) -> None:
        if self.writer is not None and not self.committing:
            self.writer.abort()
            self.writer = None

    def shutdown(self) -> None:
        """Daemon is stopping: tell the client, drop any unfinished message, close.

        A message already with the committer is not dropped (it will be queued): the
        session waits for the commit, answers it (250, or the failure), and then ends.
        """
        self.closing = True
        if self.committing:
            return  # do_data answers; the command loop then stops (closing)
        self.abort_message()
        self.reply(f"421 4.3.2 {self.host} Shutting down; closing connection")
        self.conn.close()

    # -- connection-level verbs -------------------------------------------
    async def do_helo(self, cmd: Command) -> None:
        name = cmd.arg
        if not name:
            self.reply(f"501 5.0.0 {cmd.verb.lower()} requires domain address")
            return
        if not valid_helo_name(name):
            self.reply("501 5.0.0 Invalid domain name")
            return
        self.helo = name
        self.esmtp = cmd.verb == "EHLO"
        self.tls_reset = False
        self.tx = None
        self.abort_message()
        greeting = f"{self.host} Hello {self.client_name}, pleased to meet you"
        if self.esmtp:
            self.reply_lines("250", [greeting, *self.ehlo_keywords()])
        else:
            self.reply(f"250 {greeting}")

    async def do_starttls(self, cmd: Command) -> None:
        if self.conn.tls_active:
            self.reply("503 5.5.1 TLS already active")
            return
        if not self.tls_offered():
            self.reply("454 4.7.0 TLS not available")
            return
        if cmd.arg:
            self.reply("501 5.5.4 Syntax error (no parameters allowed)")
            return
        assert self.ctx.tls is not None
        self.reply("220 2.0.0 Ready to start TLS")
        dropped = self.conn.discard_buffer()
        if dropped:
            self.log(4, f"{self.client_name}: {dropped} octets pipelined after STARTTLS dropped")
        try:
            await self.conn.start_tls(self.ctx.tls, timeout=self.command_timeout)
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.log(2, f"STARTTLS=server, error: {exc}, relay={self.client_name}")
            raise CloseSession from exc
        self.helo = None
        self.esmtp = False
        self.tx = None
        self.tls_reset = True

    async def do_auth(self, cmd: Command) -> None:
        if not self.auth_available():
            self.reply("503 5.3.3 AUTH not available")
            return
        if not self.auth_allowed_now():
            self.reply("538 5.7.11 Encryption required for requested authentication mechanism")
            return
        if self.authenticated:
            self.reply("503 5.5.0 Already Authenticated")
            return
        if self.tx is not None:
            self.reply("503 5.5.0 AUTH not permitted during a mail transaction")
            return
        mechanism, _, initial = cmd.arg.partition(" ")
        mechanism = mechanism.upper()
        if mechanism not in MECHANISMS:
            self.reply(f"504 5.3.3 AUTH mechanism {echo(mechanism)} not available")
            return

        async def ask(challenge: str) -> str:
            self.reply(f"334 {challenge}")
            raw, overflow = await self.read_line(MAX_SASL_LINE)
            if self.ctx.traffic is not None:
                self.ctx.traffic.read(b"<redacted>")
            if overflow:
                raise SaslAbort("501 5.5.2 AUTH response too long")
            return raw.decode("ascii", "replace").strip()

        try:
            creds = await read_credentials(mechanism, initial.strip() or None, ask)
        except SaslAbort as exc:
            self.reply(exc.reply)
            await self.auth_failed()
            return
        users = self.ctx.auth_users
        assert users is not None
        loop = asyncio.get_running_loop()
        verified = await loop.run_in_executor(None, users.verify, creds.user, creds.password)
        ok = verified and creds.authzid in ("", creds.user)
        if not ok:
            self.log(
                10, f"AUTH failure ({mechanism}): user={creds.user[:64]}, relay={self.client_name}"
            )
            self.reply("535 5.7.8 Authentication credentials invalid")
            await self.auth_failed()
            return
        self.authenticated = creds.user
        self.log(10, f"AUTH={mechanism}, relay={self.client_name}, authid={creds.user}")
        self.reply("235 2.0.0 OK Authenticated")

    async def auth_failed(self) -> None:
        self.auth_failures += 1
        if self.auth_failures >= MAX_AUTH_FAILURES:
            self.conn.flush()
            await asyncio.sleep(1.0)  # tarpit before hanging up on a guesser
            self.reply(f"421 4.7.0 {self.host} Too many AUTH failures; closing connection")
            raise CloseSession

    async def do_rset(self, cmd: Command) -> None:
        self.tx = None
        self.abort_message()
        self.reply("250 2.0.0 Reset state")

    async def do_noop(self, cmd: Command) -> None:
        self.reply("250 2.0.0 OK")

    async def do_quit(self, cmd: Command) -> None:
        self.reply(f"221 2.0.0 {self.host} closing connection")
        self.closing = True
        await self.conn.drain()
        raise CloseSession


def _redact(raw: bytes) -> bytes:
    """Hide AUTH credentials from logs: keep the verb and mechanism only."""
    if raw[:5].upper() == b"AUTH ":
        parts = raw.split(b" ")
        return b" ".join(parts[:2]) + (b" <redacted>" if len(parts) > 2 else b"")
    return raw
