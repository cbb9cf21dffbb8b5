"""LaTeX citations as LaTeX reads them, with recovery from unfinished ones.

A small tokenizer walks the document from one special character to the next (`%`, `\\`), so prose
costs one regular-expression search. It knows what LaTeX never reads as a citation — comments,
`\\verb|…|` and its kin, verbatim environments, `\\iffalse` blocks, macro definitions, anything after
`\\end{document}` — and where an argument must end: no key holds a space, a brace or a backslash, and
no argument runs past a blank line. A key list that stops being one before its `}` is an unfinished
citation: none of its words count as keys (prose after a `\\cite{` being typed often begins with
"Word,"), and scanning resumes just after the command, so nothing after it changes meaning.
"""

from __future__ import annotations

import re

from core.documents import syntax
from core.documents.cited import CitedKey

_SPECIAL = re.compile(r"%|\\(?:([A-Za-z@]+)|[\s\S])?")
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_KEY_TOKEN = re.compile(r"([^,{}\s%\\]+)|(,)|(\s+)|(%[^\n]*)|([\s\S])")
_CONTROL_SEQUENCE = re.compile(r"\\(?:[A-Za-z@]+|[\s\S])")
_ENVIRONMENT = re.compile(r"[ \t]*\{([A-Za-z@*]+)\}")
_GROUP_TOKEN = re.compile(r"[{}\\%\n]")
_CONDITIONAL = re.compile(r"\\(?:(fi)|(else)|(if[A-Za-z@]*))(?![A-Za-z@])")
# TeX's own conditionals (a \newif adds more): the ones a skipped \iffalse block counts to its \fi.
_PRIMITIVE_IFS = frozenset(
    {
        "if", "ifcat", "ifnum", "ifdim", "ifodd", "ifvmode", "ifhmode", "ifmmode", "ifinner", "ifvoid",
        "ifhbox", "ifvbox", "ifx", "ifeof", "iftrue", "iffalse", "ifcase", "ifdefined", "ifcsname",
        "iffontchar", "ifincsname", "ifpdf", "ifxetex", "ifluatex",
    }
)  # fmt: skip
# A `[` inside a `[…]` note nests, as xparse reads it (`\icite[\plat{179}[a]]{key}`); an unfinished
# `\citep[see][` reaching into the text after it finds no `]` of its own before a blank line.
_OPTIONAL_TOKEN = {
    close: re.compile(r"[{}\\%\n" + re.escape(close) + ("\\[" if close == "]" else "") + "]")
    for close in "])>"
}
_CITE_INSIDE = re.compile(r"[A-Za-z]*[cC]ite")
# An optional argument longer than this is not one (a stray `[` in prose).
_OPTIONAL_LIMIT = 2000

# Macro definitions: their bodies are stored, not typeset, so a \cite in one writes nothing.
# LaTeX-style: how many brace groups follow the defined name ([…] options may come between).
_LATEX_DEFINITIONS = {
    "newcommand": 1, "renewcommand": 1, "providecommand": 1, "DeclareRobustCommand": 1,
    "newrobustcmd": 1, "renewrobustcmd": 1, "providerobustcmd": 1, "NewDocumentCommand": 2,
    "RenewDocumentCommand": 2, "ProvideDocumentCommand": 2, "DeclareDocumentCommand": 2,
    "NewExpandableDocumentCommand": 2, "newenvironment": 2, "renewenvironment": 2,
    "NewDocumentEnvironment": 3, "RenewDocumentEnvironment": 3, "DeclareCiteCommand": 4,
    "DeclareMultiCiteCommand": 2, "DeclareAutoCiteCommand": 2, "DeclareFieldFormat": 1,
    "DeclareBibliographyDriver": 1, "apptocmd": 3, "pretocmd": 3, "patchcmd": 4, "xapptocmd": 3,
    "xpretocmd": 3, "xpatchcmd": 4, "AtEveryCite": 0, "AtEveryCitekey": 0, "AtNextCite": 0,
    "AtNextCitekey": 0, "AtEachCitekey": 0, "AtEveryMultiCite": 0, "AtNextMultiCite": 0,
    "NewTColorBox": 2, "RenewTColorBox": 2, "DeclareTColorBox": 2, "ProvideTColorBox": 2,
    "NewTotalTColorBox": 3, "RenewTotalTColorBox": 3, "DeclareTotalTColorBox": 3, "NewTCBListing": 2,
    "DeclareTCBListing": 2, "newtcolorbox": 1, "renewtcolorbox": 1, "newtcblisting": 1,
}  # fmt: skip
# Definitions whose first group is an xparse argument specification (`{o m}`, `{D(){ok} d<> o m}`).
_XPARSE_DEFINITIONS = frozenset(
    name
    for name in _LATEX_DEFINITIONS
    if name.endswith(("DocumentCommand", "DocumentEnvironment", "ColorBox", "Listing"))
)
_XPARSE_ARGUMENT = re.compile(r"[+!\s]*(?:>\{[^{}]*\}[+!\s]*)*([a-zA-Z])")
# TeX-style: \def\name<parameter text>{body}; \let\a\b or \let\a=\b.
_TEX_DEFINITIONS = frozenset({"def", "gdef", "edef", "xdef", "let", "futurelet"})
# Verbatim-like commands: \verb|…| \Verb[…]{…} \lstinline|…| \mintinline{lang}{…} \url{…}.
_INLINE_VERBATIM = frozenset({"verb", "Verb", "lstinline", "mintinline", "url", "path", "href", "nolinkurl"})


def latex_citations(text: str) -> list[CitedKey]:
    found = _scan(text, _Found())
    # `\\cite{` typed inside an argument before its last word (`\\title{A Study of Something\\cite{
    # Interesting}`) takes the argument's `}`: then the document has more `{` than its unfinished key
    # lists account for, and only then is each citation checked for a `}` taken from an argument.
    if text.count("{") - text.count("}") > found.unfinished:
        found = _scan(text, _Found(_OpenBraces(text)))
    return found


def _scan(text: str, found: _Found) -> _Found:
    learned: dict[str, frozenset[int]] = {}  # macros defined here: name → brace groups that are keys
    position = 0
    length = len(text)
    short_verb = _short_verb_characters(text)
    conditionals: frozenset[str] | set[str] | None = None  # TeX's and the document's \newif ones
    braces = _BraceTable(text)
    if text.count("\\begin{document}") > 1:
        learned.update(dict.fromkeys(_example_environments(text), _VERBATIM_ARGUMENT))
    documents = 0  # \begin{document} read and not yet ended (a listing may show a whole document)
    search = _SPECIAL.search
    if short_verb:
        search = re.compile(_SPECIAL.pattern + "|[" + re.escape(short_verb) + "]").search
    while position < length:
        match = search(text, position)
        if match is None:
            break
        position = match.end()
        name = match.group(1)
        if name is None:
            char = match.group(0)
            if char == "%":
                newline = text.find("\n", position)
                position = length if newline < 0 else newline + 1
            elif char in short_verb:  # |…| made a short form of \verb
                line_end = text.find("\n", position)
                line_end = length if line_end < 0 else line_end
                end = text.find(char, position, line_end)
                position = line_end if end < 0 else end + 1
            continue
        if name in learned:
            groups = learned[name]
            if groups and min(groups) < 0:  # arguments shown as written, or thrown away
                for _ in range(-min(groups)):
                    position = _skip_argument(text, position)
            else:
                position = _citation(text, position, name, found, learned[name])
        elif ("ite" in name or name in syntax.OTHER_CITE_COMMANDS) and syntax.is_cite_command(name):
            position = _citation(text, position, name, found)
        elif name in _INLINE_VERBATIM:
            position = _skip_inline_verbatim(text, position, name)
        elif name == "begin":
            environment = _ENVIRONMENT.match(text, position)
            documents += text.startswith("{document}", position)
            if environment:
                defined = learned.get("begin{" + environment.group(1))
                # (_VERBATIM_ARGUMENT: defined here as verbatim, or made a comment by \excludecomment)
                if defined is _VERBATIM_ARGUMENT or environment.group(1) in syntax.VERBATIM_ENVIRONMENTS:
                    position = _skip_verbatim_environment(text, environment, found)
                elif defined is not None:
                    position = _citation(text, environment.end(), "", found, defined)
        elif name in _VERBATIM_DEFINITIONS:
            position = _learn_verbatim_environment(text, position, name, learned)
        elif name in _LATEX_DEFINITIONS or name in _TEX_DEFINITIONS:
            position = _skip_definition(text, position, name, learned, braces, found)
        elif name == "excludecomment":  # the comment package: \begin{name}…\end{name} is skipped
            excluded = _ENVIRONMENT.match(text, position)
            if excluded:
                learned["begin{" + excluded.group(1)] = _VERBATIM_ARGUMENT
                position = excluded.end()
        elif name == "iffalse":
            if conditionals is None:
                conditionals = _PRIMITIVE_IFS | set(re.findall(r"\\newif\s*\\(if[A-Za-z@]+)", text))
            position = _skip_false_branch(text, position, conditionals)
        elif name == "end" and text.startswith("{document}", position):
            documents -= 1
            if documents <= 0:
                break  # LaTeX reads nothing after \end{document}
    return found


_ENVIRONMENT_TOKEN = re.compile(r"\\(begin|end)\s*\{([A-Za-z@*]+)\}")
_COMMENTED = re.compile(r"(?<!\\)%[^\n]*$")


def _example_environments(text: str) -> set[str]:
    """Environments that show a whole document (a second `\\begin{document}` inside one): whatever
    package defines them, they are listings."""
    found: set[str] = set()
    open_environments: list[str] = []
    for token in _ENVIRONMENT_TOKEN.finditer(text):
        kind, name = token.groups()
        line = text[text.rfind("\n", 0, token.start()) + 1 : token.start()]
        if line.endswith("\\string") or _COMMENTED.search(line):
            continue
        if kind == "begin":
            if name == "document" and "document" in open_environments and open_environments[-1] != "document":
                found.add("begin{" + open_environments[-1])
            open_environments.append(name)
        elif name in open_environments:
            del open_environments[len(open_environments) - 1 - open_environments[::-1].index(name) :]
    return found


_SHORT_VERB = re.compile(r"\\MakeShortVerb\*?\s*\{?\\([^A-Za-z\s])")
_LTXDOC = re.compile(r"\\documentclass\s*(?:\[[^\]]*\])?\s*\{ltxdoc\}")


def _short_verb_characters(text: str) -> str:
    """Characters that `\\MakeShortVerb` (or the ltxdoc class, for `|`) turned into `\\verb`."""
    found = set(_SHORT_VERB.findall(text)) if "ShortVerb" in text else set()
    if "ltxdoc" in text[:2000] and _LTXDOC.search(text[:2000]):
        found.add("|")
    return "".join(sorted(found))


# --- arguments ---------------------------------------------------------------------------------


def _skip_spaces(text: str, position: int) -> int:
    """Past spaces, one line end and comments, as TeX skips them between arguments; a blank line
    (a paragraph break) stops, leaving the position on it."""
    newlines = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char in " \t\r":
            position += 1
        elif char == "\n":
            newlines += 1
            if newlines == 2:
                return position
            position += 1
        elif char == "%":
            newline = text.find("\n", position)
            position = length if newline < 0 else newline + 1
        else:
            return position
    return position


def _group_end(text: str, start: int, *, paragraph: bool = True) -> int:
    """The offset of the `}` closing the group opened at `start`, or -1 if it is not closed (before a
    blank line, when `paragraph`: an argument does not run past one)."""
    depth = 0
    position = start
    search = _GROUP_TOKEN.search
    while True:
        match = search(text, position)
        if match is None:
            return -1
        char = match.group(0)
        position = match.end()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position - 1
        elif char == "\\":
            position += 1
        elif char == "%":
            newline = text.find("\n", position)
            if newline < 0:
                return -1
            position = newline + 1
        elif paragraph and _BLANK_LINE.match(text, position - 1):
            return -1


def _optional_end(text: str, start: int, close: str) -> int:
    """The offset of the `close` ending the optional argument opened at `start` (braces protect it,
    brackets nest), or -1: no end before a blank line, or another citation inside (an unfinished `[`)."""
    depth = brackets = 0
    position = start + 1
    limit = start + _OPTIONAL_LIMIT
    search = _OPTIONAL_TOKEN[close].search
    while True:
        match = search(text, position)
        if match is None or match.start() > limit:
            return -1
        char = match.group(0)
        position = match.end()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return -1
        elif char == "\\":
            if depth == 0 and _CITE_INSIDE.match(text, position):
                return -1
            position += 1
        elif char == "%":
            newline = text.find("\n", position)
            if newline < 0:
                return -1
            position = newline + 1
        elif char == "\n":
            if _BLANK_LINE.match(text, position - 1):
                return -1
        elif char == "[":
            brackets += depth == 0
        elif depth == 0:
            if brackets == 0:
                return position - 1
            brackets -= 1


def key_list(text: str, start: int) -> tuple[list[CitedKey], int, bool]:
    """The keys of the group whose `{` is at `start`: (keys, offset of its `}` or of where it stopped
    being a key list, closed properly). An unfinished list keeps only the keys a comma follows."""
    keys: list[CitedKey] = []
    pending: CitedKey | None = None  # the last key, not yet followed by a comma
    position = start + 1
    match_token = _KEY_TOKEN.match
    while True:
        match = match_token(text, position)
        if match is None:
            return keys, position, False
        kind = match.lastindex
        if kind == 1:
            if pending is not None:  # two words with no comma between: not a key list
                return keys, match.start(), False
            pending = CitedKey(match.group(1), match.start(), match.end())
        elif kind == 2:
            if pending is not None and not pending.key.startswith("#"):
                keys.append(pending)
            pending = None
        elif kind == 3:
            if match.group(3).count("\n") > 1:
                return keys, match.start(), False
        elif kind == 5:
            if match.group(5) == "}":
                # `#1` is a macro parameter, never a key: the group is the body of a definition.
                if pending is not None and not pending.key.startswith("#"):
                    keys.append(pending)
                return keys, match.start(), True
            return keys, match.start(), False
        position = match.end()


class _Found(list[CitedKey]):
    """The keys found, how many key lists were left unfinished, and (when a `}` may have been taken
    from an argument) the braces open in each paragraph."""

    def __init__(self, paragraph: _OpenBraces | None = None) -> None:
        super().__init__()
        self.unfinished = 0
        self.paragraph = paragraph


class _OpenBraces:
    """How many `{` the paragraph has left open at a position, counted on as the scan moves forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = self.open = 0

    def open_at(self, position: int) -> int:
        text = self.text
        if position < self.position:
            self.position = self.open = 0
        blank = text.rfind("\n\n", self.position, position)
        if blank >= 0:
            self.position, self.open = blank, 0
        self.open += text.count("{", self.position, position) - text.count("}", self.position, position)
        self.position = position
        return self.open


# How far around a citation the argument it sits in is looked for (a title, a caption, a footnote).
_ARGUMENT_WINDOW = 3000
_BRACE = re.compile(r"[{}]")
# An argument's `{`: after a command (and its options), another argument, or a space (a bare group).
_ARGUMENT_BEFORE = re.compile(r"(?:\\[A-Za-z@]+\*?|[}\s]|^)\s*(?:\[[^\]]*\]\s*)*$")
_KEY_GROUP_BEFORE = re.compile(r"\\[A-Za-z]*[cC]ite[A-Za-z]*\*?\s*(?:\[[^\]]*\]\s*)*$")


def _closes_an_outer_group(text: str, start: int, end: int) -> bool:
    """Whether the `}` ending the key list opened at `start` closes the argument the citation sits in:
    the innermost group open before it (not an unfinished key list's) never closes after it."""
    paragraph = max(
        text.rfind("\n\n", max(0, start - _ARGUMENT_WINDOW), start),
        start - _ARGUMENT_WINDOW,
        0,
    )
    opened: list[int] = []
    for brace in _BRACE.finditer(text, paragraph, start):
        at = brace.start()
        if brace.group(0) == "}":
            if opened:
                opened.pop()
        elif not (_KEY_GROUP_BEFORE.search(text, max(0, at - 200), at) and not key_list(text, at)[2]):
            opened.append(at)
    if not opened or _KEY_GROUP_BEFORE.search(text, max(0, opened[-1] - 200), opened[-1]):
        return False
    if not _ARGUMENT_BEFORE.search(text, max(0, opened[-1] - 200), opened[-1]):
        return False  # not an argument's `{` (`\\verb|@book{|` shows one)
    depth = len(opened)
    for brace in _BRACE.finditer(text, end + 1, min(len(text), end + _ARGUMENT_WINDOW)):
        depth += 1 if brace.group(0) == "{" else -1
        if depth < len(opened):
            return False
    return True


def _citation(
    text: str,
    after_name: int,
    name: str,
    found: _Found,
    learned: frozenset[int] | None = None,
) -> int:
    """Read the arguments of a cite command (or of a macro defined to cite its arguments, whose key
    groups are `learned`); return where scanning goes on."""
    position = after_name
    if text.startswith("*", position):
        position += 1
    group = 0
    if learned is not None:
        if not learned:
            return after_name
        last = max(learned)

        def is_key_group(index: int) -> bool:
            return index in learned

        def ended(index: int) -> bool:
            return index > last

        multicite = False
    else:
        multicite = syntax.key_groups(name)[1] is None

        def is_key_group(index: int) -> bool:
            return syntax.is_key_group(name, index)

        def ended(index: int) -> bool:
            return not multicite and not is_key_group(index) and index > syntax.key_groups(name)[0]

    while True:
        position = _skip_spaces(text, position)
        char = text[position : position + 1]
        # apacite's \cite<…>, biblatex's \cites(…), an xparse macro's d<> and D() arguments.
        if char == "[" or (
            group == 0 and (char == "<" or (char == "(" and (multicite or learned is not None)))
        ):
            end = _optional_end(text, position, {"[": "]", "<": ">", "(": ")"}[char])
            if end < 0:
                return after_name  # an unfinished optional argument: read on as if it were prose
            position = end + 1
        elif char == "{":
            if is_key_group(group):
                keys, end, closed = key_list(text, position)
                paragraph = found.paragraph
                if not closed or (
                    paragraph is not None
                    and paragraph.open_at(position) > 0
                    and _closes_an_outer_group(text, position, end)
                ):
                    found.unfinished += 1
                    # Flag none of an unfinished list's words: `\cite{` typed before "However, the…"
                    # would make "However" a key. LaTeX itself stops there with an error.
                    if group > 0 and multicite:
                        return position  # the citation ended before this group
                    return position + 1
                found.extend(keys)
            else:
                end = _group_end(text, position)
                if end < 0:
                    return after_name
            position = end + 1
            group += 1
            if ended(group):
                return position
        else:
            return position if group else after_name


# --- what LaTeX does not read as citations -------------------------------------------------------


def _skip_inline_verbatim(text: str, position: int, name: str) -> int:
    """Past \\verb|…| (or *), \\Verb[opts]{…}, \\lstinline|…|, \\mintinline{lang}{…}, \\url{…},
    \\href{url}: their text is not read as commands. An unclosed one ends at its line's end."""
    if name == "verb" and text.startswith("*", position):
        position += 1
    if name != "verb":
        while True:
            start = _skip_spaces(text, position)
            if not text.startswith("[", start):
                break
            end = _optional_end(text, start, "]")
            if end < 0:
                return position
            position = end + 1
        if name == "mintinline":
            start = _skip_spaces(text, position)
            end = _group_end(text, start) if text.startswith("{", start) else -1
            if end < 0:
                return position
            position = end + 1
        position = _skip_spaces(text, position) if name != "verb" else position
    line_end = text.find("\n", position)
    line_end = len(text) if line_end < 0 else line_end
    if position >= line_end:
        return position
    delimiter = text[position]
    if delimiter == "{" and name != "verb":
        end = _group_end(text, position)
        return position + 1 if end < 0 else end + 1
    if name in ("url", "path", "href", "nolinkurl") and delimiter.isalnum():
        return position  # not an argument of its own
    end = text.find(delimiter, position + 1, line_end)
    return line_end if end < 0 else end + 1


def _skip_verbatim_environment(text: str, environment: re.Match[str], found: list[CitedKey]) -> int:
    """To the `\\end` of a verbatim environment; its options are read (`\\begin{lstlisting}[caption=…]`)."""
    position = environment.end()
    if text.startswith("[", position) and "comment" not in environment.group(1):
        end = _optional_end(text, position, "]")
        if end > 0:
            if "ite" in text[position:end]:
                found.extend(
                    CitedKey(c.key, c.start + position, c.end + position)
                    for c in latex_citations(text[position:end])
                )
            position = end + 1
    end = text.find(f"\\end{{{environment.group(1)}}}", position)
    return len(text) if end < 0 else end


# Commands defining verbatim environments: listings', fancyvrb's, minted's (`\\newminted{python}{…}`
# makes `pythoncode`), and tcolorbox's listings that only list (by default they typeset the text too).
_VERBATIM_DEFINITIONS = frozenset({"lstnewenvironment", "DefineVerbatimEnvironment", "newminted", "newtcblisting",
                                   "renewtcblisting", "NewTCBListing", "DeclareTCBListing"})  # fmt: skip


def _learn_verbatim_environment(
    text: str, position: int, name: str, learned: dict[str, frozenset[int]]
) -> int:
    """Learn the environment a verbatim definition names; the definition's own groups are read on."""
    options = _skip_options(text, position)
    named = _ENVIRONMENT.match(text, _skip_spaces(text, options))
    if named is None:
        return position
    environment = named.group(1)
    if name == "newminted":  # \newminted[name]{language}{options}
        given = re.match(r"\s*\[([A-Za-z@*]+)\]", text[position:options])
        environment = given.group(1) if given else environment + "code"
    elif "tcb" in name.lower():  # the box's options (after its specification): by default it
        # typesets its body as text too; only `listing only` keeps it a listing
        settings, after = "", named.end()
        for _ in range(2):
            start = _skip_spaces(text, _skip_options(text, after))
            end = _group_end(text, start) if text.startswith("{", start) else -1
            if end < 0:
                break
            settings, after = settings + text[start:end], end + 1
        if "listing only" not in settings:
            return named.end()
    learned["begin{" + environment] = learned["begin{" + environment + "*"] = _VERBATIM_ARGUMENT
    return named.end()


class _BraceTable:
    """Where each `{` of a document closes, found in one pass when first asked: a definition's body
    may run over blank lines, and an unclosed one must not cost a scan to the end each time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.closes: dict[int, int] | None = None

    def end(self, start: int) -> int:
        if self.closes is None:
            self.closes = {}
            opened: list[int] = []
            unfinished = -1  # the `{` of a key list being typed (`\cite{` in a body) opens nothing
            text = self.text
            for match in _BRACE_TOKEN.finditer(text):
                char = match.group(0)
                if char == "{":
                    if match.start() != unfinished:
                        opened.append(match.start())
                elif char == "}":
                    if opened:
                        self.closes[opened.pop()] = match.start()
                elif match.group(1) and "ite" in char and syntax.is_cite_command(match.group(1)):
                    group = _skip_options(text, match.end() + text.startswith("*", match.end()))
                    group = _skip_spaces(text, group)
                    if text.startswith("{", group):
                        _, stop, closed = key_list(text, group)
                        # ...but `\cite{\key}` is a group: no word came before the command.
                        if not closed and (
                            text[group + 1 : stop].strip() or text[stop : stop + 1] not in "\\{"
                        ):
                            unfinished = group
        return self.closes.get(start, -1)


_BRACE_TOKEN = re.compile(r"\\([A-Za-z@]+)|\\[\s\S]|%[^\n]*|[{}]")


def _skip_definition(
    text: str,
    position: int,
    name: str,
    learned: dict[str, frozenset[int]],
    braces: _BraceTable,
    found: list[CitedKey],
) -> int:
    """Past a macro definition's name, parameters and body(ies); if its body is not closed, past its
    name only (a definition being typed hides nothing after it). A macro whose body cites one of
    its arguments (`\\newcommand{\\seecite}[1]{see \\citet{#1}}`) is learned: its uses cite. Keys
    a body names itself (`\\newcommand{\\bert}{BERT~\\cite{devlin2019}}`) are cited if the macro is used."""
    if text.startswith("*", position):
        position += 1
    position = _skip_options(text, position)
    start = _skip_spaces(text, position)
    if text.startswith("{", start):
        end = _group_end(text, start)
        if end < 0:
            return position
        defined_name = text[start + 1 : end].strip()
        position = end + 1
    else:
        defined = _CONTROL_SEQUENCE.match(text, start)
        if defined is None:
            return position
        defined_name = defined.group(0)
        position = defined.end()
    if not defined_name.startswith("\\") and re.search("environment|colorbox|listing", name, re.I):
        defined_name = "\\begin{" + defined_name
    defined_name = defined_name.removeprefix("\\")
    definition_start = position
    if name in ("let", "futurelet"):
        start = _skip_spaces(text, position)
        if text.startswith("=", start):
            start = _skip_spaces(text, start + 1)
        token = _CONTROL_SEQUENCE.match(text, start)
        return token.end() if token else min(start + 1, len(text))
    if name in _TEX_DEFINITIONS:
        body = text.find("{", position)
        if body < 0 or _BLANK_LINE.search(text, position, body):
            return position
        end = braces.end(body)
        if end < 0:
            return position
        _learn(
            learned,
            defined_name,
            text[body:end],
            parameters=text.count("#", position, body),
        )
        _cited_in_body(text, body, end, defined_name, found)
        return end + 1
    for _ in range(_LATEX_DEFINITIONS[name]):
        position = _skip_options(text, position)
        start = _skip_spaces(text, position)
        if not text.startswith("{", start):
            return position
        end = braces.end(start)
        if end < 0:
            return position
        position = end + 1
    if name in _XPARSE_DEFINITIONS:
        start = _skip_spaces(text, _skip_options(text, definition_start))
        end = braces.end(start) if text.startswith("{", start) else -1
        if end > 0:
            _learn(
                learned,
                defined_name,
                text[end + 1 : position],
                mandatory=_mandatory(text[start + 1 : end]),
            )
    elif name in _COMMAND_DEFINITIONS:
        # [n][default]: with a default, #1 is the optional argument and #2 the first brace group.
        options = re.findall(r"\[([^\]]*)\]", text[definition_start : text.find("{", definition_start)])
        _learn(
            learned,
            defined_name,
            text[definition_start:position],
            optional_first=len(options) > 1,
            parameters=int(options[0]) if options and options[0].strip().isdecimal() else 0,
        )
    if name in _COMMAND_DEFINITIONS or name in _XPARSE_DEFINITIONS:
        _cited_in_body(text, definition_start, position, defined_name, found)
    return position


def _cited_in_body(text: str, start: int, end: int, defined_name: str, found: list[CitedKey]) -> None:
    """The keys a definition's body cites by name, where they stand, if the macro is used after it."""
    if "ite" not in text[start:end] or defined_name[:1] in "#\\":
        return
    if defined_name.startswith("begin{"):
        use = re.compile(re.escape("\\" + defined_name) + r"\}")
    else:
        use = re.compile(re.escape("\\" + defined_name) + r"(?![A-Za-z@])")
    if use.search(text, end) is None:
        return
    found.extend(CitedKey(c.key, c.start + start, c.end + start) for c in latex_citations(text[start:end]))


_COMMAND_DEFINITIONS = frozenset(
    {"newcommand", "renewcommand", "providecommand", "DeclareRobustCommand", "newrobustcmd", "renewrobustcmd",
     "providerobustcmd", "newenvironment", "renewenvironment", "newtcolorbox", "renewtcolorbox"}
)  # fmt: skip
_CITED_PARAMETER = re.compile(
    r"\\([A-Za-z@]+)\*?\s*(?:\[[^\]]*\]\s*)*\{(?:[^{}#]*,)?\s*#(\d)\s*(?:,[^{}]*)?\}"
)


# A macro that detokenizes its argument (`\\newcommand*{\\code}[1]{\\detokenize{#1}}`) shows it as written;
# one whose body uses none of its n arguments (`\\newcommand{\\hide}[1]{}`) throws them away: {-n}.
_VERBATIM_ARGUMENT: frozenset[int] = frozenset({-1})
_DETOKENIZED = re.compile(r"\\(?:detokenize|unexpanded|string)\b[^#]{0,40}#1")


def _skip_argument(text: str, position: int) -> int:
    position = _skip_options(text, position)
    start = _skip_spaces(text, position)
    if text.startswith("{", start):
        end = _group_end(text, start)
        if end >= 0:
            return end + 1
    return position


def _mandatory(specification: str) -> list[int]:
    """The parameter numbers of an xparse specification's brace groups (`m`), in order: in
    `D(){ok} d<> o m` only #4 is one. Defaults (`O{…}`, `D<>{…}`) and processors (`>{…}`) are passed."""
    numbers, number, position = [], 0, 0
    while (argument := _XPARSE_ARGUMENT.match(specification, position)) is not None:
        number += 1
        kind = argument.group(1)
        position = argument.end()
        if kind == "m":
            numbers.append(number)
        elif kind in "dDrRtT":  # delimiters (`d<>`, `t*`)
            position += 2 if kind != "t" else 1
        if kind in "ODReE" and specification.startswith("{", position):  # a default value
            close = specification.find("}", position)
            position = len(specification) if close < 0 else close + 1
    return numbers


def _learn(
    learned: dict[str, frozenset[int]],
    name: str,
    body: str,
    *,
    optional_first: bool = False,
    mandatory: list[int] | None = None,
    parameters: int = 0,
) -> None:
    """Which brace groups of a newly defined macro its body cites (none: it cites nothing itself)."""
    if not optional_first and mandatory is None and _DETOKENIZED.search(body):
        learned[name] = _VERBATIM_ARGUMENT
        return
    if 0 < parameters < 10 and not optional_first and "#" not in body.partition("{")[2]:
        learned[name] = frozenset({-parameters})
        return
    # A parameter in the keys of a cite command, or of a macro defined earlier to cite its first group
    # (`\newcommand\mycite[1]{\my@cite{#1}}` after `\def\my@cite#1{\cite{#1}}`).
    numbers = {
        int(m.group(2))
        for m in _CITED_PARAMETER.finditer(body)
        if 0 in learned.get(m.group(1), ()) or syntax.is_cite_command(m.group(1))
    }
    if mandatory is not None:
        groups = frozenset(mandatory.index(n) for n in numbers if n in mandatory)
    else:
        shift = 2 if optional_first else 1
        groups = frozenset(n - shift for n in numbers if n - shift >= 0)
    if groups or syntax.is_cite_command(name) or name in learned:
        learned[name] = groups


def _skip_options(text: str, position: int) -> int:
    while True:
        start = _skip_spaces(text, position)
        if not text.startswith("[", start):
            return position
        end = _optional_end(text, start, "]")
        if end < 0:
            return position
        position = end + 1


def _skip_false_branch(text: str, position: int, conditionals: frozenset[str] | set[str]) -> int:
    """Past an \\iffalse block to its \\else or \\fi, counting the conditionals nested in it."""
    depth = 0
    for match in _CONDITIONAL.finditer(text, position):
        if match.group(3):
            depth += match.group(3) in conditionals
        elif depth == 0:
            return match.end()
        elif match.group(1):
            depth -= 1
    return len(text)
