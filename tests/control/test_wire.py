"""The wire itself: one JSON object per line, errors for what cannot be read, no tracebacks."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from postroom.core.control import registry, server
from postroom.core.control.context import Method
from postroom.core.control.protocol import MAX_REQUEST_BYTES, PROTOCOL_VERSION
from postroom.core.control.registry_text import NOT_AVAILABLE_METHODS

from .support import RawServer


@pytest.fixture
def raw(config_path: Path) -> RawServer:
    return RawServer(config_path)


def error_of(message: dict[str, Any]) -> tuple[object, str]:
    return message["id"], message["error"]["code"]


def test_malformed_lines_get_errors_with_null_id_and_the_session_goes_on(raw: RawServer) -> None:
    assert error_of(raw.reply(b"this is not json\n")) == (None, "bad_request")
    assert error_of(raw.reply(b"[1, 2, 3]\n")) == (None, "bad_request")
    assert error_of(raw.reply(b'{"id": true, "method": "server.info"}\n')) == (None, "bad_request")
    assert error_of(raw.reply(b'{"id": 1.5, "method": "server.info"}\n')) == (None, "bad_request")
    assert error_of(raw.reply(b'{"id": 4}\n')) == (4, "bad_request")
    assert error_of(raw.reply(b'{"id": 5, "method": 7}\n')) == (5, "bad_request")
    assert error_of(raw.reply(b'{"id": 6, "method": "server.info", "params": [1]}\n')) == (
        6,
        "bad_params",
    )
    assert raw.reply(b'{"id": "s-7", "method": "server.info"}\n')["id"] == "s-7"
    out, _err, status = raw.close()
    assert (out, status) == (b"", 0)


def test_an_over_long_line_is_skipped_to_its_end(raw: RawServer) -> None:
    raw.send(b'{"id": 1, "method": "server.info", "params": {"x": "' + b"a" * MAX_REQUEST_BYTES)
    raw.send(b'"}}\n')
    assert error_of(json.loads(raw.line())) == (None, "bad_request")
    assert raw.reply(b'{"id": 2, "method": "server.info"}\n')["result"]["protocol"] == 1
    raw.close()


def test_unknown_methods_suggest_and_unbuilt_ones_say_which_part_brings_them(
    raw: RawServer,
) -> None:
    answer = raw.reply(b'{"id": 1, "method": "queue.lst"}\n')
    assert answer["error"]["code"] == "unknown_method"
    assert "queue.list" in answer["error"]["message"]
    for number, name in enumerate(NOT_AVAILABLE_METHODS, 2):
        line = json.dumps({"id": number, "method": name}).encode() + b"\n"
        answer = raw.reply(line)
        assert answer["id"] == number
        assert answer["error"]["code"] == "not_available"
        assert NOT_AVAILABLE_METHODS[name] in answer["error"]["message"]
    raw.close()


def test_unknown_params_are_refused_naming_the_known_ones(raw: RawServer) -> None:
    answer = raw.reply(b'{"id": 1, "method": "queue.list", "params": {"colour": "red"}}\n')
    assert answer["error"]["code"] == "bad_params"
    assert "'colour'" in answer["error"]["message"]
    assert "sender" in answer["error"]["message"]
    raw.close()


def test_server_info(raw: RawServer, config_path: Path) -> None:
    info = raw.reply(b'{"id": 1, "method": "server.info"}\n')["result"]
    assert info["protocol"] == PROTOCOL_VERSION
    assert info["config_path"] == str(config_path)
    assert info["config_valid"] is True
    assert info["queue_directory"] == str(config_path.parent / "mqueue")
    assert info["daemon"]["running"] is False
    assert info["caller"]["may_see_queue"] is True
    assert "queue.run" in info["methods"] and "aliases.get" in info["methods"]
    assert info["hostname"] and info["version"]
    raw.close()


def test_server_info_answers_while_the_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "postroom.toml"
    path.write_text('QueueDirectory = "q"\nLogLevel = 1000\n')
    raw = RawServer(path)
    info = raw.reply(b'{"id": 1, "method": "server.info"}\n')["result"]
    assert info["config_valid"] is False
    assert info["config_problems"][0]["line"] == 2
    assert info["config_problems"][0]["option"] == "LogLevel"
    listing = raw.reply(b'{"id": 2, "method": "queue.list"}\n')
    assert listing["error"]["code"] == "config_invalid"
    assert "LogLevel" in listing["error"]["message"]
    raw.close()


def test_a_bug_in_a_handler_is_an_internal_error_never_a_traceback_on_stdout(
    config_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object) -> object:
        return 1 / 0

    methods = dict(registry.METHODS)
    methods["server.info"] = Method("server.info", broken, frozenset(), "broken")
    monkeypatch.setattr(server, "METHODS", methods)
    stdin = io.BytesIO(b'{"id": 1, "method": "server.info"}\n{"id": 2, "method": "ports.get"}\n')
    stdout = io.BytesIO()
    assert server.serve(stdin, stdout, config_path) == 0
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert lines[0]["error"]["code"] == "internal"
    assert "ZeroDivisionError" in lines[0]["error"]["message"]
    assert lines[1]["id"] == 2 and "result" in lines[1]
    assert "Traceback" in capsys.readouterr().err


def test_ids_are_echoed_and_results_come_in_request_order(raw: RawServer) -> None:
    raw.send(b'{"id": 10, "method": "ports.get"}\n{"id": "b", "method": "privacy.get"}\n')
    assert json.loads(raw.line())["id"] == 10
    assert json.loads(raw.line())["id"] == "b"
    raw.close()
