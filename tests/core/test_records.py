from __future__ import annotations

import pickle

import pytest

from core.records import Paper, ParseFailure


def test_identity_is_title_and_first_author_and_follows_replace() -> None:
    paper = Paper(key="", title="Deep Learning: A Survey!", authors=("LeCun, Yann", "Bengio, Y."))
    assert paper.identity == "deep learning a survey|lecun"
    keyed = paper.replace(key="lecun2015deep", origin="a.bib:3")
    assert keyed.key == "lecun2015deep" and keyed.identity == paper.identity and keyed.title == paper.title
    retitled = paper.replace(title="Deep Learning")
    assert retitled.identity == "deep learning|lecun" and paper.identity == "deep learning a survey|lecun"
    assert paper.replace(authors=()).identity == "deep learning a survey|"
    assert paper.replace(key="k") == Paper(key="k", title=paper.title, authors=paper.authors)
    with pytest.raises(TypeError, match="no field colour"):
        paper.replace(colour="red")


def test_identities_travel_with_a_pickled_paper() -> None:
    paper = Paper(key="", title="Attention Is All You Need", authors=("Vaswani, Ashish",))
    assert paper.identity
    copy = pickle.loads(pickle.dumps(paper))
    assert copy == paper and copy._identity == paper.identity


def test_a_failure_names_file_and_line_or_the_file_alone() -> None:
    assert str(ParseFailure("refs.bib", 12, "no title")) == "refs.bib:12: no title"
    assert str(ParseFailure("notes.txt", 0, "not a format papercite reads")) == (
        "notes.txt: not a format papercite reads"
    )
