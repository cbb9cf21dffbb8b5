"""LSP positions ↔ offsets in a document, cheap on large documents and tolerant of bad positions.

Clients count characters in UTF-16 code units by default; Python strings count code points. Only the
line at hand is converted, and line starts are indexed once per document version.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from lsprotocol import types

_NEWLINE = re.compile(r"\r\n|\r|\n")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _units(char: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(char.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return 1
    return 2 if ord(char) > 0xFFFF else 1


@dataclass
class LineIndex:
    text: str
    encoding: str = types.PositionEncodingKind.Utf16
    starts: list[int] = field(init=False)
    # Lines whose every character is one code unit, so offsets and characters coincide.
    _simple: dict[int, bool] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]

    def _is_simple(self, line: int) -> bool:
        if self.encoding == types.PositionEncodingKind.Utf32:
            return True
        if line not in self._simple:
            content = self.text[self.starts[line] : self._line_end(line)]
            simple = (
                content.isascii()
                if self.encoding == types.PositionEncodingKind.Utf8
                else not _ASTRAL.search(content)
            )
            self._simple[line] = simple
        return self._simple[line]

    def _line_end(self, line: int) -> int:
        if line + 1 < len(self.starts):
            end = self.starts[line + 1] - 1
            return end - 1 if self.text[end - 1 : end + 1] == "\r\n" else end
        return len(self.text)

    def offset(self, position: types.Position) -> int:
        """The offset of a client position; past the end of a line or file means its end."""
        if position.line >= len(self.starts):
            return len(self.text)
        line = max(position.line, 0)
        start, end = self.starts[line], self._line_end(line)
        if self._is_simple(line):
            return min(start + max(position.character, 0), end)
        units = 0
        index = start
        while index < end and units < position.character:
            units += _units(self.text[index], self.encoding)
            index += 1
        return index

    def position(self, offset: int) -> types.Position:
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        if self._is_simple(line):
            return types.Position(line=line, character=offset - start)
        return types.Position(
            line=line, character=sum(_units(c, self.encoding) for c in self.text[start:offset])
        )

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))
