"""Who is calling and what Sendmail lets them do: restrictmailq, restrictqrun, file rights.

The RPC server runs as the user who started it (locally, or the SSH login), so the
rules are the CLI's: ``may_see_queue`` is the runner's restrictmailq test (root and the
queue folder's group); ``may_run_queue`` is restrictqrun (root and the queue folder's
owner), which also governs hold, release and delete, since those are queue operations.
File permissions still apply underneath: the checks here decide what the protocol
offers, the kernel decides what succeeds.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from typing import Any

from ..config.model import Config
from ..policy.privacy import Privacy
from ..runner import may_see_queue

__all__ = ["Caller", "caller", "may_run_queue", "may_see_queue", "rights"]


@dataclass(frozen=True)
class Caller:
    """The user the server runs as."""

    uid: int
    gid: int
    name: str
    groups: tuple[str, ...]


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def caller() -> Caller:
    uid, gid = os.getuid(), os.getgid()
    groups = tuple(dict.fromkeys(_group_name(g) for g in (gid, *os.getgroups())))
    return Caller(uid=uid, gid=gid, name=_user_name(uid), groups=groups)


def may_run_queue(config: Config) -> bool:
    """restrictqrun: only root and the owner of the queue folder may work on the queue."""
    if not config.privacy & Privacy.restrictqrun or os.getuid() == 0:
        return True
    try:
        return os.stat(config.queue_directory).st_uid == os.getuid()
    except OSError:
        return False


def may_edit_config(config_path: os.PathLike[str] | str) -> bool:
    """Whether the config file and its folder are writable for the caller."""
    path = os.fspath(config_path)
    folder = os.path.dirname(os.path.abspath(path))
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)


def rights(config: Config | None, config_path: os.PathLike[str] | str) -> dict[str, Any]:
    """The caller block of ``server.info``."""
    me = caller()
    return {
        "uid": me.uid,
        "gid": me.gid,
        "user": me.name,
        "groups": list(me.groups),
        "may_see_queue": config is not None and may_see_queue(config),
        "may_run_queue": config is not None and may_run_queue(config),
        "may_edit_config": may_edit_config(config_path),
    }
