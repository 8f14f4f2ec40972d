"""Linux system calls the standard library does not offer, reached through libc.

:func:`libc_function` looks a function up in the C library (``ctypes``) and
gives it its argument and result types; None where there is no such function
(not Linux, an older libc), so each caller keeps a plain fallback.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any


def libc_function(
    name: str, argtypes: Sequence[type[Any]], restype: type[Any]
) -> Callable[..., int] | None:
    """libc's ``name`` (errno kept for ``ctypes.get_errno``), or None where it is missing."""
    libc = _libc()
    if libc is None:
        return None
    try:
        call = getattr(libc, name)
    except AttributeError:
        return None
    call.argtypes = tuple(argtypes)
    call.restype = restype
    result: Callable[..., int] = call
    return result


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, found once per process (``find_library`` runs ``ldconfig``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
