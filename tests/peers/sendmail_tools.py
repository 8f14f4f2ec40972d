"""Sendmail's side tools as test peers: ``mailstats``, and a cf for ``hoststat``.

Builds on :mod:`tests.peers.sendmail` (same cache, same unpacked packages):

- :func:`ensure_mailstats` copies ``usr/libexec/sendmail/mailstats`` out of the
  unpacked ``sendmail-bin`` (dropping its setgid bit so ``LD_LIBRARY_PATH`` is
  honoured) and checks its libraries; :func:`run_mailstats` runs it.
- :func:`configure` regenerates a peer's cf with m4 with extra ``define``\\ s
  (for example ``confHOST_STATUS_DIRECTORY``), so ``sendmail -bh``/``-bH``
  read the directory a test wrote.
- :func:`scratch_dir` makes a folder Sendmail accepts for host status: its
  ``safefopen`` refuses any file below a world-writable folder such as
  ``/tmp``, so the folder lives in the peer cache (root-owned, mode 0700).

Failures raise :class:`~tests.peers.sendmail.PeerUnavailable`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.peers.sendmail import (
    DOMAIN,
    LIBRARY_PACKAGES,
    MC_TEMPLATE,
    TIMEOUT,
    PeerUnavailable,
    SendmailInstall,
    SendmailPeer,
    _download,
    _missing_libraries,
    _run,
    _unpack,
    cache_root,
)


def ensure_mailstats(install: SendmailInstall) -> Path:
    """The ``mailstats`` binary of the cached Sendmail, copied out once."""
    base = cache_root() / "sendmail-8.17"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        binary = base / "bin" / "mailstats"
        if not binary.exists():
            source = base / "root" / "usr/libexec/sendmail/mailstats"
            if not source.exists():
                raise PeerUnavailable(f"no mailstats binary in the packages ({source})")
            temp = binary.with_name("mailstats.tmp")
            shutil.copyfile(source, temp)
            temp.chmod(0o755)
            missing = _missing_libraries(temp, install.lib_dir)
            if missing:
                unknown = [m for m in missing if m not in LIBRARY_PACKAGES]
                if unknown:
                    raise PeerUnavailable(f"mailstats needs unknown libraries {unknown}")
                wanted = sorted({LIBRARY_PACKAGES[m] for m in missing})
                _unpack(_download(wanted, base / "debs"), base / "root")
                still = _missing_libraries(temp, install.lib_dir)
                if still:
                    raise PeerUnavailable(f"mailstats still lacks libraries {still}")
            temp.rename(binary)
        return binary


def run_mailstats(install: SendmailInstall, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the real ``mailstats ARGS`` as ``argv[0]`` = ``mailstats`` (TZ unset)."""
    env = {k: v for k, v in os.environ.items() if k != "TZ"}
    env["LD_LIBRARY_PATH"] = str(install.lib_dir)
    return subprocess.run(
        ["mailstats", *args],
        executable=ensure_mailstats(install),
        capture_output=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )


def configure(peer: SendmailPeer, defines: Mapping[str, str]) -> Path:
    """Rebuild ``peer.cf`` from the stock template plus ``define(NAME, VALUE)`` lines."""
    mc_text = MC_TEMPLATE.format(domain=DOMAIN, queue=peer.queue_dir, work=peer.workdir)
    extra = "".join(f"define(`{name}', `{value}')dnl\n" for name, value in defines.items())
    marker = "FEATURE(`accept_unresolvable_domains')dnl\n"
    mc = peer.workdir / "peer-extra.mc"
    mc.write_text(mc_text.replace(marker, extra + marker))
    cf_dir = f"{peer.install.cf_dir}/"
    result = _run([str(peer.install.m4), f"-D_CF_DIR_={cf_dir}", f"{cf_dir}m4/cf.m4", str(mc)])
    if result.returncode != 0 or "QueueDirectory" not in result.stdout:
        raise PeerUnavailable(f"m4 could not build the cf: {result.stderr.strip()}")
    peer.cf.write_text(result.stdout)
    return peer.cf


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A fresh folder in a path Sendmail's safefopen accepts; removed afterwards."""
    parent = cache_root() / "scratch"
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="t-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
