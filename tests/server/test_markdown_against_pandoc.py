"""Generated Markdown, its keys checked live against pandoc's own reading (`pandoc -t json`).

Needs pandoc on PATH (.ci/run installs Debian's); the committed corpus test covers the same rules
without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.citations import markdown_citations
from server.syntax import QUARTO_CROSSREF

pytestmark = pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")

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


def pandoc_keys(text: str) -> Counter[str]:
    result = subprocess.run(
        ["pandoc", "-f", "markdown", "-t", "json"], input=text, capture_output=True, text=True, check=True
    )
    found: Counter[str] = Counter()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Cite":
                found.update(c["citationId"] for c in node["c"][0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(result.stdout))
    return Counter({k: n for k, n in found.items() if not QUARTO_CROSSREF.match(k)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(blocks, min_size=1, max_size=6))
def test_generated_markdown_reads_as_pandoc_reads_it(parts: list[str]) -> None:
    text = "\n\n".join(parts) + "\n"
    assert Counter(c.key for c in markdown_citations(text)) == pandoc_keys(text), text
