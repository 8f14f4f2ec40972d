"""``server.send_test``: a message into the running daemon over SMTP, delivered at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from postroom.core.control.protocol import BAD_PARAMS, NOT_FOUND, RpcError

from tests.support.mta import MtaSetup, RunningMta

from .support import connect


def test_the_message_enters_the_queue_and_reaches_the_mailbox(tmp_path: Path) -> None:
    setup = MtaSetup(tmp_path / "mta")
    config = setup.write()
    chunks: list[dict[str, Any]] = []
    with RunningMta(setup):
        client = connect(config)
        try:
            result = client.call("server.send_test", {"to": "bob"}, on_chunk=chunks.extend)
            series = client.call("stats.series")
        finally:
            client.close()
    qid = result["queue_id"]
    assert chunks[0]["stage"] == "queued" and chunks[0]["queue_id"] == qid
    assert result["listener"] == f"127.0.0.1 port {setup.ports['MTA']} (MTA)"
    assert result["to"] == "bob@mail.example.test"
    assert result["from"] == "alice@mail.example.test"  # the first of LocalUsers
    assert result["delivery"]["done"] == 1
    assert not result["in_queue"]
    assert not list(setup.queue_dir.glob(f"*{qid}"))
    assert result["mailbox"] == str(setup.spool_dir / "bob")
    mbox = (setup.spool_dir / "bob").read_text()
    assert "Subject: Postroom test message" in mbox and f"id {qid}" in mbox
    assert any(line.startswith(">>> MAIL FROM:<alice@") for line in result["smtp"])
    assert f"<<< 250 2.0.0 {qid} Message accepted for delivery" in result["smtp"]
    assert "<bob@mail.example.test>... Sent" in result["transcript"]
    assert sum(series["counters"]["delivered"]) == 1


def test_no_daemon_is_a_clear_error(tmp_path: Path) -> None:
    setup = MtaSetup(tmp_path / "mta")
    config = setup.write()
    client = connect(config)
    try:
        with pytest.raises(RpcError) as caught:
            client.call("server.send_test")
        with pytest.raises(RpcError) as bad:
            client.call("server.send_test", {"to": "two words@example.org"})
    finally:
        client.close()
    assert caught.value.code == NOT_FOUND
    port = setup.ports["MTA"]
    assert f"nothing answers on 127.0.0.1 port {port}" in caught.value.message
    assert "daemon.start" in caught.value.message
    assert bad.value.code == BAD_PARAMS and "to must be an address" in bad.value.message


def test_a_refused_recipient_shows_the_daemons_reply(tmp_path: Path) -> None:
    setup = MtaSetup(tmp_path / "mta")
    config = setup.write()
    with RunningMta(setup):
        client = connect(config)
        try:
            with pytest.raises(RpcError) as caught:
                client.call("server.send_test", {"to": "nobody-here@mail.example.test"})
        finally:
            client.close()
    assert caught.value.message.startswith("the daemon refused the test message: 550 ")
    assert "User unknown" in caught.value.message
    assert any(line.startswith(">>> RCPT TO:") for line in caught.value.data["smtp"])
    assert not list(setup.queue_dir.glob("qf*"))
