"""LSP positions ↔ offsets in a document, cheap on large documents and tolerant of bad positions.

Clients count characters in UTF-16 code units by default; Python strings count code points. Only the
line at hand is converted, and line starts are indexed once per document version.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition, UnitCounter

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


class _Utf16Units(UnitCounter):
    def code_units_for_char(self, char: str) -> int:
        return 2 if ord(char) > 0xFFFF else 1

    def num_units(self, chars: str) -> int:
        return len(chars.encode("utf-16-le", "surrogatepass")) // 2

    def column_from_utf32(self, line: str, column: int) -> int:
        return self.num_units(line[:column])


class _Utf8Units(UnitCounter):
    def code_units_for_char(self, char: str) -> int:
        return len(char.encode("utf-8", "surrogatepass"))

    def num_units(self, chars: str) -> int:
        return len(chars.encode("utf-8", "surrogatepass"))

    def column_from_utf32(self, line: str, column: int) -> int:
        return self.num_units(line[:column])


class QuickPositionCodec(PositionCodec):
    """pygls's codec, without its walk over a line one character at a time in Python on every edit:
    a 1.6 MB line (200,000 citations on one line) cost 1.6 s a keystroke. A line whose characters
    are one code unit each needs no walk; counting units is done by encoding, in C."""

    def __init__(self, encoding: types.PositionEncodingKind | str | None = types.PositionEncodingKind.Utf16):
        super().__init__(encoding)
        if self.encoding == types.PositionEncodingKind.Utf8:
            self.impl = _Utf8Units()
        elif self.encoding != types.PositionEncodingKind.Utf32:
            self.impl = _Utf16Units()

    def _simple(self, line: str) -> bool:
        if self.encoding == types.PositionEncodingKind.Utf32 or line.isascii():
            return True
        return self.encoding != types.PositionEncodingKind.Utf8 and not _ASTRAL.search(line)

    def position_from_client_units(
        self, lines: Sequence[str], position: types.Position
    ) -> ServerTextPosition:
        if 0 <= position.line < len(lines) and position.character >= 0:
            line = lines[position.line].replace("\r\n", "\n")
            if self._simple(line):
                # As pygls does: a character past the end is the line's last (its newline, if any).
                character = position.character if position.character <= len(line) else len(line) - 1
                return ServerTextPosition(line=position.line, character=max(character, 0))
        return super().position_from_client_units(lines, position)
