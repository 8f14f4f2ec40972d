"""Builders for the delivery tests: configurations, queued messages, runs."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from postroom.core.config.loader import load_config
from postroom.core.config.model import Config
from postroom.core.deliver import QueueRunner, RunReport
from postroom.core.logging.maillog import MailLog
from postroom.core.queue import QueueFile, QueueRecipient, QueueStore, parse_qf
from postroom.core.queue.selection import QueueSelection
from postroom.core.receive.envelope import Origin, RecipientRequest, Transaction, build_queue_file

from tests.support.mta import MtaSetup

SENDER_HOST = "sender.example.test"


def sender_setup(base: Path, **options: object) -> MtaSetup:
    """A configuration for the sending side (its daemon is never started)."""
    setup = MtaSetup(base)
    setup.options.update(
        {
            "HostName": SENDER_HOST,
            "LocalDomains": [SENDER_HOST],
            "MailSpoolDirectory": str(base / "mail"),
            "LogLevel": 20,
            # These tests route by MX through their own loopback DNS server (injected).
            "SmartHost": None,
        }
    )
    setup.options.update(options)
    setup.write({"MTA": ""})
    return setup


def load(setup: MtaSetup) -> Config:
    return load_config(setup.config_path)


def queue_message(
    config: Config,
    recipients: Sequence[str],
    *,
    sender: str = "alice@sender.example.test",
    body: bytes = b"hello\n",
    headers: Sequence[tuple[str, str]] = (("Subject", "test message"),),
    ctime: float | None = None,
    envid: str | None = None,
    ret: str | None = None,
    notify: dict[str, frozenset[str]] | None = None,
    orcpt: dict[str, str] | None = None,
    **changes: Any,
) -> str:
    """Queue a message as the SMTP receiver would; ``changes`` patch the qf."""
    store = QueueStore(Path(config.queue_directory))
    writer = store.new_message()
    writer.write(body)
    tx = Transaction(
        sender=sender,
        envid=envid,
        ret=ret,
        recipients=[
            RecipientRequest(r, (notify or {}).get(r), (orcpt or {}).get(r)) for r in recipients
        ],
    )
    origin = Origin(protocol="ESMTP", client="localhost [127.0.0.1]", helo="client.test")
    qf = build_queue_file(
        writer.qid,
        tx,
        origin,
        list(headers),
        size=len(body),
        has_8bit=False,
        host_name=config.host_name,
        now=ctime,
    )
    if changes:
        qf = dataclasses.replace(qf, **changes)
    writer.commit(qf)
    return writer.qid


def read_qf(config: Config, qid: str, prefix: str = "qf") -> QueueFile:
    path = Path(config.queue_directory) / (prefix + qid)
    return parse_qf(path.read_bytes(), str(path))


def with_recipient(config: Config, qid: str, rcpt: QueueRecipient) -> None:
    """Replace the job's recipients by ``rcpt`` (for C-line program/file targets)."""
    from postroom.core.deliver import qfupdate
    from postroom.core.queue.locks import JobLock

    path = Path(config.queue_directory) / ("qf" + qid)
    with JobLock(path) as lock:
        qfupdate.rewrite(lock, dataclasses.replace(read_qf(config, qid), recipients=(rcpt,)))


def run(
    config: Config,
    selection: QueueSelection | None = None,
    *,
    verbose: bool = False,
    ignore_host_status: bool = False,
    **kw: Any,
) -> tuple[RunReport, str]:
    """One queue run; returns the report and the -v output."""
    out = io.StringIO()
    log = MailLog(config.log_level, config.log_file)
    runner = QueueRunner(config, log=log, verbose=out if verbose else None, **kw)
    try:
        report = asyncio.run(runner.run_once(selection, ignore_host_status=ignore_host_status))
    finally:
        log.close()
    return report, out.getvalue()


def queue_ids(config: Config, prefix: str = "qf") -> list[str]:
    return sorted(p.name[2:] for p in Path(config.queue_directory).glob(prefix + "*"))
