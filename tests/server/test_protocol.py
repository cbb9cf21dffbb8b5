"""Framing is pure: bytes in, message bodies out, or a FramingError that names the problem."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.protocol import MAX_CONTENT_LENGTH, FrameReader, FramingError, describe_invalid


def frame(body: bytes, headers: bytes = b"") -> bytes:
    return b"Content-Length: %d\r\n%s\r\n%s" % (len(body), headers, body)


def read_all(data: bytes, cuts: list[int] | None = None) -> list[bytes]:
    reader = FrameReader()
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts or [])})
    found: list[bytes] = []
    for start, end in itertools.pairwise(points):
        found.extend(reader.feed(data[start:end]))
    return found


BODIES = st.lists(st.binary(max_size=40), max_size=5)


@settings(max_examples=300, deadline=None)
@given(bodies=BODIES, cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
def test_frames_come_out_whole_however_the_bytes_are_cut(bodies: list[bytes], cuts: list[int]) -> None:
    extra = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
    data = b"".join(frame(body, extra if i % 2 else b"") for i, body in enumerate(bodies))
    assert read_all(data, cuts) == bodies


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"Content-Type: text/plain\r\n\r\n{}", "without a Content-Length header"),
        (b"Content-Length: abc\r\n\r\n{}", "Content-Length is not a number of bytes: 'abc'"),
        (b"Content-Length: -5\r\n\r\n{}", "not a number of bytes: '-5'"),
        (b"Content-Length: 1e3\r\n\r\n{}", "not a number of bytes"),
        (
            b"Content-Length: 1000000000000\r\n\r\n",
            f"more than papercite reads in one message ({MAX_CONTENT_LENGTH})",
        ),
        (b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "two different Content-Length headers"),
        (b"hello world\r\n", "not a message header: 'hello world'"),
        (b'{"jsonrpc": "2.0"}', "not a message header"),  # a body with no header at all
        (b'Content-Length: 2\r\n\r\n{}"id": 1}', "not a message header: '\"id\": 1}'"),  # too short
        (b"X" * 9000, "a header line longer than 8192 bytes"),
        (b"".join(b"X-%d: 1\r\n" % i for i in range(40)), "more than 32 header lines"),
    ],
)
def test_broken_framing_is_named(data: bytes, problem: str) -> None:
    with pytest.raises(FramingError) as raised:
        read_all(data)
    assert problem in str(raised.value)


def test_messages_before_a_broken_frame_still_come_out() -> None:
    reader = FrameReader()
    found = []
    with pytest.raises(FramingError):
        for body in reader.feed(frame(b"{}") + b"nonsense\r\n"):
            found.append(body)
    assert found == [b"{}"]


def test_blank_lines_between_messages_are_skipped_and_a_half_message_is_not_idle() -> None:
    reader = FrameReader()
    assert list(reader.feed(b"\r\n" + frame(b"[]"))) == [b"[]"] and reader.idle
    assert list(reader.feed(b"Content-Length: 10\r\n\r\n{")) == [] and not reader.idle


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_bodies_or_a_framing_error(data: bytes) -> None:
    try:
        read_all(data, [len(data) // 3, len(data) // 2])
    except FramingError as error:
        assert str(error)


def test_invalid_params_are_described_in_the_protocols_names() -> None:
    from lsprotocol import types
    from pygls.protocol import default_converter

    converter = default_converter()
    with pytest.raises(Exception) as raised:
        converter.structure({"position": {"line": -1, "character": 0}}, types.HoverParams)
    described = describe_invalid(raised.value)
    assert "required field missing @ textDocument" in described
    assert "Position.line should be in range [0:2147483647], but was -1 @ position" in described
