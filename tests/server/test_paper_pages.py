"""A paper's page: its comment lines hold no entry, whatever the title or link."""

from __future__ import annotations

from pathlib import Path

import bibtexparser

from core.records import Paper
from server.paper_pages import HEADING_LINE, page_for, render_page
from server.symbols import title_line


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


def test_the_heading_names_key_and_title_on_one_line(tmp_path: Path) -> None:
    paper = Paper(key="relay", title="RELAY: Loops\n  Aligned", url="https://x.example/r")
    path, _ = page_for(tmp_path, paper)
    assert path.read_text(encoding="utf-8").splitlines()[HEADING_LINE] == "% relay: RELAY: Loops Aligned"


def test_a_symbol_in_a_bib_points_at_the_entry_title() -> None:
    lines = [
        "@inproceedings{a,",
        "  booktitle = {Proc},",
        "  shorttitle = {Short},",
        "  Title = {The Title},",
        "}",
        "@misc{b, title = {Same line}}",
        "@misc{c,",
        "  note = {no title here}",
        "}",
        "@misc{d, title = {Next entry's}}",
        '  {"id": "e", "container-title": "J", "title": "CSL"}',
    ]
    assert [title_line(lines, n) for n in (0, 5, 6, 10)] == [3, 5, 6, 10]
