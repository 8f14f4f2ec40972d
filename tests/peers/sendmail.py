"""A real Sendmail 8.17 as a test peer, without installing it over the system.

:func:`ensure_sendmail` fetches the Debian packages with ``apt-get download``
(``apt-get update`` once if that fails), unpacks them with ``dpkg -x`` into a
cache folder (``/var/cache/postroom-test-peers``, or ``~/.cache/...`` when
that is not writable; ``POSTROOM_PEER_CACHE`` overrides) and reuses it on
later runs.  The ``sendmail`` binary is copied out of the package tree so the
setgid bit does not block ``LD_LIBRARY_PATH``; libraries it lacks (found
with ``ldd``) are fetched the same way, and so is ``m4`` if the system has
none.  Any failure raises :class:`PeerUnavailable` with the reason -- the
fixture turns it into a test failure, never a skip.

:class:`SendmailPeer` owns one private configuration (generated from the
stock ``cf/`` tree with m4: OSTYPE(linux), ``$j`` = mail.example.test, the
test's queue folder, DeliveryMode=queueonly, accept_unresolvable_domains,
no_default_msa, a files-only service switch, load-average limits out of reach so a
busy CI machine never gets ``X`` markers or refusals) and runs the binary in private
UTS and mount namespaces: a qualified hostname, and private ``/etc/hosts``,
``/etc/nsswitch.conf`` (files only) and ``/etc/resolv.conf`` (loopback)
bind-mounted, so it never waits on or sends a DNS query.  It opens no socket:
it speaks SMTP on stdin/stdout (``-bs``) and lists the queue (``-bp``).
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("sendmail-bin", "sendmail-base", "sendmail-cf", "libwrap0")
LIBRARY_PACKAGES = {
    "libwrap.so.0": "libwrap0",
    "libdb-5.3.so": "libdb5.3",
    "libnsl.so.2": "libnsl2",
    "libtirpc.so.3": "libtirpc3",
    "libldap-2.5.so.0": "libldap-2.5-0",
    "liblber-2.5.so.0": "libldap-2.5-0",
    "libsasl2.so.2": "libsasl2-2",
    "libssl.so.3": "libssl3",
    "libcrypto.so.3": "libssl3",
}
HOSTNAME = "vm.example.test"
DOMAIN = "mail.example.test"
TIMEOUT = 60


class PeerUnavailable(Exception):
    """The Sendmail peer could not be obtained or started; the message says why."""


@dataclass(frozen=True)
class SendmailInstall:
    """An unpacked Sendmail: binary, library folder, cf tree and an m4."""

    binary: Path
    lib_dir: Path
    cf_dir: Path
    m4: Path


def cache_root() -> Path:
    override = os.environ.get("POSTROOM_PEER_CACHE")
    if override:
        return Path(override)
    system = Path("/var/cache/postroom-test-peers")
    try:
        system.mkdir(parents=True, exist_ok=True)
        if os.access(system, os.W_OK):
            return system
    except OSError:
        pass
    return Path.home() / ".cache" / "postroom-test-peers"


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"cannot run {' '.join(cmd)}: {exc}") from exc


def _download(packages: list[str], into: Path) -> list[Path]:
    into.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):
        result = _run(["apt-get", "download", *packages], cwd=into)
        if result.returncode == 0:
            break
        if attempt == 0:
            _run(["apt-get", "update"])
    else:
        raise PeerUnavailable(
            f"apt-get download {' '.join(packages)} failed: {result.stderr.strip()[-500:]}"
        )
    debs = [p for name in packages for p in into.glob(f"{name}_*.deb")]
    if not debs:
        raise PeerUnavailable(f"apt-get download produced no .deb for {packages}")
    return debs


def _unpack(debs: list[Path], root: Path) -> None:
    for deb in debs:
        result = _run(["dpkg", "-x", str(deb), str(root)])
        if result.returncode != 0:
            raise PeerUnavailable(f"dpkg -x {deb.name} failed: {result.stderr.strip()}")


def _lib_dir(root: Path) -> Path:
    found = sorted(glob.glob(str(root / "usr/lib/*-linux-gnu")))
    lib = Path(found[0]) if found else root / "usr/lib"
    lib.mkdir(parents=True, exist_ok=True)
    return lib


def _missing_libraries(binary: Path, lib: Path) -> list[str]:
    env = dict(os.environ, LD_LIBRARY_PATH=str(lib))
    try:
        out = subprocess.run(
            ["ldd", str(binary)], capture_output=True, text=True, env=env, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"cannot run ldd: {exc}") from exc
    return [line.split()[0] for line in out.splitlines() if "not found" in line]


def ensure_sendmail() -> SendmailInstall:
    """Return the cached Sendmail, downloading and unpacking it on first use."""
    base = cache_root() / "sendmail-8.17"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        root = base / "root"
        binary = base / "bin" / "sendmail"
        if not (base / "ready").exists():
            _unpack(_download(list(PACKAGES), base / "debs"), root)
            source = root / "usr/libexec/sendmail/sendmail"
            if not source.exists():
                raise PeerUnavailable(f"no sendmail binary in the packages ({source})")
            binary.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, binary)
            binary.chmod(0o755)
            lib = _lib_dir(root)
            missing = _missing_libraries(binary, lib)
            if missing:
                wanted = sorted({LIBRARY_PACKAGES[m] for m in missing if m in LIBRARY_PACKAGES})
                unknown = [m for m in missing if m not in LIBRARY_PACKAGES]
                if unknown:
                    raise PeerUnavailable(f"sendmail needs unknown libraries {unknown}")
                _unpack(_download(wanted, base / "debs"), root)
                still = _missing_libraries(binary, lib)
                if still:
                    raise PeerUnavailable(f"sendmail still lacks libraries {still}")
            if shutil.which("m4") is None and not (root / "usr/bin/m4").exists():
                _unpack(_download(["m4"], base / "debs"), root)
            (base / "ready").write_text("ok\n")
        m4 = shutil.which("m4") or str(root / "usr/bin/m4")
        return SendmailInstall(binary, _lib_dir(root), root / "usr/share/sendmail/cf", Path(m4))


MC_TEMPLATE = """\
divert(-1)
divert(0)dnl
VERSIONID(`postroom test peer')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `{domain}')dnl
define(`QUEUE_DIR', `{queue}')dnl
define(`confDELIVERY_MODE', `queueonly')dnl
define(`confSERVICE_SWITCH_FILE', `{work}/service.switch')dnl
define(`confHOSTS_FILE', `{work}/hosts')dnl
define(`ALIAS_FILE', `{work}/aliases')dnl
define(`STATUS_FILE', `{work}/statistics')dnl
define(`confPID_FILE', `{work}/sendmail.pid')dnl
define(`confDONT_PROBE_INTERFACES', `true')dnl
define(`confQUEUE_LA', `100000')dnl
define(`confREFUSE_LA', `100000')dnl
define(`confDELAY_LA', `0')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`no_default_msa')dnl
MAILER(`local')dnl
MAILER(`smtp')dnl
"""


class SendmailPeer:
    """One configured Sendmail working on ``queue_dir``."""

    def __init__(self, install: SendmailInstall, workdir: Path, queue_dir: Path) -> None:
        self.install = install
        self.workdir = workdir
        self.queue_dir = queue_dir
        queue_dir.mkdir(parents=True, exist_ok=True)
        (workdir / "service.switch").write_text("hosts files\naliases files\n")
        short = HOSTNAME.split(".")[0]
        (workdir / "hosts").write_text(f"127.0.0.1 localhost {HOSTNAME} {short}\n")
        (workdir / "nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files\n")
        (workdir / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        for name in ("aliases", "statistics"):
            (workdir / name).touch()
        mc = workdir / "peer.mc"
        mc.write_text(MC_TEMPLATE.format(domain=DOMAIN, queue=queue_dir, work=workdir))
        self.cf = workdir / "peer.cf"
        cf_dir = f"{install.cf_dir}/"
        cmd = [str(install.m4), f"-D_CF_DIR_={cf_dir}", f"{cf_dir}m4/cf.m4", str(mc)]
        result = _run(cmd)
        if result.returncode != 0 or "QueueDirectory" not in result.stdout:
            raise PeerUnavailable(f"m4 could not build the cf: {result.stderr.strip()}")
        self.cf.write_text(result.stdout)

    def command(self, *args: str) -> list[str]:
        """argv running sendmail with our cf in private UTS and mount namespaces.

        Inside, the hostname is qualified and ``/etc/hosts``, ``/etc/nsswitch.conf``
        and ``/etc/resolv.conf`` are bind-mounted from the work folder (files only,
        loopback resolver), so no lookup ever leaves the machine or waits on DNS.
        """
        script = (
            'hostname "$1" && mount --bind "$2/hosts" /etc/hosts'
            ' && mount --bind "$2/nsswitch.conf" /etc/nsswitch.conf'
            ' && { [ ! -e /etc/resolv.conf ] || mount --bind "$2/resolv.conf" /etc/resolv.conf; }'
            ' && shift 2 && exec "$@"'
        )
        binary = str(self.install.binary)
        work = str(self.workdir)
        return ["unshare", "--uts", "--mount", "sh", "-c", script, "sh", HOSTNAME, work,
                binary, "-C", str(self.cf), *args]  # fmt: skip

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "TZ"}
        env["LD_LIBRARY_PATH"] = str(self.install.lib_dir)
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """Run ``sendmail ARGS`` with our cf (no stdin); the caller checks the result."""
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=False,
        )

    def mailq(self, *args: str) -> bytes:
        """Output of ``sendmail -bp ARGS`` (raw bytes); fails on a non-zero exit."""
        result = subprocess.run(
            self.command("-bp", *args), capture_output=True, env=self.env(), timeout=TIMEOUT
        )
        if result.returncode != 0:
            raise PeerUnavailable(
                f"sendmail -bp {' '.join(args)} exited {result.returncode}: {result.stderr!r}"
            )
        return result.stdout

    def submit(
        self,
        sender: str,
        recipients: list[str],
        message: bytes,
        *,
        helo: str = "client.example.org",
        mail_params: str = "",
    ) -> str:
        """Deliver one message over ``-bs`` SMTP; returns the queue id from the 250 reply."""
        with SmtpStdio(self.command("-bs"), self.env()) as smtp:
            smtp.expect(b"220")
            smtp.command(f"EHLO {helo}", b"250")
            smtp.command(f"MAIL FROM:<{sender}>{mail_params}", b"250")
            for rcpt in recipients:
                smtp.command(f"RCPT TO:{rcpt}", b"250")
            smtp.command("DATA", b"354")
            body = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            smtp.send(body + b".\r\n")
            reply = smtp.expect(b"250")
            smtp.command("QUIT", b"221")
        return reply.split()[2].decode()


class SmtpStdio:
    """A line-by-line SMTP dialogue with a ``sendmail -bs`` child process."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )

    def __enter__(self) -> SmtpStdio:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def expect(self, code: bytes) -> bytes:
        """Read one (possibly multi-line) reply; it must start with ``code``."""
        assert self.proc.stdout is not None
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise PeerUnavailable(f"sendmail closed the session; got {lines!r}")
            lines.append(line)
            if line[3:4] != b"-":
                break
        if not lines[-1].startswith(code):
            raise PeerUnavailable(f"expected {code!r}, sendmail said {b''.join(lines)!r}")
        return lines[-1]

    def command(self, text: str, code: bytes) -> bytes:
        self.send(text.encode() + b"\r\n")
        return self.expect(code)
