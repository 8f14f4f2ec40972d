"""The AuthUsersFile: SMTP AUTH users and their scrypt password hashes.

Owns the file format (one ``user:scrypt$N$r$p$salt_b64$hash_b64`` per line, ``#``
comments, blank lines ignored), loading it with the same trust rules as the config plus
one more (it must not be readable by group or others, since it holds hashes), constant-time
verification, hashing, and ``add_user`` for the embedded profile and tests.  Errors are
``AuthUsersError`` naming the file and line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .errors import AuthUsersError
from .files import atomic_write, trust_problem

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024  # refuse parameters needing more than this per check
_HEADER = "# Postroom AuthUsersFile: user:scrypt$N$r$p$salt$hash, one per line\n"


@dataclass(frozen=True)
class _Hash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def compute(self, password: bytes) -> bytes:
        need = 128 * self.r * (self.n + self.p + 2)
        return hashlib.scrypt(
            password,
            salt=self.salt,
            n=self.n,
            r=self.r,
            p=self.p,
            maxmem=need + 1024 * 1024,
            dklen=len(self.digest),
        )

    def text(self) -> str:
        b64 = base64.b64encode
        return (
            f"scrypt${self.n}${self.r}${self.p}$"
            f"{b64(self.salt).decode('ascii')}${b64(self.digest).decode('ascii')}"
        )


def _parse_hash(text: str) -> _Hash:
    """Parse ``scrypt$N$r$p$salt$hash``; ValueError says what is wrong."""
    parts = text.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("expected scrypt$N$r$p$salt$hash")
    if not all(x.isascii() and x.isdigit() and len(x) < 10 for x in parts[1:4]):
        raise ValueError("N, r and p must be whole numbers")
    n, r, p = (int(x) for x in parts[1:4])
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
        raise ValueError("N must be a power of two, r 1-64 and p 1-16")
    if 128 * n * r > _MAX_MEMORY:
        raise ValueError(f"scrypt parameters need more than {_MAX_MEMORY // 2**20} MiB")
    try:
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("salt and hash must be base64") from None
    if len(salt) < 8 or not 16 <= len(digest) <= 64:
        raise ValueError("salt must be at least 8 bytes and the hash 16-64 bytes")
    return _Hash(n, r, p, salt, digest)


def _check_user(user: str) -> str | None:
    if not user or len(user) > 256:
        return "user name must be 1-256 characters"
    if any(ch.isspace() or ch == ":" or not ch.isprintable() for ch in user):
        return "user name must not contain spaces, colons or control characters"
    return None


def hash_password(password: str | bytes) -> str:
    """A new ``scrypt$N$r$p$salt$hash`` string for ``password`` with a random salt."""
    pw = password.encode("utf-8") if isinstance(password, str) else password
    h = _Hash(SCRYPT_N, SCRYPT_R, SCRYPT_P, secrets.token_bytes(_SALT_BYTES), b"\0" * _HASH_BYTES)
    return _Hash(h.n, h.r, h.p, h.salt, h.compute(pw)).text()


# Verifying an unknown user costs the same as a known one.
_DUMMY = _Hash(SCRYPT_N, SCRYPT_R, SCRYPT_P, b"\0" * _SALT_BYTES, b"\0" * _HASH_BYTES)


class AuthUsers:
    """A loaded AuthUsersFile."""

    def __init__(self, path: Path, entries: dict[str, _Hash]) -> None:
        self.path = path
        self._entries = entries

    @property
    def users(self) -> frozenset[str]:
        return frozenset(self._entries)

    def __contains__(self, user: object) -> bool:
        return user in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def load(cls, path: Path) -> AuthUsers:
        """Read and check the file; ``AuthUsersError`` names file and line on any problem."""
        path = Path(path)
        try:
            with open(path, "rb") as f:
                problem = trust_problem(os.fstat(f.fileno()), secret=True)
                if problem is not None:
                    raise AuthUsersError(path, 0, problem)
                raw = f.read()
        except OSError as exc:
            raise AuthUsersError(path, 0, f"cannot read: {exc.strerror}") from None
        entries: dict[str, _Hash] = {}
        for number, line in enumerate(raw.split(b"\n"), 1):
            try:
                text = line.decode("utf-8").rstrip("\r")
            except UnicodeDecodeError:
                raise AuthUsersError(path, number, "not valid UTF-8") from None
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            user, sep, rest = text.partition(":")
            problem = "expected user:scrypt$N$r$p$salt$hash" if not sep else _check_user(user)
            if problem is not None:
                raise AuthUsersError(path, number, problem)
            if user in entries:
                raise AuthUsersError(path, number, f'user "{user}" is listed twice')
            try:
                entries[user] = _parse_hash(rest.strip())
            except ValueError as exc:
                raise AuthUsersError(path, number, f'user "{user}": {exc}') from None
        return cls(path, entries)

    def verify(self, user: str, password: str | bytes) -> bool:
        """True when ``password`` is ``user``'s; timing does not reveal whether ``user`` exists."""
        pw = password.encode("utf-8", "surrogatepass") if isinstance(password, str) else password
        entry = self._entries.get(user)
        candidate = (entry or _DUMMY).compute(pw)
        return hmac.compare_digest(candidate, (entry or _DUMMY).digest) and entry is not None


def add_user(path: Path, user: str, password: str, *, replace: bool = False) -> None:
    """Add ``user`` to the file (created 0600 when missing), atomically.

    An existing user is an error unless ``replace``, which sets the new password.
    """
    path = Path(path)
    problem = _check_user(user)
    if problem is not None:
        raise AuthUsersError(path, 0, problem)
    line = f"{user}:{hash_password(password)}"
    if path.exists():
        AuthUsers.load(path)  # refuse to extend a broken or untrusted file
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = [_HEADER.rstrip("\n")]
    for i, existing in enumerate(lines):
        if existing.partition(":")[0] == user and not existing.lstrip().startswith("#"):
            if not replace:
                raise AuthUsersError(path, i + 1, f'user "{user}" already exists')
            lines[i] = line
            break
    else:
        lines.append(line)
    atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"), 0o600)
