"""Generated Markdown, its keys checked live against pandoc's own reading (`pandoc -t json`).

Needs pandoc on PATH (./run-tests installs Debian's; see tests/system.py); the committed corpus test
covers the same rules without it.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.documents.citations import markdown_citations
from tests.data.citations.regenerate import markdown_keys, pandoc_keys
from tests.system import program


@pytest.fixture(scope="module", autouse=True)
def pandoc() -> str:
    return program("pandoc", "pandoc")


words = st.sampled_from(
    ["the", "model", "Results", "see", "p. 33", "and", "e.g.", "(", ")", ",", ";", "-", "."]
)
keys = st.from_regex(r"[a-z][a-z0-9]{0,5}(?:[:./-][a-z0-9]{1,4})?", fullmatch=True)
citations = st.one_of(
    keys.map(lambda k: f"@{k}"),
    keys.map(lambda k: f"[@{k}]"),
    st.tuples(keys, keys).map(lambda ks: f"[see @{ks[0]}, p. 3; -@{ks[1]}]"),
    keys.map(lambda k: f"@{{{k}}}"),
    keys.map(lambda k: f"({k}@example.org)"),  # an e-mail address
    keys.map(lambda k: f"`@{k}`"),  # a code span
    keys.map(lambda k: f"``a ` @{k}``"),
    keys.map(lambda k: f"\\@{k}"),  # an escaped @
    keys.map(lambda k: f"[a link](https://example.org/@{k})"),
    keys.map(lambda k: f"<https://example.org/@{k}>"),
    keys.map(lambda k: f"$x @{k}$"),
    keys.map(lambda k: f"*@{k}*"),
    keys.map(lambda k: f"@{k}."),
)
blocks = st.one_of(
    st.lists(st.one_of(words, citations), min_size=1, max_size=12).map(" ".join),
    keys.map(lambda k: f"```\n@{k}\n```"),
    keys.map(lambda k: f"````\n```\n@{k}\n````"),
    keys.map(lambda k: f"    @{k} in indented code"),
    keys.map(lambda k: f"- item [@{k}]\n\n      @{k}x in the item's code"),
    keys.map(lambda k: f"> quoted [@{k}]"),
    keys.map(lambda k: f"<!-- @{k} -->"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(blocks, min_size=1, max_size=6))
def test_generated_markdown_reads_as_pandoc_reads_it(parts: list[str]) -> None:
    text = "\n\n".join(parts) + "\n"
    assert Counter(c.key for c in markdown_citations(text)) == Counter(pandoc_keys(text)), text


# A target the document defines, and a reference to it (as `{k}` in both).
TARGETS = [
    "## A heading {{#{k}}}",
    "({k})=\n## A heading",
    "A [marked phrase]{{#{k}}} in prose.",
    "![A figure](plot.png){{#{k} width=50%}}",
    "$$ x^2 $$ {{#{k}}}",
    "```{{math}}\n:label: {k}\nx^2\n```",
    ":::{{figure}}\n:label: {k}\n\n![a](a.png)\n![b](b.png)\n:::",
    "```{{figure}} plot.png\n---\nname: {k}\nwidth: 50%\n---\nA caption.\n```",
    "```{{math}}\n---\nlabel: {k}\n---\nx^2\n```",
]
REFERENCES = ["see @{k}", "as [@{k}; @other] shows", "subfigure @{k}-b", "[@{k}](https://example.org/{k})"]
labels = st.sampled_from(["intro", "fig:plot", "eq-one", "res", "sec:a"])
cross_references = st.tuples(st.sampled_from(TARGETS), st.sampled_from(REFERENCES), labels).map(
    lambda t: t[0].format(k=t[2]) + "\n\n" + t[1].format(k=t[2])
)
links = st.one_of(
    labels.map(lambda k: f"[@{k}](https://example.org/{k})"),
    keys.map(lambda k: f"https://hackmd.io/@{k}/B1OnVLe-3"),
    keys.map(lambda k: f"https://example.org,@{k}"),
    keys.map(lambda k: f"[https://hackmd.io/@{k}]"),
    keys.map(lambda k: f"[@{k}, V.9] and\n\n[@{k}, V.9]: https://example.org/v9"),
    # definitions in a row; a label matches whatever its case and spacing
    keys.map(
        lambda k: f"[@{k.upper()},\nv.9]\n\n[ref]: https://example.org\n[@{k}, V.9]: https://example.org/v9"
    ),
    keys.map(lambda k: f"[the notes of @{k}](https://example.org) and ![a figure after @{k}](plot.png)"),
    # prose, not definitions: more than a destination and a title after the `:`
    keys.map(lambda k: f'- [@{k}]: proposes a variant\n- [@{k}, V.9]: https://example.org "Title" x'),
    keys.map(lambda k: f"[@{k}, V.9]: https://example.org/v9 'Title'\n\nAs [@{k}, V.9] shows"),
    # a definition labelled `[@k]`: `@k` itself still cites, `@k [@k]` (one Cite to pandoc) too
    keys.map(lambda k: f"[@{k}]: https://example.org/{k}\n\nAs @{k} [@{k}] and [@{k}] show"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(cross_references, links, blocks), min_size=1, max_size=6), st.booleans())
def test_cross_references_and_links_read_as_pandoc_and_myst_read_them(parts: list[str], myst: bool) -> None:
    # With a MyST role in it, the document is MyST (its directive fences are MyST's to read); links
    # and bare URLs are read as links either way.
    text = "\n\n".join([*parts, "A role {cite}`role`." if myst else "No role."]) + "\n"
    assert Counter(c.key for c in markdown_citations(text)) == Counter(markdown_keys(text)), text
