from __future__ import annotations

from core.keys import base_key, clashing_keys, clean_source_key, short_name, suffixes, unique_key
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


def key_a_batch(wanted: list[str], stored: set[str]) -> tuple[list[str], int]:
    """The keys a batch gets, and how many prefix scans finding the clashes took."""
    scans = 0

    def with_prefix(prefix: str) -> set[str]:
        nonlocal scans
        scans += 1
        return {key for key in stored if key.startswith(prefix)}

    taken = clashing_keys(wanted, lambda keys: stored & set(keys), with_prefix)
    given = []
    for base in wanted:
        given.append(unique_key(base, taken.__contains__))
        taken.add(given[-1])
    return given, scans


def test_a_batch_never_reuses_a_stored_key() -> None:
    # The bare name is free but its first suffix is stored (a source key, or a removed paper).
    assert key_a_batch(["lee2021graph", "lee2021graph"], {"lee2021grapha"}) == (
        ["lee2021graph", "lee2021graphb"],
        1,
    )
    assert key_a_batch(["kim2020deep", "new"], {"kim2020deep", "kim2020deepa"}) == (
        ["kim2020deepb", "new"],
        1,
    )
    # A name wanted once and free needs no scan, whatever keys it begins.
    assert key_a_batch(["chen2019graph"], {"chen2019grapha"}) == (["chen2019graph"], 0)
    # A crowded name is looked up in full, once for the whole batch.
    crowded = {"wang2023large" + suffix for _, suffix in zip(range(40), suffixes(), strict=False)}
    given, scans = key_a_batch(["wang2023large"] * 3, crowded)
    assert given == ["wang2023largean", "wang2023largeao", "wang2023largeap"] and scans == 1
    assert not set(given) & crowded


def test_source_keys_are_made_safe_to_type() -> None:
    assert clean_source_key(" 10.1145/1988688.1988690 ") == "10.1145/1988688.1988690"
    assert clean_source_key("bad key{with}braces") == "badkeywithbraces"
