"""``python -m postroom.core.vacation``: the vacation program, as the delivery agent runs it.

The configuration comes from ``POSTROOM_CONFIG`` (set by Postroom's program
agent), so the reply is queued by the same instance that ran the program.
"""

import sys

from ..runner import run_own_flags_command

sys.exit(run_own_flags_command("vacation", sys.argv[1:]))
