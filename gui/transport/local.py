"""``LocalTransport``: ``postroom-mta --rpc`` as a child process of this interpreter.

The child is ``sys.executable -m postroom.core.cli --rpc [-C FILE] [-O Opt=Val ...]``
(``command`` replaces the part before ``-C``, e.g. to run ``-m postroom.core.control``).
Its stdout carries the protocol; its stderr is collected in the background (the last
lines are kept) so it can never block the child and can explain a failure: when the
stream ends, ``read_line`` raises ``TransportError`` with the exit status and those
lines.  ``close`` ends stdin (the server's signal to exit), waits a little, then
terminates and finally kills the child, by its pid.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from postroom.core.control.client import TransportError
from postroom.core.control.protocol import MAX_REPLY_BYTES

_STDERR_LINES = 20
_PIPE_BUFFER = 1 << 16


def default_command() -> list[str]:
    return [sys.executable, "-m", "postroom.core.cli", "--rpc"]


class LocalTransport:
    """A line transport over a local ``postroom-mta --rpc`` subprocess."""

    def __init__(
        self,
        config: Path | None = None,
        *,
        overrides: Sequence[str] = (),
        command: Sequence[str] | None = None,
        max_line: int = MAX_REPLY_BYTES,
    ) -> None:
        argv = list(command) if command is not None else default_command()
        if config is not None:
            argv += ["-C", str(config)]
        for override in overrides:
            argv += ["-O", override]
        self.argv = argv
        self.max_line = max_line
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._closed = False
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=_PIPE_BUFFER,
                close_fds=True,
            )
        except OSError as exc:
            raise TransportError(f"cannot start {argv[0]}: {exc.strerror}") from None
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name="rpc-stderr", daemon=True
        )
        self._stderr_thread.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def send_line(self, data: bytes) -> None:
        stdin = self.proc.stdin
        if stdin is None or self._closed:
            raise TransportError("the local postroom-mta --rpc was closed")
        try:
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise TransportError(self._ended_text()) from None

    def read_line(self) -> bytes:
        stdout = self.proc.stdout
        if stdout is None:
            raise TransportError("the local postroom-mta --rpc was closed")
        try:
            line = stdout.readline(self.max_line + 1)
        except (ValueError, OSError):
            raise TransportError(self._ended_text()) from None
        if not line:
            raise TransportError(self._ended_text())
        if len(line) > self.max_line:
            raise TransportError(f"protocol error: a line longer than {self.max_line} bytes")
        return line

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr_thread.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def _ended_text(self) -> str:
        if self._closed:
            return "the local postroom-mta --rpc was closed"
        try:
            status = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the local postroom-mta --rpc stopped answering"
        self._stderr_thread.join(timeout=5)
        tail = " | ".join(list(self._stderr)[-3:])
        return f"the local postroom-mta --rpc ended (exit status {status})" + (
            f": {tail}" if tail else ""
        )
