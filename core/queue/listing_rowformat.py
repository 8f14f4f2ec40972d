"""The two encodings of a ``queue.list`` row: a JSON object, or a JSON array.

A row (:mod:`.rowscan`) is a dict; ``row_format="object"`` sends it as it is.
``row_format="array"`` sends the same values as one array in :data:`ARRAY_FIELDS`
order, with ``recipients`` a list of ``[address, delay_reason]`` pairs: about half the
bytes to carry and to decode.  Both are made here, for the rows index
(:mod:`.listing_schema`) and for the control server's folder and worker paths.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from ..control.protocol import QUEUE_ROW_FIELDS as ARRAY_FIELDS
from ..control.protocol import QUEUE_ROW_FORMATS as ROW_FORMATS

OBJECT, ARRAY = ROW_FORMATS
_RECIPIENTS = ARRAY_FIELDS.index("recipients")
_values = itemgetter(*ARRAY_FIELDS)
_pair = itemgetter("address", "delay_reason")

Row = dict[str, Any]


def row_array(row: Row) -> list[Any]:
    """``row`` as an array row."""
    values = list(_values(row))
    values[_RECIPIENTS] = list(map(list, map(_pair, values[_RECIPIENTS])))
    return values


def _as_object(row: Row) -> Row:
    return row


def shaper(row_format: str) -> Callable[[Row], Any]:
    """What to encode for a row in ``row_format`` (one of :data:`ROW_FORMATS`)."""
    if row_format == ARRAY:
        return row_array
    if row_format == OBJECT:
        return _as_object
    raise ValueError(f"no row format {row_format!r}; there are {', '.join(ROW_FORMATS)}")
