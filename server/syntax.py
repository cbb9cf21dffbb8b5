"""Citation syntax as data: which commands cite, which characters a key may hold, per language."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

LATEX = "latex"
MARKDOWN = "markdown"

# Editors' language ids, and file extensions for editors that send none we know.
LANGUAGE_IDS = {
    "latex": LATEX, "tex": LATEX, "plaintex": LATEX, "context": LATEX, "rnoweb": LATEX,
    "markdown": MARKDOWN, "quarto": MARKDOWN, "rmd": MARKDOWN, "rmarkdown": MARKDOWN,
    "myst": MARKDOWN, "pandoc": MARKDOWN, "mdx": MARKDOWN,
}  # fmt: skip
EXTENSIONS = {
    ".tex": LATEX, ".ltx": LATEX, ".latex": LATEX, ".sty": LATEX, ".cls": LATEX, ".rnw": LATEX,
    ".md": MARKDOWN, ".markdown": MARKDOWN, ".qmd": MARKDOWN, ".rmd": MARKDOWN, ".myst": MARKDOWN,
}  # fmt: skip

# LaTeX, natbib, biblatex, apacite: every command whose name holds "cite" takes keys in braces
# (\cite \citep \parencite \footcitetext \citeA \volcite …); csquotes' quote-and-cite commands too.
_CITE_NAME = re.compile(r"^[A-Za-z]*[cC]ite[A-Za-z]*$")
_CSQUOTES = frozenset(
    {"textcquote", "blockcquote", "foreigntextcquote", "foreignblockcquote", "hybridblockcquote"}
)
# Commands whose every brace group is a key list: biblatex's multicite commands.
_MULTICITE = re.compile(r"^[A-Za-z]*cites$")
# \volcite[pre]{volume}[page]{key}: keys are in the second brace group.
_KEY_GROUP = {"volcite": 1, "Volcite": 1, "pvolcite": 1, "fvolcite": 1, "ftvolcite": 1, "svolcite": 1,
              "tvolcite": 1, "avolcite": 1, "Avolcite": 1}  # fmt: skip

LATEX_TRIGGERS = ["{", ","]
MARKDOWN_TRIGGERS = ["@", ";", "`", ","]

# Pandoc: a key starts with a letter, digit or _ and may hold internal punctuation :.#$%&-+?<>~/
PANDOC_KEY = r"[\w][\w:.#$%&\-+?<>~/]*"
PANDOC_KEY_CHARS = re.compile(r"[\w:.#$%&\-+?<>~/]")
# Quarto cross-references share the @ syntax; they are not citations.
QUARTO_CROSSREF = re.compile(r"^(?:fig|tbl|sec|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr|rem|alg)-")
MYST_CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`$")

LATEX_KEY_CHARS = re.compile(r"[^,{}\s%\\]")
VERBATIM_ENVIRONMENTS = ("verbatim", "Verbatim", "lstlisting", "minted", "comment", "alltt", "BVerbatim")


def is_cite_command(name: str) -> bool:
    return bool(_CITE_NAME.match(name)) or name in _CSQUOTES


def key_groups(name: str) -> tuple[int, int | None]:
    """Which brace groups after the command hold keys: (first, last or None for all after)."""
    if _MULTICITE.match(name):
        return 0, None
    group = _KEY_GROUP.get(name, 0)
    return group, group


# Files that hold entries, not citations, whatever language id the editor gives them.
BIBLIOGRAPHY_EXTENSIONS = frozenset({".bib"})


def language_of(language_id: str | None, uri: str) -> str | None:
    """The language papercite reads a document in, or None for one it does not serve.

    A known extension wins over the editor's language id: eglot 1.9 sends the id of a project's
    first file for every file, so a `.md` opened after a `.tex` arrives as "latex". A `.bib` is a
    bibliography whatever the editor calls it, never a document that cites.
    """
    suffix = PurePosixPath(unquote(urlsplit(uri).path)).suffix.lower()
    if suffix in BIBLIOGRAPHY_EXTENSIONS:
        return None
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    return LANGUAGE_IDS.get(language_id.lower()) if language_id else None
