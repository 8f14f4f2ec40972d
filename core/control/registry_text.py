"""The methods DESIGN section 5 names that this server cannot do yet, and why.

Each answers ``not_available`` with the text here, which says which part of Postroom
brings it, so a client can show a precise message instead of an unknown-method error.
Remove an entry when its method lands in the table of :mod:`.registry`.
"""

from __future__ import annotations

NOT_AVAILABLE_METHODS: dict[str, str] = {}
