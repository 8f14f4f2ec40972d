"""Fuzz targets (hypothesis), marked ``fuzz``: small budgets in CI, any budget by hand.

``POSTROOM_FUZZ_EXAMPLES=N`` runs every target N examples instead of its CI
budget (see :mod:`tests.fuzz.budget`), e.g.
``POSTROOM_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/fuzz -m fuzz``.
"""
