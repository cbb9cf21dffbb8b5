"""Every benchmark in one command, as a Markdown report with the date and the machine.

    python -m benchmarks [--quick] [--write docs/benchmarks.md]

The full run covers 10k, 100k and 1M synthetic abstracts and all of ACM-CR with rank-bm25 beside us
(an hour or so on 2 cores). --quick covers 10k and the ACM-CR sample in tests/data, in a few minutes; the test suite runs it as a
smoke test. The full ACM-CR run reads the collection from PAPERCITE_ACMCR (see benchmarks/acmcr.py).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, {platform.system()}, Python {platform.python_version()}"


def section(title: str, module: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args], cwd=REPO, capture_output=True, text=True
    )
    # A section that cannot run (ACM-CR not given) says why; the others still report.
    body = result.stdout.strip() if result.returncode == 0 else f"Not run: {result.stderr.strip()[-2000:]}"
    return f"## {title}\n\n`python -m benchmarks.{module}{' ' if args else ''}{' '.join(args)}`\n\n{body}\n"


def report(quick: bool) -> str:
    sizes = ["10k"] if quick else ["10k", "100k", "1M"]
    acmcr = ["--collection", "tests/data/acm-cr-sample"] if quick else ["--rank-bm25"]
    parts = [
        "# Benchmarks\n",
        f"Measured {datetime.date.today().isoformat()} on {machine()}.{' Quick run.' if quick else ''}\n",
        section("Citing sentences on the seed corpus", "citing_sentences"),
        section("Parity with rank-bm25 on the seed corpus", "parity"),
        section(
            "Sentence model: load, abstracts, one query",
            "embedding",
            *(["--abstracts", "200", "--queries", "50", "--rounds", "1"] if quick else []),
        ),
        section("Language server completion on the seed corpus", "lsp_latency"),
        section("Slack acknowledgement", "slack_ack"),
        section("Scale: synthetic arXiv collections", "scale", "--sizes", *sizes),
        section("ACM-CR: citation recommendation on real citing text", "acmcr", *acmcr),
        section(
            "Slack digests: does a follow bring the paper the team cited, at each relevance floor",
            "digest_floor",
            *(["--collection", "tests/data/acm-cr-sample"] if quick else []),
        ),
        section("Harvest from a local OAI-PMH fake", "harvest", "--records", "5000" if quick else "50000"),
        section(
            "Ingest of a gzip-compressed file", "gzip_ingest", "--records", "5000" if quick else "100000"
        ),
        section(
            "Team server: completion through papercite serve, and concurrent clients",
            "remote",
            "--sizes",
            *(["10k"] if quick else ["10k", "100k", "1M"]),
            "--seconds",
            "5" if quick else "20",
        ),
    ]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k abstracts and 50 ACM-CR topics per set")
    parser.add_argument("--write", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    text = report(args.quick)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
