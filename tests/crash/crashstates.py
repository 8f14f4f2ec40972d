"""Every on-disk state a crash may leave, given a recorded sequence of file-system operations.

The operations come from :mod:`.straceparse` (the real daemon, one folder).
A *crash state* is: a crash point (the first ``k`` operations completed) and,
for each completed operation that was not yet durable, whether -- and for a
data write how much of it -- reached the disk.  :func:`crash_states` yields
them all; :func:`materialise` writes one into a folder.

Two persistence models (:data:`EXT4`, :data:`WEAK`), in the manner of ALICE
(Pillai et al., OSDI 2014):

- **data**: a ``write`` (or ``truncate``) of file *f* is durable once an
  ``fsync``/``fdatasync`` of *f* that *began* after the write completed has
  completed.  Before that it may be lost, kept whole, or kept as a prefix cut
  at a 4 KiB block boundary; writes to the same file are independent of each
  other (a later one may persist while an earlier one does not, leaving zeros
  in between).
- **directory entries** (``create``, ``rename``, ``unlink``): durable once an
  ``fsync`` of their folder completes, and the operation that gave file *f*
  its current name is durable once an ``fsync`` of *f* completes (what ext4,
  XFS and btrfs do for a new file; ALICE's rename rule).  An entry operation
  can persist only together with the one that created the name it consumes
  (a rename needs its source to exist).
- :data:`EXT4` adds ext4's journal: entry operations persist in program order
  (always a prefix of them), and *any* completed ``fsync`` commits every
  entry operation before it.
- :data:`WEAK` allows any dependency-closed subset of the non-durable entry
  operations: a strictly weaker file system, as a stress test of the protocol.

Open, close, locks and reads do not change what is on disk and are not modelled.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .straceparse import Op

BLOCK = 4096
ENTRY = ("create", "rename", "unlink")
DATA = ("write", "truncate")


@dataclass(frozen=True)
class Model:
    name: str
    ordered_entries: bool


EXT4 = Model("ext4", ordered_entries=True)
WEAK = Model("weak", ordered_entries=False)


@dataclass(frozen=True)
class CrashState:
    """``crash_after`` operations completed; ``kept[i]`` = octets (or 1) of operation i on disk."""

    crash_after: int
    kept: tuple[tuple[int, int], ...]

    def describe(self, ops: list[Op]) -> str:
        kept = dict(self.kept)
        parts = []
        for i, op in enumerate(ops[: self.crash_after]):
            if op.kind == "send":
                continue
            name = os.path.basename(op.path) + (
                f"->{os.path.basename(op.target)}" if op.target else ""
            )
            amount = kept.get(i, 0)
            if op.kind == "write":
                mark = "all" if amount == len(op.data) else f"{amount}/{len(op.data)}"
            else:
                mark = "yes" if amount else "no"
            parts.append(f"{op.kind} {name}: {mark}")
        return f"crash after {self.crash_after} ops; " + "; ".join(parts)


def _inodes(ops: list[Op], initial: dict[str, int]) -> list[int]:
    """The inode each operation works on (program order), for creates the new one."""
    names = dict(initial)
    counter = itertools.count(max(initial.values(), default=0) + 1)
    out = []
    for op in ops:
        if op.kind == "create":
            names[op.path] = next(counter)
            out.append(names[op.path])
        elif op.kind == "rename":
            inode = names.pop(op.path, -1)
            names[op.target] = inode
            out.append(inode)
        elif op.kind == "unlink":
            out.append(names.pop(op.path, -1))
        else:
            out.append(names.get(op.path, -1))
    return out


def _dependencies(ops: list[Op]) -> dict[int, int]:
    """Entry operation -> the earlier entry operation that created the name it consumes."""
    made: dict[str, int] = {}
    deps: dict[int, int] = {}
    for i, op in enumerate(ops):
        if op.kind in ("rename", "unlink") and op.path in made:
            deps[i] = made.pop(op.path)
        if op.kind == "create":
            made[op.path] = i
        elif op.kind == "rename":
            made[op.target] = i
    return deps


def _durable(ops: list[Op], inodes: list[int], k: int, model: Model, folder: str) -> set[int]:
    durable: set[int] = set()
    namer: dict[int, int] = {}  # inode -> entry op that gave it its current name
    for j in range(k):
        op = ops[j]
        if op.kind in ("create", "rename"):
            namer[inodes[j]] = j
        if op.kind != "fsync":
            continue
        is_dir = op.path == folder
        for i in range(j):
            before = ops[i].seq < op.start
            if not before:
                continue
            if ops[i].kind in ENTRY and (is_dir or model.ordered_entries):
                durable.add(i)
            elif ops[i].kind in DATA and not is_dir and inodes[i] == inodes[j]:
                durable.add(i)
        if not is_dir and inodes[j] in namer:
            durable.add(namer[inodes[j]])
    deps = _dependencies(ops)
    stack = list(durable)
    while stack:  # an entry op on disk implies the one it depends on
        i = stack.pop()
        if i in deps and deps[i] not in durable:
            durable.add(deps[i])
            stack.append(deps[i])
    return durable


def _write_choices(op: Op) -> list[int]:
    size = len(op.data)
    cuts = {0, size}
    first_block = BLOCK - op.offset % BLOCK
    if 0 < first_block < size:
        cuts.add(first_block)
        last = first_block + (size - first_block) // BLOCK * BLOCK
        if 0 < last < size:
            cuts.add(last)
    return sorted(cuts)


def crash_states(
    ops: list[Op], model: Model, folder: Path, initial: dict[str, int]
) -> Iterator[CrashState]:
    """Every crash state of ``ops`` under ``model`` (``initial``: name -> inode before them)."""
    inodes = _inodes(ops, initial)
    deps = _dependencies(ops)
    root = os.path.realpath(folder)
    for k in range(len(ops) + 1):
        durable = _durable(ops, inodes, k, model, root)
        fixed = {
            i: (len(ops[i].data) if ops[i].kind == "write" else 1)
            for i in durable
            if ops[i].kind in ENTRY + DATA
        }
        loose_entries = [i for i in range(k) if ops[i].kind in ENTRY and i not in durable]
        loose_data = [i for i in range(k) if ops[i].kind in DATA and i not in durable]
        if model.ordered_entries:
            entry_sets = [set(loose_entries[:n]) for n in range(len(loose_entries) + 1)]
        else:
            entry_sets = [
                {i for i, keep in zip(loose_entries, bits, strict=True) if keep}
                for bits in itertools.product((False, True), repeat=len(loose_entries))
            ]
        entry_sets = [
            s for s in entry_sets if all(deps[i] in s or deps[i] in fixed for i in s if i in deps)
        ]
        data_choices = [
            _write_choices(ops[i]) if ops[i].kind == "write" else [0, 1] for i in loose_data
        ]
        for entries in entry_sets:
            for amounts in itertools.product(*data_choices):
                kept = dict(fixed)
                kept.update({i: 1 for i in entries})
                kept.update({i: n for i, n in zip(loose_data, amounts, strict=True) if n})
                yield CrashState(k, tuple(sorted(kept.items())))


def materialise(
    ops: list[Op], state: CrashState, initial: dict[str, bytes], folder: Path, into: Path
) -> None:
    """Write the files ``state`` leaves in ``folder`` (``initial``: its files before ``ops``)."""
    root = os.path.realpath(folder)
    inode_of = {os.path.join(root, name): n for n, name in enumerate(sorted(initial), start=1)}
    inodes = _inodes(ops, inode_of)
    contents: dict[int, bytearray] = {
        inode_of[os.path.join(root, name)]: bytearray(data) for name, data in initial.items()
    }
    names = dict(inode_of)
    kept = dict(state.kept)
    for i, op in enumerate(ops[: state.crash_after]):
        amount = kept.get(i, 0)
        inode = inodes[i]
        if op.kind == "create":
            contents.setdefault(inode, bytearray())
            if amount:
                names[op.path] = inode
        elif op.kind == "write" and amount:
            data = contents.setdefault(inode, bytearray())
            end = op.offset + amount
            if len(data) < end:
                data.extend(bytes(end - len(data)))
            data[op.offset : end] = op.data[:amount]
        elif op.kind == "truncate" and amount:
            data = contents.setdefault(inode, bytearray())
            del data[op.offset :]
            data.extend(bytes(max(0, op.offset - len(data))))
        elif op.kind == "rename" and amount and op.path in names:
            names[op.target] = names.pop(op.path)
        elif op.kind == "unlink" and amount:
            names.pop(op.path, None)
    into.mkdir(parents=True, exist_ok=True)
    for path, inode in names.items():
        if os.path.dirname(path) != root:
            continue
        target = into / os.path.basename(path)
        target.write_bytes(bytes(contents.get(inode, b"")))
        target.chmod(0o600)
