from __future__ import annotations

from lsprotocol import types

from server.positions import LineIndex


def test_utf16_positions_count_surrogate_pairs() -> None:
    text = "a😀b\ncd"
    index = LineIndex(text)
    assert index.offset(types.Position(line=0, character=3)) == 2  # after the emoji (2 units)
    assert index.position(2) == types.Position(line=0, character=3)
    assert index.offset(types.Position(line=1, character=1)) == text.index("d")


def test_out_of_range_positions_are_clamped() -> None:
    index = LineIndex("ab\r\ncd")
    assert index.offset(types.Position(line=0, character=50)) == 2
    assert index.offset(types.Position(line=7, character=0)) == len("ab\r\ncd")
    assert index.position(999) == types.Position(line=1, character=2)


def test_utf8_and_utf32() -> None:
    assert LineIndex("é!", types.PositionEncodingKind.Utf8).offset(types.Position(line=0, character=2)) == 1
    assert LineIndex("é!", types.PositionEncodingKind.Utf32).position(1) == types.Position(
        line=0, character=1
    )
