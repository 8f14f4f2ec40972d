"""The *file* agent: ``/path`` targets from aliases and ``.forward`` files.

The message is appended in mbox form (Sendmail's ``*file*`` mailer writes
a ``From `` line and escapes ``From`` in the body) with the same safety as a
mailbox: ``O_APPEND|O_NOFOLLOW``, regular file with one link, fcntl and
dot-lock, fsync.  Rules:

- only for a recipient with a controlling user (qf ``C`` line, set by alias
  or .forward expansion); otherwise "Cannot mail directly to files";
- never inside the queue folder or the configuration folder;
- when we are root the write runs in a child process as the owner (never
  root: see :mod:`.owner`), so the owner's file permissions apply.  The child
  comes from a ``forkserver`` (never a fork of the threaded runner), opens the
  ``df`` first and then drops root for good.  :func:`main` is the same
  writer as a command (``python -m postroom.core.deliver.fileagent PATH``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from ..config.model import Config
from ..queue.qf import QueueFile
from .address import Target
from .mbox import MailboxError, append_mbox
from .message import MessageSource, mbox_chunks
from .outcome import EX_CANTCREAT, EX_NOPERM, EX_OK, EX_TEMPFAIL, Outcome, deferred, failed, sent
from .owner import Owner, delivery_owner, needs_switch


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


class FileAgent:
    """Appends messages to files."""

    def __init__(self, config: Config, *, lock_timeout: float = 60.0) -> None:
        self.config = config
        self.lock_timeout = lock_timeout
        self.forbidden = tuple(
            Path(os.path.realpath(p)) for p in (config.queue_directory, Path(config.path).parent)
        )

    def check(self, target: Target, owner: Owner | None) -> Outcome | None:
        """A refusal for ``target``, or None when it may be written."""
        if owner is None:
            text = f"550 5.7.1 {target.shown}... Cannot mail directly to files"
            return failed(
                "Cannot mail directly to files",
                status="5.7.1",
                diagnostic=text,
                exit_status=EX_NOPERM,
                mailer="*file*",
            )
        path = Path(target.address)
        real = Path(os.path.realpath(path.parent)) / path.name
        if not path.is_absolute() or any(_inside(real, f) for f in self.forbidden):
            text = f"550 5.7.1 {target.shown}... Cannot write to a protected folder"
            return failed(
                "Cannot write to a protected folder",
                status="5.7.1",
                diagnostic=text,
                exit_status=EX_NOPERM,
                mailer="*file*",
            )
        return None

    async def deliver(self, target: Target, source: MessageSource, owner: Owner | None) -> Outcome:
        """Append ``source`` to the file ``target`` as ``owner``."""
        refusal = self.check(target, owner)
        if refusal is not None:
            return refusal
        runner = delivery_owner(owner)
        headers = source.header_bytes("*file*")
        if needs_switch(runner):
            code, detail = await self._as_owner(target.address, source, headers, runner)
        else:
            code, detail = await asyncio.to_thread(self._append, target.address, source, headers)
        if code == EX_OK:
            return sent("Sent", mailer="*file*")
        if code == EX_TEMPFAIL:
            return deferred(
                f"Deferred: {detail}", status="4.2.0", diagnostic=detail, mailer="*file*"
            )
        text = f"550 5.0.0 {target.shown}... Can't create output"
        return failed(
            "Can't create output",
            status="5.0.0",
            diagnostic=text,
            exit_status=EX_CANTCREAT,
            mailer="*file*",
        )

    def _append(self, path: str, source: MessageSource, headers: bytes) -> tuple[int, str]:
        try:
            append_mbox(Path(path), mbox_chunks(source, headers), lock_timeout=self.lock_timeout)
        except MailboxError as exc:
            return (EX_TEMPFAIL if exc.temporary else EX_CANTCREAT), str(exc)
        return EX_OK, ""

    async def _as_owner(
        self, path: str, source: MessageSource, headers: bytes, owner: Owner
    ) -> tuple[int, str]:
        context = multiprocessing.get_context("forkserver")
        args = (
            path,
            source.qf,
            str(source.df_path),
            source.host_name,
            headers,
            owner.uid,
            owner.gid,
            self.lock_timeout,
        )
        child = context.Process(target=_append_as, args=args, daemon=True)
        await asyncio.to_thread(child.start)
        await asyncio.to_thread(child.join)
        code = child.exitcode if child.exitcode is not None else EX_TEMPFAIL
        child.close()
        if code < 0:
            return EX_TEMPFAIL, f"file writer killed by signal {-code}"
        return code, "" if code == EX_OK else f"cannot write {path} as {owner.name}"


class _OpenedSource(MessageSource):
    """A message whose df was opened before the process gave up root."""

    def __init__(self, qf: QueueFile, handle: BinaryIO, host_name: str, df: str) -> None:
        super().__init__(qf, Path(df), host_name)
        self.handle = handle

    def body_lines(self) -> Iterator[bytes]:
        self.handle.seek(0)
        yield from self.handle


def _append_as(
    path: str,
    qf: QueueFile,
    df: str,
    host_name: str,
    headers: bytes,
    uid: int,
    gid: int,
    lock_timeout: float,
) -> None:
    """Child process: open the df, become ``uid``/``gid`` for good, append, exit with a code."""
    with open(df, "rb") as handle:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        source = _OpenedSource(qf, handle, host_name, df)
        try:
            append_mbox(Path(path), mbox_chunks(source, headers), lock_timeout=lock_timeout)
        except MailboxError:
            raise SystemExit(EX_CANTCREAT) from None
        except OSError:
            raise SystemExit(EX_TEMPFAIL) from None
    raise SystemExit(EX_OK)


def main(argv: Sequence[str] | None = None) -> int:
    """Child entry: append standard input (mbox form) to the file named in argv."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        return 64
    data = iter(lambda: sys.stdin.buffer.read(65536), b"")
    try:
        append_mbox(Path(args[0]), data)
    except MailboxError as exc:
        print(exc)
        return EX_TEMPFAIL if exc.temporary else EX_CANTCREAT
    return EX_OK


if __name__ == "__main__":
    sys.exit(main())
