"""A paper's page: its comment lines hold no entry, whatever the title or link."""

from __future__ import annotations

from pathlib import Path

import bibtexparser

from core.records import Paper
from server.paper_pages import page_for, render_page


def test_a_title_or_link_with_an_entry_in_it_stays_in_the_comment(tmp_path: Path) -> None:
    paper = Paper(
        key="evil2024",
        title='Evil\n@preamble{"\\input{/etc/hostname}"}',
        url="https://x.example/}}@misc{pad,note={",
    )
    library = bibtexparser.parse_string(render_page(paper))
    assert [type(b).__name__ for b in library.blocks if type(b).__name__ != "ImplicitComment"] == ["Entry"]
    path, line = page_for(tmp_path, paper)
    assert path.read_text(encoding="utf-8").splitlines()[line].startswith("@article{evil2024,")
