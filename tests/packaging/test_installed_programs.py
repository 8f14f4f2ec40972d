"""The installed package works: version, SMTP into its spool, mailq, the GUI (issue 9, point 3).

Everything runs from the throw-away root: the MTA and the GUI from ``/opt/postroom``,
with the packaged configuration moved inside the root (:func:`.support.rooted_config`).
"""

from __future__ import annotations

import os
import re
import smtplib
import stat
import tomllib
from email.message import EmailMessage
from pathlib import Path

from .conftest import REPO
from .support import InstalledDaemon, free_port, rooted_config, run_installed

QUEUE_ID = re.compile(r"^([0-9A-Za-z]{14})\s", re.MULTILINE)


def test_postroom_mta_reports_its_version(installed: Path) -> None:
    with open(REPO / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    done = run_installed(installed, "/usr/sbin/postroom-mta", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"postroom-mta {version}\n"


def test_sendmail_flags_are_not_taken_for_python_ones(installed: Path) -> None:
    # The program honours `-m postroom.MODULE` (its helpers need it); any other -m is
    # Sendmail's, refused as Sendmail would.
    done = run_installed(installed, "/usr/sbin/postroom-mta", "-m", "x@example.test")
    assert done.returncode == 64
    assert done.stderr == "postroom-mta: Illegal option -- m\n"


def test_smtp_message_lands_in_the_packaged_queue_and_mailq_lists_it(
    installed: Path, tmp_path: Path
) -> None:
    ports = {"MTA": free_port(), "MSA": free_port()}
    config = rooted_config(installed, tmp_path / "postroom.toml", ports)
    queue = installed / "var/spool/postroom/mqueue"
    assert stat.S_IMODE(os.stat(queue).st_mode) == 0o700
    daemon = InstalledDaemon(installed, config, ["MTA", "MSA"])
    try:
        message = EmailMessage()
        message["From"] = "root@mail.example.test"
        message["To"] = "root@mail.example.test"
        message["Subject"] = "packaged hello"
        message.set_content("Sent through the installed package.\n")
        with smtplib.SMTP("127.0.0.1", ports["MTA"], timeout=30) as client:
            refused = client.send_message(message)
        assert refused == {}
    finally:
        assert daemon.stop() == 0, daemon.output
    qf = [p.name for p in queue.iterdir() if p.name.startswith("qf")]
    assert len(qf) == 1, sorted(p.name for p in queue.iterdir())

    listing = run_installed(installed, "/usr/lib/postroom/bin/mailq", "-C", str(config))
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith(f"\t\t{queue} (1 request)\n"), listing.stdout
    assert QUEUE_ID.findall(listing.stdout) == [qf[0][2:]]
    assert "<root@mail.example.test>" in listing.stdout

    # One queue run from the installed program delivers it into the packaged mail spool.
    run = run_installed(installed, "/usr/sbin/postroom-mta", "-C", str(config), "-q")
    assert run.returncode == 0, run.stderr
    mailbox = (installed / "var/mail/root").read_text()
    assert "Subject: packaged hello" in mailbox
    empty = run_installed(installed, "/usr/lib/postroom/bin/mailq", "-C", str(config))
    assert empty.stdout.startswith(f"{queue} is empty\n"), empty.stdout
    stats = run_installed(installed, "/usr/lib/postroom/bin/mailstats", "-C", str(config))
    assert stats.returncode == 0, stats.stderr
    assert re.search(r"^\s*T\s+1\s+\d+K\s+1\s+\d+K", stats.stdout, re.MULTILINE), stats.stdout


def test_postinst_compiled_the_aliases(installed: Path, tmp_path: Path) -> None:
    config = rooted_config(installed, tmp_path / "postroom.toml", {"MTA": 1, "MSA": 2})
    assert (installed / "etc/postroom/aliases.sqlite").is_file()
    done = run_installed(
        installed, "/usr/lib/postroom/bin/praliases", "-C", str(config), "postmaster"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "postmaster:root\n"


def test_bundled_gui_starts_offscreen_and_exits_cleanly(installed: Path, tmp_path: Path) -> None:
    config = rooted_config(installed, tmp_path / "postroom.toml", {"MTA": 1, "MSA": 2})
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
    }
    done = run_installed(
        installed, "/usr/bin/postroom", "--self-test", "-C", str(config), env=env, timeout=180
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert done.stdout.startswith("postroom self-test: ok: postroom-mta "), done.stdout
    assert f"config {config}" in done.stdout
