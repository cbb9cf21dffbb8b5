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

    def __post_init__(self) -> None:
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]

    def _line_end(self, line: int) -> int:
        if line + 1 < len(self.starts):
            end = self.starts[line + 1] - 1
            return end - 1 if self.text[end - 1 : end + 1] == "\r\n" else end
        return len(self.text)

    def offset(self, position: types.Position) -> int:
        """The offset of a client position; past the end of a line or file means its end."""
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[max(position.line, 0)]
        end = self._line_end(max(position.line, 0))
        if self.encoding == types.PositionEncodingKind.Utf32:
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
        if self.encoding == types.PositionEncodingKind.Utf32:
            return types.Position(line=line, character=offset - start)
        return types.Position(
            line=line, character=sum(_units(c, self.encoding) for c in self.text[start:offset])
        )

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))
