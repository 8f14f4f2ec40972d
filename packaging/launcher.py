"""The bundle's entry point: the desktop app or the MTA, chosen by the name it is run under.

PyInstaller freezes this file twice (packaging/postroom.spec): as ``postroom``, with
every module, and as ``postroom-mta``, without Qt.  Run as ``postroom`` it starts the
desktop app (``postroom.gui.app``); under any other name (``postroom-mta``, or a
Sendmail link name such as ``mailq``) it runs the MTA's command line, which tells the
link names apart itself.

Postroom starts helper processes as ``sys.executable -m postroom.core...`` (the GUI's
local connection, the RPC server's ``daemon.start`` and queue scans, the ``|vacation``
program agent).  In a frozen bundle ``sys.executable`` is this program, so it honours
``-m postroom.MODULE ARGS`` as the interpreter would: the module runs as ``__main__``
with ``ARGS``.  Only modules under ``postroom.`` are run that way, so Sendmail's own
flags after the name are never mistaken for a module.

``multiprocessing.freeze_support()`` comes first: the file agent's ``forkserver``
starts this program again with the interpreter's ``-c`` form, which PyInstaller's
runtime hook recognises there.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import sys

GUI_NAME = "postroom"
OWN_MODULES = "postroom."
EX_SOFTWARE = 70


def program_name(argv0: str) -> str:
    """The name the program was started under: ``mailq`` for ``/usr/lib/.../mailq``."""
    name = os.path.basename(argv0)
    return name[:-4] if name.lower().endswith(".exe") else name


def run_module(module: str, args: list[str]) -> int:
    """``python -m module args``: run ``module`` as ``__main__``; its SystemExit is the status."""
    sys.argv = [sys.argv[0], *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except ImportError as exc:
        print(f"{program_name(sys.argv[0])}: no module {module}: {exc}", file=sys.stderr)
        return EX_SOFTWARE
    return 0


def main() -> int:
    """Dispatch on ``-m MODULE`` first, then on the program's name."""
    multiprocessing.freeze_support()
    argv = sys.argv
    if len(argv) >= 3 and argv[1] == "-m" and argv[2].startswith(OWN_MODULES):
        return run_module(argv[2], argv[3:])
    if program_name(argv[0]) == GUI_NAME:
        from postroom.gui.app import main as gui_main

        return gui_main()
    from postroom.core.cli import main as mta_main

    return mta_main()


if __name__ == "__main__":
    sys.exit(main())
