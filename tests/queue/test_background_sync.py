"""Background syncs for the loop committer: kernel AIO and the helper-thread fallback."""

from __future__ import annotations

import asyncio
import errno
import os
import select
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from postroom.core.queue.background_sync import (
    BackgroundSync,
    KernelSync,
    SyncRequest,
    ThreadSync,
)
from postroom.core.queue.kernel_aio import SyncRing, open_sync_ring

Engine = Callable[[asyncio.AbstractEventLoop], BackgroundSync]


def _kernel(loop: asyncio.AbstractEventLoop) -> BackgroundSync:
    ring = open_sync_ring()
    assert ring is not None
    return KernelSync(loop, ring)


@pytest.fixture(params=["kernel-aio", "thread"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return _kernel if request.param == "kernel-aio" else ThreadSync


@pytest.fixture
def files(tmp_path: Path) -> Iterator[list[int]]:
    fds = []
    for i in range(4):
        fd = os.open(tmp_path / f"f{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"x" * 4096)
        fds.append(fd)
    yield fds
    for fd in fds:
        os.close(fd)


async def _run(sync: BackgroundSync, requests: list[SyncRequest]) -> tuple[list[int], bool]:
    """Start one group; its errors and whether the callback ran on the loop's thread."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[tuple[list[int], bool]] = loop.create_future()
    loop_thread = threading.get_ident()

    def done(errors: list[int]) -> None:
        result.set_result((errors, threading.get_ident() == loop_thread))

    sync.start(requests, done)
    assert not result.done()  # start() never calls back before it returns
    return await result


def test_every_file_and_the_directory_sync(
    engine: Engine, files: list[int], tmp_path: Path
) -> None:
    directory = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)

    async def scenario() -> tuple[list[int], bool]:
        sync = engine(asyncio.get_running_loop())
        try:
            first = await _run(sync, [(fd, True) for fd in files])
            second = await _run(sync, [(directory, False)])
        finally:
            sync.close()
        return first[0] + second[0], first[1] and second[1]

    try:
        errors, on_loop = asyncio.run(scenario())
    finally:
        os.close(directory)
    assert errors == [0] * 5
    assert on_loop


def test_a_descriptor_that_cannot_be_synced_fails_only_its_request(
    engine: Engine, files: list[int]
) -> None:
    read_end, write_end = os.pipe()  # a pipe has no fsync: EINVAL
    never_opened = 1_000_000  # beyond any descriptor table here: EBADF
    requests = [(files[0], True), (write_end, True), (files[1], True), (never_opened, False)]

    async def scenario() -> list[int]:
        sync = engine(asyncio.get_running_loop())
        try:
            return (await _run(sync, requests))[0]
        finally:
            sync.close()

    try:
        errors = asyncio.run(scenario())
    finally:
        os.close(read_end)
        os.close(write_end)
    assert errors == [0, errno.EINVAL, 0, errno.EBADF]


def test_wait_delivers_the_group_in_flight_once(engine: Engine, files: list[int]) -> None:
    calls: list[list[int]] = []

    async def scenario() -> None:
        sync = engine(asyncio.get_running_loop())
        sync.start([(fd, True) for fd in files], calls.append)
        sync.wait()  # without letting the loop run
        assert calls == [[0, 0, 0, 0]]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        sync.close()

    asyncio.run(scenario())
    assert calls == [[0, 0, 0, 0]]  # the loop's own callback found nothing more to deliver


def test_kernel_aio_fsync_is_found_here() -> None:
    """Linux 4.18 or later on x86-64 or arm64 (what the package is built for)."""
    ring = open_sync_ring()
    assert isinstance(ring, SyncRing)
    ring.close()


def test_a_ring_takes_only_what_fits_and_reports_on_its_eventfd(files: list[int]) -> None:
    ring = open_sync_ring(capacity=2)
    assert ring is not None
    try:
        taken = ring.submit([(fd, i, True) for i, fd in enumerate(files)])
        assert taken == 2
        done: list[tuple[int, int]] = []
        while ring.in_flight:
            select.select([ring.eventfd], [], [])
            done += ring.reap()
        assert sorted(done) == [(0, 0), (1, 0)]
        with pytest.raises(OSError):
            ring.submit([(fd, 9, True) for fd in [-1]])  # the first refused: nothing taken
        assert ring.in_flight == 0
    finally:
        ring.close()


def test_a_failing_kernel_context_fails_the_group_instead_of_hanging_it(
    files: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_reap(self: SyncRing) -> list[tuple[int, int]]:
        raise OSError(errno.EFAULT, "io_getevents failed")

    async def scenario() -> tuple[list[int], bool]:
        sync = _kernel(asyncio.get_running_loop())
        monkeypatch.setattr(SyncRing, "reap", broken_reap)
        try:
            return await _run(sync, [(fd, True) for fd in files])
        finally:
            monkeypatch.undo()
            sync.close()

    errors, _on_loop = asyncio.run(scenario())
    assert errors == [errno.EFAULT] * 4  # not one of them is taken as synced
