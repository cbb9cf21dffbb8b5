"""gzip-compressed files are told by their content and read as a stream, in pieces when big."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from core.formats import detect_format, iter_file_records, pieces
from core.library import Library
from core.records import Paper, ParseFailure
from tests.fakes.sources import openalex_work

DATA = Path(__file__).parent / "data"


def gz(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data))
    return path


def test_each_format_reads_the_same_compressed(tmp_path: Path) -> None:
    for name in ("arxiv.jsonl", "broken.bib", "zotero.json"):
        plain = DATA / name
        # No `.gz` in the name: the magic bytes tell.
        packed = gz(tmp_path / f"{name}.data", plain.read_bytes())
        assert detect_format(packed) == detect_format(plain)
        expected = [
            (type(r), getattr(r, "title", None), getattr(r, "line", None)) for r in iter_file_records(plain)
        ]
        got = [
            (type(r), getattr(r, "title", None), getattr(r, "line", None)) for r in iter_file_records(packed)
        ]
        assert got == expected and len(got) >= 2


def test_openalex_snapshot_lines_are_works(tmp_path: Path) -> None:
    works = [
        openalex_work("W1", "Sparse Retrieval at Scale", "We index a billion passages quickly.", ["Ada Lovelace"], 2022,
                      doi="10.1000/sparse"),
        openalex_work("W2", "An arXiv Preprint", "Preprint words here.", ["Alan Turing"], 2023,
                      doi="10.48550/arXiv.2301.00001"),
    ]  # fmt: skip
    part = gz(tmp_path / "part_000.gz", "".join(json.dumps(w) + "\n" for w in works).encode())
    first, second = iter_file_records(part)
    assert isinstance(first, Paper) and isinstance(second, Paper)
    assert first.abstract == "We index a billion passages quickly." and first.authors == ("Ada Lovelace",)
    assert first.doi == "10.1000/sparse" and first.year == 2022 and first.format == "openalex"
    assert first.origin == f"{part}:1"
    # arXiv's own DOI is its arXiv id.
    assert (second.doi, second.arxiv_id) == ("", "2301.00001")


def test_a_cut_off_gzip_keeps_what_came_before_and_says_so(tmp_path: Path) -> None:
    lines = "".join(
        json.dumps({"title": f"Paper {i}", "abstract": "words " * 50}) + "\n" for i in range(2000)
    )
    whole = gzip.compress(lines.encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    records = list(iter_file_records(cut))
    papers = [r for r in records if isinstance(r, Paper)]
    assert 0 < len(papers) < 2000
    assert isinstance(records[-1], ParseFailure) and "damaged or cut off" in records[-1].reason


@pytest.mark.parametrize("parallel", [False, True])
def test_big_gzip_json_lines_are_read_in_pieces_losing_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    monkeypatch.setattr(pieces, "PIECE_BYTES", 4096)
    monkeypatch.setattr(pieces, "PARALLEL_BYTES", 0 if parallel else 1 << 40)
    lines = [
        json.dumps({"title": f"Paper {i} on graphs", "abstract": "x" * (i % 300)}) for i in range(1, 1501)
    ]
    lines[776] = '{"title": "cut off'
    data = gz(tmp_path / "big.jsonl.gz", ("\n".join(lines) + "\n").encode())
    cut = list(pieces.pieces_of(data))
    assert len(cut) > 20 and all(p.data is not None for p in cut)
    records = [record for _, part in pieces.read_pieces([data], [None]) for record in part]
    failures = [r for r in records if isinstance(r, ParseFailure)]
    assert [f.line for f in failures] == [777]
    papers = [r for r in records if isinstance(r, Paper)]
    assert [int(p.origin.rsplit(":", 1)[1]) for p in papers] == [n for n in range(1, 1501) if n != 777]


async def test_ingest_takes_a_bib_gz(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "refs"
    folder.mkdir()
    gz(folder / "refs.bib.gz", b"@article{zeta2020, title={Zeta Functions Compressed}, author={Zed, Zoe}, "
                                         b"year={2020}, abstract={On compressed zeta functions.}}\n")  # fmt: skip
    report = await library.ingest([folder])
    assert report.added == ["zeta2020"] and report.skipped == []
    assert (await library.get("zeta2020")).abstract == "On compressed zeta functions."
