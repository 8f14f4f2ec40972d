"""lintian finds no error in the .deb (issue 9, point 3); its warnings are printed.

lintian was started on the package when it was built (conftest's ``built``) and has been
running beside the other tests; this waits for it.  The package's documented deviations
are in packaging/debian/lintian-overrides.
"""

from __future__ import annotations

from .conftest import Built

LINTIAN_TIMEOUT = 900


def test_lintian_reports_no_errors(built: Built) -> None:
    status = built.lintian.wait(timeout=LINTIAN_TIMEOUT)
    report = built.lintian_output.read_text()
    tags = [line for line in report.splitlines() if line[:3] in ("E: ", "W: ")]
    print("lintian:", *tags, sep="\n  ")
    errors = [line for line in tags if line.startswith("E: ")]
    assert errors == [], "\n".join(errors)
    assert status == 0, report  # lintian fails on errors (none, see above) or on itself
