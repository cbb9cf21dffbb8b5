"""Where the language server may write: inside the client's workspace folders, or beside the
document when the client names none.

A document's text chooses the files papercite writes (`\\bibliography{...}`, YAML `bibliography:`),
and documents come from anyone, so the name is judged only after `~`, `..` and symlinks are
resolved: a `.bib` that is a symlink to a file elsewhere counts as that file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from core.records import PaperciteError


class OutsideWorkspace(PaperciteError):
    """A write papercite refused because its real target lies outside the allowed folders."""


def real_path(path: Path) -> Path:
    """`path` with `~` expanded and `..` and every symlink resolved (as far as it exists)."""
    return Path(os.path.realpath(path.expanduser()))


def writable_roots(workspace_folders: Iterable[Path], document: Path | None) -> list[Path]:
    """The folders papercite may write within: the workspace's, else the document's own folder."""
    roots = [real_path(folder) for folder in workspace_folders]
    if not roots and document is not None:
        roots = [real_path(document.parent)]
    return list(dict.fromkeys(roots))


def confined(path: Path, roots: Iterable[Path]) -> Path:
    """The real file to write for `path`, if it lies within one of `roots`; else OutsideWorkspace."""
    roots = list(roots)
    real = real_path(path)
    if any(real == root or real.is_relative_to(root) for root in roots):
        return real
    where = ", ".join(str(root) for root in roots) or "no workspace folder and no saved document"
    shown = str(path) if real == path else f"{path} (really {real})"
    raise OutsideWorkspace(f"did not write {shown}: it is outside the workspace ({where})")
