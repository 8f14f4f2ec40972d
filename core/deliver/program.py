"""The *prog* agent: ``|command`` targets from aliases and ``.forward`` files.

The command line is split with :func:`shlex.split` and run with
``execve`` -- never through a shell, so ``$HOME``, ``;`` or backquotes are
plain argument text.  Rules (BAD-INPUTS D.45):

- only for a recipient with a controlling user (qf ``C`` line); otherwise
  "Cannot mail directly to programs"; the program must be an absolute path;
- it runs as the owner, never root (see :mod:`.owner`), in its own session,
  in the owner's home folder, with a scrubbed environment: ``PATH``,
  ``HOME``, ``USER``, ``LOGNAME``, ``SHELL`` and ``SENDER``/``RECIPIENT``
  with every character outside Postfix's safe set replaced by ``_``;
- standard input is the message: the ``From sender date`` line (Sendmail's
  prog mailer lacks the ``n`` flag; ``vacation`` needs it), headers for the prog
  mailer, blank line, body; standard output and error are kept, capped at
  :data:`OUTPUT_CAP`;
- after ``timeout`` seconds the whole process group is killed and the
  recipient deferred;
- Postroom's own ``vacation`` (a bare ``vacation`` command) gets a reply
  channel (:mod:`..vacation.reply_channel`): the agent queues the reply it
  hands back, since the owner may not write the queue;
- exit 0 is success, 75 (EX_TEMPFAIL) defers, anything else bounces with
  Sendmail's text for the exit code and the captured output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import BinaryIO

from ..vacation.errors import VacationError
from ..vacation.reply_channel import ENV as REPLY_FD_ENV
from ..vacation.reply_channel import HEADER_CAP, MAX_SIZE, read_replies
from ..vacation.responder import Submit
from .address import Target
from .message import MessageSource, from_line, plain_chunks
from .outcome import EX_NOPERM, EX_TEMPFAIL, SYSEXITS, Outcome, deferred, failed, sent
from .owner import Owner, delivery_owner, needs_switch

OUTPUT_CAP = 1024
SAFE = frozenset("1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def safe_value(text: str) -> str:
    """``text`` with every character outside the safe set replaced by ``_``."""
    return "".join(c if c in SAFE else "_" for c in text)


def own_vacation_command(args: list[str]) -> tuple[list[str], str | None]:
    """Argv and executable of Postroom's own vacation program, run by this interpreter.

    A frozen bundle (PyInstaller) has no ``-m``: its executable is run under the
    link name ``vacation``, which it answers to as Sendmail's link names do.
    """
    if getattr(sys, "frozen", False):
        return ["vacation", *args], sys.executable
    return [sys.executable, "-m", "postroom.core.vacation", *args], None


class ProgramAgent:
    """Runs delivery programs."""

    def __init__(
        self,
        *,
        timeout: float = 1000.0,
        config_path: Path | None = None,
        reply_submit: Submit | None = None,
    ) -> None:
        self.timeout = timeout
        self.config_path = config_path
        self.reply_submit = reply_submit

    async def deliver(
        self, target: Target, source: MessageSource, owner: Owner | None, recipient: str
    ) -> Outcome:
        """Pipe ``source`` into the program of ``target``."""
        if owner is None:
            return self._refuse(target, "Cannot mail directly to programs")
        try:
            argv = shlex.split(target.program)
        except ValueError as exc:
            return self._refuse(target, f"Bad program syntax: {exc}", status="5.3.0")
        own_vacation = bool(argv) and argv[0] == "vacation"
        executable: str | None = None
        if own_vacation:
            argv, executable = own_vacation_command(argv[1:])
        if not argv or not os.path.isabs(executable or argv[0]):
            return self._refuse(target, "Program must be an absolute path", status="5.3.0")
        runner = delivery_owner(owner)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": runner.home,
            "USER": runner.name,
            "LOGNAME": runner.name,
            "SHELL": "/bin/sh",
            "SENDER": safe_value(source.return_path),
            "RECIPIENT": safe_value(recipient),
        }
        if self.config_path is not None:
            env["POSTROOM_CONFIG"] = str(self.config_path)
        extra: dict[str, object] = {}
        if needs_switch(runner):
            extra = {"user": runner.uid, "group": runner.gid, "extra_groups": []}
        if executable is not None:
            extra["executable"] = executable
        channel: tuple[int, int] | None = None
        if own_vacation and self.reply_submit is not None:
            channel = os.pipe()
            env[REPLY_FD_ENV] = str(channel[1])
            extra["pass_fds"] = (channel[1],)
        cwd = runner.home if os.path.isdir(runner.home) else "/"
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                **extra,  # type: ignore[arg-type]
            )
        except OSError as exc:
            if channel is not None:
                os.close(channel[0])
            text = f"554 5.3.0 {target.shown}... cannot execute {argv[0]}: {exc.strerror}"
            return failed(
                "Service unavailable",
                status="5.3.0",
                diagnostic=text,
                diagnostic_type="X-Unix",
                mailer="prog",
            )
        finally:
            if channel is not None:
                os.close(channel[1])
        pipe = os.fdopen(channel[0], "rb", buffering=0) if channel is not None else None
        replies = asyncio.ensure_future(_read_pipe(pipe, MAX_SIZE + HEADER_CAP))
        try:
            output, code = await asyncio.wait_for(self._feed(proc, source), self.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            replies.cancel()
            if pipe is not None:
                pipe.close()
            text = f"timeout after {self.timeout:g} seconds"
            return deferred(f"Deferred: {text}", status="4.3.0", diagnostic=text, mailer="prog")
        outcome = self._result(target, code, output)
        channel_data = await replies
        if code == 0 and channel_data:
            return self._queue_replies(channel_data) or outcome
        return outcome

    def _queue_replies(self, data: bytes) -> Outcome | None:
        """Queue the replies the program handed over; a deferral when that fails."""
        assert self.reply_submit is not None
        try:
            for reply in read_replies(data):
                self.reply_submit(reply.sender, reply.recipients, reply.message)
        except (VacationError, OSError) as exc:
            text = f"vacation reply not queued: {exc}"
            return deferred(f"Deferred: {text}", status="4.3.0", diagnostic=text, mailer="prog")
        return None

    async def _feed(
        self, proc: asyncio.subprocess.Process, source: MessageSource
    ) -> tuple[bytes, int]:
        assert proc.stdin is not None and proc.stdout is not None
        reader = asyncio.ensure_future(_read_capped(proc.stdout))
        try:
            proc.stdin.write(from_line(source.return_path))
            for chunk in plain_chunks(source, source.header_bytes("prog")):
                proc.stdin.write(chunk)
                await proc.stdin.drain()
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass
        output = await reader
        return output, await proc.wait()

    def _result(self, target: Target, code: int, output: bytes) -> Outcome:
        detail = output.decode("utf-8", "replace").strip()
        if code == 0:
            return sent("Sent", mailer="prog")
        if code == EX_TEMPFAIL:
            return deferred(
                "Deferred" + (f": {detail.splitlines()[0]}" if detail else ""),
                status="4.3.0",
                diagnostic=detail or None,
                mailer="prog",
            )
        _smtp, status, text = SYSEXITS.get(code, ("554", "5.3.0", f"unknown mailer error {code}"))
        if code < 0:
            text = f"killed by signal {-code}"
        return failed(
            text,
            status=status,
            diagnostic=text,
            diagnostic_type="X-Unix",
            mailer="prog",
            exit_status=code,
            details=detail or None,
        )

    def _refuse(self, target: Target, why: str, *, status: str = "5.7.1") -> Outcome:
        text = f"550 {status} {target.shown}... {why}"
        return failed(why, status=status, diagnostic=text, exit_status=EX_NOPERM, mailer="prog")


async def _read_capped(stream: asyncio.StreamReader, cap: int = OUTPUT_CAP) -> bytes:
    """Read everything, keeping the first ``cap`` bytes."""
    kept = bytearray()
    while True:
        block = await stream.read(65536)
        if not block:
            return bytes(kept)
        if len(kept) < cap:
            kept += block[: cap - len(kept)]


async def _read_pipe(pipe: BinaryIO | None, cap: int) -> bytes:
    """Read ``pipe`` to its end and close it, keeping ``cap`` bytes (``b""`` for no pipe)."""
    if pipe is None:
        return b""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
    except BaseException:
        pipe.close()
        raise
    try:
        return await _read_capped(reader, cap)
    finally:
        transport.close()
