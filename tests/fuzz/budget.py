"""How much each fuzz target runs: a small, bounded budget in CI; as much as you like by hand.

Every target is decorated with :func:`fuzz_settings` ``(n)``: ``n`` examples in
CI (chosen so a target takes at most about 10 s on the 2-core CI machine).
For a long run set ``POSTROOM_FUZZ_EXAMPLES`` -- every target then runs that
many examples instead -- e.g.::

    POSTROOM_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/fuzz -m fuzz -x

(``-p no:cacheprovider`` is not needed: failing examples are kept in
hypothesis's database under ``.hypothesis/`` and replayed first next time.)
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

ENV = "POSTROOM_FUZZ_EXAMPLES"


def fuzz_settings(ci_examples: int) -> settings:
    """Hypothesis settings for one fuzz target."""
    wanted = os.environ.get(ENV, "").strip()
    examples = int(wanted) if wanted.isdigit() and int(wanted) > 0 else ci_examples
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
