"""fsync in the background through Linux kernel AIO, completions signalled on an eventfd.

:class:`SyncRing` hands fsyncs and fdatasyncs to the kernel with one
``io_submit`` (``IOCB_CMD_FSYNC`` / ``IOCB_CMD_FDSYNC``, which the kernel
runs on its own workers since Linux 4.18) and returns at once.  Each
completion adds one to :attr:`SyncRing.eventfd`, a descriptor an event loop
watches like a socket; :meth:`SyncRing.reap` then collects the finished
syncs without blocking, each as ``(token, errno)`` (0 for success).

:func:`open_sync_ring` returns None where kernel AIO cannot fsync: not Linux
on x86-64 or arm64, no libc, ``io_setup`` refused (``fs.aio-max-nr``
reached), or a kernel older than 4.18 (which refuses the fsync commands).
"""

from __future__ import annotations

import ctypes
import os
import platform
import select
from collections.abc import Sequence
from typing import NamedTuple

from .libc import libc_function

# <linux/aio_abi.h>
_IOCB_CMD_FSYNC = 2
_IOCB_CMD_FDSYNC = 3
_IOCB_FLAG_RESFD = 1


class _Calls(NamedTuple):
    """The four system call numbers of one architecture (<asm/unistd.h>)."""

    setup: int
    destroy: int
    getevents: int
    submit: int


_CALLS = {
    "x86_64": _Calls(setup=206, destroy=207, getevents=208, submit=209),
    "aarch64": _Calls(setup=0, destroy=1, getevents=4, submit=2),
}


class _Iocb(ctypes.Structure):
    """``struct iocb``, little-endian layout (``aio_key`` before ``aio_rw_flags``)."""

    _fields_ = (
        ("aio_data", ctypes.c_uint64),
        ("aio_key", ctypes.c_uint32),
        ("aio_rw_flags", ctypes.c_int32),
        ("aio_lio_opcode", ctypes.c_uint16),
        ("aio_reqprio", ctypes.c_int16),
        ("aio_fildes", ctypes.c_uint32),
        ("aio_buf", ctypes.c_uint64),
        ("aio_nbytes", ctypes.c_uint64),
        ("aio_offset", ctypes.c_int64),
        ("aio_reserved2", ctypes.c_uint64),
        ("aio_flags", ctypes.c_uint32),
        ("aio_resfd", ctypes.c_uint32),
    )


class _IoEvent(ctypes.Structure):
    """``struct io_event``: the request's ``aio_data``, the iocb's address, the result."""

    _fields_ = (
        ("data", ctypes.c_uint64),
        ("obj", ctypes.c_uint64),
        ("res", ctypes.c_int64),
        ("res2", ctypes.c_int64),
    )


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


_syscall = libc_function("syscall", (ctypes.c_long,), ctypes.c_long)  # variadic after that
_DO_NOT_WAIT = _Timespec(0, 0)


def _call(number: int, *args: object) -> int:
    """``syscall(number, *args)``; raises OSError on -1."""
    assert _syscall is not None
    result = _syscall(number, *args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(result)


class SyncRing:
    """One kernel AIO context whose fsyncs report on :attr:`eventfd`."""

    def __init__(self, context: int, eventfd: int, capacity: int, calls: _Calls) -> None:
        self.eventfd = eventfd
        self.capacity = capacity
        self.in_flight = 0
        self._context = ctypes.c_ulong(context)
        self._calls = calls
        self._events = (_IoEvent * capacity)()

    def submit(self, requests: Sequence[tuple[int, int, bool]]) -> int:
        """Start ``(fd, token, datasync)`` syncs; how many the kernel took (a prefix).

        ``datasync`` chooses fdatasync over fsync.  The kernel stops at the first
        request it refuses (a descriptor that cannot be synced, no room left), and
        OSError when it refuses the first one.
        """
        count = min(len(requests), self.capacity - self.in_flight)
        if count <= 0:
            if requests:
                raise OSError(0, f"{self.in_flight} syncs in flight, room for {self.capacity}")
            return 0
        blocks = (_Iocb * count)()
        pointers = (ctypes.POINTER(_Iocb) * count)()
        for i, (fd, token, datasync) in enumerate(requests[:count]):
            block = blocks[i]
            block.aio_data = token
            block.aio_lio_opcode = _IOCB_CMD_FDSYNC if datasync else _IOCB_CMD_FSYNC
            block.aio_fildes = fd
            block.aio_flags = _IOCB_FLAG_RESFD
            block.aio_resfd = self.eventfd
            pointers[i] = ctypes.pointer(block)
        taken = _call(self._calls.submit, self._context, ctypes.c_long(count), pointers)
        self.in_flight += taken  # the kernel has copied the iocbs; ``blocks`` may go
        return taken

    def reap(self) -> list[tuple[int, int]]:
        """``(token, errno)`` of every sync finished by now (errno 0: done); never blocks."""
        try:
            os.eventfd_read(self.eventfd)
        except BlockingIOError:
            pass
        done: list[tuple[int, int]] = []
        while self.in_flight:
            got = _call(
                self._calls.getevents,
                self._context,
                ctypes.c_long(0),
                ctypes.c_long(self.capacity),
                ctypes.cast(self._events, ctypes.c_void_p),
                ctypes.cast(ctypes.byref(_DO_NOT_WAIT), ctypes.c_void_p),
            )
            if got == 0:
                break
            done.extend((int(e.data), -int(e.res) if e.res < 0 else 0) for e in self._events[:got])
            self.in_flight -= got
        return done

    def close(self) -> None:
        """Destroy the context (the kernel waits for syncs still running) and the eventfd."""
        _call(self._calls.destroy, self._context)
        os.close(self.eventfd)


def open_sync_ring(capacity: int = 512) -> SyncRing | None:
    """A new :class:`SyncRing`, or None where kernel AIO cannot fsync here."""
    calls = _CALLS.get(platform.machine())
    if _syscall is None or calls is None or not hasattr(os, "eventfd"):
        return None
    context = ctypes.c_ulong(0)
    if _syscall(calls.setup, ctypes.c_long(capacity), ctypes.byref(context)) < 0:
        return None
    ring = SyncRing(context.value, os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC), capacity, calls)
    if not _fsync_supported(ring):
        ring.close()
        return None
    return ring


def _fsync_supported(ring: SyncRing) -> bool:
    """Kernels before 4.18 refuse every AIO fsync (EINVAL at submit): try one, on a
    descriptor of an empty anonymous file, and wait for it."""
    fd = os.memfd_create("postroom-aio-probe", os.MFD_CLOEXEC)
    try:
        ring.submit([(fd, 0, False)])
    except OSError:
        return False
    finally:
        os.close(fd)  # the kernel holds its own reference while the sync runs
    while ring.in_flight:
        select.select([ring.eventfd], [], [])
        ring.reap()
    return True
