"""Entry point of the ``postroom`` desktop app; a placeholder until the GUI issue lands."""

import sys


def main() -> int:
    """Say what exists today and how to use it."""
    print(
        "postroom: the desktop app is not built yet.\n"
        "The embedded mail server is: try `postroom-mta -bD` (listens on 127.0.0.1:2525)\n"
        "and `postroom-mta -bp` to list its queue."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
