"""Turning an ``strace -f -yy -xx`` log into the file-system operations on one folder.

The recorder runs the real daemon under::

    strace -f -qq -yy -xx -s 16777216 -e trace=%file,%desc,%network -o LOG ...

``-xx`` prints every string (and every path in a ``<...>`` fd decoration) as
``\\xNN`` escapes, so data is recovered byte for byte; ``-yy`` names what each
descriptor is.  :func:`parse_trace` keeps, in the order the calls *completed*,
what happened inside ``folder`` (creations, data writes with their offsets,
``fsync``/``fdatasync`` of files and of the folder itself, renames, unlinks,
truncations; a write through an ``O_DSYNC`` descriptor is followed by an
``fsync`` of its file that begins as the write completes; an fsync handed to
kernel AIO begins at its ``io_submit`` and counts as done only at the
``io_getevents`` that reports it, which is no earlier than it finished) plus every datagram
or stream write to a TCP socket (to find the moment the ``250`` left).  A
call split by another thread (``<unfinished ...>`` / ``<... resumed>``) is
joined; its *start* position is kept too, because an ``fsync`` only covers
writes that completed before it began.  Failed calls (``= -1``) are dropped.

strace names each call by its thread id.  Descriptor numbers are per
process (shared by its threads), so the parser follows ``clone``/``fork``
(traced as ``%process``): a child created with ``CLONE_THREAD`` shares its
creator's descriptor table, any other child (a session worker, or any process it
forks) has its own.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

HEX = r"(?:\\x[0-9a-f]{2})*"
_FD = re.compile(rf"^(-?\d+|AT_FDCWD)<({HEX}|[A-Z0-9]+:\[[^\]]*\])>")
_STR = re.compile(rf'"({HEX})"')
_LINE = re.compile(r"^(\d+) +(.*)$")
_CALL = re.compile(r"^([a-z0-9_]+)\((.*)$")
_RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$")
_RESULT = re.compile(r"^(.*)\) += (-?\d+)(?:<(" + HEX + r")>)?(?: .*)?$")
_AIO_SYNC = re.compile(
    rf"\{{aio_data=(\w+), aio_lio_opcode=IOCB_CMD_F(?:D)?SYNC, aio_fildes=\d+<({HEX})>"
)
_AIO_EVENT = re.compile(r"\{data=(\w+), obj=\w+, res=(-?\w+)")
TRACED = "%file,%desc,%network,%process,io_submit,io_getevents"


def unhex(text: str) -> bytes:
    """``\\x41\\x42`` -> ``b"AB"``; a socket decoration (``TCP:[...]``) is returned as is."""
    if not text.startswith("\\x"):
        return text.encode()
    return bytes.fromhex(text.replace("\\x", ""))


@dataclass(frozen=True)
class Op:
    """One completed operation.

    ``kind``: ``create`` (``path``), ``write`` (``path``, ``offset``, ``data``),
    ``truncate`` (``path``, ``offset`` = new size), ``fsync`` (``path``: a file
    or the folder), ``rename`` (``path`` -> ``target``), ``unlink`` (``path``),
    ``send`` (``data`` written to a TCP socket).  ``seq`` is where the call
    completed in the log (twice the line number), ``start`` where it began.
    """

    kind: str
    seq: int
    start: int
    path: str = ""
    target: str = ""
    offset: int = 0
    data: bytes = b""


@dataclass
class _Fd:
    path: str
    offset: int
    append: bool
    synchronous: bool = False  # O_DSYNC / O_SYNC: each write is also its fdatasync


class _Parser:
    def __init__(self, folder: Path) -> None:
        self.folder = os.path.realpath(folder)
        self.fds: dict[tuple[int, int], _Fd] = {}  # (process, fd) -- see key()
        self.process: dict[int, int] = {}  # thread id -> the process whose descriptors it uses
        self.ops: list[Op] = []
        self.pending: dict[int, tuple[str, str, int]] = {}
        self.sizes: dict[str, int] = {}
        self.aio: dict[tuple[int, str, int], tuple[str, int]] = {}  # (process, context, data)

    def key(self, thread: int, fd: int) -> tuple[int, int]:
        return self.process.get(thread, thread), fd

    def inside(self, path: str) -> bool:
        return path == self.folder or os.path.dirname(path) == self.folder

    def feed(self, number: int, line: str) -> None:
        match = _LINE.match(line)
        if match is None:
            return
        pid, rest = int(match.group(1)), match.group(2)
        resumed = _RESUMED.match(rest)
        if resumed is not None:
            if pid not in self.pending:
                return
            name, args, start = self.pending.pop(pid)
            rest = args + resumed.group(2)
        else:
            call = _CALL.match(rest)
            if call is None:
                return
            name, rest, start = call.group(1), call.group(2), number
            if rest.endswith("<unfinished ...>"):
                self.pending[pid] = (name, rest[: -len("<unfinished ...>")].rstrip(), number)
                return
        result = _RESULT.match(rest)
        if result is None:
            return
        args, code, decoration = result.group(1), int(result.group(2)), result.group(3)
        if code < 0:
            return
        self.handle(pid, name, args, code, decoration, number, start)

    def _path(self, dir_token: str | None, raw: bytes) -> str:
        path = raw.decode("utf-8", "surrogateescape")
        if os.path.isabs(path) or dir_token is None:
            return os.path.normpath(path)
        return os.path.normpath(os.path.join(dir_token, path))

    def _dirfd(self, args: str) -> str | None:
        fd = _FD.match(args)
        return unhex(fd.group(2)).decode("utf-8", "surrogateescape") if fd else None

    def _fd(self, args: str) -> tuple[int, str] | None:
        fd = _FD.match(args)
        if fd is None or fd.group(1) == "AT_FDCWD":
            return None
        return int(fd.group(1)), unhex(fd.group(2)).decode("utf-8", "surrogateescape")

    def handle(
        self, pid: int, name: str, args: str, code: int, deco: str | None, seq: int, start: int
    ) -> None:
        strings = [unhex(s) for s in _STR.findall(args)]
        if name in ("clone", "clone3", "fork", "vfork") and code > 0:
            thread = "CLONE_THREAD" in args
            self.process[code] = self.process.get(pid, pid) if thread else code
        elif name in ("open", "openat", "creat") and deco is not None:
            base = self._dirfd(args) if name == "openat" else None
            path = self._path(base, strings[0]) if strings else ""
            if not self.inside(path):
                return
            flags = args.split(",")[2 if name == "openat" else 1] if "," in args else ""
            created = "O_CREAT" in flags and (
                "O_EXCL" in flags or path not in self.sizes or name == "creat"
            )
            if created:
                self.ops.append(Op("create", seq, start, path=path))
                self.sizes[path] = 0
            if "O_TRUNC" in flags and not created:
                self.ops.append(Op("truncate", seq, start, path=path, offset=0))
                self.sizes[path] = 0
            self.sizes.setdefault(path, 0)
            append = "O_APPEND" in flags
            synchronous = "O_DSYNC" in flags or "O_SYNC" in flags
            offset = self.sizes[path] if append else 0
            self.fds[self.key(pid, code)] = _Fd(path, offset, append, synchronous)
        elif name in ("write", "pwrite64", "sendto", "sendmsg") and strings:
            fd = self._fd(args)
            if fd is None:
                return
            number, target = fd
            data = strings[0][:code]
            if target.startswith(("TCP:", "TCPv6:")):
                self.ops.append(Op("send", seq, start, data=data))
                return
            if not self.inside(target) or name.startswith("send"):
                return
            state = self.fds.get(self.key(pid, number)) or _Fd(
                target, self.sizes.get(target, 0), False
            )
            if name == "pwrite64":
                offset = int(args.rsplit(",", 1)[1])
            else:
                offset = self.sizes.get(target, 0) if state.append else state.offset
                state.offset = offset + len(data)
            self.fds[self.key(pid, number)] = state
            self.ops.append(Op("write", seq, start, path=target, offset=offset, data=data))
            self.sizes[target] = max(self.sizes.get(target, 0), offset + len(data))
            if state.synchronous:  # durable when the call returns: an fsync just after it
                self.ops.append(Op("fsync", seq + 1, seq + 1, path=target))
        elif name in ("fsync", "fdatasync"):
            fd = self._fd(args)
            if fd is not None and self.inside(fd[1]):
                self.ops.append(Op("fsync", seq, start, path=fd[1]))
        elif name == "io_submit":
            context = args.split(",", 1)[0]
            for data, path in _AIO_SYNC.findall(args)[:code]:  # the kernel took ``code``
                target = unhex(path).decode("utf-8", "surrogateescape")
                self.aio[(self.process.get(pid, pid), context, int(data, 0))] = (target, start)
        elif name == "io_getevents":
            context = args.split(",", 1)[0]
            for data, result in _AIO_EVENT.findall(args)[:code]:
                submitted = self.aio.pop((self.process.get(pid, pid), context, int(data, 0)), None)
                if submitted is not None and int(result, 0) == 0 and self.inside(submitted[0]):
                    self.ops.append(Op("fsync", seq, submitted[1], path=submitted[0]))
        elif name == "ftruncate":
            fd = self._fd(args)
            if fd is not None and self.inside(fd[1]):
                size = int(args.rsplit(",", 1)[1])
                self.ops.append(Op("truncate", seq, start, path=fd[1], offset=size))
                self.sizes[fd[1]] = size
        elif name in ("rename", "renameat", "renameat2") and len(strings) >= 2:
            if name == "rename":
                old, new = self._path(None, strings[0]), self._path(None, strings[1])
            else:
                parts = args.split(", ")
                old = self._path(self._dirfd(parts[0]), strings[0])
                new = self._path(self._dirfd(parts[2]), strings[1])
            if self.inside(old) or self.inside(new):
                self.ops.append(Op("rename", seq, start, path=old, target=new))
                self.sizes[new] = self.sizes.pop(old, 0)
        elif name in ("unlink", "unlinkat") and strings:
            base = self._dirfd(args) if name == "unlinkat" else None
            path = self._path(base, strings[0])
            if self.inside(path) and "AT_REMOVEDIR" not in args:
                self.ops.append(Op("unlink", seq, start, path=path))
                self.sizes.pop(path, None)
        elif name == "close":
            fd = self._fd(args)
            open_file = self.fds.get(self.key(pid, fd[0])) if fd is not None else None
            # Another thread may have reused the number before this close was logged.
            if fd is not None and open_file is not None and open_file.path == fd[1]:
                del self.fds[self.key(pid, fd[0])]


def parse_trace(text: str, folder: Path) -> list[Op]:
    """The operations on ``folder`` (and TCP sends) in completion order."""
    parser = _Parser(folder)
    for number, line in enumerate(text.splitlines()):
        parser.feed(2 * number, line)  # odd positions: the syncs implied by O_DSYNC writes
    return parser.ops
