"""The command line: -bs, -bm, -t, -X, -bp via the mailq link, config errors, --version."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from postroom.core.queue.qf import parse_qf

from tests.support.mta import MtaSetup

CLI = [sys.executable, "-m", "postroom.core.cli"]


def run(setup: MtaSetup, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*CLI, "-C", str(setup.config_path), *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def setup(mta_setup: MtaSetup) -> MtaSetup:
    mta_setup.write()
    return mta_setup


def qfs(setup: MtaSetup) -> list[Path]:
    return sorted(setup.queue_dir.glob("qf*"))


def test_version() -> None:
    out = subprocess.run([*CLI, "--version"], capture_output=True, text=True, check=True)
    assert re.fullmatch(r"postroom-mta \d+\.\d+\.\d+\n", out.stdout)


def test_bs_session_on_stdin(setup: MtaSetup) -> None:
    dialogue = (
        b"EHLO client.example.org\r\nMAIL FROM:<a@example.org>\r\n"
        b"RCPT TO:<x@remote.example>\r\nDATA\r\nSubject: bs\r\n\r\nhi\r\n.\r\nQUIT\r\n"
    )
    res = run(setup, "-bs", stdin=dialogue)
    out = res.stdout.decode()
    assert res.returncode == 0, res.stderr
    assert out.startswith("220 mail.example.test ESMTP Postroom")
    assert "STARTTLS" not in out and "AUTH" not in out
    assert "250 2.1.5 <x@remote.example>... Recipient ok" in out  # local submitter may relay
    assert re.search(r"250 2\.0\.0 \w{14} Message accepted for delivery", out)
    assert out.rstrip().endswith("221 2.0.0 mail.example.test closing connection")
    qf = parse_qf(qfs(setup)[0].read_bytes())
    assert dict(qf.macros)["_"].endswith("@localhost")


def test_bm_recipients_as_arguments(setup: MtaSetup) -> None:
    res = run(
        setup,
        "-f",
        "alice",
        "-F",
        "Alice Liddell",
        "bob@example.test",
        "x@remote.example",
        stdin=b"Subject: cmdline\n\nbody\n.\nnot part\n",
    )
    assert res.returncode == 0, res.stderr
    (path,) = qfs(setup)
    qf = parse_qf(path.read_bytes())
    assert qf.sender == "alice"
    assert [r.address for r in qf.recipients] == ["bob@example.test", "x@remote.example"]
    assert all(r.flags == "PFD" for r in qf.recipients)
    assert dict(qf.macros)["{daemon_flags}"] == "c u"
    from_header = next(h for h in qf.headers if h.name == "From")
    assert (from_header.condition, from_header.value) == ("F", "Alice Liddell <alice>")
    assert (setup.queue_dir / f"df{path.name[2:]}").read_bytes() == b"body\n"


def test_bm_oi_keeps_dot_lines(setup: MtaSetup) -> None:
    res = run(setup, "-oi", "bob", stdin=b"Subject: dots\n\nbefore\n.\nafter\n")
    assert res.returncode == 0
    qid = qfs(setup)[0].name[2:]
    assert (setup.queue_dir / f"df{qid}").read_bytes() == b"before\n.\nafter\n"


def test_t_takes_recipients_from_headers_and_drops_bcc(setup: MtaSetup) -> None:
    msg = b"To: bob@example.test\nCc: Al <alice@example.test>\nBcc: root\nSubject: t\n\nx\n"
    res = run(setup, "-t", "-i", "ignored@example.test", stdin=msg)
    assert res.returncode == 0, res.stderr
    qf = parse_qf(qfs(setup)[0].read_bytes())
    assert [r.address for r in qf.recipients] == ["bob@example.test", "alice@example.test", "root"]
    assert not [h for h in qf.headers if h.name.lower() == "bcc"]


def test_unknown_local_user_exits_67(setup: MtaSetup) -> None:
    res = run(setup, "nosuch@example.test", stdin=b"x\n")
    assert res.returncode == 67
    assert b"nosuch@example.test... User unknown" in res.stderr
    assert qfs(setup) == []


def test_mailq_link_name_lists_queue(setup: MtaSetup, tmp_path: Path) -> None:
    run(setup, "bob", stdin=b"Subject: q\n\nx\n")
    link = tmp_path / "mailq"
    link.write_text(
        f"#!{sys.executable}\nimport sys\nfrom postroom.core.cli import main\nsys.exit(main())\n"
    )
    link.chmod(0o755)
    out = subprocess.run(
        [str(link), "-C", str(setup.config_path)], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith(f"\t\t{setup.queue_dir} (1 request)\n")
    assert "-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------" in out


def test_traffic_log_of_a_known_session_line_by_line(setup: MtaSetup, tmp_path: Path) -> None:
    log = tmp_path / "traffic"
    dialogue = (
        b"HELO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob>\r\nDATA\r\n"
        b"Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n"
    )
    run(setup, "-bs", "-X", str(log), stdin=dialogue)
    lines = log.read_text().splitlines()
    pid = lines[0].split()[0]
    assert re.fullmatch(r"\d{5,}", pid)
    greeting = re.escape(f"{pid} >>> 220 mail.example.test ESMTP Postroom ") + r"[\d.]+; .+"
    assert re.fullmatch(greeting, lines[0])
    accepted = (
        re.escape(f"{pid} >>> 250 2.0.0 ") + r"\w{14}" + re.escape(" Message accepted for delivery")
    )
    assert re.fullmatch(accepted, lines[13])
    assert lines[1:13] + lines[14:] == [
        f"{pid} <<< HELO c.example",
        f"{pid} >>> 250 mail.example.test Hello root@localhost, pleased to meet you",
        f"{pid} <<< MAIL FROM:<a@example.org>",
        f"{pid} >>> 250 2.1.0 <a@example.org>... Sender ok",
        f"{pid} <<< RCPT TO:<bob>",
        f"{pid} >>> 250 2.1.5 <bob>... Recipient ok",
        f"{pid} <<< DATA",
        f"{pid} >>> 354 End data with <CR><LF>.<CR><LF>",
        f"{pid} <<< Subject: x",
        f"{pid} <<< ",
        f"{pid} <<< ..dot",
        f"{pid} <<< .",
        f"{pid} <<< QUIT",
        f"{pid} >>> 221 2.0.0 mail.example.test closing connection",
    ]


def test_config_error_exits_78_with_file_line_option(setup: MtaSetup) -> None:
    text = setup.config_path.read_text() + "MaxMessageSize = -1\n"
    setup.config_path.write_text(text)
    line = len(text.splitlines())
    res = run(setup, "-bp")
    assert res.returncode == 78
    err = res.stderr.decode()
    assert f"{setup.config_path}:{line}: MaxMessageSize:" in err
    assert "Traceback" not in err


def test_bad_override_exits_78(setup: MtaSetup) -> None:
    res = run(setup, "-O", "LogLevel=loud", "-bp")
    assert res.returncode == 78
    assert b"LogLevel" in res.stderr


def test_bad_daemon_port_options_exit_78(setup: MtaSetup) -> None:
    res = run(setup, "-O", "DaemonPortOptions=Name=MTA, Port=99999", "-bD")
    assert res.returncode == 78
    assert b"DaemonPortOptions" in res.stderr


def test_unknown_flag_is_usage_error(setup: MtaSetup) -> None:
    res = run(setup, "-Z")
    assert res.returncode == 64
    assert b"Illegal option -- Z" in res.stderr


def test_listener_already_in_use_is_clear(setup: MtaSetup) -> None:
    import socket

    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        busy.bind(("127.0.0.1", setup.ports["MTA"]))
        busy.listen()
        res = run(setup, "-bD")
    assert res.returncode == 71
    assert b"Name=MTA: cannot listen on 127.0.0.1 port" in res.stderr


def test_embedded_profile_created_for_a_new_user(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    res = subprocess.run([*CLI, "-bp"], capture_output=True, text=True, env=env, check=False)
    assert res.returncode == 0, res.stderr
    profile = tmp_path / "data" / "postroom"
    assert (profile / "postroom.toml").exists()
    assert "is empty" in res.stdout


def as_nobody(setup: MtaSetup, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            *CLI,
            "-C",
            str(setup.config_path),
            *args,
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_restrictmailq_refuses_other_users(public_setup: MtaSetup) -> None:
    res = as_nobody(public_setup, "-O", "PrivacyOptions=restrictmailq", "-bp")
    assert res.returncode == 77
    assert res.stderr.decode().strip() == "You are not permitted to see the queue"


def test_unreadable_queue_is_a_clear_error(public_setup: MtaSetup) -> None:
    res = as_nobody(public_setup, "-bp")
    assert res.returncode == 77
    assert res.stderr.decode().strip() == (
        f"postroom-mta: {public_setup.queue_dir}: Permission denied"
    )


def test_bp_capital_counts_entries(setup: MtaSetup) -> None:
    for _ in range(3):
        run(setup, "bob", stdin=b"Subject: n\n\nx\n")
    res = run(setup, "-bP")
    assert res.returncode == 0
    assert res.stdout.decode() == f"\t\t{setup.queue_dir}: entries=3\n"


def test_queue_selection_flags_filter_the_listing(setup: MtaSetup) -> None:
    run(setup, "-f", "alice", "bob", stdin=b"Subject: a\n\nx\n")
    run(setup, "-f", "root", "alice", stdin=b"Subject: b\n\nx\n")
    only_root = run(setup, "-bp", "-qSroot").stdout.decode()
    assert "(1 request" in only_root and " root\n" in only_root
    not_root = run(setup, "-bp", "-q!Sroot").stdout.decode()
    assert "(1 request" in not_root and " alice\n" in not_root
