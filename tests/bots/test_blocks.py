"""Block Kit builders: checked with slack_sdk's models, limits asserted, text escaped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bots import blocks, values
from core.query import text_terms
from core.records import Paper
from core.search import Hit

EVIL = Paper(
    key="evil2024",
    title="Attention <!channel> & <https://phish.example|click here> is *all*",
    abstract="We show <!here> that <@U123> tricks & links <https://x.example> fail. " * 60,
    authors=("Mallory, M.",),
    year=2024,
    doi="10.1/evil",
)


def validate(message: list[dict[str, Any]]) -> None:
    """slack_sdk's own checks, plus the limits that hold by construction."""
    assert 0 < len(message) <= blocks.MAX_BLOCKS
    for raw in message:
        parsed = Block.parse(raw)
        assert parsed is not None, raw
        parsed.validate_json()
        if raw["type"] == "section":
            assert len(raw["text"]["text"]) <= blocks.MAX_SECTION_TEXT
        for element in raw.get("elements", []):
            if element.get("type") == "button":
                assert len(element["value"]) <= values.MAX_BUTTON_VALUE


def hits(count: int) -> list[Hit]:
    return [Hit(EVIL.replace(key=f"evil{n}"), 10.0 - n, n + 1) for n in range(count)]


def test_results_are_valid_and_escaped() -> None:
    terms = text_terms("attention links tricks")
    message = blocks.results_message(hits(5), terms, "attention <!channel>", 0, has_more=True)
    validate(message)
    # What Slack renders: section and context text (button values are data, never shown).
    text = json.dumps(
        [b.get("text") or b.get("elements") for b in message if b["type"] in {"section", "context"}]
    )
    assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt;" in text
    assert "<https://phish.example|" not in text
    first = message[1]["text"]["text"]
    assert first.startswith("*<https://doi.org/10.1/evil|Attention &lt;!channel&gt; &amp;")
    assert "*tricks*" in first and "*links*" in first
    assert message[-1]["elements"][0]["action_id"] == "next_page"


def test_a_page_never_exceeds_the_limits_even_for_a_huge_query() -> None:
    huge = "word" * 2500
    terms = {f"term{n}": float(n) for n in range(400)}
    message = blocks.results_message(hits(5), terms, huge, 5, has_more=True)
    validate(message)
    assert "Papers 6–10" in message[0]["elements"][0]["text"]


def test_button_values_drop_weak_terms_to_fit() -> None:
    terms = {f"t{n:04d}": float(n) for n in range(600)}
    encoded = values.encode_value({"k": "x", "t": terms})
    assert len(encoded) <= values.MAX_BUTTON_VALUE
    value = json.loads(encoded)
    assert "t0599" in value["t"] and "t0000" not in value["t"]


def test_whole_abstract_spans_sections() -> None:
    long = EVIL.replace(abstract="Lorem ipsum dolor sit amet. " * 400)
    message = blocks.paper_message(long)
    validate(message)
    assert len([b for b in message if b["type"] == "section"]) >= 4


def test_bibtex_shared_stats_usage_and_empty() -> None:
    validate(blocks.bibtex_message(EVIL))
    assert blocks.bibtex_message(EVIL)[0]["text"]["text"].startswith("```@article{evil2024,")
    shared = blocks.shared_message(hits(1)[0], {}, "U42")
    validate(shared)
    assert shared[-1]["elements"][0]["text"] == "Shared by <@U42> with /paper"
    validate(
        blocks.stats_message(
            {"papers": 179, "with_abstract": 179, "with_doi": 0, "with_arxiv_id": 0, "years": None}
        )
    )
    validate(blocks.usage_message())
    empty = blocks.results_message([], {}, "<b>nothing</b>", 0, has_more=False)
    validate(empty)
    assert "&lt;b&gt;nothing&lt;/b&gt;" in empty[0]["text"]["text"]


def test_the_add_modal_is_a_valid_view() -> None:
    modal = blocks.add_paper_modal('{"channel": "C1"}')
    View(**modal).validate_json()
    assert [b["block_id"] for b in modal["blocks"]] == list(blocks.ADD_FIELDS)


@pytest.mark.parametrize(
    ("link", "linked"),
    [("https://doi.org/10.1/x", True), ("https://a.example/x|y", False), ("", False)],
)
def test_title_links_only_safe_urls(link: str, linked: bool) -> None:
    paper = Paper(key="k", title="T", url=link.replace("https://doi.org/", "") if False else link)
    assert blocks.title_link(paper).startswith("*<") is linked


@pytest.mark.parametrize(
    ("user", "shown"), [("U42", "<@U42>"), ("W0ENT1", "<@W0ENT1>"), ("U1><!channel", "someone")]
)
def test_the_sharer_is_named_only_by_a_real_user_id(user: str, shown: str) -> None:
    shared = blocks.shared_message(hits(1)[0], {}, user)
    assert shared[-1]["elements"][0]["text"] == f"Shared by {shown} with /paper"


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://x.example/a", True),
        ("javascript:alert(1)", False),
        ("https://x.example/&lt;!channel&gt;", False),
        ("https://x.example/a b", False),
    ],
)
def test_only_plain_web_addresses_are_linked(url: str, linked: bool) -> None:
    assert blocks.title_link(Paper(key="k", title="T", url=url)).startswith("*<") is linked


def test_bidirectional_overrides_in_a_title_do_not_reach_the_channel() -> None:
    """A title with an unclosed right-to-left override (U+202E) showed the rest of its line reversed
    in the channel: the key after it, or a file name spoofed as 'gnp.exe'."""
    spoof = Paper(
        key="spoof2024", title="Holiday photos \u202egnp.exe", abstract="An \u2067isolate\u2069 here."
    )
    hit, terms = Hit(spoof, 1.0, 1), text_terms("photos")
    rendered = json.dumps(
        [
            blocks.results_message([hit], terms, "photos", 0, has_more=False),
            blocks.shared_message(hit, terms, "U123"),
            blocks.paper_message(spoof),
        ]
    )
    assert "\\u202e" not in rendered and "\\u2067" not in rendered and "\\u2069" not in rendered
    assert "Holiday photos gnp.exe" in rendered
    # Joiners and marks that scripts and emoji need stay.
    assert blocks.escape("\u0645\u200c\u06cc \U0001f469\u200d\U0001f52c \u200f") == (
        "\u0645\u200c\u06cc \U0001f469\u200d\U0001f52c \u200f"
    )
