"""``privacy.probe``, ``ports.status``, log levels and the traffic log over a real RPC server."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from postroom.core.control.client import RpcClient
from postroom.core.control.daemon_methods import _daemon_args
from postroom.core.control.protocol import BAD_PARAMS, NOT_AVAILABLE, NOT_FOUND, RpcError

from tests.gui.background_mta import BackgroundMta
from tests.support.mta import MtaSetup

from .support import connect


def test_probe_without_a_daemon_says_nothing_answers(rpc: RpcClient) -> None:
    with pytest.raises(RpcError) as caught:
        rpc.call("privacy.probe")
    assert caught.value.code == NOT_FOUND
    assert "probing listener MTA: cannot connect (127.0.0.1 port" in caught.value.message
    assert caught.value.message.endswith("-- the daemon is not running")


def test_probe_of_an_unknown_listener_is_bad_params(rpc: RpcClient) -> None:
    with pytest.raises(RpcError) as caught:
        rpc.call("privacy.probe", {"listener": "Nope"})
    assert caught.value.code == BAD_PARAMS
    assert caught.value.message == "privacy.probe: no listener named 'Nope'; listeners: MTA, MSA"


def test_ports_status_without_a_daemon(rpc: RpcClient) -> None:
    status = rpc.call("ports.status")
    assert status["running"] is False and status["all_bound"] is False
    assert [e["name"] for e in status["listeners"]] == ["MTA", "MSA"]
    assert all(e["detail"].startswith("not bound: cannot connect") for e in status["listeners"])


def test_ports_status_notices_another_program_on_the_port(config_path: Path) -> None:
    text = config_path.read_text()
    port = int(text.split("Name=MTA, Port=")[1].split(",")[0])

    def greet(server: socket.socket) -> None:
        accepted, _ = server.accept()
        with accepted:
            accepted.sendall(b"220 not-postroom ready\r\n")
            accepted.recv(64)  # the QUIT

    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        thread = threading.Thread(target=greet, args=(other,))
        thread.start()
        with connect(config_path) as rpc:
            status = rpc.call("ports.status")
        thread.join(timeout=30)
    mta = status["listeners"][0]
    assert mta["bound"] is True and mta["ours"] is False
    assert "answers 220 not-postroom ready (another program answers" in mta["detail"]
    assert status["all_bound"] is False


def test_the_traffic_log_is_not_available_without_x(rpc: RpcClient) -> None:
    assert rpc.call("daemon.status")["traffic_log"] is None
    with pytest.raises(RpcError) as caught:
        rpc.call("log.tail", {"source": "traffic"})
    assert caught.value.code == NOT_AVAILABLE
    assert "not started with -X" in caught.value.message
    with pytest.raises(RpcError) as bad:
        rpc.call("log.tail", {"source": "syslog"})
    assert bad.value.code == BAD_PARAMS


def test_log_tail_gives_each_line_its_level(rpc: RpcClient, config_path: Path) -> None:
    log = config_path.parent / "maillog"
    log.write_text(
        "Nov 25 22:49:52 vm postroom-mta[1]: connect from localhost [127.0.0.1] on MTA\n"
        "Nov 25 22:49:52 vm postroom-mta[1]: 6APITkJh015270: from=<a@b.example>, size=1, "
        "class=0, nrcpts=1\n"
        "Nov 25 22:49:52 vm other[2]: unrelated\n"
    )
    tail = rpc.call("log.tail", {"lines": 10})
    assert tail["levels"] == [12, 5, None]


def test_daemon_status_names_the_traffic_log(tmp_path: Path) -> None:
    setup = MtaSetup(tmp_path / "mta")
    setup.write()
    with BackgroundMta(setup, "-X", "traffic.log"), connect(setup.config_path) as rpc:
        assert rpc.call("daemon.status")["traffic_log"] == str(setup.base / "traffic.log")
        probe = rpc.call("privacy.probe", {"listener": "MSA"})
        assert probe["listener"] == "MSA" and probe["matches_config"] is True
        mail = next(c for c in probe["checks"] if c["label"] == "MAIL before HELO")
        assert mail["reply"] == "530 5.7.0 Authentication required" and mail["refused"]
        etrn = next(c for c in probe["checks"] if c["label"] == "ETRN")
        assert etrn["reply"] == "502 5.7.0 Sorry, we do not allow this operation"  # M=E


def test_daemon_arguments_are_found_in_either_command_line() -> None:
    assert _daemon_args(["python3", "-m", "postroom.core.cli", "-bd", "-X", "t"]) == [
        "-bd",
        "-X",
        "t",
    ]
    assert _daemon_args(["/usr/bin/python3", "/venv/bin/postroom-mta", "-bd"]) == ["-bd"]
    assert _daemon_args(["/usr/sbin/exim4", "-bd"]) is None
