"""``-bs``: one SMTP session on standard input and output, as a local submission.

The submitter is the invoking user (``$_`` is ``user@localhost``); like
Sendmail, a local submitter may relay, and STARTTLS/AUTH are not offered.
"""

from __future__ import annotations

import asyncio
import sys

from ..policy.ports import DaemonPort
from .connection import SmtpConnection, WritePipeProtocol
from .context import ListenerInfo, ReceiverContext
from .session import SmtpSession


async def serve_stdio(context: ReceiverContext, user: str) -> None:
    """Run one session over fd 0/1 and return when the client quits or input ends."""
    loop = asyncio.get_running_loop()
    conn = SmtpConnection()
    await loop.connect_read_pipe(lambda: conn, sys.stdin.buffer)
    out, _ = await loop.connect_write_pipe(lambda: WritePipeProtocol(conn), sys.stdout.buffer)
    conn.set_output(out)
    listener = ListenerInfo(DaemonPort(name="", port=0, addr=None), "c u", True)
    session = SmtpSession(conn, context, listener, client_ip=None, trusted_local=user)
    await session.run()
    await conn.drain()
