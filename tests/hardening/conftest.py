"""Reports the size of the bad-input corpus in the test summary (this file loads only when the suite runs)."""

from __future__ import annotations

from collections import Counter

from tests.hardening.corpus import cases


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest hook signature
    all_cases = cases()
    kinds = Counter(case.kind for case in all_cases)
    detail = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    terminalreporter.write_line(f"hardening corpus: {len(all_cases)} cases ({detail})")
