"""Cite-context detection, inside and outside citations, for every syntax the server supports.

`|` marks the cursor in each example.
"""

from __future__ import annotations

import pytest

from core.documents.syntax import LATEX, MARKDOWN
from server.context import CiteSite, cite_site_at, citing_context, document_title

LATEX_COMMANDS = [
    "cite",
    "Cite",
    "nocite",
    "citet",
    "citep",
    "Citet",
    "Citep",
    "citealt",
    "citealp",
    "citeauthor",
    "citeyear",
    "citeyearpar",
    "citenum",
    "parencite",
    "Parencite",
    "footcite",
    "footcitetext",
    "textcite",
    "Textcite",
    "smartcite",
    "autocite",
    "Autocite",
    "supercite",
    "citetitle",
    "fullcite",
    "cites",
    "parencites",
    "textcites",
    "autocites",
    "footcites",
    "citeA",
    "citeNP",
]


def site(marked: str, language: str) -> tuple[CiteSite | None, str]:
    offset = marked.index("|")
    text = marked.replace("|", "", 1)
    return cite_site_at(text, offset, language), text


@pytest.mark.parametrize("command", LATEX_COMMANDS)
def test_every_latex_cite_command_triggers(command: str) -> None:
    found, _ = site(rf"Loops help reasoning~\{command}{{|", LATEX)
    assert found is not None and found.command == command and found.prefix == ""


@pytest.mark.parametrize(
    ("marked", "command", "prefix", "present"),
    [
        (r"as shown~\citep[see][p.~3]{smith20, tri|}", "citep", "tri", ("smith20",)),
        (r"\parencite*{a,|}", "parencite", "", ("a",)),
        (r"\cite<e.g.,>[p. 4]{ke|y}", "cite", "ke", ()),
        (r"\textcquote[p.~4]{ke|}{Some quoted text}", "textcquote", "ke", ()),
        (r"\blockcquote{|}{quote}", "blockcquote", "", ()),
        (r"\volcite[pre]{3}[p]{tri|}", "volcite", "tri", ()),
        (r"\cites[a]{x}[b]{y,|}", "cites", "", ("y",)),
        ("\\cite{alpha,\n  be|", "cite", "be", ("alpha",)),
        (r"\citep{a, |, c}", "citep", "", ("a", "c")),
    ],
)
def test_latex_sites(marked: str, command: str, prefix: str, present: tuple[str, ...]) -> None:
    found, _ = site(marked, LATEX)
    assert found is not None
    assert (found.command, found.prefix, found.present_keys) == (command, prefix, present)


def test_latex_replace_range_covers_the_whole_key() -> None:
    found, text = site(r"\cite{tri|force, x}", LATEX)
    assert found is not None
    assert text[found.replace_start : found.replace_end] == "triforce"
    assert text[found.cite_start : found.cite_end] == r"\cite{triforce, x}"


@pytest.mark.parametrize(
    "marked",
    [
        r"% a comment \cite{|",
        "\\begin{verbatim}\n\\cite{|",
        "\\begin{lstlisting}\n\\cite{|",
        r"math $x \cite{|",
        r"\section{|}",
        r"\textcquote{key}{quoted |text}",
        r"\cite{a}{|}",
        r"plain text |",
        "\\cite{a\n\nnew paragraph |",
        r"\emph{|",
    ],
)
def test_latex_outside_citations(marked: str) -> None:
    assert site(marked, LATEX)[0] is None


def test_latex_after_verbatim_ends_triggers_again() -> None:
    found, _ = site("\\begin{verbatim}x\\end{verbatim} text \\cite{|", LATEX)
    assert found is not None


@pytest.mark.parametrize(
    ("marked", "command", "prefix", "present"),
    [
        ("text [@|", "pandoc", "", ()),
        ("text [@smi|", "pandoc", "smi", ()),
        ("text [@a; @|]", "pandoc", "", ("a",)),
        ("[-@smi|]", "pandoc", "smi", ()),
        ("[see @doe99, p. 33; @smi|th04]", "pandoc", "smi", ("doe99",)),
        ("Bare @ke| says", "pandoc", "ke", ()),
        ("Braced @{my key|} here", "pandoc", "my key", ()),
        ("as {cite}`|`", "myst", "", ()),
        ("as {cite:p}`a,|`", "myst", "", ("a",)),
        ("as {cite:t}`ab|c`", "myst", "ab", ()),
        ("Quarto @tri|", "pandoc", "tri", ()),
    ],
)
def test_markdown_sites(marked: str, command: str, prefix: str, present: tuple[str, ...]) -> None:
    found, _ = site(marked, MARKDOWN)
    assert found is not None
    assert (found.command, found.prefix, found.present_keys) == (command, prefix, present)


@pytest.mark.parametrize(
    "marked",
    [
        "mail me at jane@exam|ple.org",
        "jane.doe@|",
        "see @fig-|",
        "see @tbl-res|",
        "see @sec-intro|",
        "see @eq-|",
        "see @lst-|",
        "see @thm-|",
        "inline `code @|`",
        "```python\n@decorator|",
        "~~~\n[@|",
        "no citation here |",
    ],
)
def test_markdown_outside_citations(marked: str) -> None:
    assert site(marked, MARKDOWN)[0] is None


def test_markdown_after_a_closed_fence_triggers_again() -> None:
    assert site("```\ncode\n```\ntext [@|", MARKDOWN)[0] is not None


def test_the_sentence_before_and_after_a_mid_sentence_citation() -> None:
    found, text = site(
        r"First sentence, e.g. about cats. We use a sparse KV cache~\cite{|} to speed decoding. Next one.",
        LATEX,
    )
    assert found is not None
    context = citing_context(text, found)
    assert context.before == "We use a sparse KV cache~"
    assert context.after == "to speed decoding."
    assert "First sentence" in context.paragraph and "Next one" in context.paragraph


def test_a_citation_ending_its_sentence_takes_no_words_after() -> None:
    found, text = site("Para one.\n\nLoops help reasoning, e.g. in models [@|]. Then another.", MARKDOWN)
    assert found is not None
    context = citing_context(text, found)
    assert context.before == "Loops help reasoning, e.g. in models"
    assert context.after == ""
    assert "Para one" not in context.paragraph


def test_document_titles() -> None:
    assert document_title(r"\documentclass{article}\title{Fast {KV} Caches}", LATEX) == "Fast {KV} Caches"
    assert document_title("---\ntitle: 'On Loops'\nauthor: X\n---\ntext", MARKDOWN) == "On Loops"
    assert document_title("# Heading One\n\ntext", MARKDOWN) == "Heading One"


def test_positions_past_the_end_are_clamped() -> None:
    assert cite_site_at("ab\ncd", 10_000, LATEX) is None
    assert cite_site_at("ab\ncd", -5, LATEX) is None


def test_unbalanced_braces_do_not_confuse_detection() -> None:
    assert site(r"}}}{{ \cite{|", LATEX)[0] is not None
    assert site(r"\cite{a}}}} |", LATEX)[0] is None


# An unfinished `\cite{` ends where the scanner says its key list ends (a blank line, a brace, a
# backslash, two words with no comma), not at the next `}` however far: completion and diagnostics
# agree on the keys a citation holds and on the text after it.
@pytest.mark.parametrize(
    ("marked", "present", "cite_text"),
    [
        # Prose after the unfinished citation, then a later citation's `}`: none of it is a key.
        ("As shown~\\cite{a, |\nin prior work \\cite{b}.", ("a",), "\\cite{a, "),
        ("\\cite{tri| force and more}", (), "\\cite{tri"),
        # A command ends the list; the braces of its argument are not the citation's.
        ("\\cite{a, |\\emph{stress} here", ("a",), "\\cite{a, "),
        # A blank line, even one holding spaces.
        ("\\cite{a, |\n  \nnext paragraph}", ("a",), "\\cite{a, "),
        # Keys after the cursor count when a comma follows them, as the scanner counts them.
        ("\\cite{|x, y, z\n\nnext}", ("y",), "\\cite{x, y"),
        # A comment inside a closed list is not a key.
        ("\\cite{a, % b, c\n  d, |}", ("a", "d"), "\\cite{a, % b, c\n  d, }"),
    ],
)
def test_unfinished_latex_citation_ends_where_the_key_list_does(
    marked: str, present: tuple[str, ...], cite_text: str
) -> None:
    found, text = site(marked, LATEX)
    assert found is not None and found.command == "cite"
    assert found.present_keys == present
    assert text[found.cite_start : found.cite_end] == cite_text


@pytest.mark.parametrize(
    "marked",
    [
        "\\cite{a b |",  # two words with no comma: prose, not a key list
        "\\cite{a, b c, |}",
        "\\cite{a, \\emph{x} |}",
        "\\cite{a,\n  \n|",  # past a blank line holding spaces
    ],
)
def test_no_site_past_the_end_of_a_key_list(marked: str) -> None:
    assert site(marked, LATEX)[0] is None


def test_the_context_after_an_unfinished_citation_is_the_prose_after_it() -> None:
    found, text = site("Speculative decoding~\\cite{| drafts tokens quickly. Later \\cite{b}.", LATEX)
    assert found is not None and found.present_keys == ()
    context = citing_context(text, found)
    assert context.before == "Speculative decoding~"
    assert context.after == "drafts tokens quickly."


def test_completion_reads_the_keys_of_an_unfinished_citation_the_scanner_does_not_flag() -> None:
    from core.documents.citations import find_citations

    marked = "See~\\cite{alpha, beta, |\nthe rest of the sentence \\cite{gamma}.\n"
    found, text = site(marked, LATEX)
    assert found is not None and list(found.present_keys) == ["alpha", "beta"]
    assert [k.key for k in find_citations(text, LATEX)] == ["gamma"]


@pytest.mark.parametrize(
    ("marked", "inside"),
    [
        ("\\begin{minted}{py}\n\\end{verbatim}\n\\cite{|", True),  # another environment's end
        ("\\begin{verbatim}x\\end{verbatim}\\begin{comment}\n\\end{comment} \\cite{|", False),
        ("\\begin{Verbatim*}\n\\begin{verbatim}\\end{verbatim}\n\\cite{|", True),
        ("\\begin{filecontents*}{x.bib}\n\\end{filecontents*}\n\\cite{|", False),
    ],
)
def test_verbatim_environments_are_matched_by_name(marked: str, inside: bool) -> None:
    assert (site(marked, LATEX)[0] is None) is inside
