"""Cite keys: what users type and documents keep, so once given they never change."""

from __future__ import annotations

import itertools
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

from core.records import Paper, fold

# Words Better BibTeX skips when it picks the title word of `authorYEARword`.
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "of",
        "on",
        "in",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "without",
        "via",
        "into",
        "onto",
        "over",
        "under",
        "is",
        "are",
        "be",
        "can",
        "do",
        "does",
        "not",
        "yet",
        "all",
        "also",
        "as",
        "its",
        "it",
        "this",
        "that",
        "these",
        "those",
        "how",
        "what",
        "when",
        "why",
        "towards",
        "toward",
        "through",
        "about",
        "your",
        "our",
        "their",
    ]
)
_KEY_SAFE = re.compile(r"[^A-Za-z0-9_:./+-]")
_MAX_NAME_LENGTH = 20


def _title_words(title: str) -> list[str]:
    return [w for w in fold(title).split() if w not in _FUNCTION_WORDS]


def _join_words(words: list[str]) -> str:
    """Up to three words, stopping before the key grows past `_MAX_NAME_LENGTH`."""
    name = ""
    for word in words[:3]:
        if name and len(name) + len(word) > _MAX_NAME_LENGTH:
            break
        name += word
    return name[: _MAX_NAME_LENGTH + 8]


def short_name(paper: Paper) -> str:
    """`triforce` for "TriForce: Lossless …", `relay` for an abstract introducing RELAY."""
    title = paper.title.rstrip("…")
    if not paper.title_derived and ":" in title:
        head = fold(title.split(":", 1)[0]).split()
        if 0 < len(head) <= 3:
            return "".join(head)
    return _join_words(_title_words(title)) or "paper"


def base_key(paper: Paper) -> str:
    """Better BibTeX's `authorYEARword` when author and year are known, else a short name."""
    author = fold(paper.first_author_surname).replace(" ", "")
    if author and paper.year:
        words = _title_words(paper.title) if not paper.title_derived else []
        return f"{author}{paper.year}{words[0] if words else ''}"
    return short_name(paper)


def clean_source_key(key: str) -> str:
    """A key from a source, made safe to type inside `\\cite{…}` and `[@…]`."""
    return _KEY_SAFE.sub("", key.strip())


def suffixes() -> Iterator[str]:
    """'', 'a' … 'z', 'aa' … 'zz', …: the clash suffixes, in order."""
    yield ""
    for width in itertools.count(1):
        yield from map("".join, itertools.product(string.ascii_lowercase, repeat=width))


def unique_key(base: str, is_taken: Callable[[str], bool]) -> str:
    for suffix in suffixes():
        if not is_taken(base + suffix):
            return base + suffix
    raise AssertionError("unreachable: suffixes never run out")


def clashing_keys(
    wanted: Sequence[str],
    stored_among: Callable[[Iterable[str]], set[str]],
    stored_with_prefix: Callable[[str], set[str]],
) -> set[str]:
    """The stored keys that `unique_key` could meet while keying a batch that wants `wanted`.

    One lookup finds the wanted keys already stored; a name stored already or wanted twice then
    brings every stored key it begins, in one range scan of the key index. (Probing its first
    suffixes one by one instead cost three times as long into a store of a million papers.)
    """
    counts = Counter(wanted)
    stored = stored_among(counts)
    for base, count in counts.items():
        if count > 1 or base in stored:
            stored |= stored_with_prefix(base)
    return stored
