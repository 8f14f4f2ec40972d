"""Holding off Python's cyclic garbage collector while big listings stream in.

Decoding a 100,000-row ``queue.list`` allocates millions of short-lived containers
(the JSON arrays of each chunk); they count towards the collector's thresholds, so
it runs full collections that walk everything the app holds -- 40-150 ms each, about
eight per load, with the interpreter lock held, so the window cannot paint
meanwhile.  Nothing a load allocates is part of a reference cycle: reference counting
frees it all.  So while any load is in progress the collector is paused, and it
resumes when the last one ends.  Only the GUI thread pauses and resumes.
"""

from __future__ import annotations

import gc


class CollectorPause:
    """One holder of the pause; :meth:`hold` and :meth:`release` may each be repeated."""

    _holders = 0
    _was_enabled = False

    def __init__(self) -> None:
        self.holding = False

    def hold(self) -> None:
        if self.holding:
            return
        self.holding = True
        if CollectorPause._holders == 0:
            CollectorPause._was_enabled = gc.isenabled()
            gc.disable()
        CollectorPause._holders += 1

    def release(self) -> None:
        if not self.holding:
            return
        self.holding = False
        CollectorPause._holders -= 1
        if CollectorPause._holders == 0 and CollectorPause._was_enabled:
            gc.enable()
