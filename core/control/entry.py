"""Starting the RPC server as a program: ``postroom-mta --rpc`` and ``python -m ...control``.

``run_rpc(config_path, overrides)`` is what the CLI calls for ``--rpc``.  Before
serving it moves the protocol stream to a private copy of file descriptor 1 and points
descriptor 1 (and ``sys.stdout``) at standard error, so nothing printed by accident --
by Python code or a C library -- can corrupt the protocol.  ``main(argv)`` parses the
same ``-C FILE`` and ``-O Option=Value`` flags as ``postroom-mta`` and picks the config
file the same way (:func:`postroom.core.runner.config_path`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..cli import EX_OK, EX_TEMPFAIL, EX_USAGE, UsageError, parse_args
from ..runner import config_path
from .server import serve


def run_rpc(path: Path, overrides: Sequence[str] = ()) -> int:
    """Serve the protocol on this process's stdin and stdout; returns the exit status."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    with os.fdopen(protocol_fd, "wb", buffering=65536) as out:
        try:
            return serve(sys.stdin.buffer, out, path, overrides)
        except KeyboardInterrupt:
            return EX_TEMPFAIL
        finally:
            try:
                out.flush()
            except OSError:
                pass


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m postroom.core.control [-C FILE] [-O Option=Value ...] [--rpc]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        inv = parse_args(args)
    except UsageError as exc:
        print(f"postroom-mta --rpc: {exc}", file=sys.stderr)
        return EX_USAGE
    if inv.mode != "m" or inv.recipients or inv.queue_args:
        print("postroom-mta --rpc: only -C FILE and -O Option=Value apply", file=sys.stderr)
        return EX_USAGE
    status = run_rpc(config_path(inv), inv.overrides)
    return status if status else EX_OK
