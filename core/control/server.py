"""The ``--rpc`` loop: JSON requests in on stdin, responses, chunks and events out.

``serve(stdin, stdout, config_path, overrides)`` reads one request per line (at most
:data:`~.protocol.MAX_REQUEST_BYTES`; a longer line is skipped to its end and answered
``bad_request``), answers each in order, and returns 0 when stdin ends or the client
goes away.  A line that is not a JSON object, or has no usable id or method, gets an
error with ``"id": null`` (or its id, when that much could be read); the session goes
on.  Nothing but protocol lines is ever written to ``stdout``: a handler's unexpected
exception becomes an ``internal`` error whose message names it, and its traceback goes
to standard error.  Lines are written whole under a lock, because the event watchers
write from their own threads.
"""

from __future__ import annotations

import difflib
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from . import protocol
from .context import Context, Method
from .errors import to_rpc_error
from .params import Params, check_names
from .protocol import (
    BAD_PARAMS,
    BAD_REQUEST,
    INTERNAL,
    MAX_REQUEST_BYTES,
    NOT_AVAILABLE,
    UNKNOWN_METHOD,
    RequestId,
    RpcError,
)
from .registry import METHODS
from .registry_text import NOT_AVAILABLE_METHODS

TOO_LONG = object()


class LineWriter:
    """Writes whole lines to the protocol stream, one thread at a time."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, line: bytes) -> None:
        with self._lock:
            self.stream.write(line)
            self.stream.flush()


class RequestStream:
    """The :class:`~.context.Stream` of one request."""

    def __init__(self, writer: LineWriter, request_id: RequestId) -> None:
        self.writer = writer
        self.request_id = request_id

    def chunk(self, rows: list[Any]) -> None:
        self.writer.write(protocol.chunk(self.request_id, rows))

    def chunk_encoded(self, array: bytes) -> None:
        self.writer.write(protocol.chunk_encoded(self.request_id, array))

    def event(self, name: str, data: dict[str, Any]) -> None:
        self.writer.write(protocol.event(name, data))


def read_requests(stdin: BinaryIO) -> Iterator[bytes | object]:
    """Lines of ``stdin``; :data:`TOO_LONG` for a line over the limit (read to its end)."""
    while True:
        line = stdin.readline(MAX_REQUEST_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_REQUEST_BYTES:
            while line and not line.endswith(b"\n"):
                line = stdin.readline(MAX_REQUEST_BYTES)
            yield TOO_LONG
            continue
        yield line


def serve(
    stdin: BinaryIO, stdout: BinaryIO, config_path: Path, overrides: Sequence[str] = ()
) -> int:
    """Answer requests until stdin ends; returns the exit status (0)."""
    writer = LineWriter(stdout)
    ctx = Context(Path(config_path), tuple(overrides), METHODS)
    try:
        for line in read_requests(stdin):
            if line is TOO_LONG:
                too_long = RpcError(
                    BAD_REQUEST, f"request line longer than {MAX_REQUEST_BYTES} bytes"
                )
                writer.write(protocol.error(None, too_long))
                continue
            assert isinstance(line, bytes)
            if line.strip():
                handle_line(ctx, writer, line)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client went away
    finally:
        ctx.close()
    return 0


def _parse(line: bytes) -> tuple[RequestId, Method, dict[str, Any]]:
    try:
        message = protocol.decode(line)
    except (ValueError, RecursionError) as exc:
        raise _Refused(None, RpcError(BAD_REQUEST, f"not a JSON object: {exc}")) from None
    request_id = message.get("id")
    if not protocol.valid_id(request_id):
        raise _Refused(
            None,
            RpcError(BAD_REQUEST, "id must be an integer or a string of 1 to 64 characters"),
        )
    assert isinstance(request_id, int | str)
    name = message.get("method")
    if not isinstance(name, str):
        raise _Refused(request_id, RpcError(BAD_REQUEST, "method must be a string"))
    method = METHODS.get(name)
    if method is None:
        if name in NOT_AVAILABLE_METHODS:
            text = f"{name} is not available yet: it {NOT_AVAILABLE_METHODS[name]}"
            raise _Refused(request_id, RpcError(NOT_AVAILABLE, text, {"method": name}))
        close = difflib.get_close_matches(name, [*METHODS, *NOT_AVAILABLE_METHODS], n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        shown = name[:80] if name.isprintable() else repr(name[:80])
        raise _Refused(request_id, RpcError(UNKNOWN_METHOD, f"unknown method {shown}{hint}"))
    params = message.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _Refused(request_id, RpcError(BAD_PARAMS, f"{name}: params must be an object"))
    return request_id, method, params


class _Refused(Exception):
    def __init__(self, request_id: RequestId, error: RpcError) -> None:
        super().__init__(error.message)
        self.request_id = request_id
        self.error = error


def handle_line(ctx: Context, writer: LineWriter, line: bytes) -> None:
    """Answer one request line (errors included)."""
    try:
        request_id, method, params = _parse(line)
    except _Refused as refused:
        writer.write(protocol.error(refused.request_id, refused.error))
        return
    try:
        check_names(params, method.params, method.name)
        value = method.handler(ctx, Params(params, method.name), RequestStream(writer, request_id))
        reply = protocol.result(request_id, value)
    except (BrokenPipeError, ConnectionResetError):
        raise
    except Exception as exc:
        error = to_rpc_error(exc)
        if error.code == INTERNAL:
            print(f"postroom-mta --rpc: {method.name} failed:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
        reply = protocol.error(request_id, error)
    writer.write(reply)
