"""``server.info``: what a client needs to know first about the server it reached.

Works even while the configuration is refused (the GUI must still be able to show and
fix it): ``config_valid`` is then false and ``config_problems`` says why, and the
queue and daemon fields are ``null``.  ``methods`` lists what this server answers and
``not_available`` what it names but cannot do yet, with the reason.
``queue_list_row_formats`` lists the ``row_format`` values ``queue.list`` accepts
(``"object"``, the default, and ``"array"``), so a client knows it may ask for the
denser one.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from .. import __version__
from .context import Context, Stream
from .daemon_methods import daemon_state
from .errors import config_problems
from .params import Params
from .protocol import PROTOCOL_VERSION
from .protocol import QUEUE_ROW_FORMATS as ROW_FORMATS
from .registry_text import NOT_AVAILABLE_METHODS
from .rights import rights


def server_info(ctx: Context, params: Params, out: Stream) -> dict[str, Any]:
    config, problem = ctx.load()
    return {
        "protocol": PROTOCOL_VERSION,
        "server": "postroom-mta",
        "version": __version__,
        "python": sys.version.split()[0],
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "config_path": str(ctx.config_path),
        "config_valid": config is not None,
        "config_problems": [] if problem is None else config_problems(problem),
        "queue_directory": None if config is None else str(config.queue_directory),
        "host_name": None if config is None else config.host_name,
        "daemon": None if config is None else daemon_state(config),
        "caller": rights(config, ctx.config_path),
        "methods": sorted(ctx.methods),
        "not_available": dict(NOT_AVAILABLE_METHODS),
        "queue_list_row_formats": list(ROW_FORMATS),
    }
