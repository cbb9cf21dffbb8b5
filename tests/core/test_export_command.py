"""`papercite export`: what a thesis cites, into its .bib or a CSL-JSON file, read back by the tools
that read them (bibtexparser, pandoc's citeproc, papercite's own ingest)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import bibtexparser
import pytest

from tests.conftest import run_cli
from tests.system import program

LOVELACE = """@article{lovelace2021robust,
  title = {Robust Snapshot Retrieval},
  author = {Lovelace, Ada and {The Zotero Team}},
  journal = {Journal of Snapshots},
  year = {2021},
  volume = {7},
  pages = {10--20},
  doi = {10.1145/1111111.2222222},
  abstract = {We retrieve snapshots robustly.}
}
"""
USER_ENTRY = "@misc{mine2031,\r\n  title = {My Own Entry, Not in the Index}\r\n}\r\n"


@pytest.fixture
def thesis(tmp_path: Path) -> Path:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "main.tex").write_text(
        "\\documentclass{book}\n\\input{setup}\n\\begin{document}\nAs in~\\cite{triforce}.\n"
        "\\include{chapters/one}\n\\nocite{*}\n\\bibliography{refs}\n\\end{document}\n"
    )
    (tmp_path / "setup.tex").write_text("\\usepackage{natbib}\n")
    (tmp_path / "chapters" / "one.tex").write_text(
        "Loops help~\\citep{relay, trifroce}; see \\citet{mine2031} and~\\cite{lovelace2021robust}.\n"
    )
    (tmp_path / "refs.bib").write_bytes(USER_ENTRY.encode())
    return tmp_path


@pytest.fixture
def home_with_lovelace(home: Path, tmp_path: Path) -> Path:
    bib = tmp_path / "lovelace.bib"
    bib.write_text(LOVELACE)
    assert run_cli(home, "ingest", str(bib)).returncode == 0
    return home


def test_a_theses_citations_are_added_to_its_bib_file_once(home_with_lovelace: Path, thesis: Path) -> None:
    refs = thesis / "refs.bib"
    result = run_cli(home_with_lovelace, "export", "--cited", str(thesis / "main.tex"), "-o", str(refs))
    # A misspelt key is named, with the key meant; the rest is written.
    assert result.returncode == 1
    assert "no paper with key 'trifroce'; did you mean triforce?" in result.stderr
    assert "'*'" not in result.stderr  # \nocite{*} names no paper
    assert "added 3 entries (1 already there)" in result.stdout
    data = refs.read_bytes()
    assert data.startswith(USER_ENTRY.encode())  # the user's entry, byte for byte
    library = bibtexparser.parse_string(data.decode())
    assert [entry.key for entry in library.entries] == ["mine2031", "triforce", "relay", "lovelace2021robust"]
    assert not library.failed_blocks
    again = run_cli(home_with_lovelace, "export", "--cited", str(thesis / "main.tex"), "-o", str(refs))
    assert "added 0 entries (4 already there)" in again.stdout and refs.read_bytes() == data


def test_keys_print_as_bibtex_that_bibtexparser_reads_back(home_with_lovelace: Path) -> None:
    result = run_cli(home_with_lovelace, "export", "lovelace2021robust", "triforce")
    assert result.returncode == 0, result.stderr
    entries = {entry.key: entry for entry in bibtexparser.parse_string(result.stdout).entries}
    assert list(entries) == ["lovelace2021robust", "triforce"]
    assert entries["lovelace2021robust"]["doi"] == "10.1145/1111111.2222222"


def test_csl_json_reads_back_into_papercite_and_through_pandocs_citeproc(
    home_with_lovelace: Path, tmp_path: Path
) -> None:
    refs = tmp_path / "refs.json"
    result = run_cli(home_with_lovelace, "export", "lovelace2021robust", "triforce", "-o", str(refs))
    assert result.returncode == 0, result.stderr
    items = {item["id"]: item for item in json.loads(refs.read_text())}
    assert items["lovelace2021robust"]["author"] == [
        {"family": "Lovelace", "given": "Ada"},
        {"literal": "The Zotero Team"},
    ]
    assert items["lovelace2021robust"]["issued"] == {"date-parts": [[2021]]}
    assert (items["lovelace2021robust"]["page"], items["lovelace2021robust"]["volume"]) == ("10–20", "7")

    fresh = tmp_path / "fresh"
    assert run_cli(fresh, "ingest", str(refs)).returncode == 0
    shown = json.loads(run_cli(fresh, "show", "lovelace2021robust", "--json").stdout)
    original = json.loads(run_cli(home_with_lovelace, "show", "lovelace2021robust", "--json").stdout)
    for field in ("title", "authors", "year", "venue", "doi", "abstract", "entry_type"):
        assert shown[field] == original[field], field

    pandoc = program("pandoc", "pandoc")
    rendered = subprocess.run(
        [pandoc, "--citeproc", "--bibliography", str(refs), "-f", "markdown", "-t", "plain"],
        input="As shown [@lovelace2021robust].\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "(Lovelace and The Zotero Team 2021)" in rendered
    assert "Robust Snapshot Retrieval" in rendered and "Journal of Snapshots" in rendered


def test_export_makes_new_files_as_the_umask_says_and_keeps_an_existing_ones_mode(
    home: Path, tmp_path: Path
) -> None:
    before = os.umask(0o027)  # the subprocess inherits it
    try:
        (tmp_path / "private.bib").write_text("@misc{old, title={x}}\n")
        (tmp_path / "private.bib").chmod(0o600)
        for name in ("refs.json", "refs.bib", "private.bib"):
            done = run_cli(home, "export", "triforce", "-o", str(tmp_path / name))
            assert done.returncode == 0, done.stderr
    finally:
        os.umask(before)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir() if path.is_file()}
    assert modes == {"refs.json": 0o640, "refs.bib": 0o640, "private.bib": 0o600}
    assert "@misc{old," in (tmp_path / "private.bib").read_text()


def test_what_cannot_be_exported_is_named(home: Path, tmp_path: Path) -> None:
    nothing = run_cli(home, "export")
    assert nothing.returncode == 1 and "name keys to export, or documents with --cited" in nothing.stderr
    missing = run_cli(home, "export", "triforce", "--cited", str(tmp_path / "gone.tex"))
    assert missing.returncode == 1 and f"{tmp_path / 'gone.tex'}: cannot be read" in missing.stderr
    assert "@article{triforce," in missing.stdout  # the rest still comes out
    broken = tmp_path / "broken.json"
    broken.write_text('{"not": "a list"}')
    refused = run_cli(home, "export", "triforce", "-o", str(broken))
    assert refused.returncode == 1 and "not CSL-JSON papercite can add to" in refused.stderr
    assert broken.read_text() == '{"not": "a list"}'


def test_an_output_that_is_a_link_is_written_through_and_one_that_is_no_file_is_refused(
    home: Path, tmp_path: Path
) -> None:
    """-o refs.bib where refs.bib links to a shared bibliography replaced the link with a file of
    its own (the shared one never saw the entry); -o a pipe waited for ever, -o a folder was a
    traceback, and -o a CSL-JSON file nested 100,000 deep a RecursionError."""
    shared = tmp_path / "shared" / "lab.bib"
    shared.parent.mkdir()
    shared.write_text("@misc{old, title = {Old}}\n")
    (tmp_path / "refs.bib").symlink_to(shared)
    done = run_cli(home, "export", "triforce", "-o", str(tmp_path / "refs.bib"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "refs.bib").is_symlink() and "@misc{old" in shared.read_text()
    assert "triforce" in shared.read_text()

    os.mkfifo(tmp_path / "pipe.bib")
    (tmp_path / "folder.bib").mkdir()
    (tmp_path / "deep.json").write_text("[" * 100_000)
    for name, said in [
        ("pipe.bib", "is not a regular file"),
        ("folder.bib", "is not a regular file"),
        ("deep.json", "is not CSL-JSON papercite can add to: nested too deeply"),
    ]:
        done = run_cli(home, "export", "triforce", "-o", str(tmp_path / name), timeout=30)
        assert done.returncode == 1 and said in done.stderr and "Traceback" not in done.stderr, done.stderr
