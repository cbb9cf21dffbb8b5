"""Harvest throughput against the local fake of arXiv's OAI-PMH (tests/fakes/sources.py).

    python -m benchmarks.harvest [--records N] [--page P]

Pages of P records (arXiv sends 1,000), no pause between requests (the real arXiv asks for three
seconds, which bounds a real harvest near 330 records/s at most, before its own answer times): what
is measured is papercite's side — parsing each page, one store transaction per page with its
resumption token, and the index. Both a first harvest and a run over the same records again.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.library import Library
from core.sources import SourcesConfig
from core.sources.harvest import harvest_arxiv


async def run(home: Path, config: SourcesConfig) -> tuple[float, int, int]:
    library = await Library.open(home, seed=False)
    try:
        start = time.perf_counter()
        report = await harvest_arxiv(library, set_spec="cs", date_from="2000-01-01", config=config)
        return time.perf_counter() - start, report.records, report.pages
    finally:
        await library.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=1000)
    args = parser.parse_args()
    # The fake serves from a process of its own, as a real server would, not from this one's GIL.
    command = [
        sys.executable,
        "-m",
        "tests.fakes.sources",
        "--oai",
        str(args.records),
        "--page",
        str(args.page),
    ]
    fake = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        urls = dict(fake.stdout.readline().strip().split("=", 1) for _ in range(4))
        config = SourcesConfig(arxiv_oai_url=urls["PAPERCITE_ARXIV_OAI_URL"], arxiv_interval=0)
        rows = []
        with tempfile.TemporaryDirectory() as folder:
            for label in ("first harvest", "same records again"):
                seconds, records, pages = asyncio.run(run(Path(folder), config))
                rows.append((label, records, pages, seconds))
    finally:
        fake.kill()
        fake.wait()
    print(f"{args.records:,} records from the fake OAI-PMH server, {args.page} per page, no pacing.\n")
    print("| run | records | pages | time | records/s |")
    print("|---|---|---|---|---|")
    for label, records, pages, seconds in rows:
        print(f"| {label} | {records:,} | {pages} | {seconds:.1f} s | {records / seconds:,.0f} |")


if __name__ == "__main__":
    main()
