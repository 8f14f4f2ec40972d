"""The control protocol's messages: JSON lines, their shapes, error codes and limits.

Shared by the server (``postroom-mta --rpc``) and every client, so it imports nothing
from the rest of the core.  One message is one JSON object on one line (UTF-8, ``\\n``):

- request   ``{"id": 7, "method": "queue.list", "params": {...}}``
- result    ``{"id": 7, "result": ...}``
- error     ``{"id": 7, "error": {"code": "...", "message": "...", "data": {...}}}``
  (``"id": null`` when the request could not be read at all)
- chunk     ``{"id": 7, "chunk": [...]}``: part of a long answer; any number of them
  come before that request's final result, which is then an object (``{"count": n}``)
- event     ``{"event": "queue.changed", "data": {...}}``, after ``events.subscribe``

Ids are integers or short strings chosen by the client and echoed back.  The server
answers requests in the order it reads them; events may appear between any two lines.
"""

from __future__ import annotations

import json
from typing import Any, Final

PROTOCOL_VERSION: Final = 1
"""Bumped when a method's params or result change incompatibly."""

MAX_REQUEST_BYTES: Final = 1024 * 1024
"""Longest request line the server reads; a longer one is answered ``bad_request``."""

MAX_REPLY_BYTES: Final = 64 * 1024 * 1024
"""Longest line a client accepts from the server."""

CHUNK_ROWS: Final = 500
"""Rows per ``chunk`` line of a streamed answer."""

MAX_ID_LENGTH: Final = 64

QUEUE_ROW_FORMATS: Final = ("object", "array")
"""How ``queue.list`` can send a row (its ``row_format``), default first."""

QUEUE_ROW_FIELDS: Final = (
    "queue_id",
    "queue_name",
    "arrival_time",
    "message_size",
    "sender",
    "recipients",
    "status",
    "attempts",
    "last_attempt",
    "next_try",
    "priority",
    "quarantine",
    "locked",
    "error",
)
"""A ``queue.list`` row's keys; an array row holds their values in this order, with
``recipients`` as ``[address, delay_reason]`` pairs."""

# Error codes.
BAD_REQUEST: Final = "bad_request"  # not JSON, not an object, no usable id or method
UNKNOWN_METHOD: Final = "unknown_method"  # no such method
BAD_PARAMS: Final = "bad_params"  # a missing, unknown or invalid parameter
NOT_FOUND: Final = "not_found"  # the job, file or process named does not exist
PERMISSION_DENIED: Final = "permission_denied"  # restrictmailq/restrictqrun or file modes
LOCKED: Final = "locked"  # a job is being worked on by another process
CONFLICT: Final = "conflict"  # the config file changed since the client read it
CONFIG_INVALID: Final = "config_invalid"  # the configuration (current or proposed) is refused
IO_ERROR: Final = "io_error"  # reading or writing a file failed
NOT_AVAILABLE: Final = "not_available"  # the part of Postroom that provides it is not built yet
INTERNAL: Final = "internal"  # a bug; the message says what happened

ERROR_CODES: Final = frozenset(
    {
        BAD_REQUEST,
        UNKNOWN_METHOD,
        BAD_PARAMS,
        NOT_FOUND,
        PERMISSION_DENIED,
        LOCKED,
        CONFLICT,
        CONFIG_INVALID,
        IO_ERROR,
        NOT_AVAILABLE,
        INTERNAL,
    }
)

RequestId = int | str | None
"""An id as it appears in a message; None only in replies to unreadable requests."""


class RpcError(Exception):
    """An error reply: raised by method handlers on the server, by the client on a reply."""

    def __init__(self, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data:
            body["data"] = self.data
        return body

    @classmethod
    def from_wire(cls, body: object) -> RpcError:
        """The error object of a reply; a malformed one becomes an ``internal`` error."""
        if not isinstance(body, dict):
            return cls(INTERNAL, f"malformed error reply: {body!r:.200}")
        data = body.get("data")
        return cls(
            str(body.get("code", INTERNAL)),
            str(body.get("message", "")),
            data if isinstance(data, dict) else None,
        )


def valid_id(value: object) -> bool:
    """True for an id a client may use: an int (not bool) or a short string."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line: compact JSON, ASCII-only, ending in ``\\n``."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("ascii") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """Parse one line into a message object; ``ValueError`` if it is not one."""
    value = json.loads(line)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return value


def request(request_id: int | str, method: str, params: dict[str, Any] | None = None) -> bytes:
    message: dict[str, Any] = {"id": request_id, "method": method}
    if params:
        message["params"] = params
    return encode(message)


def result(request_id: RequestId, value: object) -> bytes:
    return encode({"id": request_id, "result": value})


def error(request_id: RequestId, err: RpcError) -> bytes:
    return encode({"id": request_id, "error": err.to_wire()})


def chunk(request_id: RequestId, rows: list[Any]) -> bytes:
    return encode({"id": request_id, "chunk": rows})


def chunk_encoded(request_id: RequestId, array: bytes) -> bytes:
    """A chunk line around rows that are already a JSON array (``b"[...]"``)."""
    return b'{"id":' + json.dumps(request_id).encode("ascii") + b',"chunk":' + array + b"}\n"


def event(name: str, data: dict[str, Any]) -> bytes:
    return encode({"event": name, "data": data})
