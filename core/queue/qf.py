"""The qf/hf control-file API in one place: model, reader, writer.

Re-exports :mod:`.qfmodel` (the frozen dataclasses, :data:`MACRO_REF`,
:data:`RETURN_PATH_VALUE`, :func:`initial_priority`), :func:`parse_qf` from
:mod:`.qfparse` and :func:`format_qf` from :mod:`.qfformat`.
"""

from __future__ import annotations

from .qfformat import format_qf
from .qfmodel import (
    ENCODING,
    ERRORS,
    MACRO_REF,
    QF_VERSION,
    RETURN_PATH_VALUE,
    Header,
    QueueFile,
    QueueRecipient,
    initial_priority,
)
from .qfparse import parse_qf

__all__ = [
    "ENCODING",
    "ERRORS",
    "MACRO_REF",
    "QF_VERSION",
    "RETURN_PATH_VALUE",
    "Header",
    "QueueFile",
    "QueueRecipient",
    "format_qf",
    "initial_priority",
    "parse_qf",
]
