"""The interpreter setting the desktop app runs with: a short thread switch interval.

Every call Qt makes into Python (a model's ``data()`` for each painted cell, a slot)
must take the interpreter lock.  While an RPC reader thread decodes a long listing it
holds the lock, and by default a waiting thread gets it only after 5 ms -- per call,
so painting 1,000 cells could take seconds.  At 0.5 ms the window keeps painting
during a 100,000-row load; the reader loses a little throughput to the extra switches.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL = 0.0005
"""Seconds a thread waits for the interpreter lock before asking its holder to let go."""


def tune_interpreter() -> None:
    """Apply the app's interpreter settings (call once, before starting threads)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
