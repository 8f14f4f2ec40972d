"""``python -m postroom.core.deliver -C FILE [-v] [-O Opt=Val] [-q...]``: one queue run.

A stand-alone entry for tests and for administrators until the main
command line calls :func:`.runner.run_queue` for ``-q``.  ``-v`` prints the
Sendmail-style dialogue to standard output; ``-q`` flags select jobs as in
``mailq``.  Exit status 0, or 64 (EX_USAGE) / 78 (EX_CONFIG) on bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..config.loader import ConfigError, load_config
from ..queue.errors import QueueSelectionError
from .runner import run_queue

EX_USAGE = 64
EX_CONFIG = 78


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the few flags and run the queue once."""
    args = list(sys.argv[1:] if argv is None else argv)
    config_path: Path | None = None
    overrides: list[str] = []
    queue_args: list[str] = []
    verbose = False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-C", "-O") and i < len(args):
            if arg == "-C":
                config_path = Path(args[i])
            else:
                overrides.append(args[i])
            i += 1
        elif arg == "-v":
            verbose = True
        elif arg.startswith("-q"):
            queue_args.append(arg)
        else:
            print(
                f"usage: python -m postroom.core.deliver -C FILE [-v] [-q...]: {arg}",
                file=sys.stderr,
            )
            return EX_USAGE
    if config_path is None:
        print("-C FILE is required", file=sys.stderr)
        return EX_USAGE
    try:
        config = load_config(config_path, tuple(overrides))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
    try:
        run_queue(config, queue_args, verbose=sys.stdout if verbose else None)
    except QueueSelectionError as exc:
        print(exc, file=sys.stderr)
        return EX_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
