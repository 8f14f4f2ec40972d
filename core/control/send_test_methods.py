"""``server.send_test``: a test message through the running daemon, delivered at once.

Submits a short message over SMTP to the daemon's own listener -- the first in
DaemonPortOptions that needs neither AUTH nor implicit TLS, reached on loopback when it
listens on every address -- from and to the profile's local user (the first of
LocalUsers, else the caller's login name, at HostName) unless ``to`` names another
recipient; while the daemon has just started (its pid file is there, its listeners
may still be binding) a refused connection is tried again for a few seconds.  The
daemon only queues what it receives (deliveries happen on queue runs),
so this method then runs the queue for that one job in this process, as ``queue.run``
does, and reports whether the job left the queue.  A chunk ``{"stage": "queued",
"queue_id": ...}`` goes out as soon as the daemon has accepted the message, so a client
can show the id before the delivery is done.  Nothing listening, or a refusal, is an
error that says which listener was tried and what it answered.
"""

from __future__ import annotations

import asyncio
import io
import os
import pwd
import re
import smtplib
import socket
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from ..config.model import Config
from ..deliver import QueueRunner, host_status_store
from ..deliver.job import JobStatus
from ..logging.maillog import MailLog
from ..policy.ports import DaemonPort
from ..queue import parse_selection
from ..stats.recorder import StatsRecorder
from .context import Context, Stream
from .daemon_methods import daemon_state
from .params import Params, bad
from .protocol import IO_ERROR, NOT_FOUND, RpcError

SMTP_TIMEOUT = 30.0
STARTING_PATIENCE = 15.0  # a running daemon's listeners may still be binding
LISTENER_POLL = 0.1
_ACCEPTED = re.compile(r"(?:\d\.\d{1,3}\.\d{1,3}\s+)?(\S+)\s+Message accepted", re.IGNORECASE)
_ADDRESS = re.compile(r"[^\s<>()@,;:\\\"\[\]]+(?:@[A-Za-z0-9.-]+)?")
_QUEUE_PREFIXES = ("qf", "hf", "Qf")


def listener_for_test(config: Config) -> tuple[DaemonPort, str]:
    """The listener a test message goes to and the address to reach it on."""
    for port in config.daemon_ports:
        if port.requires_auth or port.implicit_tls:
            continue
        addr = port.addr
        if addr in (None, "", "0.0.0.0"):  # noqa: S104 - a wildcard listener, reached on loopback
            addr = "::1" if port.family == "inet6" else "127.0.0.1"
        elif addr == "::":
            addr = "::1"
        return port, addr
    raise RpcError(
        NOT_FOUND,
        "DaemonPortOptions has no listener a test message can use: every one requires "
        "AUTH (M=a) or implicit TLS (M=s); add one without them, e.g. "
        "'Name=MTA, Port=2525, Addr=127.0.0.1'",
    )


def local_user(config: Config) -> str:
    """The profile's mailbox user: the first of LocalUsers, else the caller's login name."""
    if config.local_users:
        return sorted(config.local_users)[0]
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return "postmaster"


def recipient(config: Config, params: Params) -> str:
    to = params.text("to", max_length=256, allow_empty=False)
    if to is None:
        return f"{local_user(config)}@{config.host_name}"
    if not _ADDRESS.fullmatch(to):
        raise bad(f"server.send_test: to must be an address like user@example.org, not {to!r:.60}")
    return to if "@" in to else f"{to}@{config.host_name}"


def build_message(sender: str, to: str, host_name: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Postroom <{sender}>"
    msg["To"] = to
    msg["Subject"] = "Postroom test message"
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid("postroom-test", domain=host_name)
    msg.set_content(
        'This message was sent by Postroom\'s "Send test message" action.\n\n'
        "It went in through the daemon's SMTP listener, waited in the queue and was\n"
        "delivered by a queue run: the mail server works.\n"
    )
    return msg


class _Dialogue:
    """One SMTP conversation with the daemon, written down as it goes."""

    def __init__(self, host: str, port: int) -> None:
        self.lines: list[str] = []
        self.smtp = smtplib.SMTP(timeout=SMTP_TIMEOUT)
        code, text = self.smtp.connect(host, port)
        self.heard(code, text)
        self._expect(code, 220)

    def heard(self, code: int, text: bytes | str) -> None:
        reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        for line in reply.splitlines() or [""]:
            self.lines.append(f"<<< {code} {line}")

    def _expect(self, code: int, wanted: int) -> None:
        if code != wanted:
            raise RpcError(
                IO_ERROR,
                f"the daemon refused the test message: {self.lines[-1][4:]}",
                {"smtp": self.lines},
            )

    def command(self, shown: str, call: Any, wanted: int) -> str:
        self.lines.append(f">>> {shown}")
        code, text = call()
        self.heard(code, text)
        self._expect(code, wanted)
        return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()


def _connect(host: str, port: int, patience: float) -> _Dialogue:
    """The conversation's start; refused connections are retried for ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return _Dialogue(host, port)
        except ConnectionRefusedError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(LISTENER_POLL)


def submit(
    host: str, port: int, sender: str, to: str, data: bytes, *, patience: float = 0.0
) -> tuple[str, list[str]]:
    """Send ``data`` over SMTP; returns the queue id from the 250 reply and the dialogue.

    ``patience``: how long a refused connection is retried (a daemon just started
    detaches before it binds its listeners).
    """
    try:
        talk = _connect(host, port, patience)
    except (OSError, smtplib.SMTPException) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RpcError(
            NOT_FOUND,
            f"nothing answers on {host} port {port} ({why}): the daemon is not running; "
            "start it (daemon.start), then send the test message again",
            {"host": host, "port": port},
        ) from None
    try:
        talk.command("EHLO localhost", lambda: talk.smtp.ehlo("localhost"), 250)
        talk.command(f"MAIL FROM:<{sender}>", lambda: talk.smtp.mail(sender), 250)
        talk.command(f"RCPT TO:<{to}>", lambda: talk.smtp.rcpt(to), 250)
        reply = talk.command("DATA ... .", lambda: talk.smtp.data(data), 250)
    except smtplib.SMTPResponseException as exc:
        talk.heard(exc.smtp_code, exc.smtp_error)
        raise RpcError(
            IO_ERROR,
            f"the daemon refused the test message: {talk.lines[-1][4:]}",
            {"smtp": talk.lines},
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise RpcError(
            IO_ERROR, f"the SMTP conversation with {host} port {port} failed: {exc}"
        ) from None
    finally:
        talk.close()
    found = _ACCEPTED.search(reply)
    if found is None:
        raise RpcError(IO_ERROR, f"the daemon's reply names no queue id: 250 {reply}")
    return found.group(1), talk.lines


def deliver(config: Config, qid: str) -> tuple[dict[str, int], list[str]]:
    """Run the queue for ``qid`` in this process; the counts by outcome and the -v lines."""
    log = MailLog(config.log_level, config.log_file)
    stats = StatsRecorder(config.status_file, config.time_series_file)
    verbose = io.StringIO()
    runner = QueueRunner(
        config, log=log, host_status=host_status_store(config, log), stats=stats, verbose=verbose
    )
    try:
        report = asyncio.run(
            runner.run_once(parse_selection([f"-qI{qid}"]), ignore_host_status=True)
        )
    finally:
        stats.close()
    counts = {status.value: report.count(status) for status in JobStatus}
    return counts, verbose.getvalue().strip("\n").splitlines()


def in_queue(queue_dir: Path, qid: str) -> bool:
    return any(os.path.lexists(queue_dir / (prefix + qid)) for prefix in _QUEUE_PREFIXES)


def server_send_test(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config = ctx.config()
    ctx.require_queue_control(config)
    to = recipient(config, params)
    sender = f"{local_user(config)}@{config.host_name}"
    port, host = listener_for_test(config)
    data = build_message(sender, to, config.host_name).as_bytes(policy=SMTP_POLICY)
    started = time.monotonic()
    patience = STARTING_PATIENCE if daemon_state(config)["running"] else 0.0
    qid, dialogue = submit(host, port.port, sender, to, data, patience=patience)
    listener = f"{host} port {port.port} ({port.name})"
    out.chunk([{"stage": "queued", "queue_id": qid, "listener": listener}])
    delivery, transcript = deliver(config, qid)
    queue_dir = Path(config.queue_directory)
    left = not in_queue(queue_dir, qid)
    user = to.split("@", 1)[0].lower()
    box = Path(config.mail_spool_directory) / user
    local = to.rsplit("@", 1)[-1].lower() in config.local_domains
    mailbox = str(box) if left and local and box.exists() else None
    return {
        "queue_id": qid,
        "from": sender,
        "to": to,
        "listener": listener,
        "host": socket.gethostname(),
        "smtp": dialogue,
        "delivery": delivery,
        "transcript": transcript,
        "in_queue": not left,
        "mailbox": mailbox,
        "seconds": round(time.monotonic() - started, 3),
    }
