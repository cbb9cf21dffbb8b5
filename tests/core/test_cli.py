"""The command line end to end, each test in its own temporary home."""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser

from core.cli import render_hits_table
from core.records import Paper
from core.search import Hit
from tests.conftest import run_cli

DATA = Path(__file__).parent / "data"


def test_search_answers_from_the_seed_corpus_at_once(home: Path) -> None:
    result = run_cli(home, "search", "speculative decoding with a sparse KV cache", "-k", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["#", "key"]
    assert lines[1].split()[1] == "triforce"
    assert len(lines) == 4


def test_search_json_has_the_documented_fields(home: Path) -> None:
    result = run_cli(home, "search", "--json", "looped transformer chain of thought", "-k", "2")
    hits = json.loads(result.stdout)
    assert len(hits) == 2
    assert {"key", "title", "abstract", "score"} <= set(hits[0])
    assert hits[0]["key"] == "relay" and hits[0]["score"] >= hits[1]["score"]


def test_batch_mode_prints_one_array_per_line(home: Path) -> None:
    result = run_cli(
        home, "search", "--json", "-k", "1", "-", stdin="looped transformers\nthe of and\nKV cache eviction\n"
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])[0]["key"] == "relay"
    assert json.loads(lines[1]) == []
    assert len(json.loads(lines[2])) == 1


def test_empty_query_and_unknown_key_fail_plainly(home: Path) -> None:
    empty = run_cli(home, "search", "  ")
    assert empty.returncode == 1 and "no searchable words" in empty.stderr
    unknown = run_cli(home, "show", "trifroce")
    assert unknown.returncode == 1
    assert "no paper with key 'trifroce'; did you mean triforce?" in unknown.stderr
    assert "Traceback" not in unknown.stderr + empty.stderr


def test_ingest_show_bibtex_round_trip_and_remove(home: Path) -> None:
    ingest = run_cli(home, "ingest", str(DATA / "broken.bib"))
    assert ingest.returncode == 0
    assert "added 3, updated 0, unchanged 0, failed 1" in ingest.stdout
    assert "broken.bib:12:" in ingest.stderr

    shown = run_cli(home, "show", "mueller2019", "--bibtex")
    entry = bibtexparser.parse_string(shown.stdout).entries[0]
    assert entry.key == "mueller2019"
    from core.formats.bibtex import entry_to_paper

    paper = entry_to_paper(entry, "-")
    assert isinstance(paper, Paper)
    assert paper.title == "Café Recommendations with BERT — and More"
    assert paper.authors == ("Müller, Jérôme", "Østergaard, Søren")
    assert paper.abstract == "We study naïve recommenders & their 50% failure rate."

    removed = run_cli(home, "remove", "mueller2019")
    assert removed.returncode == 0
    stats = json.loads(run_cli(home, "stats", "--json").stdout)
    assert stats["papers"] == 179 + 2


def test_unknown_format_is_an_error_naming_the_formats(home: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = run_cli(home, "ingest", str(notes))
    assert result.returncode == 1
    assert "notes.txt" in result.stderr and "BibTeX" in result.stderr and "CSL-JSON" in result.stderr


def test_ingest_of_a_folder_is_recursive(home: Path, tmp_path: Path) -> None:
    nested = tmp_path / "refs" / "deeper"
    nested.mkdir(parents=True)
    (nested / "a.bib").write_text((DATA / "broken.bib").read_text())
    (tmp_path / "refs" / "b.json").write_text((DATA / "zotero.json").read_text())
    result = run_cli(home, "ingest", "--json", str(tmp_path / "refs"))
    report = json.loads(result.stdout)
    assert report["added"] == 4 and report["updated"] == 1
    assert {Path(f["path"]).name for f in report["failed"]} == {"a.bib", "b.json"}


def test_reindex_and_stats(home: Path) -> None:
    assert "reindexed 179 papers" in run_cli(home, "reindex").stdout
    assert "179 papers" in run_cli(home, "stats").stdout


def test_hits_table_fits_the_width() -> None:
    paper = Paper(key="k" * 40, title="T" * 300, authors=("Doe, Jane",), year=2020)
    table = render_hits_table([Hit(paper, 1.5, 1)], 80)
    assert all(len(line) <= 80 for line in table.splitlines())
    assert render_hits_table([], 80) == "No papers match."


def test_files_in_a_folder_that_are_not_bibliographies_are_skipped(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "refs"
    folder.mkdir()
    (folder / "a.bib").write_text("@article{a2020, title={A Paper}}\n")
    (folder / "README.md").write_text("# My references\n")
    result = run_cli(home, "ingest", str(folder))
    assert result.returncode == 0
    assert "added 1, updated 0, unchanged 0, failed 0, skipped 1 other files" in result.stdout
    report = json.loads(run_cli(home, "ingest", "--json", str(folder)).stdout)
    assert [Path(p).name for p in report["skipped"]] == ["README.md"]


def test_a_home_that_is_a_file_or_an_unreadable_address_fails_plainly(tmp_path: Path) -> None:
    """A file as --home was mkdir's FileExistsError traceback; a home URL with a password, a port
    past 65535 or no host a ValueError traceback from the HTTP library."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a home")
    for home, said in [
        (str(a_file), "is a file; the home must be a folder"),
        ("https://ada:s3cret@papers.example.org", "holds a user name or password"),
        ("http://127.0.0.1:99999", "Port out of range"),
        ("http://", "must be http(s)://HOST"),
    ]:
        result = run_cli(tmp_path, "--home", home, "stats")
        assert result.returncode == 1 and said in result.stderr and "Traceback" not in result.stderr
        assert "s3cret" not in result.stderr
