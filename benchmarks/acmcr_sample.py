"""Draw the small ACM-CR sample the test suite and the quick benchmark read (tests/data/acm-cr-sample).

    python -m benchmarks.acmcr_sample --collection PATH [--out tests/data/acm-cr-sample]

The sample keeps the collection's layout: the first topics of each set with their judgements and the
blacklist, every record those topics judge, and the first records of every 15th BibTeX file as
distractors (real-world BibTeX of every kind the collection holds, for the parser tests).
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from benchmarks.acmcr import collection_path, load_qrels

TOPICS = 50
EVERY_NTH_FILE = 15
RECORDS_PER_FILE = 25
_ENTRY = re.compile(r"(?ms)^@\w+\{.*?^\}\s*$")
_DOI = re.compile(r"(?m)^doi = \{([^}]*)\}")


def _first_topics(text: str, n: int) -> tuple[str, set[str]]:
    blocks = re.findall(r"<top>.*?</top>", text, re.DOTALL)[:n]
    ids = {m.group(1) for block in blocks if (m := re.search(r"<num>\s*Number:\s*(\S+)", block))}
    return "\n\n".join(blocks) + "\n", ids


def build(collection: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out / "acm-dl", ignore_errors=True)
        shutil.rmtree(out / "topics", ignore_errors=True)
    (out / "topics").mkdir(parents=True, exist_ok=True)
    shutil.copy(collection / "topics" / "blacklist.txt", out / "topics" / "blacklist.txt")
    shutil.copy(collection / "LICENSE", out / "LICENSE")
    judged: set[str] = set()
    for name in ("sentences", "contexts"):
        topics, ids = _first_topics((collection / "topics" / f"{name}.topics").read_text(), TOPICS)
        (out / "topics" / f"{name}.topics").write_text(topics)
        qrels = [
            line
            for line in (collection / "topics" / f"{name}.qrels").read_text().splitlines()
            if line.split()[:1] and line.split()[0] in ids
        ]
        (out / "topics" / f"{name}.qrels").write_text("\n".join(qrels) + "\n")
        judged |= {doi for topic in load_qrels(out / "topics" / f"{name}.qrels").values() for doi in topic}
    files = sorted((collection / "acm-dl").rglob("*.bib"))
    judged_entries: list[str] = []
    for index, path in enumerate(files):
        text = path.read_text(encoding="utf-8")
        entries = _ENTRY.findall(text)
        judged_entries += [e for e in entries if (m := _DOI.search(e)) and m.group(1).lower() in judged]
        if index % EVERY_NTH_FILE == 0:
            target = out / "acm-dl" / path.relative_to(collection / "acm-dl")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n\n".join(entries[:RECORDS_PER_FILE]) + "\n", encoding="utf-8")
    (out / "acm-dl" / "judged.bib").write_text("\n\n".join(judged_entries) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, help="the full ACM-CR folder (or PAPERCITE_ACMCR)")
    parser.add_argument("--out", type=Path, default=Path("tests/data/acm-cr-sample"))
    args = parser.parse_args()
    build(collection_path(args.collection), args.out)


if __name__ == "__main__":
    main()
