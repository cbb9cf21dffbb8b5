"""Papers as BibTeX entries that parse back to the same fields, whatever the fields hold.

Every BibTeX papercite writes (`papercite show --bibtex`, the Slack bot's BibTeX button, the
language server's entry pages and its writes to a `.bib`) comes from `to_bibtex`, so one place
decides what may reach a file. A value can never end its field or start another entry:

- text fields (title, authors, abstract, venue, keywords, other fields) become one line of plain
  text (`plain_text`: runs of white space one space, control characters dropped), then every
  character LaTeX or BibTeX reads as structure is written as a command: `{ }` as
  `\\textbraceleft{}`/`\\textbraceright{}` (so every brace in the file is one papercite opened and
  closed), `\\` as `\\textbackslash{}`, `@` as `\\symbol{64}`, `< >` as `\\textless{}`/`\\textgreater{}`,
  `& % $ # _` with a backslash, `~ ^` as `\\textasciitilde{}`/`\\textasciicircum{}`, and `--`, `` ``
  `` and `''` split by `{}` so they stay two characters instead of a dash or a quote;
- a URL is written only when it is `http`, `https` or `ftp`, a DOI only when it is `10.NNNN/…`, and
  both are percent-encoded wherever they hold white space, a non-ASCII or control character,
  ``{ } \\ " @ < > ^ ` |`` (and, in a DOI, `%` and `#`): decoded, they are the value given;
- an arXiv id is written only when it has the shape of one; the key must be one `clean_source_key`
  keeps, the entry type letters only (else `misc`), other field names a plain identifier.

Read back with bibtexparser and papercite's BibTeX reader, a text field gives `plain_text` of what
was given, a URL or DOI gives the value given once percent-decoded (tests/core/test_export.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.keys import clean_source_key
from core.records import Paper, PaperciteError, normalize_doi


class UnexportableKey(PaperciteError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"the key {key!r} cannot be written to BibTeX (white space or a special character)")


# LaTeX's and BibTeX's special characters, each written as something that reads back as itself.
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "@": r"\symbol{64}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL = re.compile(r"[\\{}@<>&%$#_~^]|-(?=-)|`(?=`)|'(?=')")
# C0 and C1 control characters that are not white space, and lone surrogates.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
_AND_WORD = re.compile(r"(?:^|\s)and(?:\s|$)", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"[,;]")

_NAME_ORDER = ("author", "title", "journal", "booktitle", "year", "doi", "url", "eprint", "archiveprefix")
_ENTRY_TYPE = re.compile(r"[A-Za-z]+")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_:.+-]*")
_ARXIV_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z-]+)?/\d{7})(?:v\d+)?", re.IGNORECASE)
_URL_SCHEME = re.compile(r"(?:https?|ftp)://\S", re.IGNORECASE)
_DOI = re.compile(r"10\.\d{4,9}/.", re.DOTALL)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def plain_text(value: str) -> str:
    """What a text field reads back as: one line, white space runs made one space, control
    characters dropped (a lone surrogate, which no file can hold, becomes U+FFFD)."""
    if _UNPRINTABLE.search(value):
        value = _UNPRINTABLE.sub(lambda m: "\ufffd" if m.group(0) >= "\ud800" else "", value)
    return " ".join(value.split())


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or char + "{}"


def escape_text(value: str) -> str:
    """A text value as BibTeX that reads back as `plain_text(value)`."""
    return _SPECIAL.sub(_escape_char, plain_text(value))


def _name(name: str) -> str:
    """One author: braced when it holds the word `and`, which would otherwise split it in two."""
    escaped = escape_text(name)
    return "{" + escaped + "}" if _AND_WORD.search(escaped) else escaped


def _list_item(item: str) -> str:
    """One keyword: braced when it holds a list separator."""
    escaped = escape_text(item)
    return "{" + escaped + "}" if _LIST_SEPARATOR.search(escaped) else escaped


def _percent_encode(value: str, keep: Callable[[str], bool]) -> str:
    return "".join(
        char if keep(char) else "".join(f"%{byte:02X}" for byte in char.encode("utf-8")) for char in value
    )


# Printable ASCII that neither BibTeX nor LaTeX's \url reads as structure.
_URL_SAFE = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('{}\\"@<>^`|')
_DOI_SAFE = _URL_SAFE - set("%#")


def _identifier(value: str) -> str:
    """A URL or DOI as given, without surrounding white space (a lone surrogate becomes U+FFFD)."""
    value = value.strip()
    return _SURROGATE.sub("\ufffd", value)


def export_url(url: str) -> str:
    """The URL as written to BibTeX, or "" when it is not an http(s)/ftp URL."""
    url = _identifier(url)
    if not _URL_SCHEME.match(url):
        return ""
    # A `%` that starts an escape stays; any other is itself encoded.
    escapes = {m.start() for m in _PERCENT_ESCAPE.finditer(url)}
    return "".join(
        char if char in _URL_SAFE and (char != "%" or index in escapes) else _percent_encode(char, _never)
        for index, char in enumerate(url)
    )


def _never(_: str) -> bool:
    return False


def export_doi(doi: str) -> str:
    """The DOI as written to BibTeX, or "" when it is not a DOI (`10.NNNN/suffix`)."""
    doi = normalize_doi(_identifier(doi))
    if not _DOI.match(doi):
        return ""
    return _percent_encode(doi, _DOI_SAFE.__contains__)


def export_arxiv_id(arxiv_id: str) -> str:
    return arxiv_id.strip() if _ARXIV_ID.fullmatch(arxiv_id.strip()) else ""


def export_key(key: str) -> str:
    """The key, if BibTeX can hold it; UnexportableKey names it otherwise."""
    if not key or clean_source_key(key) != key:
        raise UnexportableKey(key)
    return key


def export_entry_type(entry_type: str) -> str:
    return entry_type if _ENTRY_TYPE.fullmatch(entry_type) else "misc"


def bibtex_comment(text: str) -> str:
    """`% text` on one line, with nothing a BibTeX reader could take for an entry."""
    return "% " + plain_text(text).replace("@", "(at)")


def _venue_field(paper: Paper) -> str:
    return {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle"}.get(
        paper.entry_type.lower(), "howpublished"
    )


def bibtex_fields(paper: Paper) -> list[tuple[str, str]]:
    """(name, value as written between the field's braces) pairs in a conventional order."""
    fields: dict[str, str] = {}
    authors = [name for name in (plain_text(a) for a in paper.authors) if name]
    if authors:
        fields["author"] = " and ".join(_name(a) for a in authors)
    # Double braces keep the title's capitals (BERT, LLMs) from being lower-cased by styles.
    fields["title"] = "{" + escape_text(paper.title) + "}"
    if plain_text(paper.venue):
        fields[_venue_field(paper)] = escape_text(paper.venue)
    if isinstance(paper.year, int) and not isinstance(paper.year, bool):
        fields["year"] = str(paper.year)
    if doi := export_doi(paper.doi):
        fields["doi"] = doi
    if url := export_url(paper.url):
        fields["url"] = url
    if arxiv_id := export_arxiv_id(paper.arxiv_id):
        fields["eprint"] = arxiv_id
        fields["archiveprefix"] = "arXiv"
    for name, value in paper.extra:
        if _FIELD_NAME.fullmatch(name) and plain_text(value):
            fields.setdefault(name.lower(), escape_text(value))
    keywords = [k for k in (plain_text(k) for k in paper.keywords) if k]
    if keywords:
        fields["keywords"] = ", ".join(_list_item(k) for k in keywords)
    if plain_text(paper.abstract):
        fields["abstract"] = escape_text(paper.abstract)
    ordered = [name for name in _NAME_ORDER if name in fields]
    ordered += [name for name in fields if name not in _NAME_ORDER]
    return [(name, fields[name]) for name in ordered]


def _entry(paper: Paper) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in bibtex_fields(paper))
    return f"@{export_entry_type(paper.entry_type)}{{{export_key(paper.key)},\n{body}\n}}\n"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _shortened(paper: Paper, limit: int) -> Paper:
    """The paper with each text value cut to `limit` characters and at most `limit // 20` authors."""
    authors = paper.authors
    if len(authors) > max(limit // 20, 1):
        authors = (*authors[: max(limit // 20, 1)], "others")
    return paper.replace(
        title=_clip(paper.title, limit),
        abstract=_clip(paper.abstract, limit),
        venue=_clip(paper.venue, limit),
        authors=tuple(_clip(a, limit) for a in authors),
        keywords=tuple(_clip(k, limit) for k in paper.keywords[: max(limit // 20, 1)]),
        extra=tuple((name, _clip(value, limit)) for name, value in paper.extra[: max(limit // 20, 1)]),
        url=paper.url if len(paper.url) <= limit else "",
        doi=paper.doi if len(paper.doi) <= limit else "",
    )


def to_bibtex(paper: Paper, *, max_chars: int | None = None) -> str:
    """The paper's BibTeX entry. With `max_chars`, long values are shortened (the abstract first)
    until the entry fits, so a message that must be short still gets a whole, balanced entry."""
    entry = _entry(paper)
    if max_chars is None or len(entry) <= max_chars:
        return entry
    shortened = _entry(paper.replace(abstract=""))
    if len(shortened) <= max_chars:
        room = max_chars - len(shortened) - len("  abstract = {},\n")
        if room > 40:
            clipped = plain_text(paper.abstract)[:room]
            while clipped:
                entry = _entry(paper.replace(abstract=clipped.rstrip() + "…"))
                if len(entry) <= max_chars:
                    return entry
                clipped = clipped[: len(clipped) * 3 // 4]
        return shortened
    limit = 1000
    while limit > 20:
        shortened = _entry(_shortened(paper.replace(abstract=""), limit))
        if len(shortened) <= max_chars:
            break
        limit //= 2
    return shortened
