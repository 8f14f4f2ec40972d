"""Traffic counted by the daemon lands in the StatusFile (mailstats) and the time series."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from postroom.core.hoststat import HostStatus, HostStatusStore, format_hoststat
from postroom.core.stats import StatusFile, TimeSeries

from tests.support.mta import MtaSetup, RunningMta

from .smtpwire import Wire

CLI = [sys.executable, "-m", "postroom.core.cli"]


def send(mta: RunningMta, rcpts: list[str]) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("MAIL FROM:<a@example.org>")
    for rcpt in rcpts:
        w.cmd(f"RCPT TO:<{rcpt}>")
    if w.cmd("DATA").startswith("354"):
        w.send(b"Subject: s\r\n\r\n" + (b"x" * 498 + b"\r\n") * 3 + b".\r\n")
        assert w.reply().startswith("250 ")
    w.cmd("QUIT")


def link(tmp: object, name: str) -> str:
    from pathlib import Path

    path = Path(str(tmp)) / name
    path.write_text(
        f"#!{sys.executable}\nimport sys\nfrom postroom.core.cli import main\nsys.exit(main())\n"
    )
    path.chmod(0o755)
    return str(path)


def test_known_traffic_mix_is_counted_exactly(mta: RunningMta, tmp_path: object) -> None:
    started = time.time()
    send(mta, ["alice"])
    send(mta, ["bob", "x@remote.example"])  # one relay refusal, then accepted for bob
    send(mta, ["y@remote.example"])  # refused: no message
    mta.stop()  # flushes the counters
    setup: MtaSetup = mta.setup
    stats = StatusFile(setup.base / "statistics").read()
    assert (stats.nf[5], stats.nr[5], stats.cf, stats.cr) == (2, 2, 3, 2)
    assert stats.bf[5] == 4  # two messages of 1,509 octets: 2 kB each, rounded up
    out = subprocess.run(
        [link(tmp_path, "mailstats"), "-C", str(setup.config_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert " 5        2          4K        0          0K        2       0       0  esmtp\n" in out
    assert out.endswith(" C        3                    0                    2\n")
    with TimeSeries(setup.base / "timeseries") as ring:
        data = ring.read(started - 60, time.time() + 60, resolution="minute")
    assert sum(data.counters["received"]) == 2
    assert sum(data.counters["rejected"]) == 2
    assert sum(data.counters["connections"]) == 3


def test_hoststat_and_purgestat_links(mta_setup: MtaSetup, tmp_path: object) -> None:
    mta_setup.write()
    directory = mta_setup.queue_dir / ".hoststat"
    store = HostStatusStore(directory)
    store.write(
        HostStatus("mx.example.org", int(time.time()) - 5, errno=111, exit_status=75, dsn="4.4.1")
    )
    out = subprocess.run(
        [link(tmp_path, "hoststat"), "-C", str(mta_setup.config_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "mx.example.org" in out and "Deferred: Connection refu" in out
    assert out.splitlines()[0].startswith(" -------------- Hostname")
    old = time.time() - 10  # purgestat looks at the file's age, as Sendmail does
    os.utime(store.path_for("mx.example.org"), (old, old))
    res = subprocess.run(
        [
            link(tmp_path, "purgestat"),
            "-C",
            str(mta_setup.config_path),
            "-O",
            "Timeout.hoststatus=1s",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert format_hoststat(HostStatusStore(directory)) == ""
