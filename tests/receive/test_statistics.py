"""Traffic counted by the daemon lands in the StatusFile (mailstats) and the time series."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from postroom.core.hoststat import HostStatus, HostStatusStore, format_hoststat
from postroom.core.stats import StatusFile, TimeSeries

from tests.support.mta import MtaSetup, RunningMta

from .smtpwire import Wire

CLI = [sys.executable, "-m", "postroom.core.cli"]


def send(
    mta: RunningMta, rcpts: list[str], source: str | None = None, sender: str = "a@example.org"
) -> None:
    w = Wire(mta.port(), source=source)
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd(f"MAIL FROM:<{sender}>")
    for rcpt in rcpts:
        w.cmd(f"RCPT TO:<{rcpt}>")
    if w.cmd("DATA").startswith("354"):
        w.send(b"Subject: s\r\n\r\n" + (b"x" * 498 + b"\r\n") * 3 + b".\r\n")
        assert w.reply().startswith("250 ")
    w.cmd("QUIT")


def link(tmp: object, name: str) -> str:
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


def test_delivered_and_bounced_counts_agree_everywhere(mta_setup: MtaSetup, tmp_path: Path) -> None:
    # The destination refuses to relay for us (550 5.7.1), so mail sent there bounces.
    dest_setup = MtaSetup(tmp_path / "dest", options={"HostName": "dest.example.test"})
    dest_setup.write(listeners={"MTA": ""})
    started = time.time()
    with RunningMta(dest_setup) as dest:
        mta_setup.options["SmartHost"] = f"[127.0.0.1]:{dest.port()}"
        mta_setup.write()
        with RunningMta(mta_setup) as mta:
            send(mta, ["alice"])  # delivered locally
            send(mta, ["x@remote.example"], source="127.0.0.2", sender="bob@example.test")
            send(mta, ["y@remote.example"])  # rejected: relaying denied
        subprocess.run([*CLI, "-C", str(mta_setup.config_path), "-q"], check=True)
    stats = StatusFile(mta_setup.base / "statistics").read()
    assert (stats.nf[5], stats.nr[5], stats.cr, stats.cf) == (2, 1, 1, 3)
    assert stats.nt[3] == 2  # alice's message, and the bounce to bob
    assert stats.ct == 1
    out = subprocess.run(
        [link(tmp_path, "mailstats"), "-C", str(mta_setup.config_path), "-P"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in out[1:]}
    assert rows["3"][:3] == ["0", "0", "2"]  # local: msgsfr, bytes_from, msgsto
    assert rows["5"][0] == "2" and rows["5"][4] == "1"  # esmtp: msgsfr, msgsrej
    assert rows["C"] == ["3", "1", "1"]
    with TimeSeries(mta_setup.base / "timeseries") as ring:
        data = ring.read(started - 60, time.time() + 60, resolution="minute")
    totals = {
        name: sum(data.counters[name])
        for name in ("received", "delivered", "bounced", "rejected", "connections")
    }
    assert totals == {"received": 2, "delivered": 2, "bounced": 1, "rejected": 1, "connections": 3}


def logged_session(start_mta: Callable[..., RunningMta], level: int) -> str:
    mta = start_mta(LogLevel=level, PrivacyOptions=["public"])
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.cmd("VRFY alice")
    w.cmd("QUIT")
    send(mta, ["alice"])
    mta.stop()
    return mta.setup.log_file.read_text()


@pytest.mark.parametrize(
    ("level", "present", "absent"),
    [
        (5, ["from=<a@example.org>"], ["VRFY alice", "connect from", "<-- EHLO"]),
        (6, ["from=<a@example.org>", "VRFY alice"], ["connect from", "<-- EHLO"]),
        (12, ["from=<a@example.org>", "VRFY alice", "connect from"], ["<-- EHLO"]),
        (15, ["from=<a@example.org>", "VRFY alice", "connect from", "<-- EHLO"], []),
    ],
)
def test_log_levels_gate_events(
    start_mta: Callable[..., RunningMta], level: int, present: list[str], absent: list[str]
) -> None:
    log = logged_session(start_mta, level)
    for text in present:
        assert text in log, f"{text!r} missing at LogLevel {level}"
    for text in absent:
        assert text not in log, f"{text!r} logged at LogLevel {level}"
