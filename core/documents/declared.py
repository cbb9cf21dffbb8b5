"""What a document says about its bibliography: the files it names and the entries it writes inline.

LaTeX's `\\bibliography`/`\\addbibresource` and `\\bibitem`; Markdown's front matter `bibliography:` and
`references:` (CSL YAML). Offsets are in the document's text, so a face can point at them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from core.documents import syntax
from core.index import MemoryIndex
from core.latex import latex_to_text
from core.records import Paper

_LATEX_RESOURCES = re.compile(
    r"\\(?:bibliography|addbibresource|addglobalbib)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}"
)
_BIBITEM = re.compile(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_BIBITEM_END = re.compile(r"\\bibitem\b|\\end\s*\{thebibliography\}")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_YAML_KEY = re.compile(r"(?m)^(bibliography|references):[ \t]*(.*)$")
_YAML_LIST_ITEM = re.compile(r"[ \t]*-[ \t]*(.+)")
_YAML_FIELD = re.compile(r"(?m)^[ \t]*(?:-[ \t]*)?(id|title):[ \t]*(.+)$")
_YAML_ITEM = re.compile(r"(?m)^([ \t]*)-[ \t]")
# Each named file is looked for, read and watched; a document naming thousands (20,000 took a
# completion 13 s) would stall the server, and no real document names more than a few.
MAX_NAMED = 100
_MAX_INLINE_TITLE = 200


@dataclass(frozen=True)
class Named:
    """A bibliography file as the document names it, and where."""

    name: str
    start: int
    end: int
    bibtex_default: bool  # \bibliography{refs} means refs.bib


@dataclass(frozen=True)
class InlineEntry:
    """An entry written in the document itself: `\\bibitem` or a YAML `references:` item."""

    key: str
    start: int
    end: int
    paper: Paper


@dataclass(frozen=True)
class Declared:
    """What a document's text says about its bibliography."""

    named: tuple[Named, ...] = ()
    inline: tuple[InlineEntry, ...] = ()
    ignored: int = 0  # files named past MAX_NAMED

    @cached_property
    def searchable(self) -> MemoryIndex:
        return MemoryIndex(entry.paper for entry in self.inline)

    @cached_property
    def identities(self) -> dict[str, str]:
        return keys_by_identity(entry.paper for entry in self.inline)


def identities_of(paper: Paper) -> list[str]:
    """What makes two records the same paper: DOI, arXiv id, or title and first author."""
    found = [f"doi:{paper.doi}"] if paper.doi else []
    found += [f"arxiv:{paper.arxiv_id}"] if paper.arxiv_id else []
    return [*found, paper.identity] if paper.title and not paper.title_derived else found


def keys_by_identity(papers: Iterable[Paper]) -> dict[str, str]:
    return {identity: paper.key for paper in papers for identity in identities_of(paper)}


def _strip_quotes(value: str) -> str:
    return value.strip().strip("'\"").strip()


def _latex_declared(text: str) -> Declared:
    named = []
    for match in _LATEX_RESOURCES.finditer(text):
        offset = match.start(1)
        for part in match.group(1).split(","):
            name = part.strip()
            if name:
                start = offset + part.index(name)
                bibtex = not match.group(0).startswith(("\\addbibresource", "\\addglobalbib"))
                named.append(Named(name, start, start + len(name), bibtex))
            offset += len(part) + 1
    inline = []
    for match in _BIBITEM.finditer(text):
        key = match.group(1).strip()
        end = _BIBITEM_END.search(text, match.end())
        body = latex_to_text(text[match.end() : end.start() if end else len(text)])
        title = body[:_MAX_INLINE_TITLE] or key
        start = match.start(1) + match.group(1).index(key)
        inline.append(
            InlineEntry(key, start, start + len(key), Paper(key=key, title=title, origin="bibitem"))
        )
    return Declared(tuple(named), tuple(inline))


def _markdown_declared(text: str) -> Declared:
    front = _FRONT_MATTER.match(text)
    if not front:
        return Declared()
    return _front_matter_declared(front.group(1), front.start(1))


# Typing in a document's body leaves its front matter as it was: the same `Declared` comes back,
# with the search index of its `references:` already built (2,000 references took 0.4 s a keystroke).
@functools.lru_cache(maxsize=16)
def _front_matter_declared(yaml: str, base: int) -> Declared:
    named: list[Named] = []
    inline: list[InlineEntry] = []
    for entry in _YAML_KEY.finditer(yaml):
        block_end = re.search(r"(?m)^[^\s-]", yaml[entry.end() + 1 :])
        block = yaml[entry.end() : entry.end() + 1 + block_end.start() if block_end else len(yaml)]
        if entry.group(1) == "bibliography":
            value = entry.group(2).strip()
            if value.startswith("["):
                items = [
                    (m.group(0), m.start()) for m in re.finditer(r"[^,\[\]]+", value) if m.group(0).strip()
                ]
                spans = [(item, base + entry.start(2) + at) for item, at in items]
            elif value:
                spans = [(value, base + entry.start(2))]
            else:
                spans = []
                for line in re.finditer(r"(?m)^.*$", block):
                    item = _YAML_LIST_ITEM.fullmatch(line.group(0))
                    if item:
                        spans.append((item.group(1), base + entry.end() + line.start() + item.start(1)))
            for raw, at in spans:
                name = _strip_quotes(raw)
                if name:
                    start = at + raw.index(name)
                    named.append(Named(name, start, start + len(name), bibtex_default=False))
        else:
            inline += _yaml_references(block, base + entry.end())
    return Declared(tuple(named), tuple(inline))


def _yaml_references(block: str, offset: int) -> list[InlineEntry]:
    """`references:` items (CSL YAML): each `id`, with the item's title when it has one."""
    items = list(_YAML_ITEM.finditer(block))
    # Items of nested lists (authors, say) are indented deeper than the references themselves.
    depth = min((len(m.group(1)) for m in items), default=0)
    starts = [m.start() for m in items if len(m.group(1)) == depth]
    entries = []
    for begin, end in zip(starts, [*starts[1:], len(block)], strict=True):
        fields = {m.group(1): m for m in _YAML_FIELD.finditer(block, begin, end)}
        if "id" not in fields:
            continue
        key = _strip_quotes(fields["id"].group(2))
        start = offset + fields["id"].start(2) + fields["id"].group(2).index(key)
        title = _strip_quotes(fields["title"].group(2)) if "title" in fields else key
        paper = Paper(key=key, title=title, origin="references", format="csl-yaml")
        entries.append(InlineEntry(key, start, start + len(key), paper))
    return entries


def declared_in(text: str, language: str) -> Declared:
    declared = _latex_declared(text) if language == syntax.LATEX else _markdown_declared(text)
    if len(declared.named) > MAX_NAMED:
        return Declared(declared.named[:MAX_NAMED], declared.inline, len(declared.named) - MAX_NAMED)
    return declared
