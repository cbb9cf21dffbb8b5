"""The BibTeX button's entry: whole and parseable even when the paper is too long for a message."""

from __future__ import annotations

import html

import bibtexparser

from bots import blocks
from core.records import Paper


def test_a_long_papers_entry_is_shortened_to_a_whole_entry() -> None:
    paper = Paper(
        key="long2024",
        title="A {braced} title @misc{x,",
        abstract="An abstract with {braces} and } stray ones. " * 200,
        url="https://x.example/a},note={INJECTED",
    )
    text = blocks.bibtex_message(paper)[0]["text"]["text"]
    assert len(text) <= blocks.MAX_SECTION_TEXT
    entry = html.unescape(text.removeprefix("```").removesuffix("```"))
    library = bibtexparser.parse_string(entry)
    assert not library.failed_blocks and len(library.blocks) == 1
    assert sorted(library.entries[0].fields_dict) == ["abstract", "title", "url"]
