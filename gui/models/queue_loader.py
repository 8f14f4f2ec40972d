"""Feeding the queue model from ``queue.list``: one streamed request at a time.

:class:`QueueLoader` gets the request function and the model in its constructor.
``load()`` cancels any load in progress and asks the server for the rows matching the
filter's server-side part, unsorted so the first chunk leaves at once; each chunk is
turned into field tuples (:data:`~.queue_rows.Fields`) in one pass and filtered by the
filter's local part on the RPC reader thread (the request's ``transform``), then handed
to the model.  ``load(merge=True)`` refreshes in place (after a ``queue.changed`` event
or an action).

When the server says (``server.info`` ``"queue_list_row_formats"``) that it can send
rows as arrays, the loader asks for ``row_format="array"``: the same values, less than
half the bytes to carry and decode (see :data:`~.queue_rows.ARRAY_FIELDS`).  While a
load runs, the cyclic garbage collector is paused (:mod:`.collector_pause`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from postroom.gui.qt_client import Request
from PySide6.QtCore import QObject, Signal

from .collector_pause import CollectorPause
from .queue_filter import QueueFilter
from .queue_model import QueueModel
from .queue_rows import Fields, rows_from_arrays, rows_from_wire

RequestFn = Callable[..., Request]
InfoFn = Callable[[], dict[str, Any] | None]
LIST_TIMEOUT = 120.0
PARTS = ["queue", "hold", "lost"]
ARRAY_FORMAT = "array"
FORMATS_KEY = "queue_list_row_formats"


def row_converter(
    test: Callable[[Fields], bool] | None, *, arrays: bool = False
) -> Callable[[list[Any]], list[Fields]]:
    """The chunk transform: wire rows to field tuples, filtered by ``test``."""
    build = rows_from_arrays if arrays else rows_from_wire

    def convert(rows: list[Any]) -> list[Fields]:
        out = build(rows)
        return out if test is None else list(filter(test, out))

    return convert


def _no_info() -> dict[str, Any] | None:
    return None


class QueueLoader(QObject):
    """Runs ``queue.list`` into a :class:`QueueModel`."""

    started = Signal()
    progress = Signal(int)  # rows received so far
    finished = Signal(object)  # the server's summary ({"count", "matched", "scanned", ...})
    failed = Signal(object)  # the error

    def __init__(
        self,
        request: RequestFn,
        model: QueueModel,
        *,
        clock: Callable[[], float] = time.time,
        server_info: InfoFn = _no_info,
    ) -> None:
        super().__init__()
        self.request = request
        self.server_info = server_info
        self.model = model
        self.clock = clock
        self.filter = QueueFilter()
        self.fetched_at: float | None = None
        self.received = 0
        self._current: Request | None = None
        self._collector = CollectorPause()

    @property
    def busy(self) -> bool:
        return self._current is not None

    def arrays_offered(self) -> bool:
        """True when the server lists ``row_format="array"`` among what it can send."""
        info = self.server_info()
        formats = info.get(FORMATS_KEY) if isinstance(info, dict) else None
        return isinstance(formats, list) and ARRAY_FORMAT in formats

    def set_filter(self, new: QueueFilter) -> None:
        self.filter = new

    def load(self, *, merge: bool = False) -> Request:
        self.cancel()
        self._collector.hold()
        self.model.begin_load(merge=merge)
        params: dict[str, Any] = {**self.filter.server_params(), "sort": "none", "queues": PARTS}
        arrays = self.arrays_offered()
        if arrays:
            params["row_format"] = ARRAY_FORMAT
        convert = row_converter(self.filter.local_test(self.clock()), arrays=arrays)
        req = self.request(
            "queue.list", params, stream=True, transform=convert, timeout=LIST_TIMEOUT
        )
        self._current = req
        self.received = 0
        req.chunk.connect(self._on_chunk)
        req.finished.connect(self._on_finished)
        req.failed.connect(self._on_failed)
        self.started.emit()
        return req

    def cancel(self) -> None:
        req, self._current = self._current, None
        if req is not None:
            req.cancel()
            self.model.abort_load()
        self._collector.release()

    def _on_chunk(self, rows: list[Fields]) -> None:
        self.received += len(rows)
        self.model.add_rows(rows)
        self.progress.emit(self.received)

    def _on_finished(self, summary: Any) -> None:
        self._current = None
        self._collector.release()
        self.fetched_at = self.clock()
        self.model.end_load()
        self.finished.emit(summary)

    def _on_failed(self, error: Any) -> None:
        self._current = None
        self._collector.release()
        self.model.abort_load()
        self.failed.emit(error)
