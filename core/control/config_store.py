"""Reading and replacing the config file safely: validate first, keep a backup, rename.

``read_config_text`` returns the file's bytes, text and SHA-256 (a client sends the
hash back with ``base_sha256`` so a change made by someone else meanwhile is refused as
``conflict``).  ``validate_text`` writes the proposed text to a temporary file beside
the real one (same folder, so relative paths resolve the same; same mode and owner)
and loads it with the real loader; a refusal is ``config_invalid`` with every problem,
shown against the real file's name and the proposed text's line numbers.
``replace_config`` then keeps the old text as ``<file>.bak``, renames the temporary
file over the config and fsyncs the folder: a reader (the daemon on SIGHUP) sees the
old file or the new one, never a mix.  ``edit_lock`` serialises editors with a flock on
the config's folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..config.errors import ConfigError
from ..config.loader import MAX_CONFIG_BYTES, load_config
from ..config.model import Config
from ..policy.files import atomic_write, fsync_directory
from .errors import config_error
from .protocol import CONFLICT, IO_ERROR, RpcError


@dataclass(frozen=True)
class ConfigText:
    path: Path
    data: bytes
    text: str
    sha256: str
    mode: int
    uid: int
    gid: int


def read_config_text(path: Path) -> ConfigText:
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise RpcError(IO_ERROR, f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise RpcError(IO_ERROR, f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RpcError(IO_ERROR, f"{path}: not valid UTF-8; edit it by hand") from None
    return ConfigText(
        path=path,
        data=data,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        mode=st.st_mode & 0o7777,
        uid=st.st_uid,
        gid=st.st_gid,
    )


def check_base(current: ConfigText, base_sha256: str | None) -> None:
    if base_sha256 is not None and base_sha256 != current.sha256:
        raise RpcError(
            CONFLICT,
            f"{current.path} was changed since you read it; read it again and redo the edit",
            {"sha256": current.sha256},
        )


@contextmanager
def edit_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on the config's folder for one read-modify-write."""
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Proposal:
    """The proposed text in a temporary file beside the config, until replaced or dropped."""

    def __init__(self, current: ConfigText, text: str) -> None:
        self.current = current
        self.data = text.encode("utf-8")
        self.temp = current.path.with_name(
            f".{current.path.name}.rpc-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        )
        self._write()

    def _write(self) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.temp, flags, 0o600)
        except OSError as exc:
            raise RpcError(IO_ERROR, f"{self.temp}: cannot create: {exc.strerror}") from None
        try:
            os.fchmod(fd, self.current.mode & 0o777 & ~0o002)
            if os.geteuid() == 0 and (self.current.uid, self.current.gid) != (0, 0):
                os.fchown(fd, self.current.uid, self.current.gid)
            view = memoryview(self.data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            self.drop()
            raise RpcError(IO_ERROR, f"{self.temp}: cannot write: {exc.strerror}") from None
        finally:
            os.close(fd)

    def validate(self) -> Config:
        """Load the proposal with the real loader (no -O overrides)."""
        try:
            return load_config(self.temp)
        except ConfigError as exc:
            raise config_error(exc, shown_path=self.current.path) from None

    def replace(self) -> Path:
        """Keep the old text as ``.bak``, then rename the proposal over the config."""
        backup = self.current.path.with_name(self.current.path.name + ".bak")
        try:
            atomic_write(backup, self.current.data, self.current.mode & 0o777 & ~0o002)
            os.replace(self.temp, self.current.path)
            fsync_directory(self.current.path.parent)
        except OSError as exc:
            raise RpcError(IO_ERROR, f"{self.current.path}: cannot replace: {exc}") from None
        return backup

    def drop(self) -> None:
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass
