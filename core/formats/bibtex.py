"""BibTeX and BibLaTeX files, read with bibtexparser 2.x."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from sys import intern

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from core.latex import latex_to_text
from core.records import Paper, ParseFailure, normalize_arxiv_id, normalize_doi

_MAIN_FIELDS = {
    "title", "abstract", "author", "editor", "year", "date", "journal", "journaltitle",
    "booktitle", "doi", "url", "eprint", "archiveprefix", "eprinttype", "keywords",
}  # fmt: skip
# Names, venues, entry types and short field values repeat across a bibliography: one copy of each
# (interned; freed with the last paper naming it) rather than one per entry. A 100,000-entry .bib
# held in the language server: its papers 281 → 178 MB, measured 2026-12-07.
_SHARED_LENGTH = 64
# Fields worth carrying to an export; the rest (file paths, timestamps, …) are noise.
_KEPT_FIELDS = {
    "pages", "volume", "number", "publisher", "address", "isbn", "issn", "month", "series",
    "edition", "note", "location", "numpages", "articleno", "organization", "school",
    "institution", "howpublished", "primaryclass", "editor",
}  # fmt: skip
# bibtexparser logs each broken block; we report them ourselves, with file and line.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")


def _split_at_depth_zero(value: str, separator: re.Pattern[str]) -> list[str]:
    """`value` cut at each `separator` outside braces."""
    parts, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|" + separator.pattern, value, separator.flags):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(value[start : match.start()])
            start = match.end()
    parts.append(value[start:])
    return parts


_NAME_SEPARATOR = re.compile(r"\s+and\s+", re.IGNORECASE)


def split_names(value: str) -> list[str]:
    """Split a BibTeX name list on `and` at brace depth 0 (so `{Barnes and Noble}` stays whole)."""
    names = (latex_to_text(name) for name in _split_at_depth_zero(value, _NAME_SEPARATOR))
    return [n for n in names if n and n.lower() != "others"]


def split_keywords(value: str) -> tuple[str, ...]:
    """Keywords separated by `;` (if any) or `,`, outside braces (`{Smith, J.}` is one keyword)."""
    semicolon = _split_at_depth_zero(value, re.compile(";"))
    parts = semicolon if len(semicolon) > 1 else _split_at_depth_zero(value, re.compile(","))
    return tuple(k for k in (latex_to_text(part) for part in parts) if k)


def _verbatim(value: str) -> str:
    """An identifier (DOI) as written in a .bib: `\\_` and the like unescaped, braces dropped,
    but no LaTeX read into it (`--` in a DOI is two hyphens)."""
    return re.sub(r"\\([_%&#$~^])", r"\1", value).replace("{", "").replace("}", "").strip()


def _shared(value: str) -> str:
    """A short value one copy of which serves every entry (`month`'s, `publisher`'s)."""
    return intern(value) if len(value) <= _SHARED_LENGTH else value


def entry_to_paper(entry: Entry, path: str) -> Paper | ParseFailure:
    fields = {f.key.lower(): str(f.value) for f in entry.fields}
    return fields_to_paper(entry.entry_type, entry.key, fields, path, (entry.start_line or 0) + 1)


def fields_to_paper(
    entry_type: str, key: str, fields: dict[str, str], path: str, line: int
) -> Paper | ParseFailure:
    """A paper from an entry's fields (names in lower case, values as written between the braces)."""
    title = latex_to_text(fields.get("title", ""))
    if not title:
        return ParseFailure(path, line, f"entry {key!r} has no title")
    year_match = _YEAR.search(fields.get("year", "") or fields.get("date", ""))
    arxiv_id = ""
    if fields.get("archiveprefix", fields.get("eprinttype", "")).lower() == "arxiv":
        arxiv_id = normalize_arxiv_id(fields.get("eprint", ""))
    venue = fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle") or ""
    return Paper(
        key=key.strip(),
        title=title,
        abstract=latex_to_text(fields.get("abstract", "")),
        authors=tuple(
            intern(name) for name in split_names(fields.get("author", "") or fields.get("editor", ""))
        ),
        year=int(year_match.group(1)) if year_match else None,
        venue=intern(latex_to_text(venue)),
        doi=normalize_doi(_verbatim(fields.get("doi", ""))),
        url=fields.get("url", "").strip(),
        arxiv_id=arxiv_id,
        keywords=split_keywords(fields.get("keywords", "")),
        entry_type=intern(entry_type.lower()),
        extra=tuple(
            (intern(name), _shared(latex_to_text(value)))
            for name, value in fields.items()
            if name in _KEPT_FIELDS and name not in _MAIN_FIELDS and value.strip()
        ),
        origin=f"{path}:{line}",
        format="bibtex",
    )


def _failure_reason(block: ParsingFailedBlock) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"duplicate key {block.key!r}; the first entry with it is kept"
    reason = getattr(block.error, "abort_reason", "") or str(block.error)
    return " ".join(reason.split()) or "syntax error"


# --- a fast path for well-formed entries -------------------------------------------------------
# Most files (exports of ACM, Zotero, Google Scholar) hold plain `name = {value}` entries. They are
# read with regular expressions (a bare word such as `month = may` is kept as the word, as bibtexparser
# keeps it); anything else (@string macros, `#` concatenation, deep nesting,
# syntax errors) goes to bibtexparser, whose results the fast path is tested to reproduce exactly.

_ENTRY_START = re.compile(r"^[ \t]*@", re.MULTILINE)
_HEADER = re.compile(r"@([A-Za-z]+)\s*\{\s*([^,\s{}]+)\s*,")


def _braced(depth: int) -> str:
    """A brace group nested up to `depth` deep, as an unrolled loop: no backtracking blow-up."""
    inner = r"\{[^{}]*\}"
    for _ in range(depth - 1):
        inner = r"\{[^{}]*(?:" + inner + r"[^{}]*)*\}"
    return inner


_BRACED = _braced(4)
_FIELD = re.compile(
    r"\s*([A-Za-z][\w:.+-]*)\s*=\s*(?:"
    + _BRACED
    + r'|"((?:[^"\\{}]|\\.|'
    + _BRACED
    + r')*)"|(\d+|[A-Za-z][\w-]*))\s*(,|(?=\}))'
)
_END = re.compile(r"\s*\}\s*$")
_NOT_ENTRIES = {"comment", "preamble", "string"}


def _fast_fields(chunk: str, start: int) -> dict[str, str] | None:
    """name → value for a chunk holding exactly one plain entry, or None if it is anything else."""
    fields: dict[str, str] = {}
    position = start
    while True:
        match = _FIELD.match(chunk, position)
        if match is None:
            break
        name = match.group(1)
        if name.lower() in fields:
            return None  # bibtexparser's rules for repeated fields apply
        raw = match.group(0)
        if match.group(3) is not None:
            value = match.group(3)
        elif match.group(2) is not None:
            value = match.group(2)
        else:
            value = raw[raw.index("=") + 1 :].strip().rstrip(",").strip()[1:-1]
        fields[name.lower()] = value
        position = match.end()
    return fields if _END.match(chunk, position) else None


def _chunks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each `@…` block."""
    starts = [m.start() for m in _ENTRY_START.finditer(text)]
    chunks, line = [], 1 + text.count("\n", 0, starts[0]) if starts else 1
    for index, begin in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        chunks.append((line, text[begin:end]))
        line += text.count("\n", begin, end)
    return chunks


def parse_bibtex_fully(text: str, path: str) -> Iterator[Paper | ParseFailure]:
    """Every entry through bibtexparser: the reference the fast path is held to."""
    library = bibtexparser.parse_string(text)
    for entry in library.entries:
        yield entry_to_paper(entry, path)
    for block in library.failed_blocks:
        yield ParseFailure(path, (block.start_line or 0) + 1, _failure_reason(block))


# What an entry's text was read as, by a digest of that text: a file read again after an edit
# reuses every entry whose text is unchanged (a digest, not the text, so that the memo of a 77 MB
# file does not keep a second copy of it).
EntryMemo = dict[bytes, Paper | ParseFailure]
# How many entries are read between two progress reports.
PROGRESS_EVERY = 2000


def _digest(chunk: str) -> bytes:
    return hashlib.blake2b(chunk.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _at_line(item: Paper | ParseFailure, path: str, line: int) -> Paper | ParseFailure:
    """A remembered entry where it is now (an edit above it moves it)."""
    if isinstance(item, ParseFailure):
        return item if item.line == line else ParseFailure(path, line, item.reason)
    origin = f"{path}:{line}"
    return item if item.origin == origin else item.replace(origin=origin)


def _fast_parse(
    text: str,
    path: str,
    known: EntryMemo | None = None,
    memo: EntryMemo | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Paper | ParseFailure] | None:
    """Every block read by the fast path, or None as soon as one needs the full parser.

    An entry whose text is in `known` (the memo of an earlier reading) is taken from there; each
    entry read goes into `memo`. `progress(done, total)` is told every PROGRESS_EVERY blocks."""
    if re.search(r"@string\s*[{(]", text, re.IGNORECASE):
        return None  # macros; `#` concatenation fails the field pattern below
    items: list[Paper | ParseFailure] = []
    seen: set[str] = set()
    chunks = _chunks(text)
    for number, (line, chunk) in enumerate(chunks):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number, len(chunks))
        body = chunk.lstrip()
        header = _HEADER.match(body)
        if header is None:
            if body[1:].split("{", 1)[0].strip().lower() in _NOT_ENTRIES:
                continue
            return None
        entry_type, key = header.group(1), header.group(2)
        if entry_type.lower() in _NOT_ENTRIES:
            continue
        digest = _digest(body) if memo is not None else b""
        item = known.get(digest) if known else None
        if item is None:
            fields = _fast_fields(body, header.end())
            if fields is None:
                return None
            item = fields_to_paper(entry_type, key, fields, path, line)
        else:
            item = _at_line(item, path, line)
        if memo is not None:
            memo[digest] = item
        if key in seen:
            items.append(ParseFailure(path, line, f"duplicate key {key!r}; the first entry with it is kept"))
            continue
        seen.add(key)
        items.append(item)
    if progress is not None:
        progress(len(chunks), len(chunks))
    return items


def parse_bibtex(text: str, path: str) -> Iterator[Paper | ParseFailure]:
    fast = _fast_parse(text, path)
    yield from fast if fast is not None else parse_bibtex_fully(text, path)


def parse_bibtex_again(
    text: str,
    path: str,
    known: EntryMemo | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Paper | ParseFailure], EntryMemo]:
    """The entries of `text`, as `parse_bibtex` reads them, and the memo that lets the next
    reading of the same file re-read only the entries that changed (`known`, this one's memo).

    A file that needs the full parser (macros, syntax errors) is read whole, and its memo is empty."""
    memo: EntryMemo = {}
    fast = _fast_parse(text, path, known, memo, progress)
    if fast is not None:
        return fast, memo
    return list(parse_bibtex_fully(text, path)), {}


def looks_like_bibtex(head: str) -> bool:
    return re.search(r"^\s*@[A-Za-z]+\s*[{(]", head, re.MULTILINE) is not None
