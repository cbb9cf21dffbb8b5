"""The two plain-text layouts of the embedded seed corpus.

* abstract lines: one `Abstract:<text>` per line, no titles;
* daily-papers page dumps: page chrome (`Get trending papers…`, `Subscribe`, dates), then
  title and abstract as alternating blank-line separated blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.latex import latex_to_text
from core.records import Paper, ParseFailure

ABSTRACT_PREFIX = "Abstract:"
_CHROME = re.compile(
    r"^(?:new|subscribe|get trending papers.*|by\s*ak and the research community|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(?:, \d{4})?|"
    r"\d+ (?:upvotes?|comments?)|submitted by .*)$",
    re.IGNORECASE,
)
# A title is one short line that does not read like prose (prose ends with a full stop).
_MAX_TITLE_CHARS = 300

# "we propose RELAY", "a novel method called OrthoSoftmax", "our framework, named lookahead".
_INTRO = re.compile(
    r"\b(propose|proposes|introduce|introduces|present|presents|called|named|dubbed|termed)\s+"
)
_PLURAL_ACRONYM = re.compile(r"^[A-Z]+s$")  # LLMs, GPUs: a topic, not a method


def looks_like_abstract_lines(text: str) -> bool:
    head = [line for line in text.splitlines()[:5] if line.strip()]
    return bool(head) and all(line.startswith(ABSTRACT_PREFIX) for line in head)


def looks_like_page_dump(text: str) -> bool:
    head = [line.strip() for line in text.splitlines()[:12] if line.strip()]
    return sum(bool(_CHROME.match(line)) for line in head) >= 2


def method_name(abstract: str) -> str:
    """The name of the method an abstract introduces, if it names one (`RELAY`, `TriForce`)."""
    text = latex_to_text(abstract)
    for match in _INTRO.finditer(text):
        explicit = match.group(1) in {"called", "named", "dubbed", "termed"}
        sentence_rest = re.split(r"[.;:]\s", text[match.end() :], maxsplit=1)[0]
        for position, word in enumerate(sentence_rest.split()[:6]):
            name = word.strip("()[],\"'").removesuffix("'s")
            odd_case = sum(c.isupper() for c in name) >= 2 and not _PLURAL_ACRONYM.match(name)
            # A plain word counts only as a one-word name set off by punctuation: "named lookahead,".
            set_off = explicit and position == 0 and word.endswith((",", ")"))
            if len(name) >= 3 and (odd_case or set_off):
                return name
    return ""


def derived_title(abstract: str) -> str:
    """A short stand-in title for an untitled abstract: its method, else its first clause."""
    name = method_name(abstract)
    if name:
        return name
    first = re.split(r"(?<=[.!?])\s", abstract, maxsplit=1)[0].rstrip(".")
    words = first.split()
    return " ".join(words[:10]) + ("…" if len(words) > 10 else "")


def _untitled(abstract: str, path: str, line: int, fmt: str) -> Paper:
    return Paper(
        key="",
        title=derived_title(abstract),
        abstract=abstract,
        title_derived=True,
        origin=f"{path}:{line}",
        format=fmt,
    )


def parse_abstract_lines(text: str, path: str) -> Iterator[Paper | ParseFailure]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if not line.startswith(ABSTRACT_PREFIX):
            yield ParseFailure(path, number, f"expected a line starting with {ABSTRACT_PREFIX!r}")
            continue
        abstract = line[len(ABSTRACT_PREFIX) :].strip()
        if abstract:
            yield _untitled(abstract, path, number, "seed-abstracts")
        else:
            yield ParseFailure(path, number, "empty abstract")


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    """Blank-line separated blocks with the line number each starts on."""
    start, lines = 0, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not lines:
                start = number
            lines.append(line.strip())
        elif lines:
            yield start, " ".join(lines)
            lines = []
    if lines:
        yield start, " ".join(lines)


def _is_title(block: str) -> bool:
    return len(block) <= _MAX_TITLE_CHARS and not block.endswith(".")


def parse_page_dump(text: str, path: str) -> Iterator[Paper | ParseFailure]:
    pending_title: tuple[int, str] | None = None
    for number, block in _blocks(text):
        if _CHROME.match(block):
            continue
        if _is_title(block):
            if pending_title:
                yield ParseFailure(path, pending_title[0], f"title without an abstract: {pending_title[1]!r}")
            pending_title = (number, block)
        elif pending_title:
            yield Paper(
                key="",
                title=pending_title[1],
                abstract=block,
                origin=f"{path}:{pending_title[0]}",
                format="seed-page",
            )
            pending_title = None
        else:
            yield _untitled(block, path, number, "seed-page")
    if pending_title:
        yield ParseFailure(path, pending_title[0], f"title without an abstract: {pending_title[1]!r}")
