"""Where the language server may write, judged on real paths (real folders and symlinks here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.documents.declared import Named
from server.bibliography import resolve
from server.confinement import OutsideWorkspace, confined, writable_roots


def test_a_path_inside_the_workspace_is_its_real_path(tmp_path: Path) -> None:
    roots = writable_roots([tmp_path / "ws"], None)
    (tmp_path / "ws" / "sub").mkdir(parents=True)
    assert confined(tmp_path / "ws" / "sub" / ".." / "refs.bib", roots) == tmp_path / "ws" / "refs.bib"
    assert confined(tmp_path / "ws" / "new" / "refs.bib", roots) == tmp_path / "ws" / "new" / "refs.bib"


def test_dot_dot_absolute_and_symlinked_targets_outside_are_refused(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "elsewhere.bib").write_text("")
    (tmp_path / "ws" / "link.bib").symlink_to(tmp_path / "elsewhere.bib")
    roots = writable_roots([tmp_path / "ws"], None)
    for path in (tmp_path / "ws" / ".." / "x.bib", Path("/etc/x.bib"), tmp_path / "ws-other" / "x.bib"):
        with pytest.raises(OutsideWorkspace, match=r"did not write .*outside the workspace"):
            confined(path, roots)
    with pytest.raises(OutsideWorkspace, match=r"link\.bib \(really .*elsewhere\.bib\)"):
        confined(tmp_path / "ws" / "link.bib", roots)


def test_without_a_workspace_the_documents_folder_is_the_root(tmp_path: Path) -> None:
    roots = writable_roots([], tmp_path / "doc" / "paper.tex")
    assert roots == [tmp_path / "doc"]
    assert confined(tmp_path / "doc" / "refs.bib", roots) == tmp_path / "doc" / "refs.bib"
    with pytest.raises(OutsideWorkspace):
        confined(tmp_path / "refs.bib", roots)
    with pytest.raises(OutsideWorkspace, match="no workspace folder"):
        confined(tmp_path / "refs.bib", writable_roots([], None))


def test_a_tilde_name_is_the_home_folders_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    found = resolve(Named("~/x", 0, 3, bibtex_default=True), [tmp_path / "doc"])
    assert found.path == tmp_path / "home" / "x.bib" and not found.exists


def test_a_named_file_that_is_no_bibliography_is_a_failure_not_a_read(tmp_path: Path) -> None:
    import os

    from server.bibliography import MAX_BIBLIOGRAPHY_BYTES, BibliographyCache

    cache = BibliographyCache(lambda path: None)
    huge = tmp_path / "huge.bib"
    with huge.open("wb") as sparse:  # no disk used: a hole as long as the limit, and one byte
        sparse.truncate(MAX_BIBLIOGRAPHY_BYTES + 1)
    pipe = tmp_path / "pipe.bib"
    os.mkfifo(pipe)  # reading a pipe no one writes would wait forever
    assert "more than papercite reads as a bibliography" in cache.file(huge).failures[0].reason
    assert "is not a regular file" in cache.file(pipe).failures[0].reason
    assert "is not a regular file" in cache.file(Path("/dev/zero")).failures[0].reason
