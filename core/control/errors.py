"""Mapping the core's exceptions onto the protocol's error codes.

One place decides what a client sees: ``QueueLockedError`` is ``locked``,
``JobNotFoundError`` ``not_found``, a refused configuration ``config_invalid`` with every
problem (file, line, option, message), ``PermissionError`` ``permission_denied``, other
``OSError``/``QueueError`` ``io_error``.  Anything else is a bug and becomes ``internal``
with the exception's type and text; the server logs its traceback on standard error,
never on the protocol stream.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..config.errors import ConfigError
from ..queue.errors import (
    InvalidQueueIdError,
    JobNotFoundError,
    QueueError,
    QueueFileError,
    QueueLockedError,
)
from .protocol import (
    BAD_PARAMS,
    CONFIG_INVALID,
    INTERNAL,
    IO_ERROR,
    LOCKED,
    NOT_FOUND,
    PERMISSION_DENIED,
    RpcError,
)


def config_problems(exc: ConfigError, shown_path: Path | None = None) -> list[dict[str, Any]]:
    """Every problem of a refused load; ``shown_path`` replaces a temporary file's name."""
    problems = []
    for problem in exc.problems:
        if shown_path is not None and not problem.is_override:
            problem = ConfigError(shown_path, problem.line, problem.option, problem.message)
        problems.append(
            {
                "path": str(problem.path),
                "line": problem.line,
                "option": problem.option,
                "message": problem.message,
                "text": str(problem),
            }
        )
    return problems


def config_error(exc: ConfigError, shown_path: Path | None = None) -> RpcError:
    problems = config_problems(exc, shown_path)
    return RpcError(CONFIG_INVALID, problems[0]["text"], {"problems": problems})


def to_rpc_error(exc: BaseException) -> RpcError:
    """The error reply for ``exc``."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, ConfigError):
        return config_error(exc)
    if isinstance(exc, QueueLockedError):
        return RpcError(LOCKED, str(exc))
    if isinstance(exc, JobNotFoundError):
        return RpcError(NOT_FOUND, str(exc))
    if isinstance(exc, InvalidQueueIdError):
        return RpcError(BAD_PARAMS, str(exc))
    if isinstance(exc, QueueFileError):
        return RpcError(IO_ERROR, f"damaged queue file: {exc}")
    if isinstance(exc, QueueError):
        return RpcError(IO_ERROR, str(exc))
    if isinstance(exc, PermissionError):
        return RpcError(PERMISSION_DENIED, _os_text(exc))
    if isinstance(exc, FileNotFoundError):
        return RpcError(NOT_FOUND, _os_text(exc))
    if isinstance(exc, OSError):
        return RpcError(IO_ERROR, _os_text(exc))
    return RpcError(INTERNAL, f"{type(exc).__name__}: {exc}")


def _os_text(exc: OSError) -> str:
    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    return f"{exc.filename}: {reason}" if exc.filename else reason
