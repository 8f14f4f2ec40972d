"""CPU time of a server's whole process tree, read from /proc.

A server that forks (Postfix's master and its daemons, Sendmail's per-connection
children, Postroom's acceptor workers) spends its CPU in many processes, some
of which exit during a run. :func:`tree_cpu_seconds` adds, for the root and
every live descendant, its own user+system time plus the time of its children
it has already reaped (``cutime``/``cstime``), so a child that exited and was
waited for is still counted, once, through its parent. The difference of two
readings is the CPU the tree used in between.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces; fields follow the last ")".
    return text.rsplit(")", 1)[1].split()


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids for every process visible now."""
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        found.setdefault(int(fields[1]), []).append(int(entry))
    return found


def tree_pids(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    kids = children_map()
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(kids.get(pid, ()))
    return pids


def tree_cpu_seconds(root: int) -> float:
    """User+system CPU seconds of ``root``'s tree, reaped children included."""
    total = 0
    for pid in tree_pids(root):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        # utime, stime, cutime, cstime are fields 14-17 of stat(5); here 0-based after ")".
        total += sum(int(value) for value in fields[11:15])
    return total / TICKS
