"""``python -m postroom.core.control [-C FILE] [-O Option=Value]``: the RPC server."""

import sys

from .entry import main

sys.exit(main())
