"""Splitting a job by envelope sender: the clone Sendmail makes for ``owner-`` lists.

When a list that has an ``owner-<list>`` alias expands, its members are delivered
with the owner as envelope sender, so their errors go to the list's owner and not to
whoever wrote to the list.  Sendmail splits the envelope and logs
``clone <id>, owner=<owner>``; :func:`split_by_owner` does the same: each owner's
recipients move to a new job -- a copy of the data file and the control file with the
owner as sender and only those recipients -- made durable before the original job
drops them, so a crash in between can repeat a delivery but never lose one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..queue.qf import QueueFile
from ..queue.store import QueueStore
from .address import strip_brackets
from .outcome import Outcome

_BLOCK = 1 << 16


@dataclass(frozen=True)
class Clone:
    """A job split off for one owner: its id, control file and settled outcomes."""

    qid: str
    qf: QueueFile
    owner: str
    decided: dict[int, Outcome]


@dataclass(frozen=True)
class Split:
    """The original job without the moved recipients, and the clones made."""

    qf: QueueFile
    decided: dict[int, Outcome]
    clones: tuple[Clone, ...]


def clone_job(store: QueueStore, qf: QueueFile, df: Path) -> str:
    """Queue a copy of ``df`` under the control file ``qf``; durable on return."""
    writer = store.new_message()
    try:
        with df.open("rb") as source:
            while block := source.read(_BLOCK):
                writer.write(block)
        writer.commit(dataclasses.replace(qf, inode=writer.df_inode()))
    except BaseException:
        writer.abort()
        raise
    return writer.qid


def split_by_owner(
    store: QueueStore,
    qf: QueueFile,
    df: Path,
    decided: Mapping[int, Outcome],
    owners: Mapping[int, str],
) -> Split:
    """Move the recipients in ``owners`` to one clone per owner."""
    groups: dict[str, list[int]] = {}
    for index, owner in owners.items():
        groups.setdefault(strip_brackets(owner), []).append(index)
    clones: list[Clone] = []
    for owner, indexes in groups.items():
        cloned = dataclasses.replace(
            qf,
            sender=f"<{owner}>",
            recipients=tuple(qf.recipients[i] for i in indexes),
        )
        settled = {n: decided[i] for n, i in enumerate(indexes) if i in decided}
        clones.append(Clone(clone_job(store, cloned, df), cloned, owner, settled))
    kept = [i for i in range(len(qf.recipients)) if i not in owners]
    remaining = dataclasses.replace(qf, recipients=tuple(qf.recipients[i] for i in kept))
    still = {n: decided[i] for n, i in enumerate(kept) if i in decided}
    return Split(remaining, still, tuple(clones))
