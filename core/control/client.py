"""The RPC client: requests out, replies matched by id, chunks assembled, events dispatched.

``RpcClient(transport)`` runs one reader thread per connection and, while requests are
waiting, one watchdog thread for their timeouts.  It has no Qt in it, so scripts and
tests use it directly; the GUI wraps it in a thin adapter that turns callbacks into
signals.  Public API:

- ``call(method, params, timeout=, on_chunk=)`` blocks and returns the result (or raises
  :class:`RpcError`, :class:`RpcTimeoutError`, :class:`TransportError`);
  ``call_async(...)`` returns a :class:`PendingCall` at once, with optional ``on_done``.
- A streamed answer: every ``chunk`` line goes to ``on_chunk(rows)`` as it arrives (from
  the reader thread), or without ``on_chunk`` the rows are collected and the final
  result gets them as ``result["rows"]``.  A call that fails mid-stream raises and
  returns nothing, so a caller never sees a partial list as a result.
- ``on_event(callback, name=None)`` registers ``callback(name, data)`` for events.
- A timeout counts from the request and restarts with every chunk, so a long stream that
  keeps moving never times out; a late reply to a timed-out request is dropped.
- When the transport dies, every waiting request fails with one :class:`TransportError`
  saying why, and so does every later call.

Re-exports :class:`Transport` and :class:`TransportError` so the GUI needs only this
module and :mod:`.protocol`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .protocol import MAX_REPLY_BYTES, RpcError, decode, request
from .transport import Transport, TransportError

__all__ = [
    "DEFAULT_TIMEOUT",
    "PendingCall",
    "RpcClient",
    "RpcError",
    "RpcTimeoutError",
    "Transport",
    "TransportError",
]

DEFAULT_TIMEOUT = 60.0
ChunkCallback = Callable[[list[Any]], None]
EventCallback = Callable[[str, dict[str, Any]], None]
DoneCallback = Callable[["PendingCall"], None]
_log = logging.getLogger(__name__)
_UNSET: Any = object()


class RpcTimeoutError(TimeoutError):
    """No reply (and no chunk) arrived within the request's timeout."""


class PendingCall:
    """One request in flight; ``result()`` waits for it."""

    def __init__(
        self,
        request_id: int,
        method: str,
        timeout: float | None,
        on_chunk: ChunkCallback | None,
    ) -> None:
        self.id = request_id
        self.method = method
        self.timeout = timeout
        self.on_chunk = on_chunk
        self.rows: list[Any] = []
        self.chunks = 0
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._result: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[DoneCallback] = []

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> Any:
        """The result; raises the call's error.  ``timeout`` here only limits this wait."""
        if not self._done.wait(timeout):
            raise RpcTimeoutError(f"{self.method}: still waiting after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._result

    def exception(self) -> BaseException | None:
        """The error the call ended with (None while running or after success)."""
        return self._error

    def add_done_callback(self, callback: DoneCallback) -> None:
        """Run ``callback(call)`` when the call ends (at once if it already has)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def finish(self, value: Any = None, error: BaseException | None = None) -> bool:
        """End the call once; False if it had already ended."""
        with self._lock:
            if self._done.is_set():
                return False
            self._result, self._error = value, error
            self.rows = []
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback(self)
            except Exception:
                _log.exception("done callback of %s failed", self.method)
        return True


def _expired(call: PendingCall, now: float) -> bool:
    return call.deadline is not None and call.deadline <= now


class RpcClient:
    """Speaks the control protocol over one :class:`Transport`."""

    def __init__(
        self, transport: Transport, *, timeout: float | None = DEFAULT_TIMEOUT, start: bool = True
    ) -> None:
        self.transport = transport
        self.default_timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, PendingCall] = {}
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._events: list[tuple[str | None, EventCallback]] = []
        self._dead: TransportError | None = None
        self._reader = threading.Thread(target=self._read_loop, name="rpc-reader", daemon=True)
        self._watchdog: threading.Thread | None = None
        if start:
            self.start()

    @property
    def error(self) -> TransportError | None:
        """Why the connection is unusable, or None while it works."""
        return self._dead

    def start(self) -> None:
        """Start the reader thread (done by the constructor unless ``start=False``)."""
        self._reader.start()

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = _UNSET,
        on_chunk: ChunkCallback | None = None,
    ) -> Any:
        """Send a request and wait for its result."""
        return self.call_async(method, params, timeout=timeout, on_chunk=on_chunk).result()

    def call_async(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = _UNSET,
        on_chunk: ChunkCallback | None = None,
        on_done: DoneCallback | None = None,
    ) -> PendingCall:
        """Send a request; the returned call completes from the reader thread."""
        wait = self.default_timeout if timeout is _UNSET else timeout
        with self._cond:
            call = PendingCall(next(self._ids), method, wait, on_chunk)
            if on_done is not None:
                call.add_done_callback(on_done)
            if self._dead is not None:
                dead = self._dead
            else:
                dead = None
                self._pending[call.id] = call
                self._ensure_watchdog()
                self._cond.notify_all()
        if dead is not None:
            call.finish(error=TransportError(str(dead)))
            return call
        try:
            line = request(call.id, method, params)
        except (TypeError, ValueError) as exc:
            self._drop(call.id)
            call.finish(error=RpcError("bad_params", f"params cannot be sent as JSON: {exc}"))
            return call
        try:
            with self._send_lock:
                self.transport.send_line(line)
        except TransportError as exc:
            self._die(exc)
        except Exception as exc:
            self._die(TransportError(f"sending the request failed: {exc}"))
        return call

    def on_event(self, callback: EventCallback, name: str | None = None) -> Callable[[], None]:
        """Call ``callback(event, data)`` for events named ``name`` (all when None).

        Returns a function that removes the registration.  Callbacks run on the reader
        thread and must not block.
        """
        entry = (name, callback)
        with self._cond:
            self._events.append(entry)

        def remove() -> None:
            with self._cond:
                if entry in self._events:
                    self._events.remove(entry)

        return remove

    def close(self) -> None:
        """Close the transport and fail whatever is still waiting."""
        self._die(TransportError("the connection was closed"))
        if self._reader.is_alive() and threading.current_thread() is not self._reader:
            self._reader.join(timeout=10)

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reader side ------------------------------------------------------------------

    def _read_loop(self) -> None:
        while self._dead is None:
            try:
                line = self.transport.read_line()
            except TransportError as exc:
                self._die(exc)
                return
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self._die(TransportError(f"the connection was lost (reading failed: {reason})"))
                return
            if not line:
                self._die(TransportError("the server closed the connection"))
                return
            if len(line) > MAX_REPLY_BYTES:
                self._die(TransportError(f"protocol error: a reply line of {len(line)} bytes"))
                return
            try:
                message = decode(line)
            except ValueError as exc:
                self._die(TransportError(f"protocol error: unreadable reply ({exc})"))
                return
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "event" in message:
            self._deliver_event(message)
            return
        request_id = message.get("id")
        with self._cond:
            call = self._pending.get(request_id) if isinstance(request_id, int) else None
        if call is None:
            if request_id is None and "error" in message:
                _log.warning("server refused a request: %s", RpcError.from_wire(message["error"]))
            return  # a reply to a request that timed out (or a stray id): dropped
        if "chunk" in message:
            self._chunk(call, message["chunk"])
        elif "error" in message:
            self._drop(call.id)
            call.finish(error=RpcError.from_wire(message["error"]))
        elif "result" in message:
            self._drop(call.id)
            value = message["result"]
            if call.chunks and call.on_chunk is None:
                value = {**value, "rows": call.rows} if isinstance(value, dict) else call.rows
            call.finish(value)

    def _chunk(self, call: PendingCall, rows: object) -> None:
        if not isinstance(rows, list):
            self._drop(call.id)
            call.finish(error=TransportError("protocol error: a chunk that is not a list"))
            return
        call.chunks += 1
        if call.timeout is not None:
            call.deadline = time.monotonic() + call.timeout
        if call.on_chunk is None:
            call.rows.extend(rows)
            return
        try:
            call.on_chunk(rows)
        except Exception as exc:
            self._drop(call.id)
            call.finish(error=exc)

    def _deliver_event(self, message: dict[str, Any]) -> None:
        name = str(message.get("event"))
        data = message.get("data")
        with self._cond:
            targets = [cb for wanted, cb in self._events if wanted in (None, name)]
        for callback in targets:
            try:
                callback(name, data if isinstance(data, dict) else {})
            except Exception:
                _log.exception("event callback for %s failed", name)

    # -- bookkeeping ------------------------------------------------------------------

    def _drop(self, request_id: int) -> None:
        with self._cond:
            self._pending.pop(request_id, None)

    def _die(self, error: TransportError) -> None:
        with self._cond:
            first = self._dead is None
            if first:
                self._dead = error
            pending = list(self._pending.values())
            self._pending.clear()
            self._cond.notify_all()
        if first:
            try:
                self.transport.close()
            except Exception:
                _log.exception("closing the transport failed")
        message = str(self._dead)
        for call in pending:
            failure = TransportError(message)
            failure.__cause__ = error
            call.finish(error=failure)

    def _ensure_watchdog(self) -> None:
        # called with self._cond held
        if self._watchdog is None or not self._watchdog.is_alive():
            self._watchdog = threading.Thread(target=self._watch, name="rpc-timeouts", daemon=True)
            self._watchdog.start()

    def _watch(self) -> None:
        with self._cond:
            while self._dead is None and self._pending:
                now = time.monotonic()
                expired = [c for c in self._pending.values() if _expired(c, now)]
                for call in expired:
                    del self._pending[call.id]
                if expired:
                    self._cond.release()
                    try:
                        for call in expired:
                            call.finish(
                                error=RpcTimeoutError(
                                    f"{call.method}: no reply within {call.timeout:g} s"
                                )
                            )
                    finally:
                        self._cond.acquire()
                    continue
                deadlines = [c.deadline for c in self._pending.values() if c.deadline is not None]
                self._cond.wait(min(deadlines) - now if deadlines else None)
            self._watchdog = None
