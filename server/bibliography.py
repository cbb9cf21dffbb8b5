"""The keys a document's own bibliography defines, so they are never reported as unknown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pygls.uris import to_fs_path

from core.formats import parse_file
from core.records import Paper
from server import syntax

_LATEX_RESOURCES = re.compile(
    r"\\(?:bibliography|addbibresource|addglobalbib)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}"
)
_BIBITEM = re.compile(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*\n", re.DOTALL)
_YAML_BIBLIOGRAPHY = re.compile(r"(?m)^bibliography:\s*(.*)$")
_YAML_LIST_ITEM = re.compile(r"^\s*-\s*(.+)$")
_YAML_REFERENCE_ID = re.compile(r"(?m)^\s*-?\s*id:\s*['\"]?([^'\"\s]+)")


@dataclass(frozen=True)
class Bibliography:
    files: tuple[Path, ...]
    inline_keys: frozenset[str]


def _strip_quotes(value: str) -> str:
    return value.strip().strip("'\"")


def bibliography_of(text: str, language: str, document_uri: str) -> Bibliography:
    """Files the document names as its bibliography (resolved beside it) and keys it defines inline."""
    path = to_fs_path(document_uri)
    folder = Path(path).parent if path else Path.cwd()
    names: list[str] = []
    inline: set[str] = set()
    if language == syntax.LATEX:
        for match in _LATEX_RESOURCES.finditer(text):
            names += [n.strip() for n in match.group(1).split(",") if n.strip()]
        names = [n if n.endswith(".bib") or "." in Path(n).name else n + ".bib" for n in names]
        inline.update(m.group(1).strip() for m in _BIBITEM.finditer(text))
    else:
        front = _FRONT_MATTER.match(text)
        if front:
            yaml = front.group(1)
            entry = _YAML_BIBLIOGRAPHY.search(yaml)
            if entry:
                value = entry.group(1).strip()
                if value.startswith("["):
                    names += [_strip_quotes(v) for v in value.strip("[]").split(",") if v.strip()]
                elif value:
                    names.append(_strip_quotes(value))
                else:
                    for line in yaml[entry.end() :].splitlines()[1:]:
                        item = _YAML_LIST_ITEM.match(line)
                        if not item:
                            break
                        names.append(_strip_quotes(item.group(1)))
            if re.search(r"(?m)^references:", yaml):
                inline.update(_YAML_REFERENCE_ID.findall(yaml[re.search(r"(?m)^references:", yaml).end() :]))  # type: ignore[union-attr]
    return Bibliography(files=tuple((folder / n).resolve() for n in names), inline_keys=frozenset(inline))


class BibliographyCache:
    """Parsed bibliography files, re-read when they change on disk."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[float, dict[str, Paper]]] = {}

    def papers(self, path: Path) -> dict[str, Paper]:
        try:
            modified = path.stat().st_mtime
        except OSError:
            return {}
        cached = self._entries.get(path)
        if cached and cached[0] == modified:
            return cached[1]
        try:
            papers = {p.key: p for p in parse_file(path) if isinstance(p, Paper)}
        except Exception:  # an unreadable bibliography must not break the editor
            papers = {}
        self._entries[path] = (modified, papers)
        return papers

    def keys(self, bibliography: Bibliography) -> set[str]:
        keys = set(bibliography.inline_keys)
        for path in bibliography.files:
            keys.update(self.papers(path))
        return keys
