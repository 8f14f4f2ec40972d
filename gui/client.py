"""The GUI's RPC client: for now the Qt-free core client, re-exported.

The screens will use a thin Qt adapter here that runs ``RpcClient`` calls off the UI
thread and turns their callbacks (results, chunks, events, a lost connection) into
signals.  Until the GUI issue adds it, this module only gathers what the GUI needs from
``postroom.core.control`` -- the only part of the core it may import.
"""

from postroom.core.control.client import (
    DEFAULT_TIMEOUT,
    PendingCall,
    RpcClient,
    RpcError,
    RpcTimeoutError,
    Transport,
    TransportError,
)
from postroom.core.control.protocol import PROTOCOL_VERSION

__all__ = [
    "DEFAULT_TIMEOUT",
    "PROTOCOL_VERSION",
    "PendingCall",
    "RpcClient",
    "RpcError",
    "RpcTimeoutError",
    "Transport",
    "TransportError",
]
