"""A page per index paper (its BibTeX entry, as a file), so an editor can jump to a paper that no
bibliography of the document holds: from go-to-definition and from the workspace symbol search."""

from __future__ import annotations

import os
import re
from pathlib import Path

from core.export import bibtex_comment, to_bibtex
from core.records import Paper

PAGES_FOLDER = "entries"
_UNSAFE = re.compile(r"[^\w.+-]")


# The page's first line names the paper, key and title: an editor that lists a symbol by the line
# it points at (Emacs's xref) shows this one.
HEADING_LINE = 0


def render_page(paper: Paper) -> str:
    link = f"\n{bibtex_comment(paper.link)}" if paper.link else ""
    return (
        f"{bibtex_comment(f'{paper.key}: {paper.title}')}\n% From the papercite index; add it to your .bib with the code action "
        f"or by copying this entry.{link}\n\n{to_bibtex(paper)}"
    )


def page_for(home: Path, paper: Paper) -> tuple[Path, int]:
    """The paper's page under `home` and the line of its entry; written (atomically) when missing
    or out of date."""
    folder = home / PAGES_FOLDER
    path = folder / f"{_UNSAFE.sub('_', paper.key)}.bib"
    text = render_page(paper)
    line = text.count("\n", 0, text.index("\n@") + 1)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path, line
    except OSError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path, line
