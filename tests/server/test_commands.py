"""Where a new bibliography is wired into a document, and where a sentence's citation goes."""

from __future__ import annotations

from core.documents.syntax import LATEX, MARKDOWN
from server.code_actions import citation_text, wanted
from server.commands import bibliography_wiring
from server.context import sentence_at


def wired(text: str, language: str) -> str:
    offset, insert = bibliography_wiring(text, language, "references.bib")
    return text[:offset] + insert + text[offset:]


def test_bibtex_documents_get_a_style_and_the_bibliography_before_end_document() -> None:
    text = "\\documentclass{article}\n\\begin{document}\nHi.\n\\end{document}\n"
    assert wired(text, LATEX).endswith(
        "Hi.\n\\bibliographystyle{plain}\n\\bibliography{references}\n\\end{document}\n"
    )
    styled = text.replace("Hi.", "Hi.\n\\bibliographystyle{abbrvnat}")
    assert "{plain}" not in wired(styled, LATEX)
    assert (
        wired("Just a fragment.", LATEX)
        == "Just a fragment.\n\\bibliographystyle{plain}\n\\bibliography{references}\n"
    )


def test_biblatex_documents_get_addbibresource_in_the_preamble_and_crlf_is_kept() -> None:
    text = "\\usepackage[style=authoryear]{biblatex}\r\n\\begin{document}\r\nHi.\r\n\\end{document}\r\n"
    assert wired(text, LATEX) == text.replace(
        "\\begin{document}", "\\addbibresource{references.bib}\r\n\\begin{document}"
    )


def test_markdown_gets_front_matter_or_a_line_in_it() -> None:
    assert wired("# Notes\n", MARKDOWN) == "---\nbibliography: references.bib\n---\n\n# Notes\n"
    assert (
        wired("---\ntitle: T\n---\nText\n", MARKDOWN)
        == "---\nbibliography: references.bib\ntitle: T\n---\nText\n"
    )


def test_a_sentence_is_cited_before_its_full_stop() -> None:
    text = "Intro line. We use sparse caches, e.g. KV caches, for decoding.  Next one\n\nNew paragraph"
    site = sentence_at(text, text.index("sparse"), LATEX)
    assert site is not None
    assert text[site.start : site.end] == "We use sparse caches, e.g. KV caches, for decoding."
    assert text[site.insert_at] == "." and site.context.before.endswith("for decoding")
    last = sentence_at(text, text.index("Next"), LATEX)
    assert last is not None and text[last.start : last.insert_at] == "Next one" and last.insert_at == last.end


def test_no_sentence_in_comments_math_code_or_front_matter() -> None:
    assert sentence_at("% a comment. Here.", 5, LATEX) is None
    assert sentence_at("Text $x + y$ more.", 7, LATEX) is None
    assert sentence_at("Text `code here` more.", 8, MARKDOWN) is None
    assert sentence_at("---\ntitle: A title\n---\nBody text.", 8, MARKDOWN) is None
    assert sentence_at("   \n\n  ", 2, MARKDOWN) is None


def test_citation_text_and_action_kinds() -> None:
    assert citation_text("key", LATEX) == "~\\cite{key}"
    assert citation_text("key", MARKDOWN) == " [@key]"
    assert wanted("quickfix", None) and wanted("refactor.rewrite", ["refactor"])
    assert not wanted("refactor.rewrite", ["quickfix"]) and not wanted("quickfix", ["quick"])
