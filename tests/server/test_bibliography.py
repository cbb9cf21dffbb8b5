"""Finding a document's bibliography and reading it: pure functions over text and files."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.documents.declared import MAX_NAMED, declared_in
from core.documents.syntax import LATEX, MARKDOWN
from server.bibliography import (
    READ_AT_ONCE_BYTES,
    BibliographyCache,
    DocumentBibliography,
    ReadingAbandoned,
    read_bib_file,
    resolve,
)
from server.completion import prefix_matches


def test_latex_names_files_where_it_names_them_and_defines_bibitems() -> None:
    text = (
        "\\addbibresource[label=x]{lib.bib}\n\\bibliography{refs, more}\n"
        "\\begin{thebibliography}{9}\n\\bibitem[Ada(1843)]{ada1843} A. Lovelace. \\emph{Notes}. 1843.\n"
        "\\bibitem{babbage}C. Babbage.\n\\end{thebibliography}\n"
    )
    declared = declared_in(text, LATEX)
    assert [(n.name, text[n.start : n.end], n.bibtex_default) for n in declared.named] == [
        ("lib.bib", "lib.bib", False),
        ("refs", "refs", True),
        ("more", "more", True),
    ]
    assert [(e.key, text[e.start : e.end]) for e in declared.inline] == [
        ("ada1843", "ada1843"),
        ("babbage", "babbage"),
    ]
    assert declared.inline[0].paper.title == "A. Lovelace. Notes. 1843."


def test_markdown_front_matter_string_list_and_inline_references() -> None:
    one = "---\ntitle: T\nbibliography: 'refs.bib'\n---\nText.\n"
    assert [n.name for n in declared_in(one, MARKDOWN).named] == ["refs.bib"]
    flow = '---\nbibliography: [a.bib, "b.json"]\n---\n'
    named = declared_in(flow, MARKDOWN).named
    assert [(n.name, flow[n.start : n.end]) for n in named] == [("a.bib", "a.bib"), ("b.json", "b.json")]
    block = (
        "---\nbibliography:\n  - a.bib\n  - b.json\nreferences:\n- id: first\n  author:\n    - family: Doe\n"
        "  title: First Work\n"
        "- type: book\n  id: 'second'\nlink-citations: true\n---\n"
    )
    declared = declared_in(block, MARKDOWN)
    assert [n.name for n in declared.named] == ["a.bib", "b.json"]
    assert [(e.key, e.paper.title, block[e.start : e.end]) for e in declared.inline] == [
        ("first", "First Work", "first"),
        ("second", "second", "second"),
    ]
    assert declared_in("No front matter.\nbibliography: x.bib\n", MARKDOWN).named == ()


def test_files_are_found_beside_the_document_then_in_the_root(tmp_path: Path) -> None:
    document, root = tmp_path / "chapters", tmp_path
    document.mkdir()
    (root / "refs.bib").write_text("")
    (document / "local.bib").write_text("")
    named = {
        n.name: n for n in declared_in("\\bibliography{refs,local,gone}\\addbibresource{local}", LATEX).named
    }
    assert resolve(named["refs"], [document, root]).path == root / "refs.bib"
    assert resolve(named["local"], [document, root]).path == document / "local.bib"
    gone = resolve(named["gone"], [document, root])
    assert not gone.exists and gone.path == document / "gone.bib" and gone.is_bibtex


def test_a_bib_file_keeps_its_good_entries_and_reports_the_broken_one(tmp_path: Path) -> None:
    text = "@article{a, title={A}}\n\n@article{b, title={Unclosed\n\n@misc{c, howpublished={no title}}\n@book{d, title={D}}\n"
    bib = read_bib_file(tmp_path / "refs.bib", text)
    assert sorted(bib.papers) == ["a", "d"]
    # Every key with a readable header is defined, at its line, even when its body is not readable.
    assert bib.lines == {"a": 0, "b": 2, "c": 4, "d": 5}
    assert [f.line for f in bib.failures] == [3, 5]
    assert bib.searchable.size == 2


def test_a_csl_json_file_defines_its_ids_at_their_lines(tmp_path: Path) -> None:
    text = '[\n  {"id": "x1", "title": "X"},\n  {\n    "id": "y2",\n    "title": "Y"\n  }\n]\n'
    bib = read_bib_file(tmp_path / "lib.json", text)
    assert sorted(bib.papers) == ["x1", "y2"]
    assert bib.lines == {"x1": 1, "y2": 2}
    broken = read_bib_file(tmp_path / "lib.json", '[{"id": "x1", "title": "X"}, {"id": ')
    assert broken.failures and "invalid JSON" in broken.failures[0].reason


def test_a_document_naming_thousands_of_bibliographies_is_held_to_the_first_hundred() -> None:
    # Each named file is looked for and watched: 20,000 of them stalled completion for 13 s.
    markdown = "---\nbibliography:\n" + "".join(f"  - refs{i}.bib\n" for i in range(5000)) + "---\n[@a]\n"
    latex = "\\bibliography{" + ",".join(f"refs{i}" for i in range(5000)) + "}\n"
    for text, language in ((markdown, MARKDOWN), (latex, LATEX)):
        named = declared_in(text, language).named
        assert len(named) == MAX_NAMED == 100
        assert [n.name for n in named[:2]] in (["refs0.bib", "refs1.bib"], ["refs0", "refs1"])


def test_a_bib_read_again_reuses_the_entries_whose_text_did_not_change(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    text = "".join(f"@article{{k{n},\n  title = {{Paper {n}}},\n  year = {{2020}}\n}}\n" for n in range(5))
    first = read_bib_file(path, text)
    edited = text.replace("{Paper 3}", "{Paper three}")
    inserted = "@misc{new,\n  title = {New}\n}\n" + edited
    again = read_bib_file(path, inserted, previous=first)
    assert again.papers == read_bib_file(path, inserted).papers  # the same as a reading from scratch
    assert again.papers["k0"] is not first.papers["k0"]  # moved by the insertion: its line changed
    assert again.papers["k0"].origin == f"{path}:4" and again.lines["k0"] == 3
    assert again.papers["k0"].abstract is first.papers["k0"].abstract  # not read again
    assert again.papers["k3"].title == "Paper three"
    # A file that needs the full parser (a macro) is read whole, and keeps no memo.
    macro = read_bib_file(path, '@string{v = "Venue"}\n' + text, previous=first)
    assert not macro.memo and sorted(macro.papers) == [f"k{n}" for n in range(5)]


def test_a_bib_read_again_finds_each_prefix_as_a_reading_from_scratch(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    entry = "@article{{{key},\n  title = {{{title}}},\n  author = {{{author}}}\n}}\n"
    papers = [(f"k{n}", f"Paper {n} on decoding", f"Writer, W{n}") for n in range(30)]
    text = "".join(entry.format(key=k, title=t, author=a) for k, t, a in papers)
    first = read_bib_file(path, text).prepare()
    # One title and one author changed, one entry gone, one new at the end.
    edited = text.replace("Paper 7 on decoding", "Speculative sampling").replace("Writer, W9", "Okafor, Ada")
    edited = edited.replace(entry.format(key="k12", title="Paper 12 on decoding", author="Writer, W12"), "")
    edited += entry.format(key="zz", title="Zebra crossings", author="Stripe, Zed")
    again = read_bib_file(path, edited, previous=first).prepare()
    fresh = read_bib_file(path, edited).prepare()
    assert again.earlier is None  # what could be reused was taken: the last reading is let go
    for prefix in ("pap", "deco", "spec", "sam", "writ", "okaf", "zeb", "stri", "k1", "k12", "zz", "w9"):
        assert list(again.keys_for_prefix(prefix)) == list(fresh.keys_for_prefix(prefix)), prefix
    assert list(again.keys_for_prefix("spec")) == ["k7"] and list(again.keys_for_prefix("okaf")) == ["k9"]
    assert "k7" not in again.keys_for_prefix("pap") and "k12" not in again.keys_for_prefix("k1")


def test_reading_reports_its_progress_by_entries(tmp_path: Path) -> None:
    text = "".join(f"@misc{{k{n}, title = {{T{n}}}}}\n" for n in range(4500))
    told: list[tuple[int, int]] = []
    read_bib_file(tmp_path / "refs.bib", text, progress=lambda done, total: told.append((done, total)))
    assert told == [(0, 4500), (2000, 4500), (4000, 4500), (4500, 4500)]


async def test_a_big_file_is_read_off_the_event_loop_and_answered_from_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    entry = "@article{{k{n},\n  title = {{Paper {n}}},\n  abstract = {{" + "words " * 100 + "}}\n}}\n"
    path.write_text("".join(entry.format(n=n) for n in range(READ_AT_ONCE_BYTES // 500)))
    landed: list[Path] = []
    cache = BibliographyCache(lambda path: None, landed.append)
    stand_in = cache.file(path)
    assert stand_in.reading and not stand_in.papers and cache.reading(path)
    assert cache.file(path) is stand_in or cache.file(path).reading  # one reading, not two
    read = await cache.read(path)
    assert not read.reading and len(read.papers) == READ_AT_ONCE_BYTES // 500 and landed == [path]
    assert cache.file(path) is read  # unchanged on disk: not read again
    # Changed: the last reading answers until the new one lands.
    with path.open("a") as out:
        out.write(entry.format(n="new"))
    assert cache.file(path) is read and cache.reading(path)
    again = await cache.read(path)
    assert "knew" in again.papers and again.papers["k1"].abstract is read.papers["k1"].abstract
    cache.close()


def test_a_small_file_is_read_at_once(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@misc{a, title = {A}}\n")
    cache = BibliographyCache(lambda path: None)
    assert sorted(cache.file(path).papers) == ["a"] and not cache.reading(path)


def test_the_entries_a_prefix_may_match_are_found_without_looking_at_every_one(tmp_path: Path) -> None:
    text = (
        "@article{boudin2021acm, title = {ACM-CR: Citation Recommendation}, author = {Boudin, Florian}}\n"
        '@article{Mueller-x, title = {Über Zitate}, author = {M{\\"u}ller, J{\\"o}rg and Zhao, Wei}}\n'
        "@article{zhao2020, title = {Dense Retrieval}, author = {Wei Zhao}}\n"
        "@article{kv-cache, title = {Sparse KV caches}, author = {Chen, Ana}}\n"
    )
    bib = read_bib_file(tmp_path / "refs.bib", text)
    for prefix in [
        "",
        "b",
        "Bou",
        "boudin2021",
        "acm",
        "uber",
        "Über",
        "mu",
        "müll",
        "zhao",
        "w",
        "kv",
        "kv-c",
        "x",
        "z",
    ]:
        expected = [key for key in sorted(bib.papers) if prefix_matches(bib.papers[key], prefix)]
        found = list(bib.keys_for_prefix(prefix))
        assert [key for key in found if prefix_matches(bib.papers[key], prefix)] == expected, prefix
        assert found == sorted(set(found)), prefix  # in key order, each once


def test_did_you_mean_pools_keys_sharing_the_first_letters(tmp_path: Path) -> None:
    text = "".join(
        f"@misc{{{key}, title = {{T}}}}\n" for key in ["smith2020", "smyth2020", "jones2020", "sm"]
    )
    bib = read_bib_file(tmp_path / "refs.bib", text)
    document = DocumentBibliography(declared_in("", LATEX), [], [bib])
    assert document.keys_near("smith2021") == ["sm", "smith2020", "smyth2020"]
    assert document.keys_near("smith2021", limit=1) == ["sm"]


def test_typing_in_a_markdown_body_keeps_what_its_front_matter_declared() -> None:
    front = "---\nreferences:\n- id: first\n  title: First Work\n---\n"
    declared = declared_in(front + "Some text [@first].\n", MARKDOWN)
    assert declared.searchable.size == 1
    # The same front matter: the same entries, their search index built once.
    assert declared_in(front + "Some more text [@first].\n", MARKDOWN) is declared
    changed = declared_in(front.replace("First Work", "Second Work") + "Some text.\n", MARKDOWN)
    assert changed is not declared and changed.inline[0].paper.title == "Second Work"


async def test_a_reading_under_way_stops_when_the_server_shuts_down(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("".join(f"@misc{{k{n}, title = {{Title {n}}}}}\n" for n in range(20_000)))
    cache = BibliographyCache(lambda path: None)
    assert cache.file(path).reading
    future = cache._readings[path][1]
    cache.close()
    with pytest.raises(ReadingAbandoned):
        await future


def test_the_interpreter_lock_changes_hands_often_only_while_a_file_is_read(tmp_path: Path) -> None:
    """A request on the event loop gets the lock back within 0.5 ms of the reading thread's turn,
    not 5 ms: without it a completion took 0.7–1 s while 100,000 entries were read."""
    import sys

    from server.bibliography import _read

    bib = tmp_path / "refs.bib"
    bib.write_text("".join(f"@article{{k{i}, title={{Paper {i}}}}}\n" for i in range(50)))
    usual = sys.getswitchinterval()
    seen: list[float] = []
    _read(bib, None, None, lambda done, total: seen.append(sys.getswitchinterval()))
    assert seen and max(seen) < usual
    assert sys.getswitchinterval() == usual
