"""Real write failures: ENOSPC on a tiny tmpfs, EFBIG under RLIMIT_FSIZE, and the mapping
of errno values to the receiver's replies.  Nothing partial is left, nothing renamed."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from postroom.core.queue import (
    QueueFullError,
    QueueIOError,
    QueueStore,
    QueueTooBigError,
    durable,
    write_error,
)

from .helpers import message_qf, names


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (we run as root in CI); unmounted afterwards."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (root needed): {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_enospc_while_writing_the_body(tiny_fs: Path) -> None:
    writer = QueueStore(tiny_fs).new_message()
    with pytest.raises(QueueFullError) as info:
        for _ in range(64):
            writer.write(b"x" * 4096)
    assert info.value.errno == errno.ENOSPC
    assert info.value.reply.startswith("452 4.3.1")
    assert "ENOSPC" in str(info.value) and writer.qid in str(info.value)
    assert names(tiny_fs) == set()
    assert writer.state == "aborted"


def test_enospc_while_writing_the_control_file(tiny_fs: Path) -> None:
    store = QueueStore(tiny_fs)
    filler = tiny_fs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"f" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    writer = store.new_message()  # an empty df needs no data block
    with pytest.raises(QueueFullError):
        writer.commit(message_qf(writer.qid, 40))
    assert names(tiny_fs) == {"filler"}
    filler.unlink()
    ok = store.new_message()
    ok.write(b"fits now\n")
    ok.commit(message_qf(ok.qid, 49))
    assert names(tiny_fs) == {"df" + ok.qid, "qf" + ok.qid}


def test_efbig_under_a_file_size_limit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from postroom.core.queue import QueueStore, QueueTooBigError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10000, 10000))
        writer = QueueStore(Path({str(tmp_path)!r})).new_message()
        try:
            writer.write(b"y" * 20000)
        except QueueTooBigError as exc:
            left = sorted(p.name for p in Path({str(tmp_path)!r}).iterdir())
            print(exc.reply, exc.errno_name, left)
            sys.exit(0)
        sys.exit(1)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "552 5.3.4 Message too big for system EFBIG []"


@pytest.mark.parametrize(
    ("err", "cls", "reply"),
    [
        (errno.ENOSPC, QueueFullError, "452 4.3.1"),
        (errno.EDQUOT, QueueFullError, "452 4.3.1"),
        (errno.EFBIG, QueueTooBigError, "552 5.3.4"),
        (errno.EIO, QueueIOError, "451 4.3.0"),
        (errno.EROFS, QueueIOError, "451 4.3.0"),
    ],
)
def test_errno_mapping(err: int, cls: type, reply: str) -> None:
    exc = write_error(OSError(err, os.strerror(err)), "/q/dfX", "writing")
    assert type(exc) is cls
    assert exc.reply.startswith(reply)
    assert str(exc).startswith(errno.errorcode[err])
    assert "/q/dfX" in str(exc)


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "lstat-then-rename"])
def test_publishing_never_replaces_an_existing_qf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renameat2: bool
) -> None:
    if not renameat2:
        monkeypatch.setattr(durable, "_renameat2", None)
    else:
        assert durable._renameat2 is not None  # this Linux has it
    writer = QueueStore(tmp_path).new_message(buffered=True)
    writer.write(b"mine\n")
    theirs = tmp_path / ("qf" + writer.qid)
    writer.prepare(message_qf(writer.qid, 45))
    theirs.write_bytes(b"a control file that appeared meanwhile\n")
    with pytest.raises(QueueIOError) as info:
        writer.publish()
    assert info.value.errno == errno.EEXIST and info.value.action == "refusing to overwrite"
    assert theirs.read_bytes() == b"a control file that appeared meanwhile\n"
    assert names(tmp_path) == {"qf" + writer.qid}  # its own df and tf removed
