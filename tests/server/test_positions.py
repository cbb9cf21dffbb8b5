from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from server.main import build_server
from server.positions import LineIndex, QuickPositionCodec


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


LINE_TEXT = st.text(alphabet=st.sampled_from(["a", "é", "€", "😀", "\r", "\n", " ", "\u2028"]), max_size=12)


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(LINE_TEXT, min_size=1, max_size=3),
    line=st.integers(0, 4),
    character=st.integers(0, 30),
    encoding=st.sampled_from(list(types.PositionEncodingKind)),
)
def test_the_quick_codec_converts_positions_as_pygls_does(
    lines: list[str], line: int, character: int, encoding: types.PositionEncodingKind
) -> None:
    """The server's codec (no walk over ASCII or BMP lines) agrees with pygls's on every position."""
    lines = [text + "\n" for text in lines[:-1]] + lines[-1:]
    position = types.Position(line=line, character=character)
    quick, reference = QuickPositionCodec(encoding), PositionCodec(encoding)
    assert quick.position_from_client_units(lines, types.Position(line, character)) == (
        reference.position_from_client_units(lines, types.Position(line, character))
    )
    assert quick.position_to_client_units(lines, position) == reference.position_to_client_units(
        lines, position
    )
    assert quick.client_num_units("".join(lines)) == reference.client_num_units("".join(lines))


def test_documents_edited_in_the_server_use_the_quick_codec() -> None:
    """An edit on a 1.6 MB line walked it in Python (1.6 s a keystroke); the server's documents
    convert positions with the quick codec, and an edit on such a line lands where it should."""
    server = build_server(Path("unused"))
    # What pygls does with an initialize request: its own steps, then the server's handler.
    steps = server.protocol.lsp_initialize(types.InitializeParams(capabilities=types.ClientCapabilities()))
    with contextlib.suppress(StopIteration):
        handler, arguments, _ = next(steps)
        while True:
            handler, arguments, _ = steps.send(handler(*arguments))
    line = "\\cite{a} " * 200_000
    uri = "file:///long.tex"
    server.workspace.put_text_document(
        types.TextDocumentItem(uri=uri, language_id="latex", version=1, text=line)
    )
    document = server.workspace.get_text_document(uri)
    assert isinstance(document.position_codec, QuickPositionCodec)
    at = types.Position(line=0, character=len(line) - 1)
    change = types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="x")
    document.apply_change(change)
    assert document.source.endswith("\\cite{a}x ")
