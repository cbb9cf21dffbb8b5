"""Where the cursor is: inside a citation or not, what was typed of a key, and the text around it.

Everything here is a pure function of (text, offset), so it is tested without a server. Scans are
bounded to a window around the cursor, so a 10 MB document costs no more than a short one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.documents import syntax
from core.documents.latex_scan import key_list
from core.query import CitingContext

# How far back a citation's opening may be from the cursor (a long key list over several lines).
_CITE_WINDOW = 2000
# How much text around the citation is read for its sentence and paragraph.
_CONTEXT_WINDOW = 3000
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:al|e\.g|i\.e|cf|vs|etc|Fig|Figs|Eq|Eqs|Sec|Ch|Tab|No|Vol|pp|resp|approx|ca|viz|Dr|Prof|Mr|Ms)|\b[A-Z])\.$"
)


@dataclass(frozen=True)
class CiteSite:
    """A citation under the cursor."""

    language: str
    command: str  # \citep → "citep"; "pandoc" or "myst" in Markdown
    prefix: str  # what was typed of the current key
    replace_start: int  # offset where the current key begins
    replace_end: int  # offset where it ends (the cursor, or later if the cursor is mid-key)
    cite_start: int  # offset of the whole citation's start (backslash, `[`, `@` or `{cite`)
    cite_end: int  # offset just past the citation, as far as it is written
    present_keys: tuple[str, ...] = field(default=())  # other keys already in this citation


# --- shared helpers -----------------------------------------------------------------------------


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


# --- LaTeX ----------------------------------------------------------------------------------------


def _in_latex_comment(text: str, offset: int) -> bool:
    line = text[_line_start(text, offset) : offset]
    return re.search(r"(?<!\\)%", line) is not None


# Any verbatim environment's \begin or \end, in one pass over the window: a search per name (17
# names) took 1.7 ms near the end of a 1 MB document, this 0.16 ms.
_VERBATIM_MARK = re.compile(
    r"\\(begin|end)\{(" + "|".join(re.escape(name) for name in syntax.VERBATIM_ENVIRONMENTS) + r")\}"
)


def _in_verbatim(text: str, offset: int) -> bool:
    last: dict[tuple[str, str], int] = {}
    for mark in _VERBATIM_MARK.finditer(text, max(0, offset - 200_000), offset):
        last[mark.group(1), mark.group(2)] = mark.start()
    return any(last.get(("end", name), -1) < begun for (side, name), begun in last.items() if side == "begin")


def _in_inline_math(text: str, offset: int) -> bool:
    line = text[_line_start(text, offset) : offset]
    line = line.replace(r"\$", "")
    return line.count("$") % 2 == 1 or line.rfind(r"\(") > line.rfind(r"\)")


def _skip_back_argument(text: str, end: int) -> int | None:
    """Given `end` just past a `]`, `>`, `)` or `}`, the offset of its opening bracket."""
    closing = text[end - 1]
    opening = {"]": "[", ">": "<", ")": "(", "}": "{"}[closing]
    depth = 0
    for index in range(end - 1, max(-1, end - 1 - _CITE_WINDOW), -1):
        char = text[index]
        if char == closing:
            depth += 1
        elif char == opening:
            depth -= 1
            if depth == 0:
                return index
    return None


def latex_cite_at(text: str, offset: int) -> CiteSite | None:
    """The LaTeX citation whose key list holds the cursor, e.g. `\\citep[see][p.~3]{smith20, |`."""
    window_start = max(0, offset - _CITE_WINDOW)
    # The innermost brace group still open at the cursor.
    depth = 0
    group_start = None
    for index in range(offset - 1, window_start - 1, -1):
        char = text[index]
        if char in "{}" and index > 0 and text[index - 1] == "\\":
            continue
        if char == "}":
            depth += 1
        elif char == "{":
            if depth == 0:
                group_start = index
                break
            depth -= 1
        elif char == "\n" and index + 1 < len(text) and text[index + 1] == "\n":
            return None  # a paragraph break: no citation spans one
    if group_start is None:
        return None
    # Walk back over earlier arguments to the command: [..] <..> (..) {..} and spaces, counting groups.
    position = group_start
    groups_before = 0
    while position > window_start:
        previous = text[position - 1]
        if previous in " \t\n*":
            position -= 1
        elif previous in "]>)}":
            opening = _skip_back_argument(text, position)
            if opening is None:
                return None
            groups_before += previous == "}"
            position = opening
        else:
            break
    command_match = re.search(r"\\([A-Za-z]+)$", text[max(window_start, position - 40) : position])
    if not command_match or not syntax.is_cite_command(command_match.group(1)):
        return None
    command = command_match.group(1)
    first, last = syntax.key_groups(command)
    if groups_before < first or (last is not None and groups_before > last):
        return None
    cite_start = position - len(command_match.group(0))
    if _in_latex_comment(text, offset) or _in_verbatim(text, cite_start) or _in_inline_math(text, cite_start):
        return None
    # The group's keys as the scanner reads them: the list ends at its `}` or where it stops being
    # a key list (a blank line, a brace, a backslash, two words with no comma), so completion and
    # diagnostics agree on which keys a citation holds and where it ends.
    keys, list_end, closed = key_list(text, group_start)
    # The list may stop at the start of the spaces holding the cursor; past them, or past a blank
    # line, the cursor is in prose, not in a key.
    gap = text[list_end:offset]
    if gap.strip() or gap.count("\n") > 1:
        return None
    key_start = max(text.rfind(",", group_start, offset), group_start) + 1
    while key_start < offset and text[key_start].isspace():
        key_start += 1
    key_end = offset
    while key_end < len(text) and syntax.LATEX_KEY_CHARS.match(text[key_end]):
        key_end += 1
    # An unfinished list holds the keys a comma follows (the scanner's rule), the one typed aside.
    present = tuple(k.key for k in keys if k.end < key_start or k.start > key_end)
    cite_end = list_end + 1 if closed else max([key_end, *(k.end for k in keys)])
    return CiteSite(
        language=syntax.LATEX,
        command=command,
        prefix=text[key_start:offset],
        replace_start=key_start,
        replace_end=key_end,
        cite_start=cite_start,
        cite_end=cite_end,
        present_keys=present,
    )


# --- Markdown (Pandoc, Quarto, MyST) -----------------------------------------------------------


def _in_code(text: str, offset: int) -> bool:
    """Inside a fenced block or an inline code span."""
    window_start = max(0, offset - 200_000)
    fences = re.findall(r"(?m)^\s{0,3}(```|~~~)", text[window_start:offset])
    if len(fences) % 2 == 1:
        return True
    line = text[_line_start(text, offset) : offset]
    return line.count("`") % 2 == 1


def _myst_cite_at(text: str, offset: int) -> CiteSite | None:
    """`{cite:p}`key1,key2`` with the cursor inside the backticks."""
    line_start = _line_start(text, offset)
    line = text[line_start:offset]
    role = None
    for match in re.finditer(r"\{cite(?::([a-z]+))?\}`", line):
        if "`" not in line[match.end() :]:
            role = match
    if role is None:
        return None
    content_start = line_start + role.end()
    key_start = max(text.rfind(",", content_start, offset), content_start - 1) + 1
    while key_start < offset and text[key_start].isspace():
        key_start += 1
    close = text.find("`", offset)
    closed = close >= 0 and "\n" not in text[offset:close]
    close = close if closed else offset
    key_end = offset
    while key_end < close and text[key_end] not in ", ":
        key_end += 1
    present = [k.strip() for k in (text[content_start:key_start] + "," + text[key_end:close]).split(",")]
    return CiteSite(
        language=syntax.MARKDOWN,
        command="myst",
        prefix=text[key_start:offset],
        replace_start=key_start,
        replace_end=key_end,
        cite_start=line_start + role.start(),
        cite_end=close + 1 if closed else close,
        present_keys=tuple(k for k in present if k),
    )


def _bracket_bounds(text: str, at: int) -> tuple[int, int] | None:
    """The `[` … `]` on this line around offset `at`, if the `@` is inside one."""
    line_start = _line_start(text, at)
    open_index = text.rfind("[", line_start, at)
    if open_index < 0 or text.rfind("]", open_index, at) >= 0:
        return None
    line_end = text.find("\n", at)
    line_end = len(text) if line_end < 0 else line_end
    close_index = text.find("]", at, line_end)
    return open_index, (close_index + 1 if close_index >= 0 else line_end)


def markdown_cite_at(text: str, offset: int) -> CiteSite | None:
    """Pandoc/Quarto `[@key]`, `[-@key]`, `[see @a; @b, p. 3]`, bare `@key`, `@{key}`; MyST roles."""
    if _in_code(text, offset):
        return _myst_cite_at(text, offset)
    myst = _myst_cite_at(text, offset)
    if myst:
        return myst
    # Back over the key being typed to its `@` (or `@{`).
    key_start = offset
    braced = False
    brace = text.rfind("@{", max(0, offset - 200), offset)
    if brace >= 0 and "}" not in text[brace:offset] and "\n" not in text[brace:offset]:
        braced, key_start = True, brace + 2
    else:
        while key_start > 0 and syntax.PANDOC_KEY_CHARS.match(text[key_start - 1]):
            key_start -= 1
    at = key_start - (2 if braced else 1)
    if at < 0 or text[at] != "@":
        return None
    before_at = text[at - 1] if at > 0 else ""
    if before_at and (before_at.isalnum() or before_at in "._+"):
        return None  # an e-mail address: name@example.org
    prefix = text[key_start:offset]
    if syntax.QUARTO_CROSSREF.match(prefix):
        return None
    cite_start = at - 1 if before_at == "-" else at
    key_end = offset
    if braced:
        close = text.find("}", offset)
        key_end = close if close >= 0 and "\n" not in text[offset:close] else offset
    else:
        while key_end < len(text) and syntax.PANDOC_KEY_CHARS.match(text[key_end]):
            key_end += 1
    present: tuple[str, ...] = ()
    cite_end = key_end + (1 if braced else 0)
    bounds = _bracket_bounds(text, at)
    if bounds:
        cite_start, cite_end = bounds
        others = re.findall(r"-?@\{?(" + syntax.PANDOC_KEY + r")", text[cite_start:cite_end])
        present = tuple(k for k in others if k != text[key_start:key_end])
    return CiteSite(
        language=syntax.MARKDOWN,
        command="pandoc",
        prefix=prefix,
        replace_start=key_start,
        replace_end=key_end,
        cite_start=cite_start,
        cite_end=cite_end,
        present_keys=present,
    )


def cite_site_at(text: str, offset: int, language: str) -> CiteSite | None:
    offset = min(max(offset, 0), len(text))
    if language == syntax.LATEX:
        return latex_cite_at(text, offset)
    if language == syntax.MARKDOWN:
        return markdown_cite_at(text, offset)
    return None


# --- the text around a citation ---------------------------------------------------------------


def _ends_sentence(text: str, index: int, floor: int) -> bool:
    """A full stop (or ! ?) followed by a space, not closing an abbreviation such as "et al."."""
    return (
        text[index] in ".!?"
        and (index + 1 >= len(text) or text[index + 1].isspace())
        and not _ABBREVIATIONS.search(text[max(floor, index - 8) : index + 1])
    )


def _sentence_start(text: str, end: int, floor: int) -> int:
    """Where the sentence containing `end` begins (not before `floor`)."""
    index = end
    while index > floor:
        index -= 1
        char = text[index]
        if char == "\n" and text[index - 1 : index] == "\n":
            return index + 1
        if _ends_sentence(text, index, floor):
            return index + 1
    return floor


def _sentence_end(text: str, start: int, ceiling: int) -> int:
    index = start
    while index < ceiling:
        char = text[index]
        if char == "\n" and text[index + 1 : index + 2] == "\n":
            return index
        if _ends_sentence(text, index, 0):
            return index + 1
        index += 1
    return ceiling


def _paragraph(text: str, start: int, end: int, floor: int, ceiling: int) -> str:
    begin = text.rfind("\n\n", floor, start)
    finish = text.find("\n\n", end, ceiling)
    return text[(begin + 2 if begin >= 0 else floor) : (finish if finish >= 0 else ceiling)]


_LATEX_TITLE = re.compile(r"\\title\s*(?:\[[^\]]*\])?\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_YAML_TITLE = re.compile(r"\A---\s*\n(?:.*\n)*?title:\s*[\"']?(.+?)[\"']?\s*\n(?:.*\n)*?---", re.MULTILINE)
_MD_HEADING = re.compile(r"(?m)^#\s+(.+)$")


def document_title(text: str, language: str) -> str:
    head = text[:20_000]
    if language == syntax.LATEX:
        match = _LATEX_TITLE.search(head)
        return match.group(1) if match else ""
    match = _YAML_TITLE.search(head) or _MD_HEADING.search(head)
    return match.group(1).strip() if match else ""


def citing_context(text: str, site: CiteSite, window: int = _CONTEXT_WINDOW) -> CitingContext:
    """The sentence before the citation, the rest of its sentence after it, the paragraph, the title."""
    floor = max(0, site.cite_start - window)
    ceiling = min(len(text), site.cite_end + window)
    before_start = _sentence_start(text, site.cite_start, floor)
    before = text[before_start : site.cite_start]
    after = ""
    after_start = min(site.cite_end, len(text))
    # If the citation ends its sentence, the words after it belong to the next one: skip them.
    if not re.match(r"\s*(?:[.!?](?:\s|$)|\n\n|$)", text[after_start : after_start + 3]):
        after = text[after_start : _sentence_end(text, after_start, ceiling)]
    paragraph = _paragraph(text, before_start, after_start, floor, ceiling)
    return CitingContext(
        before=before.strip(),
        after=after.strip(),
        paragraph=paragraph,
        title=document_title(text, site.language),
    )


@dataclass(frozen=True)
class SentenceSite:
    """A sentence under the cursor, and where a citation for it would go."""

    start: int
    end: int
    insert_at: int  # before the closing full stop, or after the last word
    context: CitingContext


def sentence_at(text: str, offset: int, language: str, window: int = _CONTEXT_WINDOW) -> SentenceSite | None:
    """The prose sentence around `offset`; None in comments, verbatim, math, code or front matter."""
    offset = min(max(offset, 0), len(text))
    if language == syntax.LATEX:
        if _in_latex_comment(text, offset) or _in_verbatim(text, offset) or _in_inline_math(text, offset):
            return None
    elif _in_code(text, offset) or (text.startswith("---") and offset < text.find("\n---", 3) + 4):
        return None
    floor, ceiling = max(0, offset - window), min(len(text), offset + window)
    start = _sentence_start(text, offset, floor)
    end = _sentence_end(text, offset, ceiling)
    sentence = text[start:end]
    stripped = sentence.strip()
    if not stripped:
        return None
    start += len(sentence) - len(sentence.lstrip())
    end = start + len(stripped)
    insert_at = end - 1 if stripped[-1] in ".!?" else end
    context = CitingContext(
        before=text[start:insert_at],
        paragraph=_paragraph(text, start, insert_at, floor, ceiling),
        title=document_title(text, language),
    )
    return SentenceSite(start, end, insert_at, context)
