"""The Qt adapter over ``RpcClient``: one connection, its worker thread, and signals.

:class:`QtRpcClient` owns one worker ``QThread`` per connection.  Opening the transport
(an SSH handshake can take seconds) and sending requests happen on that thread; replies,
chunks and events arrive on ``RpcClient``'s reader thread.  Nothing from either thread
touches a widget: every callback is turned into one private signal whose queued
connection delivers it to the GUI thread, where it is dispatched to

- the :class:`Request` it belongs to (``chunk``, ``finished``, ``failed``), which a
  caller may :meth:`~Request.cancel` at any time (its later messages are dropped); a
  streamed request's chunks can be converted on the reader thread (``transform``), so
  parsing 100,000 rows never costs the GUI thread;
- :attr:`QtRpcClient.serverEvent` for server events (``queue.changed`` ...);
- :attr:`QtRpcClient.stateChanged` (``connecting``, ``connected``, ``lost``,
  ``disconnected``) and :attr:`QtRpcClient.openFailed` with the exception, so the caller
  can tell a changed host key from a refused connection.

Results are always delivered asynchronously, even a failure known at once, so a caller
can connect to a request's signals after :meth:`QtRpcClient.request` returns.

:class:`GuiCaller` runs a function on the GUI thread for a worker that must wait for
the answer (the unknown-host-key question asked in the middle of an SSH handshake).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Generic, TypeVar

from postroom.core.control.client import RpcClient, Transport, TransportError
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

Opener = Callable[[], Transport]
"""Builds and opens a transport; called on the connection's worker thread."""
ChunkTransform = Callable[[list[Any]], Any]
"""Turns a chunk's rows into what ``Request.chunk`` carries; runs on the reader thread."""

A = TypeVar("A")
R = TypeVar("R")


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"


class Request(QObject):
    """One RPC call as seen from the GUI thread."""

    chunk = Signal(object)  # list of rows, for streamed calls
    finished = Signal(object)  # the result
    failed = Signal(object)  # RpcError, RpcTimeoutError or TransportError

    _ids = itertools.count(1)

    def __init__(
        self,
        method: str,
        params: dict[str, Any] | None,
        stream: bool,
        timeout: float | None,
        transform: ChunkTransform | None = None,
    ) -> None:
        super().__init__()
        self.id = next(self._ids)
        self.method = method
        self.params = params
        self.stream = stream
        self.timeout = timeout
        self.transform = transform
        self.cancelled = False
        self.done = False

    def cancel(self) -> None:
        """Forget the call: nothing more is emitted for it (the server may still finish)."""
        self.cancelled = True


class _WatchedTransport:
    """A transport that reports when its stream ends (the connection was lost)."""

    def __init__(self, inner: Transport, on_end: Callable[[str], None]) -> None:
        self.inner = inner
        self.on_end = on_end

    def send_line(self, data: bytes) -> None:
        self.inner.send_line(data)

    def read_line(self) -> bytes:
        try:
            line = self.inner.read_line()
        except TransportError as exc:
            self.on_end(str(exc))
            raise
        except Exception as exc:
            self.on_end(f"reading from the connection failed: {exc}")
            raise
        if not line:
            self.on_end("the server closed the connection")
        return line

    def close(self) -> None:
        self.inner.close()


class _Worker(QObject):
    """Lives on the connection's thread: opens transports, sends requests, closes."""

    def __init__(self, post: Callable[[tuple[Any, ...]], None]) -> None:
        super().__init__()
        self.post = post

    @Slot(object)
    def open(self, job: tuple[int, Opener]) -> None:
        generation, opener = job
        try:
            transport = opener()
        except BaseException as exc:  # every failure goes to the GUI
            self.post(("open_failed", generation, exc))
            return
        watched = _WatchedTransport(transport, lambda why: self.post(("lost", generation, why)))
        rpc = RpcClient(watched)
        rpc.on_event(lambda name, data: self.post(("event", generation, name, data)))
        self.post(("opened", generation, rpc))

    @Slot(object)
    def send(self, job: tuple[RpcClient, Request]) -> None:
        rpc, req = job

        def on_chunk(rows: list[Any]) -> None:
            if not req.cancelled:
                self.post(("chunk", req, rows if req.transform is None else req.transform(rows)))

        def on_done(call: Any) -> None:
            error = call.exception()
            if error is not None:
                self.post(("fail", req, error))
            else:
                self.post(("done", req, call.result()))

        kwargs: dict[str, Any] = {"on_done": on_done}
        if req.stream:
            kwargs["on_chunk"] = on_chunk
        if req.timeout is not None:
            kwargs["timeout"] = req.timeout
        rpc.call_async(req.method, req.params, **kwargs)

    @Slot(object)
    def close(self, rpc: RpcClient) -> None:
        rpc.close()


class QtRpcClient(QObject):
    """One connection to a ``postroom-mta --rpc``, safe to use from the GUI thread only."""

    stateChanged = Signal(str, str)  # ConnectionState value, detail text
    openFailed = Signal(object)  # the exception the opener raised
    serverEvent = Signal(str, object)  # event name, data dict

    _incoming = Signal(object)
    _open_requested = Signal(object)
    _send_requested = Signal(object)
    _close_requested = Signal(object)

    def __init__(self, opener: Opener, name: str = "connection") -> None:
        super().__init__()
        self.opener = opener
        self.name = name
        self.state = ConnectionState.DISCONNECTED
        self.detail = ""
        self._generation = 0
        self._rpc: RpcClient | None = None
        self._waiting: list[Request] = []
        self._live: dict[int, Request] = {}
        self._thread = QThread()
        self._thread.setObjectName(f"rpc-worker-{name}")
        self._worker = _Worker(self._incoming.emit)
        self._worker.moveToThread(self._thread)
        queued = Qt.ConnectionType.QueuedConnection
        self._incoming.connect(self._dispatch, queued)
        self._open_requested.connect(self._worker.open, queued)
        self._send_requested.connect(self._worker.send, queued)
        self._close_requested.connect(self._worker.close, queued)
        self._thread.start()

    # -- connection -------------------------------------------------------------------

    def connect_to_server(self) -> None:
        """Open (or reopen) the connection on the worker thread."""
        self._drop_rpc()
        self._generation += 1
        self._set_state(ConnectionState.CONNECTING, "")
        self._open_requested.emit((self._generation, self.opener))

    def disconnect_from_server(self) -> None:
        self._generation += 1
        self._drop_rpc()
        self._fail_waiting(TransportError(f"{self.name}: disconnected"))
        self._set_state(ConnectionState.DISCONNECTED, "")

    def shutdown(self) -> None:
        """Close the connection and stop the worker thread (waits for it)."""
        self.disconnect_from_server()
        self._thread.quit()
        self._thread.wait()

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED

    @property
    def transport(self) -> Transport | None:
        """The open transport (for diagnostics and tests), or None."""
        rpc = self._rpc
        if rpc is None:
            return None
        watched = rpc.transport
        return watched.inner if isinstance(watched, _WatchedTransport) else watched

    # -- requests ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        stream: bool = False,
        timeout: float | None = None,
        transform: ChunkTransform | None = None,
    ) -> Request:
        """Start a call; its signals fire later, on the GUI thread.

        With ``stream`` the rows come as ``chunk`` signals (each passed through
        ``transform`` first, off the GUI thread) and ``finished`` gets the summary.
        """
        req = Request(method, params, stream, timeout, transform)
        req.setParent(self)
        if self.state is ConnectionState.CONNECTED and self._rpc is not None:
            self._start(req)
        elif self.state is ConnectionState.CONNECTING:
            self._waiting.append(req)
        else:
            why = self.detail or f"{self.name} is not connected"
            self._incoming.emit(("fail", req, TransportError(why)))
        return req

    def _start(self, req: Request) -> None:
        assert self._rpc is not None
        self._live[req.id] = req
        self._send_requested.emit((self._rpc, req))

    # -- the GUI side of the bridge ---------------------------------------------------

    @Slot(object)
    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind in ("chunk", "done", "fail"):
            self._to_request(kind, message[1], message[2])
            return
        if message[1] != self._generation:
            if kind == "opened":
                self._close_requested.emit(message[2])  # a superseded attempt
            return
        if kind == "opened":
            self._rpc = message[2]
            self._set_state(ConnectionState.CONNECTED, "")
            waiting, self._waiting = self._waiting, []
            for req in waiting:
                if not req.cancelled:
                    self._start(req)
        elif kind == "open_failed":
            error = message[2]
            self._fail_waiting(error)
            self.openFailed.emit(error)
            self._set_state(ConnectionState.LOST, str(error))
        elif kind == "lost":
            self._rpc = None
            self._set_state(ConnectionState.LOST, message[2])
        elif kind == "event":
            self.serverEvent.emit(message[2], message[3])

    def _to_request(self, kind: str, req: Request, value: Any) -> None:
        if kind != "chunk":
            self._live.pop(req.id, None)
        if req.cancelled or req.done:
            if kind != "chunk":
                req.deleteLater()
            return
        if kind == "chunk":
            req.chunk.emit(value)
            return
        req.done = True
        if kind == "done":
            req.finished.emit(value)
        else:
            req.failed.emit(value)
        req.deleteLater()

    def _fail_waiting(self, error: BaseException) -> None:
        waiting, self._waiting = self._waiting, []
        for req in waiting:
            self._incoming.emit(("fail", req, TransportError(str(error))))

    def _drop_rpc(self) -> None:
        rpc, self._rpc = self._rpc, None
        if rpc is not None:
            self._close_requested.emit(rpc)

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        self.state = state
        self.detail = detail
        self.stateChanged.emit(state.value, detail)


class _Box(Generic[A, R]):
    def __init__(self, arg: A, default: R) -> None:
        self.arg = arg
        self.value = default
        self.ready = threading.Event()


class GuiCaller(QObject, Generic[A, R]):
    """``caller(arg)`` from any thread runs ``func(arg)`` on the GUI thread and waits.

    ``cancel_all()`` (at shutdown) answers every waiting caller with ``default``.
    """

    _asked = Signal(object)

    def __init__(self, func: Callable[[A], R], default: R) -> None:
        super().__init__()
        self.func = func
        self.default = default
        self._open: set[_Box[A, R]] = set()
        self._lock = threading.Lock()
        self._asked.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def __call__(self, arg: A) -> R:
        if QThread.currentThread() == self.thread():
            return self.func(arg)
        box: _Box[A, R] = _Box(arg, self.default)
        with self._lock:
            self._open.add(box)
        self._asked.emit(box)
        box.ready.wait()
        return box.value

    @Slot(object)
    def _run(self, box: _Box[A, R]) -> None:
        try:
            if not box.ready.is_set():
                box.value = self.func(box.arg)
        finally:
            with self._lock:
                self._open.discard(box)
            box.ready.set()

    def cancel_all(self) -> None:
        with self._lock:
            boxes, self._open = list(self._open), set()
        for box in boxes:
            box.ready.set()
