"""SASL for the AUTH command: PLAIN and LOGIN (RFC 4616, RFC 4954).

The exchange reads its continuation lines through a callback so it can be
tested without a socket. Credentials are decoded strictly (bad base64, a wrong
number of NUL-separated fields or an oversized blob is a ``501``) and are never
logged.
"""

from __future__ import annotations

import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MAX_SASL_LINE = 12288  # RFC 4954 §4
MECHANISMS = ("PLAIN", "LOGIN")


class SaslAbort(Exception):
    """The exchange ended without a verdict; ``reply`` is what to answer."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Credentials:
    authzid: str
    user: str
    password: str


def _decode(text: str) -> bytes:
    if text == "*":
        raise SaslAbort("501 5.0.0 AUTH aborted")
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise SaslAbort("501 5.5.2 Invalid base64 data") from exc


def _utf8(raw: bytes) -> str:
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SaslAbort("501 5.5.2 Invalid UTF-8 in credentials") from exc
    if any(ord(c) < 32 for c in value):
        raise SaslAbort("501 5.5.2 Invalid characters in credentials")
    return value


async def read_credentials(
    mechanism: str, initial: str | None, ask: Callable[[str], Awaitable[str]]
) -> Credentials:
    """Run the mechanism's exchange; ``ask(challenge)`` sends ``334 challenge`` and reads a line."""
    if mechanism == "PLAIN":
        response = initial if initial not in (None, "") else await ask("")
        if response == "=":
            response = ""
        fields = _decode(response or "").split(b"\x00")
        if len(fields) != 3:
            raise SaslAbort("501 5.5.2 PLAIN needs authzid NUL authcid NUL password")
        authzid, user, password = (_utf8(f) for f in fields)
        if not user:
            raise SaslAbort("501 5.5.2 Empty user name")
        return Credentials(authzid, user, password)
    if mechanism == "LOGIN":
        first = initial if initial else await ask("VXNlcm5hbWU6")
        user = _utf8(_decode(first))
        password = _utf8(_decode(await ask("UGFzc3dvcmQ6")))
        if not user:
            raise SaslAbort("501 5.5.2 Empty user name")
        return Credentials("", user, password)
    raise SaslAbort(f"504 5.3.3 AUTH mechanism {mechanism[:20]} not available")
