"""Big JSON Lines files are read in line-aligned pieces, in worker processes, losing nothing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from core.formats import pieces
from core.records import Paper, ParseFailure


def write_lines(path: Path, count: int, broken: set[int]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in range(1, count + 1):
            if line in broken:
                out.write('{"title": "cut off\n')
            else:
                record = {"title": f"Paper {line} on Müller's graphs", "abstract": "x" * (line % 300)}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("parallel", [False, True])
def test_pieces_keep_every_record_and_the_line_of_every_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    monkeypatch.setattr(pieces, "PIECE_BYTES", 4096)
    monkeypatch.setattr(pieces, "PARALLEL_BYTES", 0 if parallel else 1 << 40)
    data = tmp_path / "big.jsonl"
    write_lines(data, 2000, broken={1, 777, 2000})
    cut = list(pieces.pieces_of(data))
    assert len(cut) > 20 and cut[0].start == 0 and cut[-1].end == data.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(cut))

    records = [record for _, part in pieces.read_pieces([data], [None]) for record in part]
    papers = [r for r in records if isinstance(r, Paper)]
    failures = [r for r in records if isinstance(r, ParseFailure)]
    assert [f.line for f in failures] == [1, 777, 2000]
    assert all(f.path == str(data) for f in failures)
    assert len(papers) == 1997 and papers[0].title == "Paper 2 on Müller's graphs"
    # Origins name the true line, wherever the piece began.
    assert [int(p.origin.rsplit(":", 1)[1]) for p in papers] == [n for n in range(2, 2000) if n != 777]


def test_a_small_or_other_file_is_one_piece(tmp_path: Path) -> None:
    bib = tmp_path / "a.bib"
    bib.write_text("@article{a, title={A}}\n" * 10)
    assert [(p.start, p.end) for p in pieces.pieces_of(bib)] == [(0, None)]
    missing = tmp_path / "gone.jsonl"
    assert [p.shown for p in pieces.pieces_of(missing, "shown/gone.jsonl")] == ["shown/gone.jsonl"]
