"""The quick benchmark run, end to end: every table is produced (figures printed, not asserted)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_quick_benchmarks_run_end_to_end() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = result.stdout
    # A section that fails prints "Not run: <its error>" instead of its table: name it and its error.
    failed = [part for part in report.split("\n## ") if "\nNot run: " in part]
    assert not failed, "\n\n".join(part[-3000:] for part in failed)
    for heading in (
        "Citing sentences",
        "Parity",
        "Language server",
        "Slack",
        "Scale",
        "ACM-CR",
        "Slack digests",
        "Team server",
        "Harvest",
        "Ingest of a gzip",
    ):
        assert f"## {heading}" in report
    assert "| 10k |" in report
    assert "| sentences: papercite | 50 |" in report and "| contexts: papercite |" in report
    assert "Ingest of the ACM-CR BibTeX folder" in report
    assert "| 10k | server URL | 200 |" in report and "| 10k | 50 | 5 |" in report
    assert "| first harvest | 5,000 |" in report and "| gzip |" in report
    assert "| `--library` (the team's other cited papers) |" in report
