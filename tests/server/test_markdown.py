"""Paper data in hover and completion documentation is text: a CommonMark renderer with GFM's
autolinks (markdown-it, as editors use) finds no HTML, image or link in it but the one we build."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from core.records import Paper
from core.text import query_terms
from server import markdown
from server.completion import render_documentation
from server.hover import render_hover

RENDERER = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "strikethrough", "table"])
TEXT_TOKENS = {"text", "softbreak", "hardbreak", "code_inline"}
MARKS = {"strong_open", "strong_close", "em_open", "em_close", "paragraph_open", "paragraph_close", "inline"}

HOSTILE = Paper(
    key="evil`key",
    title="<img src=x onerror=alert(1)> ![t](https://evil.example/t.png) **T**",
    abstract=(
        "See [this](command:workbench.action.terminal.new) and [that](javascript:alert(1)). "
        "<script>alert(1)</script> ![pixel](https://evil.example/p.png) &lt;b&gt; www.evil.example "
        "https://evil.example/raw mail@evil.example\n\n# Heading\n\n    indented code\n- a list"
    ),
    authors=("[Mallory](https://evil.example)", "<b>Eve</b>"),
    venue="_Venue_ | x",
    year=2024,
    doi="10.1234/abc)](https://evil.example/x",
)

# Pieces of markup a record might carry, mixed with ordinary characters.
PIECES = st.sampled_from(
    [
        *"\\`*_[]<>()!&~|{}$#@:./-+=1aZ \n\t",
        *("http://", "https://x.example", "www.", "mailto:", "&amp;", "&#x41;", "<img src=x>"),
        *("javascript:", "](", "![", "<!--", "\u00e9", "10.1234/"),
    ]
)
HOSTILE_TEXT = st.lists(PIECES, max_size=24).map("".join)


def tokens(value: str) -> list[Token]:
    found: list[Token] = []
    for token in RENDERER.parse(value):
        found.append(token)
        found.extend(token.children or [])
    return found


def links(value: str) -> list[str]:
    return [str(t.attrs["href"]) for t in tokens(value) if t.type == "link_open"]


def markup_kinds(value: str) -> set[str]:
    """Every kind of node but text and the emphasis and paragraphs we write ourselves."""
    return {t.type for t in tokens(value)} - TEXT_TOKENS - MARKS - {"link_open", "link_close"}


def shown_text(value: str) -> str:
    return "".join(t.content for t in tokens(value) if t.type in ("text", "code_inline"))


def test_a_hostile_paper_renders_as_text_with_only_our_doi_link() -> None:
    for value in (render_hover(HOSTILE), render_documentation(HOSTILE, query_terms("alert"))):
        assert markup_kinds(value) == set()
        assert {urlsplit(href).hostname for href in links(value)} <= {"doi.org"}
    hover = render_hover(HOSTILE)
    assert links(hover) == ["https://doi.org/10.1234/abc%29%5D%28https%3A//evil.example/x"]
    shown = shown_text(hover)
    assert "<img src=x onerror=alert(1)>" in shown and "[this](command:workbench" in shown
    assert "evil`key" in shown and "# Heading" in shown


def test_a_doi_that_is_not_one_gets_no_link() -> None:
    for doi in ("javascript:alert(1)", "10.1234", "see 10.1234/x", "10.x/y"):
        assert markdown.doi_address(doi) is None
    assert links(render_hover(Paper(key="k", title="T", doi="javascript:alert(1)"))) == []


def test_only_http_addresses_become_links() -> None:
    for url in ("javascript:alert(1)", "command:x", "data:text/html,x", "file:///etc/passwd", "https://", ""):
        assert markdown.web_address(url) is None
        assert links(render_hover(Paper(key="k", title="T", url=url))) == []
    address = markdown.web_address("https://example.org/a b)<x>")
    assert address is None  # a space is not part of any address
    assert links(render_hover(Paper(key="k", title="T", url="https://example.org/a)](x"))) == [
        "https://example.org/a%29%5D%28x"
    ]


@settings(max_examples=400, deadline=None)
@given(HOSTILE_TEXT)
def test_escaped_text_renders_as_itself(text: str) -> None:
    value = markdown.escape(text)
    assert markup_kinds(value) == set() and links(value) == []
    assert shown_text(value) == " ".join(text.split())
    assert markdown.plain_text(value) == " ".join(text.split())


@settings(max_examples=200, deadline=None)
@given(
    title=HOSTILE_TEXT,
    abstract=HOSTILE_TEXT,
    author=HOSTILE_TEXT,
    venue=HOSTILE_TEXT,
    key=HOSTILE_TEXT,
    doi=HOSTILE_TEXT,
    url=HOSTILE_TEXT,
)
def test_any_record_gives_at_most_one_link_and_it_is_ours(
    title: str, abstract: str, author: str, venue: str, key: str, doi: str, url: str
) -> None:
    paper = Paper(
        key=key or "k", title=title, abstract=abstract, authors=(author,), venue=venue, doi=doi, url=url
    )
    for value in (render_hover(paper), render_documentation(paper, query_terms(abstract or "x"))):
        assert markup_kinds(value) == set()
        found = links(value)
        assert len(found) <= 1
        for href in found:
            parts = urlsplit(href)
            assert parts.scheme in ("http", "https") and parts.hostname
            assert href in (markdown.doi_address(doi), markdown.web_address(url))


def test_web_addresses_name_a_plain_host() -> None:
    assert markdown.web_address("https://arxiv.org/abs/2404.11912") == "https://arxiv.org/abs/2404.11912"
    # A user part hides the real host; an empty one is dropped by renderers (found by the property test).
    for url in (
        "https://trusted.example@evil.example/",
        "http://@`",
        "http://%60/",
        "http://x.example:99999/",
    ):
        assert markdown.web_address(url) is None, url
