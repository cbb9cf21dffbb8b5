"""Ingest of a gzip-compressed JSON Lines file against the same file uncompressed.

    python -m benchmarks.gzip_ingest [--records N]

Synthetic arXiv-snapshot records (benchmarks/synthetic.py), each file into a fresh home through
`Library.ingest`, the way `papercite ingest` reads it. A gzip file cannot be cut by byte offsets,
so it is decompressed as one stream in the main process and handed to the parsing workers in
line-aligned pieces; the plain file is cut by offsets and each worker reads its own piece.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic import write
from core.library import Library


async def ingest_seconds(path: Path, home: Path) -> tuple[float, int]:
    library = await Library.open(home, seed=False)
    try:
        start = time.perf_counter()
        report = await library.ingest([path])
        return time.perf_counter() - start, len(report.added)
    finally:
        await library.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        plain = write(args.records, root / "arxiv.jsonl")
        packed = root / "arxiv.jsonl.gz"
        with plain.open("rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
        rows = []
        for name, path in (("uncompressed", plain), ("gzip", packed)):
            seconds, added = asyncio.run(ingest_seconds(path, root / f"home-{name}"))
            rows.append((name, path.stat().st_size / 2**20, seconds, added))
    print(f"{args.records:,} synthetic arXiv records; gzip level 6 "
          f"(ratio {rows[0][1] / rows[1][1]:.1f} : 1).\n")  # fmt: skip
    print("| file | size | ingest | records/s |")
    print("|---|---|---|---|")
    for name, size, seconds, added in rows:
        print(f"| {name} | {size:.1f} MB | {seconds:.1f} s | {added / seconds:,.0f} |")


if __name__ == "__main__":
    main()
