"""The channel a ``|vacation`` program hands its reply back to the delivery agent on.

The program agent runs Postroom's own ``vacation`` as the mailbox owner, who may not
write the queue (Sendmail's queue is 0700 root).  So, like Sendmail's vacation
handing its reply to a privileged ``sendmail``, the agent opens a pipe, names its
write end in ``POSTROOM_REPLY_FD``, and queues what arrives there itself once the
program has exited 0.  :func:`pipe_submitter` is the program's side,
:func:`read_replies` the agent's.

A reply on the channel is one JSON line ``{"sender": "", "recipients": [...],
"size": N}`` followed by exactly N bytes of message.  The agent accepts at most
:data:`MAX_REPLIES` replies, each to one recipient and at most :data:`MAX_SIZE`
bytes: the channel carries an auto-reply, not general mail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import VacationError
from .responder import Submit

ENV = "POSTROOM_REPLY_FD"
MAX_REPLIES = 1
MAX_SIZE = 1 << 20
HEADER_CAP = 4096


@dataclass(frozen=True)
class ChannelReply:
    """One reply read from the channel."""

    sender: str
    recipients: tuple[str, ...]
    message: bytes


def pipe_submitter(fd: int) -> Submit:
    """A ``submit`` that writes the reply to the agent's channel ``fd``."""

    def submit_reply(sender: str, recipients: Sequence[str], data: bytes) -> str:
        header = {"sender": sender, "recipients": list(recipients), "size": len(data)}
        frame = json.dumps(header).encode() + b"\n" + data
        try:
            view = memoryview(frame)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise VacationError(f"reply channel (fd {fd}): {exc.strerror}") from exc
        return "(handed to the delivery agent)"

    return submit_reply


def read_replies(data: bytes) -> list[ChannelReply]:
    """The replies in ``data``; :class:`VacationError` says what is wrong with a bad one."""
    replies: list[ChannelReply] = []
    rest = data
    while rest:
        if len(replies) == MAX_REPLIES:
            raise VacationError(f"more than {MAX_REPLIES} reply on the channel")
        line, newline, rest = rest.partition(b"\n")
        if not newline or len(line) > HEADER_CAP:
            raise VacationError("reply channel: missing or oversized header line")
        sender, recipients, size = _header(line)
        if len(rest) < size:
            raise VacationError(f"reply channel: message cut short ({len(rest)} of {size} bytes)")
        replies.append(ChannelReply(sender, recipients, rest[:size]))
        rest = rest[size:]
    return replies


def _header(line: bytes) -> tuple[str, tuple[str, ...], int]:
    """Sender, recipients and size from a header line."""
    try:
        header = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VacationError(f"reply channel: header is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise VacationError("reply channel: header is not an object")
    sender, recipients, size = header.get("sender"), header.get("recipients"), header.get("size")
    if not isinstance(sender, str) or any(c in sender for c in "\r\n<>"):
        raise VacationError("reply channel: bad sender")
    if (
        not isinstance(recipients, list)
        or len(recipients) != 1
        or not all(isinstance(r, str) and r and "\n" not in r for r in recipients)
    ):
        raise VacationError("reply channel: a reply goes to exactly one recipient")
    if not isinstance(size, int) or not 0 < size <= MAX_SIZE:
        raise VacationError(f"reply channel: size must be 1..{MAX_SIZE} bytes")
    return sender, tuple(recipients), size
