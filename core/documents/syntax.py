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
# (\cite \citep \parencite \footcitetext \citeA \volcite …); and a few that do not say so:
# csquotes' quote-and-cite commands, bibentry's \bibentry{key} (an entry printed in the text), and
# abnTeX2's and biblatex-abnt's \apud{cited}{citing} (a work cited as quoted in another).
_CITE_NAME = re.compile(r"^[A-Za-z]*[cC]ite[A-Za-z]*$")
OTHER_CITE_COMMANDS = frozenset(
    {"textcquote", "blockcquote", "foreigntextcquote", "foreignblockcquote", "hybridblockcquote", "bibentry",
     "apud", "Apud", "textapud", "Textapud", "apudonline"}
)  # fmt: skip
# ...except those that configure citations or define cite commands and take no keys (natbib's
# \setcitestyle{numbers}, \citetext{priv. comm.}, biblatex's \DeclareCiteCommand, \AtEveryCitekey{…},
# \ifciteseen, \multicitedelim, counters like \thecitecount): none writes a \citation to the .aux.
_NOT_CITING = frozenset(
    {
        "setcitestyle", "citestyle", "citetext", "defcitealias", "citeindextype", "citeindextrue",
        "citeindexfalse", "citereset", "citesetup", "citecount", "citeorder", "intciteorder", "citeends",
        "citestarts", "mcitelike", "astroncite", "citeauthoryear", "citenumfont", "citeleft", "citeright",
        "citepunct", "citemid", "citedash", "citeform", "volcitecmd", "multivolcitecmd", "bibcite",
        "nocitemeta", "APACbibcite", "APACciteatitle", "APACcitebtitle",
    }
)  # fmt: skip
# (\newcites{ext}{Title}, multibib's, defines \citeext: a command defining others cites nothing.)
_NOT_CITING_NAME = re.compile(r"^(?:At|Declare|if|the|blx|mk|new|renew|provide)|delim$")
# Commands whose every brace group is a key list: biblatex's multicite commands.
_MULTICITE = re.compile(r"^[A-Za-z]*cites$")
# \volcite[pre]{volume}[page]{key}: keys are in the second brace group (every second in \volcites).
_VOLCITE = re.compile(r"^[A-Za-z]*[vV]olcites?$")

LATEX_TRIGGERS = ["{", ","]
MARKDOWN_TRIGGERS = ["@", ";", "`", ","]

# Pandoc: a key starts with a letter, digit or _ and may hold internal punctuation :.#$%&-+?<>~/
PANDOC_KEY = r"[\w][\w:.#$%&\-+?<>~/]*"
PANDOC_KEY_CHARS = re.compile(r"[\w:.#$%&\-+?<>~/]")
# Quarto cross-references share the @ syntax; they are not citations.
QUARTO_CROSSREF = re.compile(r"^(?:fig|tbl|sec|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr|rem|alg)-")
MYST_CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`$")

LATEX_KEY_CHARS = re.compile(r"[^,{}\s%\\]")
# Environments whose body LaTeX does not read as commands (alltt does read them: \cite works there).
VERBATIM_ENVIRONMENTS = (
    "verbatim", "verbatim*", "Verbatim", "Verbatim*", "BVerbatim", "LVerbatim", "SaveVerbatim", "VerbatimOut",
    "lstlisting", "minted", "comment", "filecontents", "filecontents*", "spverbatim", "Highlighting",
    "macrocode", "macrocode*",
)  # fmt: skip


def is_cite_command(name: str) -> bool:
    if name in OTHER_CITE_COMMANDS:
        return True
    return bool(_CITE_NAME.match(name)) and name not in _NOT_CITING and not _NOT_CITING_NAME.search(name)


def key_groups(name: str) -> tuple[int, int | None]:
    """Which brace groups after the command hold keys: (first, last or None for all after)."""
    if _VOLCITE.match(name):
        return (1, None) if name.endswith("s") else (1, 1)
    if _MULTICITE.match(name):
        return 0, None
    if name.startswith(("foreign", "hybrid")):  # \foreigntextcquote{language}[pre][post]{key}…
        return 1, 1
    if "apud" in name:
        return 0, 1
    return 0, 0


def is_key_group(name: str, index: int) -> bool:
    """Whether the `index`th brace group after the command holds keys (\volcites: every second)."""
    first, last = key_groups(name)
    if index < first or (last is not None and index > last):
        return False
    return not _VOLCITE.match(name) or index % 2 == 1


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
