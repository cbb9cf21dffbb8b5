"""Every citation key in a document, with where it stands: for hover, diagnostics and references."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server import syntax


@dataclass(frozen=True)
class CitedKey:
    key: str
    start: int
    end: int


_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+)\*?")
_LATEX_COMMENT = re.compile(r"(?<!\\)%[^\n]*")
_BRACKETS = {"[": "]", "(": ")", "<": ">"}


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the given spans replaced by spaces, so offsets stay put."""
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], " " * (end - start)]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _latex_hidden(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _LATEX_COMMENT.finditer(text)]
    for name in syntax.VERBATIM_ENVIRONMENTS:
        pattern = re.compile(rf"\\begin\{{{name}\}}.*?(?:\\end\{{{name}\}}|\Z)", re.DOTALL)
        spans += [m.span() for m in pattern.finditer(text)]
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _keys_in_group(text: str, start: int, end: int) -> list[CitedKey]:
    keys = []
    for match in re.finditer(r"[^,\s]+", text[start:end]):
        keys.append(CitedKey(match.group(0), start + match.start(), start + match.end()))
    return keys


def latex_citations(text: str) -> list[CitedKey]:
    visible = _blank(text, _latex_hidden(text))
    found: list[CitedKey] = []
    for command in _LATEX_COMMAND.finditer(visible):
        name = command.group(1)
        if not syntax.is_cite_command(name):
            continue
        first, last = syntax.key_groups(name)
        position, group = command.end(), 0
        while position < len(visible):
            char = visible[position]
            if char in " \t\n":
                position += 1
            elif (char in _BRACKETS and group == 0) or char == "[":
                close = visible.find(_BRACKETS[char], position)
                if close < 0:
                    break
                position = close + 1
            elif char == "{":
                close = visible.find("}", position)
                close = len(visible) if close < 0 else close
                if group >= first and (last is None or group <= last):
                    found += _keys_in_group(visible, position + 1, close)
                group += 1
                position = close + 1
                if last is not None and group > last:
                    break
            else:
                break
    return found


_FENCE = re.compile(r"(?ms)^[ ]{0,3}(```|~~~).*?(?:^[ ]{0,3}\1|\Z)")
_CODE_SPAN = re.compile(r"(?<!`)`[^`\n]+`(?!`)")
_MYST = re.compile(r"\{cite(?::[a-z]+)?\}`([^`\n]*)`")
_PANDOC = re.compile(r"(?<![\w.+@`])-?@(?:\{([^}\n]+)\}|(" + syntax.PANDOC_KEY + r"))")
_TRAILING_PUNCTUATION = re.compile(r"[:.#$%&\-+?<>~/]+$")


def markdown_citations(text: str) -> list[CitedKey]:
    found: list[CitedKey] = []
    for match in _MYST.finditer(text):
        found += _keys_in_group(text, match.start(1), match.end(1))
    hidden = [m.span() for m in _FENCE.finditer(text)] + [m.span() for m in _CODE_SPAN.finditer(text)]
    hidden += [m.span() for m in _MYST.finditer(text)]
    visible = _blank(text, _merge(hidden))
    for match in _PANDOC.finditer(visible):
        group = 1 if match.group(1) is not None else 2
        key = match.group(group)
        if group == 2:
            key = _TRAILING_PUNCTUATION.sub("", key)
            if not key or syntax.QUARTO_CROSSREF.match(key):
                continue
        start = match.start(group)
        found.append(CitedKey(key, start, start + len(key)))
    return sorted(found, key=lambda c: c.start)


def find_citations(text: str, language: str) -> list[CitedKey]:
    return latex_citations(text) if language == syntax.LATEX else markdown_citations(text)


def citation_at(citations: list[CitedKey], offset: int) -> CitedKey | None:
    """The cited key under the cursor (touching its end counts)."""
    for cited in citations:
        if cited.start <= offset <= cited.end:
            return cited
    return None
