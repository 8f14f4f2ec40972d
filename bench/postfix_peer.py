"""A private Postfix 3.7 on a loopback port, for side-by-side benchmarks.

Postfix's binaries come from Debian's ``postfix`` package unpacked by
:mod:`bench.debpeers` (nothing installed). :class:`PostfixPeer` writes its own
``main.cf``/``master.cf`` into a private config_directory, creates a private
queue_directory and data_directory, and runs ``master -d`` (foreground, so its
pid is the child's) with every daemon unchrooted and the unpacked libraries
passed on through ``import_environment``. Accepted mail is put on hold (an
access ``HOLD`` action for every client) and so stays in the queue, untouched
by the queue manager — the closest Postfix has to Postroom's queue-only mode.
``hold=False`` keeps mail in the deferred queue with ``defer_transports``
instead. The system's Postfix configuration (if any) is never read or changed.

Postfix needs a ``postfix`` user and a ``postdrop`` group; :func:`ensure_accounts`
creates them when they are missing. Every failure raises :class:`PeerSetupError`
with what went wrong.
"""

from __future__ import annotations

import grp
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

from bench.debpeers import unpacked
from bench.proctree import tree_pids

QUEUE_DIRS = ("incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer", "flush",
              "saved", "trace")  # fmt: skip

MASTER_CF = """\
{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


class PeerSetupError(Exception):
    """A peer MTA could not be set up or started; the message says why and what to do."""


def ensure_accounts() -> None:
    """Create the ``postdrop`` group and the ``postfix`` user when missing (needs root)."""
    if os.geteuid() != 0:
        raise PeerSetupError("running Postfix needs root (its master and mail_owner); run as root")
    try:
        grp.getgrnam("postdrop")
    except KeyError:
        _run(["groupadd", "--system", "postdrop"], "create the postdrop group")
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        _run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "postfix"],
            "create the postfix user",
        )  # fmt: skip


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerSetupError(f"cannot {what}: {exc}") from exc
    if done.returncode != 0:
        raise PeerSetupError(f"cannot {what}: {' '.join(argv)}: {done.stderr.strip()}")


class PostfixPeer:
    """One private Postfix instance under ``base``, listening on 127.0.0.1:``port``."""

    def __init__(self, base: Path, port: int, *, hold: bool = True) -> None:
        self.base = base
        self.port = port
        self.hold = hold
        try:
            self.tree = unpacked("postfix") / "tree"
        except (OSError, subprocess.CalledProcessError) as exc:
            raise PeerSetupError(f"cannot fetch Debian's postfix package: {exc}") from exc
        self.lib = self.tree / "usr/lib/postfix"
        self.conf = base / "conf"
        self.queue = base / "queue"
        self.data = base / "data"
        self.log_file = base / "maillog"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def version(self) -> str:
        done = subprocess.run(
            [str(self.tree / "usr/sbin/postconf"), "-c", str(self.conf), "-h", "mail_version"],
            capture_output=True, text=True, env=self._env(), check=False,
        )  # fmt: skip
        return done.stdout.strip() or "?"

    def _env(self) -> dict[str, str]:
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LD_LIBRARY_PATH": str(self.lib)}

    def write(self) -> None:
        """Create the private directories and configuration."""
        ensure_accounts()
        postfix = pwd.getpwnam("postfix")
        postdrop = grp.getgrnam("postdrop").gr_gid
        for path in (self.conf, self.queue, self.data):
            path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        for name in QUEUE_DIRS:
            _owned(self.queue / name, postfix.pw_uid, postfix.pw_gid, 0o700)
        _owned(self.queue / "private", postfix.pw_uid, postfix.pw_gid, 0o700)
        _owned(self.queue / "public", postfix.pw_uid, postdrop, 0o710)
        _owned(self.queue / "maildrop", postfix.pw_uid, postdrop, 0o730)
        _owned(self.queue / "pid", 0, 0, 0o755)
        _owned(self.data, postfix.pw_uid, postfix.pw_gid, 0o700)
        (self.conf / "dynamicmaps.cf").write_text("")
        holding = (
            "smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks,"
            " reject"
            if self.hold
            else "defer_transports = smtp, local, relay"
        )
        lines = [
            "compatibility_level = 3.6",
            f"queue_directory = {self.queue}",
            f"data_directory = {self.data}",
            f"daemon_directory = {self.tree / 'usr/lib/postfix/sbin'}",
            f"command_directory = {self.tree / 'usr/sbin'}",
            f"shlib_directory = {self.lib}",
            f"meta_directory = {self.conf}",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "myhostname = mail.example.org",
            "mydomain = example.org",
            "mydestination =",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            "local_recipient_maps =",
            "alias_maps =",
            "alias_database =",
            "biff = no",
            "smtpd_peername_lookup = no",
            "smtpd_relay_restrictions = permit_mynetworks, reject",
            holding,
            f"import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C "
            f"LD_LIBRARY_PATH={self.lib}",
            f"maillog_file = {self.log_file}",
            f"maillog_file_prefixes = {self.base}",
        ]
        (self.conf / "main.cf").write_text("\n".join(lines) + "\n")
        (self.conf / "master.cf").write_text(MASTER_CF.format(port=f"127.0.0.1:{self.port}"))

    def start(self) -> None:
        """Run ``master -d``; raises when it exits or the port does not open."""
        master = self.tree / "usr/lib/postfix/sbin/master"
        self.proc = subprocess.Popen(
            [str(master), "-c", str(self.conf), "-d"],
            env={**self._env(), "MAIL_CONFIG": str(self.conf)},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,  # master's SIGTERM handler kills its own process group
        )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def failure(self) -> str | None:
        """Why the master is not running (its output and log tail), or None while it runs."""
        if self.proc is None or self.proc.poll() is None:
            return None
        out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
        return f"postfix master exited {self.proc.returncode}: {out.strip()}\n{self.log_tail()}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no postfix log)"
        return "\n".join(text.splitlines()[-lines:])

    def queued(self) -> int:
        """Messages in the incoming, active, deferred and hold queues."""
        count = 0
        for name in ("incoming", "active", "deferred", "hold"):
            for _dirpath, _dirs, files in os.walk(self.queue / name):
                count += len(files)
        return count

    def stop(self) -> None:
        """SIGTERM the master by pid, wait, and make sure none of its processes remain."""
        if self.proc is None:
            return
        pids = tree_pids(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _reap_leftovers(pids[1:])
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None


def _owned(path: Path, uid: int, gid: int, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def _reap_leftovers(pids: list[int], timeout: float = 10.0) -> None:
    """Wait for the given (former child) pids to go; SIGKILL any that outlive ``timeout``."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while _alive(pid):
            if time.monotonic() > deadline:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
