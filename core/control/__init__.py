"""The JSON-lines control protocol behind ``postroom-mta --rpc`` (DESIGN sections 3 and 5).

Client side (no core internals; the GUI imports only these two):
:mod:`.protocol` (message shapes, error codes, limits) and :mod:`.client`
(``RpcClient``, which re-exports the ``Transport`` protocol of :mod:`.transport`).

Server side: :mod:`.server` (the loop; ``serve``), :mod:`.entry` (``run_rpc`` for the
CLI, ``main`` for ``python -m postroom.core.control``), :mod:`.registry` (the method
table) and one module per area of methods (``info_methods``, ``queue_methods``,
``queue_edit``, ``config_methods``, ``settings_methods``, ``daemon_methods``,
``log_methods``, ``events``) over the helpers ``params``, ``context``, ``errors``,
``rights``, ``queue_scan``, ``queue_rows``, ``queue_select``, ``config_edit``,
``config_store``.

This package's ``__init__`` imports nothing, so importing the client does not load the
server.
"""
