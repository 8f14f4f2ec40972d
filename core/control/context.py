"""What a method handler gets: the configuration source, the caller's rights, the stream.

``Context`` loads the configuration on demand (``load_config(path, overrides)``), keeps
it while the file's size, mtime and inode stay the same, and answers
``config_invalid`` while the file is refused, so a client can still read and fix it.
``require_queue_view``/``require_queue_control`` apply restrictmailq and restrictqrun
with Sendmail's wording.  ``Stream`` is how a handler sends chunks before its result and
how the event watchers send events.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..config.errors import ConfigError
from ..config.loader import load_config
from ..config.model import Config
from .errors import config_error
from .params import Params
from .protocol import PERMISSION_DENIED, RpcError
from .rights import may_run_queue, may_see_queue


class Stream(Protocol):
    """The answer being written: chunks of a long result, and events."""

    def chunk(self, rows: list[Any]) -> None: ...

    def chunk_encoded(self, array: bytes) -> None:
        """A chunk whose rows are already a JSON array (from a worker process)."""

    def event(self, name: str, data: dict[str, Any]) -> None: ...


class Closer(Protocol):
    def close(self) -> None: ...


Handler = Callable[["Context", Params, Stream], Any]


@dataclass(frozen=True)
class Method:
    """One entry of the method table."""

    name: str
    handler: Handler
    params: frozenset[str]
    summary: str


def file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class Context:
    """State shared by the requests of one ``--rpc`` session."""

    def __init__(
        self, config_path: Path, overrides: tuple[str, ...], methods: Mapping[str, Method]
    ) -> None:
        self.config_path = Path(config_path).absolute()
        self.overrides = overrides
        self.methods = methods
        self.watchers: dict[str, Closer] = {}
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int, int] | None, Config] | None = None

    def load(self) -> tuple[Config | None, ConfigError | None]:
        """The configuration in force, or the error that refuses it."""
        signature = file_signature(self.config_path)
        with self._lock:
            if self._cached is not None and signature is not None:
                if self._cached[0] == signature:
                    return self._cached[1], None
        try:
            config = load_config(self.config_path, self.overrides)
        except ConfigError as exc:
            return None, exc
        with self._lock:
            self._cached = (signature, config)
        return config, None

    def config(self) -> Config:
        """The configuration; ``config_invalid`` while the file is refused."""
        config, problem = self.load()
        if config is None:
            assert problem is not None
            raise config_error(problem)
        return config

    def require_queue_view(self, config: Config) -> None:
        if not may_see_queue(config):
            raise RpcError(PERMISSION_DENIED, "You are not permitted to see the queue")

    def require_queue_control(self, config: Config) -> None:
        if not may_run_queue(config):
            raise RpcError(PERMISSION_DENIED, "You do not have permission to process the queue")

    def close(self) -> None:
        """Stop every watcher (end of session)."""
        for watcher in list(self.watchers.values()):
            watcher.close()
        self.watchers.clear()
