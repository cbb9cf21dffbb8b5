"""A document's project: where its bibliography is named when the document itself names none.

A thesis chapter `\\input` by `main.tex`, a Quarto book's chapter, a Jupyter Book page: the
bibliography is named once, by the root document or the project's configuration, and every
chapter cites from it. Found the way the tools that build them do:

- LaTeX: a `% !TEX root = main.tex` comment (TeXShop, TeXstudio, LaTeX Workshop), a subfiles
  chapter's `\\documentclass[main.tex]{subfiles}`, else a `.tex` file with `\\documentclass` in the
  chapter's folder or above it (within the workspace) that `\\input`s, `\\include`s, `\\subfile`s or
  `\\import`s the chapter — through intermediate files too. The root names the bibliography itself
  or in a file it inputs (a preamble of its own); so does a root document opened itself.
- Markdown: `_quarto.yml` (`bibliography:`), a bookdown book's `index.Rmd` front matter (beside
  `_bookdown.yml`), Jupyter Book's `_config.yml` (`bibtex_bibfiles:`), MyST's `myst.yml`
  (`project: bibliography:`), in the document's folder or above it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.documents import syntax
from core.documents.declared import Declared, declared_in

# A file's text (the editor's buffer when it is open there), or None when it cannot be read.
Reader = Callable[[Path], "str | None"]

_MAGIC_ROOT = re.compile(r"(?im)^[ \t]*%[ \t]*!TEX[ \t]+root[ \t]*=[ \t]*(.+?)[ \t]*$")
_SUBFILES_CLASS = re.compile(r"\\documentclass\s*\[([^\]]+)\]\s*\{subfiles\}")
_DOCUMENTCLASS = re.compile(r"\\documentclass\b")
_INCLUSION = re.compile(
    r"\\(?:input|include|subfile)\s*\{([^}]+)\}|\\(?:sub)?(?:import|inputfrom|includefrom)\s*\{([^}]*)\}\s*\{([^}]+)\}"
)
_COMMENT = re.compile(r"(?<!\\)%.*")
# How far a search goes: magic comments sit at the top; a root is a few folders up and few in
# number; what it brings in is a few levels deep.
_MAGIC_LINES = 20
_MAX_LEVELS = 4
_MAX_CANDIDATES = 60
_MAX_DEPTH = 4
_MAX_FILES = 200
_PREAMBLE_CHARS = 50_000


@dataclass(frozen=True)
class ProjectSource:
    """The file that names a project's bibliography, and the text that names it."""

    path: Path
    text: str
    language: str  # how to read `text`: LaTeX or Markdown front matter

    @functools.cached_property
    def declared(self) -> Declared:
        """What `text` names (read once: the server asks on every completion)."""
        return declared_in(self.text, self.language)


def project_source(
    path: Path, text: str, language: str, roots: Iterable[Path], read: Reader
) -> ProjectSource | None:
    """The root document or configuration whose bibliography `path` (named by no bibliography of
    its own) cites from, or None."""
    limit = _limit(path, list(roots))
    if language == syntax.LATEX:
        return _latex_project(path, text, limit, functools.cache(read))
    return _markdown_project(path, limit, read)


def _limit(path: Path, roots: list[Path]) -> Path:
    """The highest folder a search may climb to: the workspace folder holding `path`, else a few
    levels above it."""
    inside = [root for root in roots if path.is_relative_to(root)]
    if inside:
        return max(inside, key=lambda root: len(root.parts))
    return path.parents[min(_MAX_LEVELS, len(path.parents) - 1)]


def _folders_up(path: Path, limit: Path) -> list[Path]:
    folders = []
    for folder in path.parents:
        folders.append(folder)
        if folder == limit or len(folders) > _MAX_LEVELS:
            break
    return folders


# --- LaTeX ------------------------------------------------------------------------------------


def _latex_project(path: Path, text: str, limit: Path, read: Reader) -> ProjectSource | None:
    """The root's bibliography: named in the root itself, or in a file it inputs (a preamble)."""
    if _is_root(text) and not _SUBFILES_CLASS.search(text) and not _MAGIC_ROOT.search(text):
        root: Path | None = path  # a root document itself
    else:
        root = _named_root(path, text) or _root_bringing_in(path, limit, read)
    root_text = text if root == path else read(root) if root else None
    if root is None or root_text is None:
        return None
    if declared_in(root_text, syntax.LATEX).named:
        return ProjectSource(root, root_text, syntax.LATEX)
    for level in _inclusion_levels({root: root_text}, read):
        declaring = [t for _, file, _ in level if (t := read(file)) and declared_in(t, syntax.LATEX).named]
        if declaring:
            return ProjectSource(root, "\n".join(declaring), syntax.LATEX)
    return None


def _root_bringing_in(path: Path, limit: Path, read: Reader) -> Path | None:
    """The document with a `\\documentclass`, in `path`'s folder or above, that brings it in."""
    roots = {}
    for candidate in _candidates(path, limit):
        candidate_text = read(candidate)
        if candidate_text is not None and _is_root(candidate_text):
            roots[candidate] = candidate_text
    for level in _inclusion_levels(roots, read):
        for root, file, _ in level:
            if file == path:
                return root
    return None


def brought_in(root: Path, text: str, read: Reader) -> list[Path]:
    """Every file the LaTeX document `root` brings in (chapters, parts, a preamble), in order."""
    return [file for level in _inclusion_levels({root: text}, read) for _, file, _ in level]


def _inclusion_levels(roots: dict[Path, str], read: Reader) -> Iterator[list[tuple[Path, Path, Path]]]:
    """(root, file, the folder its own inclusions are read from) for what each root brings in, a
    level at a time (a part that inputs chapters); a level's files are read only when the next
    level is asked for. LaTeX reads `\\input{x}` from the folder it runs in, the root's, wherever
    the command is; `\\import{dir}{x}` from `dir`, and what `x` inputs from there too."""
    frontier = [(root, root.parent, root_text) for root, root_text in roots.items()]
    seen: set[Path] = set()
    for _ in range(_MAX_DEPTH):
        level = []
        for root, base, body in frontier:
            for included, its_base in _included(base, body):
                if included not in seen and len(seen) < _MAX_FILES:
                    seen.add(included)
                    level.append((root, included, its_base))
        if not level:
            return
        yield level
        frontier = [(root, base, file_text) for root, file, base in level if (file_text := read(file))]


def _is_root(text: str) -> bool:
    """Whether `text` is a document LaTeX can run: a `\\documentclass` in its preamble."""
    return bool(_DOCUMENTCLASS.search(_COMMENT.sub("", text[:_PREAMBLE_CHARS])))


def _named_root(path: Path, text: str) -> Path | None:
    head = "\n".join(text.splitlines()[:_MAGIC_LINES])
    magic = _MAGIC_ROOT.search(head)
    subfiles = _SUBFILES_CLASS.search(text)
    name = magic.group(1) if magic else subfiles.group(1).strip() if subfiles else None
    if not name:
        return None
    root = _tex_file(path.parent / Path(name).expanduser())
    return root if root != path else None


def _candidates(path: Path, limit: Path) -> list[Path]:
    found: list[Path] = []
    for folder in _folders_up(path, limit):
        try:
            found += sorted(p for p in folder.glob("*.tex") if p != path and p.is_file())
        except OSError:
            continue
        if len(found) >= _MAX_CANDIDATES:
            break
    return found[:_MAX_CANDIDATES]


def _included(base: Path, text: str) -> list[tuple[Path, Path]]:
    """The files `text` brings in, as (file, the folder its own inclusions are read from)."""
    found = []
    for match in _INCLUSION.finditer(_COMMENT.sub("", text)):
        folder = base if match.group(1) is not None else base / match.group(2).strip()
        name = (match.group(1) if match.group(1) is not None else match.group(3)).strip()
        if name:
            found.append((_tex_file(folder / name), folder))
    return found


def _tex_file(path: Path) -> Path:
    """Where LaTeX finds `\\input{path}`: the name as given if it has a suffix, else with `.tex`;
    `a/./b/../c` as `a/c`, without touching the disk (symlinks are confinement's business)."""
    path = Path(os.path.normpath(path))
    return path if path.suffix else path.with_suffix(".tex")


# --- Markdown ---------------------------------------------------------------------------------

# (configuration file, the key that names bibliographies in it, the key it sits under)
_CONFIGURATIONS = (
    ("_quarto.yml", "bibliography", None),
    ("_config.yml", "bibtex_bibfiles", None),
    ("myst.yml", "bibliography", "project"),
)


def _markdown_project(path: Path, limit: Path, read: Reader) -> ProjectSource | None:
    for folder in _folders_up(path, limit):
        if (folder / "_bookdown.yml").is_file():
            index = folder / "index.Rmd"
            text = read(index) if index != path else None
            if text is not None:
                return ProjectSource(index, text, syntax.MARKDOWN)
        for name, key, parent in _CONFIGURATIONS:
            configuration = folder / name
            if not configuration.is_file():
                continue
            text = read(configuration)
            names = yaml_names(text, key, parent) if text else []
            if names:
                listed = "\n".join(f"  - {name}" for name in names)
                return ProjectSource(configuration, f"---\nbibliography:\n{listed}\n---\n", syntax.MARKDOWN)
    return None


def yaml_names(text: str, key: str, parent: str | None = None) -> list[str]:
    """The value of `key` (a name, a flow list or a block list), at the top level of a YAML file or
    in the block of `parent`. Enough YAML for the configurations above; no YAML library needed."""
    if parent is not None:
        block = re.search(rf"(?m)^{re.escape(parent)}:[ \t]*\n((?:[ \t]+.*\n?|[ \t]*\n)*)", text)
        if not block:
            return []
        lines = block.group(1).splitlines()
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        text = "\n".join(line[indent:] for line in lines)
    entry = re.search(rf"(?m)^{re.escape(key)}:[ \t]*(.*)$", text)
    if not entry:
        return []
    value = entry.group(1).split(" #")[0].strip()
    if value.startswith("["):
        items = value.strip("[]").split(",")
    elif value:
        items = [value]
    else:
        items = []
        for line in text[entry.end() :].splitlines()[1:]:
            item = re.fullmatch(r"[ \t]*-[ \t]*(.+?)[ \t]*", line)
            if item:
                items.append(item.group(1))
            elif line.strip() and not line.lstrip().startswith("#"):
                break
    names = (item.split(" #")[0].strip().strip("'\"") for item in items)
    return [name for name in names if name]
