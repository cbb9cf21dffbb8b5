"""Every relative link and anchor in README.md and docs/*.md leads somewhere: the README sends a
newcomer into docs/, and a page moved or a heading renamed must not leave a dead link behind."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _inline_text(token: Token) -> str:
    """A heading's text as GitHub reads it for its anchor: words and code, without the markup."""
    return "".join(child.content for child in token.children or [] if child.type in ("text", "code_inline"))


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation but `-` and `_` dropped,
    spaces made `-`, and `-1`, `-2`, … after a repeated one."""
    found: set[str] = set()
    tokens = MarkdownIt().parse(text)
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open":
            continue
        slug = re.sub(r"[^\w\- ]", "", _inline_text(inline).strip().lower()).replace(" ", "-")
        anchor, count = slug, 0
        while anchor in found:
            count += 1
            anchor = f"{slug}-{count}"
        found.add(anchor)
    return found


def relative_links(text: str) -> Iterator[str]:
    """Every link and image target that is not a full URL (code spans and blocks hold none)."""
    for token in MarkdownIt().parse(text):
        for child in token.children or []:
            target = child.attrs.get("href" if child.type == "link_open" else "src")
            if (
                child.type in ("link_open", "image")
                and isinstance(target, str)
                and not urlsplit(target).scheme
            ):
                yield target


def broken_links(page: Path) -> list[str]:
    """`page`'s relative links that name a missing file or a heading its page lacks."""
    broken = []
    for link in relative_links(page.read_text(encoding="utf-8")):
        parts = urlsplit(link)
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.exists():
            broken.append(f"{link}: no {target.relative_to(REPO) if target.is_relative_to(REPO) else target}")
        elif (
            parts.fragment
            and target.suffix == ".md"
            and unquote(parts.fragment) not in anchors(target.read_text(encoding="utf-8"))
        ):
            broken.append(f"{link}: {target.name} has no heading #{parts.fragment}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(REPO)) for page in PAGES])
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_readme_leads_to_every_docs_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = {(REPO / urlsplit(link).path).resolve() for link in relative_links(readme)}
    assert [page.name for page in PAGES[1:] if page.resolve() not in linked] == []


def test_anchors_are_githubs() -> None:
    text = "# The team server: `papercite serve`\n## Several processes: `--workers N`\n## Set up\n## Set up\n"
    assert anchors(text) == {
        "the-team-server-papercite-serve",
        "several-processes---workers-n",
        "set-up",
        "set-up-1",
    }


def test_a_missing_page_and_a_missing_heading_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n## Real heading\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n[fine](other.md#real-heading) [here](#page) [gone](missing.md) [no heading](other.md#nope)\n"
        "[self](#nowhere) `[in code](missing-too.md)` [web](https://example.org/x.md)\n"
    )
    assert broken_links(page) == [
        f"missing.md: no {tmp_path / 'missing.md'}",
        "other.md#nope: other.md has no heading #nope",
        "#nowhere: page.md has no heading #nowhere",
    ]


def test_the_files_the_architecture_page_names_exist() -> None:
    """Its diagrams name modules in plain text, which no link check sees; a module moved (as the
    document scanners moved from server/ to core/documents/) must move there too."""
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b((?:core|server|bots|api|tests)/[\w/]*\.py)\b", page))
    assert len(named) >= 10
    assert sorted(path for path in named if not (REPO / path).is_file()) == []
