"""STARTTLS and AUTH: real TLS handshakes, swaks as a third-party client, CVE-2024-34083."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable

import pytest
from postroom.core.queue.qf import parse_qf

from tests.support.mta import AUTH_PASSWORD, AUTH_USER, RunningMta

from .smtpwire import Wire

PLAIN = base64.b64encode(f"\0{AUTH_USER}\0{AUTH_PASSWORD}".encode()).decode()


def swaks(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("swaks")
    assert exe, "swaks is required (scripts/test.sh installs it)"
    return subprocess.run(
        [exe, "--hide-informational", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a9_plaintext_pipelined_after_starttls_is_discarded(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    w.send(b"STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n")
    assert w.reply() == "220 2.0.0 Ready to start TLS"
    w.starttls()
    # The injected MAIL was dropped: the first reply inside TLS answers our NOOP.
    assert w.cmd("NOOP") == "250 2.0.0 OK"


def test_a10_mail_right_after_starttls_needs_ehlo_again(mta: RunningMta) -> None:
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd("STARTTLS").startswith("220 ")
    w.starttls()
    assert w.cmd("MAIL FROM:<a@example.org>").startswith("503 ")
    ehlo = w.cmd("EHLO client.example.org")
    assert "STARTTLS" not in ehlo and "AUTH PLAIN LOGIN" in ehlo
    assert w.cmd("MAIL FROM:<a@example.org>").startswith("250 ")


def test_a11_auth_before_tls_on_public_listener(start_mta: Callable[..., RunningMta]) -> None:
    # A listener bound to a non-loopback wildcard address counts as public.
    mta = start_mta(listeners={"MTA": ""})
    mta.stop()
    setup = mta.setup
    port = setup.ports["MTA"]
    text = setup.config_path.read_text().replace(
        f"Name=MTA, Port={port}, Addr=127.0.0.1", f"Name=MTA, Port={port}, Addr=0.0.0.0"
    )
    setup.config_path.write_text(text)
    public = RunningMta(setup).start()
    try:
        w = Wire(port)
        w.greeting()
        assert "AUTH" not in w.cmd("EHLO client.example.org")
        assert w.cmd(f"AUTH PLAIN {PLAIN}").startswith("538 5.7.11 ")
        assert AUTH_PASSWORD not in setup.log_file.read_text()
        assert PLAIN not in setup.log_file.read_text()
        assert w.cmd("STARTTLS").startswith("220 ")
        w.starttls()
        assert "AUTH PLAIN LOGIN" in w.cmd("EHLO client.example.org")
        assert w.cmd(f"AUTH PLAIN {PLAIN}") == "235 2.0.0 OK Authenticated"
    finally:
        public.stop()


def test_msa_requires_auth(mta: RunningMta) -> None:
    w = Wire(mta.port("MSA"))
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd("MAIL FROM:<a@example.org>") == "530 5.7.0 Authentication required"
    assert w.cmd("ETRN example.org").startswith("502 5.7.0 ")  # M=Ea: E refuses ETRN
    assert w.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
    assert w.cmd(base64.b64encode(AUTH_USER.encode()).decode()) == "334 UGFzc3dvcmQ6"
    assert w.cmd(base64.b64encode(AUTH_PASSWORD.encode()).decode()) == (
        "235 2.0.0 OK Authenticated"
    )
    assert w.cmd("MAIL FROM:<a@example.org>").startswith("250 ")


def test_listener_modifiers_e_and_s_and_big_a(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(listeners={"MTA": "", "MSA": "M=ESA"})
    w = Wire(mta.port("MSA"))
    w.greeting()
    words = w.cmd("EHLO client.example.org")
    assert "ETRN" not in words and "STARTTLS" not in words and "AUTH" not in words
    assert w.cmd("ETRN example.org") == "502 5.7.0 Sorry, we do not allow this operation"
    assert w.cmd("STARTTLS") == "454 4.7.0 TLS not available"
    assert w.cmd(f"AUTH PLAIN {PLAIN}") == "503 5.3.3 AUTH not available"


def test_f_modifier_requires_qualified_sender(start_mta: Callable[..., RunningMta]) -> None:
    mta = start_mta(listeners={"MTA": "M=f"})
    w = Wire(mta.port())
    w.greeting()
    w.cmd("EHLO client.example.org")
    assert w.cmd("MAIL FROM:<alice>") == (
        "553 5.5.4 <alice>... Domain name required for sender address alice"
    )
    assert w.cmd("MAIL FROM:<>").startswith("250 ")


def swaks_submit(mta: RunningMta, mech: str, password: str) -> subprocess.CompletedProcess[str]:
    """Submit on the MSA with STARTTLS, AUTH and PIPELINING."""
    server = [
        "--server",
        "127.0.0.1",
        "--port",
        str(mta.port("MSA")),
        "--ehlo",
        "client.example.org",
    ]
    envelope = ["--from", "a@example.org", "--to", "x@remote.example"]
    auth = ["--tls", "--auth", mech, "--auth-user", AUTH_USER, "--auth-password", password]
    return swaks(*server, *envelope, *auth, "--pipeline")


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_tls_auth_pipelining(mta: RunningMta, mech: str) -> None:
    result = swaks_submit(mta, mech, AUTH_PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Message accepted for delivery" in result.stdout
    assert len(list(mta.setup.queue_dir.glob("qf*"))) == 1
    qf = parse_qf(next(mta.setup.queue_dir.glob("qf*")).read_bytes())
    assert dict(qf.macros)["r"] == "ESMTPSA"
    assert dict(qf.macros)["{daemon_flags}"] == "EE a"  # Sendmail's form of M=Ea
    assert qf.auth == AUTH_USER


def test_swaks_wrong_password_is_refused(mta: RunningMta) -> None:
    result = swaks_submit(mta, "PLAIN", "wrong")
    assert result.returncode != 0
    assert "535 5.7.8" in result.stdout
