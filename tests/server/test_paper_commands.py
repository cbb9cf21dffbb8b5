"""Citing at the cursor in the file's own syntax: pure offsets and text, no server."""

from __future__ import annotations

import pytest

from core.documents.syntax import LATEX, MARKDOWN
from server import add_paper, commands, execute_command, paper_commands
from server.paper_commands import citation_edit


def cite_at(marked: str, language: str, key: str = "triforce", myst: bool = False) -> str:
    """The text after citing `key` where `|` is."""
    offset = marked.index("|")
    text = marked.replace("|", "", 1)
    start, end, insert = citation_edit(text, offset, language, key, myst)
    return text[:start] + insert + text[end:]


@pytest.mark.parametrize(
    ("marked", "language", "myst", "expected"),
    [
        # A new citation where there is none, tied to the word before it in LaTeX.
        ("decoding|.", LATEX, False, r"decoding~\cite{triforce}."),
        ("decoding |", LATEX, False, r"decoding \cite{triforce}"),
        ("decoding|.", MARKDOWN, False, "decoding [@triforce]."),
        ("(|)", MARKDOWN, False, "([@triforce])"),
        ("decoding |.", MARKDOWN, True, "decoding {cite}`triforce`."),
        ("decoding|.", MARKDOWN, True, "decoding {cite}`triforce`."),
        # Into the enclosing citation: an empty key list, or after the key typed there.
        (r"see \citep[p.~3]{|}.", LATEX, False, r"see \citep[p.~3]{triforce}."),
        (r"see \cite{relay|}.", LATEX, False, r"see \cite{relay,triforce}."),
        (r"see \cite{relay,|}.", LATEX, False, r"see \cite{relay,triforce}."),
        ("see [@relay|].", MARKDOWN, False, "see [@relay; @triforce]."),
        ("see [@|].", MARKDOWN, False, "see [@triforce]."),
        ("see {cite:p}`relay|`.", MARKDOWN, True, "see {cite:p}`relay,triforce`."),
    ],
)
def test_a_citation_goes_where_the_syntax_wants_it(
    marked: str, language: str, myst: bool, expected: str
) -> None:
    assert cite_at(marked, language, myst=myst) == expected


def test_the_server_registers_every_paper_command() -> None:
    assert set(paper_commands.COMMANDS) | set(commands.COMMANDS) | {add_paper.ADD_PAPER_AND_CITE} == set(
        execute_command.COMMANDS
    )
    assert len(execute_command.COMMANDS) == len(set(execute_command.COMMANDS))
