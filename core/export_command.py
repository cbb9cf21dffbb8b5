"""`papercite export`: the BibTeX or CSL-JSON of papers, named by key or cited in documents, printed
or added to a bibliography file (only the entries it lacks; the rest of the file untouched)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.bibfile import append_entries, defined_keys, file_to_write, write_whole
from core.csl import to_csl
from core.decoding import decode, read_small_text
from core.documents import syntax
from core.documents.citations import find_citations
from core.documents.project import brought_in
from core.export import to_bibtex
from core.interface import PaperLibrary
from core.records import PaperciteError, UnknownKey

BIBTEX, CSL_JSON = "bibtex", "csl-json"
# The most bytes a document or bibliography file read here may have (a thesis is a few MB).
_MAX_FILE_BYTES = 64 * 1024 * 1024
_WILDCARD = "*"  # \nocite{*}: every entry of the bibliography, not a key


@dataclass
class Export:
    text: str = ""  # what to print, when there is no output file
    written: list[str] = field(default_factory=list)  # keys added to the output file
    present: list[str] = field(default_factory=list)  # keys the output file already defined
    unknown: list[UnknownKey] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # documents that could not be read


def format_of(output: Path | None, asked: str | None) -> str:
    """The format asked for, else the output file's (`.json` is CSL-JSON), else BibTeX."""
    if asked:
        return asked
    return CSL_JSON if output is not None and output.suffix.lower() == ".json" else BIBTEX


async def export(
    library: PaperLibrary, keys: Sequence[str], documents: Sequence[Path], fmt: str, output: Path | None
) -> Export:
    result = Export()
    output = file_to_write(output) if output is not None else None
    wanted = list(dict.fromkeys([*keys, *cited_keys(documents, result.problems)]))
    wanted = [key for key in wanted if key != _WILDCARD]
    defined = _defined_in(output, fmt) if output is not None else set()
    result.present = [key for key in wanted if key in defined]
    missing = [key for key in wanted if key not in defined]
    found = await library.get_many(missing)
    for key in missing:
        if key not in found:
            result.unknown.append(UnknownKey(key, await library.suggest_keys(key)))
    papers = [found[key] for key in missing if key in found]
    if fmt == CSL_JSON:
        items = [to_csl(paper) for paper in papers]
        if output is None:
            result.text = json.dumps(items, ensure_ascii=False, indent=2) + "\n"
        elif items:
            _add_csl_items(output, items)
    else:
        entries = [to_bibtex(paper) for paper in papers]
        if output is None:
            result.text = "\n".join(entries)
        else:
            append_entries(output, entries)
    result.written = [paper.key for paper in papers] if output is not None else []
    return result


def cited_keys(documents: Sequence[Path], problems: list[str]) -> list[str]:
    """The keys LaTeX or Markdown documents cite, in order, with the files a LaTeX document
    `\\input`s or `\\include`s; a document that cannot be read is named in `problems`."""
    # The language server's scanners and project rules: what an editor sees is what is exported.
    read = functools.cache(_read)  # (a chapter is read once, though brought in and then scanned)
    keys: list[str] = []
    for document in documents:
        text = read(document)
        language = syntax.EXTENSIONS.get(document.suffix.lower())
        if text is None or language is None:
            reason = "not a LaTeX or Markdown document" if text is not None else "cannot be read"
            problems.append(f"{document}: {reason}")
            continue
        files = [(text, language)]
        if language == syntax.LATEX:
            root = document.resolve()
            files += [(t, syntax.LATEX) for f in brought_in(root, text, read) if (t := read(f)) is not None]
        keys += [cited.key for body, kind in files for cited in find_citations(body, kind)]
    return keys


def _read(path: Path) -> str | None:
    return read_small_text(path, _MAX_FILE_BYTES)


def _defined_in(output: Path, fmt: str) -> set[str]:
    if not output.exists():
        return set()
    if fmt == BIBTEX:
        return set(defined_keys(decode(output.read_bytes())[0]))
    return {str(item.get("id")) for item in _csl_items(output) if isinstance(item, dict)}


def _csl_items(path: Path) -> list[object]:
    try:
        items = json.loads(decode(path.read_bytes())[0]) if path.exists() else []
    except (ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise PaperciteError(f"{path} is not CSL-JSON papercite can add to: {reason}") from None
    if not isinstance(items, list):
        raise PaperciteError(f"{path} is not CSL-JSON papercite can add to: not a list of items")
    return items


def _add_csl_items(path: Path, items: list[dict[str, object]]) -> None:
    """The file's items and then these, written whole or not at all."""
    data = json.dumps([*_csl_items(path), *items], ensure_ascii=False, indent=2) + "\n"
    write_whole(path, data.encode("utf-8"), path.stat().st_mode if path.exists() else None)
