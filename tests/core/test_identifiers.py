"""Identifiers as people write them, in arguments and in running text."""

from __future__ import annotations

import itertools

import pytest

from core.identifiers import InvalidIdentifier, find_identifiers, parse_identifier, split_arxiv_doi


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("10.1145/3404835.3463238", "doi", "10.1145/3404835.3463238"),
        ("doi:10.1145/3404835.3463238", "doi", "10.1145/3404835.3463238"),
        ("DOI: 10.1145/3404835.3463238", "doi", "10.1145/3404835.3463238"),
        ("https://doi.org/10.1145/3404835.3463238", "doi", "10.1145/3404835.3463238"),
        ("http://dx.doi.org/10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0", "doi",
         "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-0"),
        ("https://doi.org/10.48550/arXiv.2404.11912", "arxiv", "2404.11912"),
        ("arXiv:2404.11912", "arxiv", "2404.11912"),
        ("arxiv:2404.11912v3", "arxiv", "2404.11912"),
        ("2404.11912", "arxiv", "2404.11912"),
        ("2404.11912v2", "arxiv", "2404.11912"),
        ("0704.0001", "arxiv", "0704.0001"),
        ("https://arxiv.org/abs/2404.11912v2", "arxiv", "2404.11912"),
        ("https://arxiv.org/pdf/2404.11912", "arxiv", "2404.11912"),
        ("https://arxiv.org/pdf/2404.11912v1.pdf", "arxiv", "2404.11912"),
        ("https://arxiv.org/html/2404.11912v1", "arxiv", "2404.11912"),
        ("http://export.arxiv.org/abs/hep-th/9901001v2", "arxiv", "hep-th/9901001"),
        ("hep-th/9901001", "arxiv", "hep-th/9901001"),
        ("math.GT/0309136", "arxiv", "math.GT/0309136"),
        ("arXiv:cond-mat/0102536v1", "arxiv", "cond-mat/0102536"),
        ("W2741809807", "openalex", "W2741809807"),
        ("https://openalex.org/W2741809807", "openalex", "W2741809807"),
        ("https://api.openalex.org/works/w2741809807", "openalex", "W2741809807"),
        ("openalex:W2741809807", "openalex", "W2741809807"),
    ],
)  # fmt: skip
def test_an_argument_names_one_paper(text: str, kind: str, value: str) -> None:
    identifier = parse_identifier(text)
    assert (identifier.kind, identifier.value) == (kind, value)


@pytest.mark.parametrize("text", ["", "hello", "10.1145", "arXiv:", "1234", "W12", "https://example.org/x"])
def test_anything_else_is_named_in_the_error(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match="is not a DOI, an arXiv id"):
        parse_identifier(text)


def test_running_text_yields_each_link_once_with_its_span() -> None:
    text = (
        "See https://arxiv.org/abs/2404.11912v2 (and arXiv:2404.11912 again), "
        "doi:10.1145/3404835.3463238. Also https://doi.org/10.1000/xyz123; the version 2404.1 is not one."
    )
    found = find_identifiers(text)
    assert [(f.identifier.kind, f.identifier.value) for f in found] == [
        ("arxiv", "2404.11912"),
        ("doi", "10.1145/3404835.3463238"),
        ("doi", "10.1000/xyz123"),
    ]
    assert text[found[0].start : found[0].end] == "https://arxiv.org/abs/2404.11912v2"
    # The sentence's full stop and semicolon are not part of the DOIs.
    assert text[found[1].start : found[1].end] == "doi:10.1145/3404835.3463238"
    assert text[found[2].start : found[2].end] == "https://doi.org/10.1000/xyz123"


def test_bare_numbers_in_prose_are_not_arxiv_ids() -> None:
    assert find_identifiers("We ran 2404.11912 steps in version 1.2") == []


def test_slack_wraps_links_in_angle_brackets() -> None:
    found = find_identifiers("<https://arxiv.org/abs/2404.11912|arxiv.org/abs/2404.11912> nice")
    assert [f.identifier.value for f in found] == ["2404.11912"]


def test_arxiv_dois_are_arxiv_ids() -> None:
    assert split_arxiv_doi("10.48550/arXiv.2404.11912") == ("", "2404.11912")
    assert split_arxiv_doi("10.1145/ABC") == ("10.1145/abc", "")
    assert split_arxiv_doi("") == ("", "")


def test_a_message_of_thousands_of_links_finds_each_once_in_order() -> None:
    """Each link claims its characters, so the DOI inside a doi.org link or an arXiv link is not
    found a second time, over a 40,000-character message as over a short one."""
    links = [f"https://doi.org/10.1234/{n} https://arxiv.org/abs/2404.{n:05d}v2" for n in range(700)]
    found = find_identifiers(" ".join(links))
    assert [f.identifier.value for f in found] == [
        value for n in range(700) for value in (f"10.1234/{n}", f"2404.{n:05d}")
    ]
    assert all(earlier.end <= later.start for earlier, later in itertools.pairwise(found))
