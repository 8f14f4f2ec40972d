"""The strace parser: descriptor tables per process, and fsyncs done through kernel AIO."""

from __future__ import annotations

from pathlib import Path

from .straceparse import parse_trace


def hx(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return "".join(f"\\x{b:02x}" for b in data)


def test_a_descriptor_number_means_one_file_per_process_and_threads_share_it(
    tmp_path: Path,
) -> None:
    a, b = str(tmp_path / "dfA"), str(tmp_path / "dfB")
    create = "O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600"
    log = "\n".join(
        [
            "100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD,"
            " child_tidptr=0x7f) = 200",
            "100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD"
            "|CLONE_SYSVSEM, exit_signal=0}, 88) = 101",
            f'100 openat(AT_FDCWD<{hx("/")}>, "{hx(a)}", {create}) = 7<{hx(a)}>',
            f'200 openat(AT_FDCWD<{hx("/")}>, "{hx(b)}", {create}) = 7<{hx(b)}>',
            f'101 write(7<{hx(a)}>, "{hx("hello")}", 5) = 5',
            f'200 write(7<{hx(b)}>, "{hx("abc")}", 3) = 3',
            f'100 write(7<{hx(a)}>, "{hx("!!")}", 2) = 2',
            f'200 write(7<{hx(b)}>, "{hx("de")}", 2) = 2',
        ]
    )
    writes = [
        (op.path, op.offset, op.data) for op in parse_trace(log, tmp_path) if op.kind == "write"
    ]
    assert writes == [
        (a, 0, b"hello"),
        (b, 0, b"abc"),
        (a, 5, b"!!"),  # the thread and its process share descriptor 7's offset
        (b, 3, b"de"),  # the forked process's descriptor 7 is another file
    ]


def test_an_aio_fsync_begins_at_its_submit_and_is_done_when_reaped(tmp_path: Path) -> None:
    df, qdir = str(tmp_path / "dfA"), str(tmp_path)
    create = "O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600"
    log = "\n".join(
        [
            f'100 openat(AT_FDCWD<{hx("/")}>, "{hx(df)}", {create}) = 7<{hx(df)}>',
            f'100 write(7<{hx(df)}>, "{hx("body")}", 4) = 4',
            "100 io_submit(0x7f01, 3, [{aio_data=0, aio_lio_opcode=IOCB_CMD_FDSYNC,"
            f" aio_fildes=7<{hx(df)}>}}, {{aio_data=0x1, aio_lio_opcode=IOCB_CMD_FSYNC,"
            f" aio_fildes=8<{hx(qdir)}>}}, {{aio_data=0x2, aio_lio_opcode=IOCB_CMD_FSYNC,"
            f" aio_fildes=8<{hx(qdir)}>}}]) = 2",  # the kernel took two of three
            f'100 write(7<{hx(df)}>, "{hx("late")}", 4) = 4',
            "100 io_getevents(0x7f01, 0, 512, [{data=0x1, obj=0x55, res=-5, res2=0}],"
            " {tv_sec=0, tv_nsec=0}) = 1",
            "100 io_getevents(0x7f01, 0, 512, [{data=0, obj=0x56, res=0, res2=0}],"
            " {tv_sec=0, tv_nsec=0}) = 1",
        ]
    )
    ops = parse_trace(log, tmp_path)
    kinds = [(op.kind, op.path, op.start, op.seq) for op in ops if op.kind != "create"]
    assert kinds == [
        ("write", df, 2, 2),
        ("write", df, 6, 6),
        ("fsync", df, 4, 10),  # covers the first write only; durable once reaped
    ]  # the directory's sync failed (res=-5), its third request was never taken
