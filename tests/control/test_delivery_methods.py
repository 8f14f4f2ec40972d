"""RPC methods over the delivery, host status and statistics parts: a real server process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from postroom.core.hoststat import HostStatus, HostStatusStore

from tests.support.mta import MtaSetup

from .support import connect

CLI = [sys.executable, "-m", "postroom.core.cli"]


def test_deliver_now_streams_the_transcript_and_counts(tmp_path: Path) -> None:
    setup = MtaSetup(tmp_path / "mta")
    config = setup.write()
    subprocess.run([*CLI, "-C", str(config), "bob"], input=b"Subject: now\n\nhi\n", check=True)
    qid = next(setup.queue_dir.glob("qf*")).name[2:]
    lines: list[str] = []
    client = connect(config)
    try:
        result = client.call("queue.run", {"ids": [qid]}, on_chunk=lines.extend)
        totals = client.call("stats.totals")
        series = client.call("stats.series", {"start": time.time() - 600})
    finally:
        client.close()
    assert result["done"] == 1
    assert f"Running {setup.queue_dir}/{qid} (sequence 1 of 1)" in lines
    assert "bob... Sent" in lines
    assert (setup.spool_dir / "bob").read_text().count("Subject: now") == 1
    local = next(row for row in totals["mailers"] if row["name"] == "local")
    assert (local["msgsfr"], local["msgsto"]) == (1, 1)
    assert sum(series["counters"]["received"]) == 1
    assert sum(series["counters"]["delivered"]) == 1
    assert series["resolution"] == 60


def test_hosts_list_and_purge(tmp_path: Path) -> None:
    setup = MtaSetup(tmp_path / "mta")
    config = setup.write()
    store = HostStatusStore(setup.queue_dir / ".hoststat")
    store.write(
        HostStatus("mx.example.org", int(time.time()) - 30, errno=111, exit_status=75, dsn="4.4.1")
    )
    client = connect(config)
    try:
        listed = client.call("hosts.list")
        kept = client.call("hosts.purge")  # nothing is older than Timeout.hoststatus (30m)
        purged = client.call("hosts.purge", {"all": True})
        after = client.call("hosts.list")
    finally:
        client.close()
    (host,) = listed["hosts"]
    assert (host["host"], host["exit_status"], host["dsn"], host["failed"]) == (
        "mx.example.org",
        75,
        "4.4.1",
        True,
    )
    assert host["error"] == "Connection refused"
    assert kept["purged"] == 0 and purged["purged"] == 1
    assert after["hosts"] == []


def test_stats_tick_follows_new_traffic(tmp_path: Path) -> None:
    import queue as queue_mod
    from typing import Any

    setup = MtaSetup(tmp_path / "mta")
    config = setup.write()
    ticks: queue_mod.Queue[dict[str, Any]] = queue_mod.Queue()
    client = connect(config)
    try:
        client.on_event(lambda name, data: ticks.put(data), "stats.tick")
        sub = client.call("events.subscribe", {"events": ["stats.tick"], "interval": 0.1})
        assert sub["subscribed"] == ["stats.tick"]
        subprocess.run([*CLI, "-C", str(config), "bob"], input=b"Subject: t\n\nx\n", check=True)
        while (tick := ticks.get(timeout=20))["counters"]["received"] < 1:
            pass
        assert tick["counters"]["bytes_in"] > 0
    finally:
        client.close()


def test_aliases_get_set_rebuild(tmp_path: Path) -> None:
    from postroom.core.control.client import RpcError

    setup = MtaSetup(tmp_path / "mta")
    setup.base.mkdir(parents=True)
    aliases = setup.base / "aliases"
    aliases.write_text("# comment kept\npostmaster: root\n")
    setup.options["AliasFile"] = str(aliases)
    config = setup.write()
    client = connect(config)
    try:
        before = client.call("aliases.get")
        done = client.call("aliases.set", {"text": before["text"] + "staff: alice, bob\n"})
        after = client.call("aliases.get")
        try:
            client.call("aliases.set", {"text": "staff alice\n"})
            raise AssertionError("a broken aliases file was accepted")
        except RpcError as exc:
            assert exc.code == "bad_params" and "line 1" in exc.message
    finally:
        client.close()
    assert [e["key"] for e in before["entries"]] == ["postmaster"]
    assert done["rebuild"]["summary"].startswith(f"{aliases}: 2 aliases")
    assert aliases.read_text().startswith("# comment kept\n")
    assert "staff:alice, bob" in after["compiled"]
    assert (setup.base / "aliases.bak").read_text() == before["text"]


def test_vacation_settings_round_trip(tmp_path: Path) -> None:
    setup = MtaSetup(tmp_path / "mta", options={"VacationDirectory": str(tmp_path / "vac")})
    config = setup.write()
    client = connect(config)
    try:
        assert client.call("vacation.get") == {"users": []}
        settings = {"enabled": True, "subject": "Away: $SUBJECT", "message": "Back Monday."}
        saved = client.call("vacation.set", {"user": "alice", "settings": settings})
        got = client.call("vacation.get", {"user": "alice"})
        users = client.call("vacation.get")
    finally:
        client.close()
    assert saved["settings"]["enabled"] is True
    assert got["settings"]["message"] == "Back Monday."
    assert users == {"users": ["alice"]}


def test_a_count_flushed_after_its_minute_ended_still_reaches_the_ticks(tmp_path: Path) -> None:
    """Regression (a flaky Dashboard test): a session worker flushes its counters once a
    second, so a message received in a minute's last second was written after the
    ticker had moved on to the next minute, and no tick ever carried it."""
    import queue as queue_mod
    import time
    from typing import Any

    from postroom.core.control.events import StatsTicker
    from postroom.core.stats.timeseries import TimeSeries

    series = tmp_path / "timeseries"
    now = time.time()
    current, previous = int(now // 60 * 60), int(now // 60 * 60) - 60
    with TimeSeries(series) as ring:
        ring.add({"received": 1}, now=now)
    ticks: queue_mod.Queue[dict[str, Any]] = queue_mod.Queue()
    ticker = StatsTicker(series, 0.05, lambda _name, data: ticks.put(data))
    try:
        while (tick := ticks.get(timeout=20))["minute"] != current:
            pass
        with TimeSeries(series) as ring:  # the late flush, into the minute before
            ring.add({"received": 1}, now=previous + 59)
        while (tick := ticks.get(timeout=20))["minute"] != previous or not tick["counters"].get(
            "received"
        ):
            pass
        assert tick["counters"]["received"] == 1
    finally:
        ticker.close()
