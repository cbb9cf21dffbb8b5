"""Identifiers in Slack's message markup: links with and without labels, escapes, mentions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.commands import Request, parse_request
from bots.links import identifiers_in_command, identifiers_in_message, plain_text


def test_links_as_slack_sends_them() -> None:
    text = (
        "Worth a read <https://arxiv.org/abs/2404.11912v3|arxiv.org/abs/2404.11912v3> and also "
        "<https://doi.org/10.1145/3404835.3463238> — cc <@U0ADA> <!here> in <#C0PAPERS|papers>"
    )
    assert identifiers_in_message(text) == [
        "https://arxiv.org/abs/2404.11912v3",
        "https://doi.org/10.1145/3404835.3463238",
    ]


def test_a_label_is_not_read_twice_and_the_same_paper_counts_once() -> None:
    text = "<https://arxiv.org/pdf/2404.11912|arXiv:2404.11912> again: https://arxiv.org/abs/2404.11912v2"
    assert identifiers_in_message(text) == ["https://arxiv.org/pdf/2404.11912"]


def test_plain_dois_and_escaped_text() -> None:
    assert identifiers_in_message("see doi:10.1000/no-abstract &amp; more") == ["doi:10.1000/no-abstract"]
    plain = plain_text("a &lt;b&gt; &amp; <@U1> <https://x.example/a?b=1&amp;c=2|x>")
    assert plain.split() == ["a", "<b>", "&", "https://x.example/a?b=1&c=2"]


@pytest.mark.parametrize(
    "text",
    [
        "no links here",
        "<https://example.com/paper.pdf>",
        "2404.11912 is a bare number",
        "<@U1> <!channel>",
        "",
    ],
)
def test_messages_without_papers(text: str) -> None:
    assert identifiers_in_message(text) == []


def test_a_long_list_is_cut() -> None:
    text = " ".join(f"arXiv:2404.{n:05d}" for n in range(30))
    assert len(identifiers_in_message(text)) == 10


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("add 10.1145/3404835.3463238", Request("add", "10.1145/3404835.3463238")),
        (
            "add <https://arxiv.org/abs/2404.11912|arxiv.org/abs/2404.11912>",
            Request("add", "<https://arxiv.org/abs/2404.11912|arxiv.org/abs/2404.11912>"),
        ),
        ("add arXiv:2404.11912 W3000000002", Request("add", "arXiv:2404.11912 W3000000002")),
        (
            "add noise to diffusion 10.1145/3404835.3463238",
            Request("search", "add noise to diffusion 10.1145/3404835.3463238"),
        ),
        ("links", Request("links", "")),
        ("links OFF", Request("links", "off")),
        ("links on", Request("links", "on")),
        ("links between memory and attention", Request("search", "links between memory and attention")),
    ],
)
def test_add_by_identifier_and_links_commands(text: str, request_: Request) -> None:
    assert parse_request(text) == request_


def test_identifiers_in_command() -> None:
    assert identifiers_in_command("<https://doi.org/10.1145/3404835.3463238> 2404.11912") == [
        "https://doi.org/10.1145/3404835.3463238",
        "2404.11912",
    ]
    assert identifiers_in_command("noise") is None and identifiers_in_command("") is None


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(max_size=300)
    | st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "|",
                "&amp;",
                "&lt;",
                "<@U1>",
                "<!here>",
                "https://",
                "arxiv.org/abs/",
                "doi.org/",
                "10.1145/",
                "2404.11912",
                "v3",
                " ",
                "arXiv:",
                "hep-th/9901001",
                "W3000000002",
                ")",
                "(",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_fuzz_messages_give_identifiers_or_nothing(text: str) -> None:
    found = identifiers_in_message(text)
    assert len(found) <= 10 and all(isinstance(item, str) and item for item in found)
    command = identifiers_in_command(text)
    assert command is None or (command and len(command) <= 10)


def test_a_posted_link_is_only_ever_an_identifier_never_an_address_to_fetch() -> None:
    """Links people post lead to lookups at the configured services by identifier; one whose DOI
    would climb out of the service's /works/ is no identifier at all."""
    text = "<https://doi.org/10.1234/../../admin> and <http://127.0.0.1:8080/internal|a link> and <https://arxiv.org/abs/2404.11912v2>"
    assert identifiers_in_message(text) == ["https://arxiv.org/abs/2404.11912v2"]
