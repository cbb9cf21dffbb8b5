from __future__ import annotations

from core.keys import base_key, clean_source_key, short_name, suffixes, unique_key
from core.records import Paper


def paper(title: str, **fields: object) -> Paper:
    return Paper(key="", title=title, **fields)  # type: ignore[arg-type]


def test_author_year_word() -> None:
    acm = paper("ACM-CR: A Manually Annotated Test Collection", authors=("Boudin, Florian",), year=2021)
    assert base_key(acm) == "boudin2021acm"
    assert (
        base_key(paper("The Art of Computer Programming", authors=("Donald Knuth",), year=1968))
        == "knuth1968art"
    )
    assert base_key(paper("Über Graphen", authors=("Müller, Jérôme",), year=2019)) == "muller2019uber"


def test_short_names_without_author_or_year() -> None:
    assert base_key(paper("TriForce: Lossless Acceleration of Long Sequence Generation")) == "triforce"
    assert base_key(paper("Lookahead: An Inference Acceleration Framework")) == "lookahead"
    assert base_key(paper("RELAY", title_derived=True)) == "relay"
    assert short_name(paper("Pointer Networks")) == "pointernetworks"
    assert len(short_name(paper("Absorbing Discrete Diffusion Secretly Models Conditional Data"))) <= 28


def test_clashes_get_letter_suffixes() -> None:
    taken = {"smith2020deep", "smith2020deepa"}
    assert unique_key("smith2020deep", taken.__contains__) == "smith2020deepb"
    assert unique_key("fresh", taken.__contains__) == "fresh"
    first = list(zip(range(29), suffixes(), strict=False))
    assert [s for _, s in first][:3] == ["", "a", "b"] and first[27][1] == "aa"


def test_source_keys_are_made_safe_to_type() -> None:
    assert clean_source_key(" 10.1145/1988688.1988690 ") == "10.1145/1988688.1988690"
    assert clean_source_key("bad key{with}braces") == "badkeywithbraces"
