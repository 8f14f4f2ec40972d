"""``mailq`` / ``postroom-mta -bp``: choose the config, apply restrictmailq, print the listing.

Kept apart from :mod:`.runner` so that listing the queue imports only the config
loader and the queue listing, not the daemon, delivery or alias code: a listing of a
large queue served from the index takes tens of milliseconds, and importing the rest
would cost several times that.  :func:`config_path` and :func:`may_see_queue` are the
runner's rules (it re-exports them).  The listing is written as bytes, chunk by chunk;
a reader that goes away (``mailq | head``) ends the command quietly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .cli import EX_CONFIG, EX_IOERR, EX_NOPERM, EX_OK, EX_USAGE, Invocation
from .config.loader import ConfigError, load_config
from .policy.privacy import Privacy

if TYPE_CHECKING:
    from .config.model import Config


def config_path(inv: Invocation) -> Path:
    """``-C`` if given; else the system file for root when it exists; else the embedded profile."""
    if inv.config is not None:
        return inv.config
    from .config.profile import default_config_path, ensure_embedded_profile

    path = default_config_path()
    if os.geteuid() == 0 and path.exists():
        return path
    return ensure_embedded_profile()


def may_see_queue(config: Config) -> bool:
    """restrictmailq: only root and members of the queue directory's group."""
    if not config.privacy & Privacy.restrictmailq or os.getuid() == 0:
        return True
    try:
        gid = os.stat(config.queue_directory).st_gid
    except OSError:
        return False
    return gid in (os.getgid(), *os.getgroups())


def run_mailq(inv: Invocation, name: str) -> int:
    """Load the configuration and list the queue (``-bp``)."""
    try:
        config = load_config(config_path(inv), tuple(inv.overrides))
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EX_CONFIG
    return list_queue(config, inv, name)


def list_queue(config: Config, inv: Invocation, name: str) -> int:
    from .queue.mailq import iter_queue_listing
    from .queue.selection import parse_selection

    if not may_see_queue(config):
        print("You are not permitted to see the queue", file=sys.stderr)
        return EX_NOPERM
    try:
        selection = parse_selection(inv.queue_args)
    except ValueError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return EX_USAGE
    chunks = iter_queue_listing(
        Path(config.queue_directory), verbose=inv.verbose, selection=selection
    )
    sys.stdout.flush()
    out = sys.stdout.buffer
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())  # nothing more can reach the reader; exit quietly
        os.close(devnull)
        return EX_IOERR
    return EX_OK
