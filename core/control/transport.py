"""What the RPC client needs from a connection: a ``Transport`` that moves lines.

Implemented by the GUI's ``LocalTransport`` (a subprocess) and ``SshTransport`` (an SSH
exec channel), and by anything a script or test wants to plug in.  Imports nothing from
the rest of the core, so the GUI may use it (through :mod:`.client`, which re-exports it).
"""

from __future__ import annotations

from typing import Protocol


class TransportError(Exception):
    """The connection is unusable: it could not be opened, or it broke, or it was closed.

    ``str()`` is one sentence for the user ("connection to mx1 lost: ...").  Transports
    subclass it for the failures a user must tell apart (a changed host key, a refused
    password); the client raises it for every request still waiting when it happens.
    """


class Transport(Protocol):
    """A bidirectional line channel to one ``postroom-mta --rpc``.

    ``send_line`` writes one complete line (the bytes end with ``\\n``) and may be called
    from several threads (the client serialises the calls).  ``read_line`` blocks until a
    whole line has arrived and returns it with its ``\\n``; at the end of the stream it
    raises :class:`TransportError` saying why (or returns ``b""`` when it knows nothing
    better).  It is called from one reader thread only.  ``close`` ends the connection and
    makes a blocked ``read_line`` return; it is idempotent.
    """

    def send_line(self, data: bytes) -> None: ...

    def read_line(self) -> bytes: ...

    def close(self) -> None: ...
