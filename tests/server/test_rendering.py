"""Completion and hover rendering are pure: hand-built papers in, whole LSP values out."""

from __future__ import annotations

from lsprotocol import types

from core.documents.declared import identities_of
from core.documents.syntax import LATEX
from core.records import Paper
from core.search import Hit
from core.text import query_terms
from server.commands import add_to_bibliography_command
from server.completion import (
    Candidate,
    merge_with_bibliography,
    prefix_matches,
    render_detail,
    render_documentation,
    render_item,
    render_label_details,
)
from server.context import CiteSite
from server.hover import render_hover
from server.server import plain_text

PAPER = Paper(
    key="sun2024triforce",
    title="TriForce: Lossless Acceleration of Long Sequence Generation with Hierarchical Speculative Decoding",
    abstract="LLMs are slow. We introduce TriForce, a hierarchical speculative decoding system. It is fast.",
    authors=("Sun, Hanshi", "Chen, Zhuoming"),
    year=2024,
    venue="COLM",
    doi="10.1/tri",
)


def test_detail_is_short_title_first_author_year() -> None:
    assert render_detail(PAPER) == "TriForce: Lossless Acceleration of Long Sequence… · Sun et al. · 2024"


def test_documentation_bolds_the_best_matching_sentence() -> None:
    value = render_documentation(PAPER, query_terms("hierarchical speculative decoding"))
    assert value == (
        "**TriForce: Lossless Acceleration of Long Sequence Generation with Hierarchical Speculative Decoding**"
        "\n\nSun, Hanshi, Chen, Zhuoming  \n*COLM, 2024*"
        "\n\nLLMs are slow. **We introduce TriForce, a hierarchical speculative decoding system.** It is fast."
    )


def test_prefix_matches_key_title_words_and_authors() -> None:
    assert prefix_matches(PAPER, "") == ["sun2024triforce"]
    assert prefix_matches(PAPER, "sun20") == ["sun2024triforce"]
    assert prefix_matches(PAPER, "spec") == ["speculative"]
    assert prefix_matches(PAPER, "chen") == ["chen"]
    assert prefix_matches(PAPER, "zebra") == []


def test_completion_item_is_whole_and_keeps_our_order() -> None:
    site = CiteSite(LATEX, "cite", "spec", 6, 10, 0, 11)
    edit_range = types.Range(
        start=types.Position(line=0, character=6), end=types.Position(line=0, character=10)
    )
    documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value="doc")
    item = render_item(
        documentation, Candidate(PAPER, 3.2, matched=("speculative",)), 7, site, edit_range, None, None
    )
    assert item.label == "sun2024triforce"
    assert item.sort_text == "0007"
    assert item.filter_text == "spec sun2024triforce speculative"
    assert item.text_edit == types.TextEdit(range=edit_range, new_text="sun2024triforce")
    assert item.kind == types.CompletionItemKind.Reference
    assert item.documentation is documentation
    assert item.detail == "TriForce: Lossless Acceleration of Long Sequence… · Sun et al. · 2024"
    assert item.command is None


def test_an_entry_of_the_bibliography_says_so_and_an_index_paper_brings_its_entry() -> None:
    site = CiteSite(LATEX, "cite", "", 6, 6, 0, 7)
    edit_range = types.Range(
        start=types.Position(line=0, character=6), end=types.Position(line=0, character=6)
    )
    local = render_item(None, Candidate(PAPER, 1.0, "refs.bib"), 1, site, edit_range, None, None)
    assert local.detail is not None and local.detail.startswith("in refs.bib · TriForce")
    command = add_to_bibliography_command("file:///a.tex", [PAPER.key], "refs.bib")
    indexed = render_item(None, Candidate(PAPER, 1.0), 2, site, edit_range, command, {"key": PAPER.key})
    assert indexed.command == command and command.title == "Add sun2024triforce to refs.bib"
    assert command.arguments == ["file:///a.tex", ["sun2024triforce"]]
    assert indexed.data == {"key": "sun2024triforce"}


def test_merge_offers_a_paper_once_under_the_bibliography_key() -> None:
    same_by_doi = PAPER.replace(key="my-triforce", abstract="", origin="refs.bib:3")
    other = Paper(key="other", title="Another Paper", abstract="words", origin="refs.bib:9")
    third = Paper(key="third", title="Third", abstract="x")
    hits = [Hit(PAPER, 5.0, 1), Hit(third, 2.0, 2)]
    local = {"my-triforce": (same_by_doi, "refs.bib"), "other": (other, "refs.bib")}
    identities = {identity: key for key, (paper, _) in local.items() for identity in identities_of(paper)}
    merged = merge_with_bibliography(hits, local, {"my-triforce": 4.0, "other": 3.0}, identities)
    assert [(c.paper.key, c.score, c.source) for c in merged] == [
        ("my-triforce", 5.0, "refs.bib"),
        ("other", 3.0, "refs.bib"),
        ("third", 2.0, ""),
    ]
    # The bibliography's entry lacked an abstract: the index's fills it in for the documentation.
    assert merged[0].paper.abstract == PAPER.abstract


def test_filter_text_stays_under_128_characters() -> None:
    site = CiteSite(LATEX, "cite", "x" * 200, 0, 0, 0, 0)
    item = render_item(
        types.MarkupContent(kind=types.MarkupKind.PlainText, value=""),
        Candidate(PAPER, 1),
        1,
        site,
        types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        None,
        None,
    )
    assert item.filter_text is not None and len(item.filter_text) <= 128


def test_hover_links_the_doi() -> None:
    value = render_hover(PAPER)
    assert value.startswith("**TriForce")
    assert "*2024 · COLM · `sun2024triforce`*" in value
    assert value.endswith("[doi:10.1/tri](https://doi.org/10.1/tri)")


def test_plain_text_for_clients_without_markdown() -> None:
    assert plain_text("**Title**\n\nA, B  \n*COLM, 2024*\n\n[doi:1/x](https://doi.org/1/x) `k`") == (
        "Title\n\nA, B\nCOLM, 2024\n\ndoi:1/x <https://doi.org/1/x> k"
    )


def test_label_details_put_the_year_first_then_the_bibliography_and_the_title() -> None:
    assert render_label_details(Candidate(PAPER, 1.0, "refs.bib")) == types.CompletionItemLabelDetails(
        description="2024 · in refs.bib · TriForce: Lossless Acceleration of Long Sequence Generation…",
    )
    undated = Candidate(PAPER.replace(year=None), 1.0)
    assert (
        render_label_details(undated).description
        == "TriForce: Lossless Acceleration of Long Sequence Generation…"
    )
