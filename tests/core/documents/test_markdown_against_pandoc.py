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
from tests.data.citations.regenerate import pandoc_keys
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
