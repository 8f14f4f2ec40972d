"""Finding and reading a user's ``.forward`` file safely (SENDMAIL.md 7.2).

:class:`ForwardPolicy` holds Sendmail's ForwardPath (default ``$z/.forward``;
colon-separated; macros ``$z`` home, ``$u`` user, ``$w`` short host name,
``$j`` host name, ``$$`` a dollar) and whether ``.forward`` files are used at
all: only when the MTA runs as root (:func:`forward_enabled_default`), as
Sendmail reads them with the user's rights.

:func:`read_forward` tries each candidate in order.  The first file that
exists and passes :func:`.trust.forward_problem` is used.  An unsafe one is
ignored and a note ``forward <path>: <reason>`` is returned for the log
(BAD-INPUTS 53); a temporary error (EIO, ENFILE ...) with no usable file sets
``transient``, and the caller queues the message as Sendmail does
("transient .forward open error: message queued").
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .accounts import Account
from .trust import MAX_LIST_BYTES, UnsafeFile, forward_problem, read_safely, readable_by

DEFAULT_FORWARD_PATH = "$z/.forward"
TRANSIENT_ERRNOS = frozenset(
    {errno.EIO, errno.EAGAIN, errno.ENOMEM, errno.ENFILE, errno.EMFILE, errno.ETIMEDOUT,
     errno.ESTALE, errno.EINTR}
)  # fmt: skip
_MACRO = re.compile(r"\$(\$|[a-zA-Z])")


def forward_enabled_default() -> bool:
    """Sendmail reads ``.forward`` files only when it runs as root."""
    return os.geteuid() == 0


@dataclass(frozen=True)
class ForwardPolicy:
    """Whether and where to look for ``.forward`` files."""

    enabled: bool = False
    path: str = DEFAULT_FORWARD_PATH
    host_name: str = ""
    max_bytes: int = MAX_LIST_BYTES


@dataclass(frozen=True)
class ForwardResult:
    """The file used (and its bytes), notes for the log, and whether an open failed temporarily."""

    path: Path | None = None
    data: bytes | None = None
    notes: tuple[str, ...] = ()
    transient: bool = False


def candidates(policy: ForwardPolicy, account: Account) -> list[Path]:
    """ForwardPath with its macros expanded; entries with an unknown macro are skipped."""
    values = {
        "z": account.home,
        "u": account.name,
        "w": policy.host_name.split(".")[0],
        "j": policy.host_name,
        "$": "$",
    }
    out: list[Path] = []
    for spec in policy.path.split(":"):
        unknown = False

        def expand(match: re.Match[str]) -> str:
            nonlocal unknown
            value = values.get(match.group(1))
            if value is None:
                unknown = True
                return ""
            return value

        text = _MACRO.sub(expand, spec).strip()
        if text and not unknown and os.path.isabs(text):
            out.append(Path(text))
    return out


def read_forward(
    policy: ForwardPolicy,
    account: Account,
    *,
    reader: tuple[int, tuple[int, ...]] | None = None,
) -> ForwardResult:
    """The first safe ``.forward`` of ``account``; ``reader`` (uid, gids) limits reading."""
    notes: list[str] = []
    transient = False
    if not policy.enabled or not account.system or account.uid < 0:
        return ForwardResult()
    if not account.home:
        return ForwardResult(notes=("forward: no home",))

    def check(path: Path) -> str | None:
        why = forward_problem(path, account.uid)
        if why is None and reader is not None and not readable_by(os.stat(path), *reader):
            return "Permission denied"
        return why

    for path in candidates(policy, account):
        try:
            os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            notes.append(f"forward {path}: {exc.strerror}")
            transient = transient or exc.errno in TRANSIENT_ERRNOS
            continue
        try:
            data, _st = read_safely(path, check, max_bytes=policy.max_bytes)
        except UnsafeFile as exc:
            notes.append(f"forward {path}: {exc}")
            continue
        except FileNotFoundError:
            continue
        except OSError as exc:
            notes.append(f"forward {path}: {exc.strerror}")
            transient = transient or exc.errno in TRANSIENT_ERRNOS
            continue
        return ForwardResult(path, data, tuple(notes))
    return ForwardResult(None, None, tuple(notes), transient)
