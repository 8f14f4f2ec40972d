"""The file system's cost of a queue write pattern, without any SMTP.

Writes N messages (a 4 KB df and a 600-byte control file each) into fresh
folders, in batches, from a few threads, three ways, in turn, for several
rounds:

- ``dsync``: Postroom before 2026-11-26 -- df and tf each created ``O_DSYNC``
  (the write is the fdatasync), tf renamed to qf, one directory fsync a batch;
- ``writeback``: Postroom now -- the batch's df and tf written plainly, the
  write-back of all of them started (``sync_file_range``), each fdatasynced,
  tf renamed to qf, one directory fsync a batch;
- ``postfix``: Postfix's ``cleanup`` -- one file a message, fsync, renamed.

Prints messages/s and the process's system CPU per message.  Nothing is
removed until the end and the disk is synced between runs, so one pattern's
leftovers do not slow the next (see ``compare_mta.py``).

    .venv/bin/python bench/queue_fs.py [--messages 2000] [--batch 4] [--threads 2]
        [--rounds 3] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import fcntl
import itertools
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from postroom.core.queue.writeback import start_writeback

BODY = b"x" * 4096
CONTROL = b"q" * 600
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC

_ids = itertools.count()
_ids_lock = threading.Lock()


def next_id() -> int:
    with _ids_lock:
        return next(_ids)


def new_file(path: str, data: bytes, extra: int = 0) -> int:
    fd = os.open(path, CREATE | extra, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, data)
    return fd


def two_files(folder: str, dir_fd: int, batch: int, *, dsync: bool) -> None:
    fds: list[int] = []
    ids = [next_id() for _ in range(batch)]
    extra = os.O_DSYNC if dsync else 0
    for n in ids:
        fds.append(new_file(f"{folder}/df{n}", BODY, extra))
        fds.append(new_file(f"{folder}/tf{n}", CONTROL, extra))
    if not dsync:
        for fd in fds:
            start_writeback(fd)
        for fd in fds:
            os.fdatasync(fd)
    for n in ids:
        os.rename(f"{folder}/tf{n}", f"{folder}/qf{n}")
    os.fsync(dir_fd)
    for fd in fds:
        os.close(fd)


def one_file(folder: str, dir_fd: int, batch: int) -> None:
    for _ in range(batch):
        n = next_id()
        fd = new_file(f"{folder}/in{n}", BODY + CONTROL)
        os.fsync(fd)
        os.rename(f"{folder}/in{n}", f"{folder}/hold{n}")
        os.close(fd)


PATTERNS: dict[str, Callable[[str, int, int], None]] = {
    "dsync": lambda folder, fd, batch: two_files(folder, fd, batch, dsync=True),
    "writeback": lambda folder, fd, batch: two_files(folder, fd, batch, dsync=False),
    "postfix": one_file,
}


def run(pattern: str, base: Path, opts: argparse.Namespace) -> tuple[float, float]:
    """(messages/s, system CPU seconds per message) of one run in a fresh folder."""
    folder = tempfile.mkdtemp(prefix=f"{pattern}-", dir=base)
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    batches = opts.messages // opts.threads // opts.batch
    write = PATTERNS[pattern]

    def work() -> None:
        for _ in range(batches):
            write(folder, dir_fd, opts.batch)

    before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(opts.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    system = resource.getrusage(resource.RUSAGE_SELF).ru_stime - before
    os.close(dir_fd)
    os.sync()
    count = batches * opts.threads * opts.batch
    return count / elapsed, system / count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    opts = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="postroom-queue-fs-", dir=opts.dir))
    rates: dict[str, list[float]] = {name: [] for name in PATTERNS}
    print(f"{opts.messages} messages, batches of {opts.batch}, {opts.threads} threads, in {base}")
    try:
        for number in range(opts.rounds):
            for name in PATTERNS:
                rate, system = run(name, base, opts)
                rates[name].append(rate)
                print(f"round {number + 1}  {name:<10} {rate:7.0f} msg/s  "
                      f"system CPU {system * 1e3:.2f} ms/msg", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for name, values in rates.items():
        print(f"median {name:<10} {statistics.median(values):7.0f} msg/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
