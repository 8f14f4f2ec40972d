"""``queue.list`` rows as the control methods see them: the queue's own reader, re-exported.

The reading lives in :mod:`postroom.core.queue.rowscan` (the queue reads its own files);
this module keeps the names the control layer and its workers import.
"""

from __future__ import annotations

from ..queue.rowscan import KINDS, MAX_NAME, control_names, read_row, scan, summarize

__all__ = ["KINDS", "MAX_NAME", "control_names", "read_row", "scan", "summarize"]
