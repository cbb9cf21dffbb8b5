"""Regenerate expected.json: the keys the real tools see in every document of this folder.

    python tests/data/citations/regenerate.py

LaTeX: one pdflatex run per document (no bibliography pass is needed: citations are written as LaTeX
reads them; a file with no \\documentclass is a chapter, read with the document that inputs it), then the keys of the `\\citation{…}` lines of the `.aux` (natbib, apacite, plain LaTeX)
or the `<bcf:citekey>` elements of the `.bcf` (biblatex with biber). Markdown: `pandoc -f markdown
-t json`, every `Cite` element, the document's metadata included; keys of Quarto cross-references
(`@fig-…`, `@tbl-…`, `@sec-…`, `@eq-…`) are dropped, as Quarto resolves them itself. MyST roles
(`{cite}`, `{cite:p}`, `{cite:t}`…) are read with markdown-it-py and its MyST plugins (the parser
MyST is built on), directive bodies holding Markdown parsed again as MyST does; a role's keys are
split at `,` or `;`, each key's `{prefix}` and `{suffix}` dropped, by sphinxcontrib-bibtex's rules.

Needs pdflatex (Debian: texlive-latex-base, texlive-latex-recommended, texlive-latex-extra for
csquotes, texlive-bibtex-extra and biber for biblatex) and pandoc on PATH, and markdown-it-py with
mdit-py-plugins installed. The tests read only expected.json.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LATEX_SUFFIXES = {".tex"}
MARKDOWN_SUFFIXES = {".md", ".qmd", ".rmd", ".markdown"}
QUARTO_CROSSREF = re.compile(r"^(?:fig|tbl|sec|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr|rem|alg)-")
MYST_KEY = re.compile(r"(?:\{[^{}]*\})?([^\s,;{}]+)(?:\{[^{}]*\})?")
# MyST directives whose body is Markdown (the others hold code, math or options).
# (sphinx-design's cards and tabs, sphinx-proof's and sphinx-exercise's directives, glossaries too.)
MYST_PROSE = {"note", "warning", "tip", "important", "caution", "attention", "danger", "error", "hint",
              "seealso", "admonition", "topic", "sidebar", "epigraph", "figure", "table", "list-table",
              "dropdown", "margin", "card", "tab-item", "tab-set", "grid-item-card", "pull-quote",
              "highlights", "glossary", "prf:theorem", "prf:proof", "prf:lemma", "prf:definition",
              "exercise", "solution", "versionadded", "versionchanged", "deprecated", "container", "div"}  # fmt: skip


def latex_keys(document: Path) -> list[str]:
    # fontspec needs a Unicode engine: such documents are read by lualatex, the rest by pdflatex.
    unicode = re.search(r"\\usepackage(?:\[[^\]]*\])?\{fontspec\}", document.read_text(errors="replace"))
    engine = "lualatex" if unicode else "pdflatex"
    with tempfile.TemporaryDirectory() as scratch:
        # \include{chapters/one} writes chapters/one.aux beside the main .aux: the folder must exist.
        for folder in document.parent.rglob("*"):
            if folder.is_dir():
                (Path(scratch) / folder.relative_to(document.parent)).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [engine, "-interaction=nonstopmode", f"-output-directory={scratch}", document.name],
            cwd=document.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,  # a document may hold errors on purpose; LaTeX goes on past them
        )
        bcf = Path(scratch) / document.with_suffix(".bcf").name
        keys = []
        for aux in Path(scratch).rglob("*.aux"):  # the document's, and one per \include'd file
            for group in re.findall(r"\\citation\{([^}]*)\}", aux.read_text(errors="replace")):
                keys += [k.strip() for k in group.split(",")]
        if bcf.exists():
            keys += re.findall(r"<bcf:citekey[^>]*>([^<]*)</bcf:citekey>", bcf.read_text(errors="replace"))
    return [k for k in keys if k]


def pandoc_keys(text: str) -> list[str]:
    """Every `Cite` element's keys as pandoc reads the Markdown `text`, once per citation."""
    result = subprocess.run(
        ["pandoc", "-f", "markdown", "-t", "json"],
        input=text,
        capture_output=True,
        encoding="utf-8",
        check=True,
        timeout=120,
    )
    keys: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Cite":
                keys.extend(citation["citationId"] for citation in node["c"][0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(result.stdout))
    return [k for k in keys if not QUARTO_CROSSREF.match(k)]


def myst_keys(text: str) -> list[str]:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin
    from mdit_py_plugins.myst_blocks import myst_block_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    parser = MarkdownIt("commonmark").use(front_matter_plugin).use(myst_block_plugin).use(myst_role_plugin)
    keys: list[str] = []

    def walk(tokens: list[Any]) -> None:
        for token in tokens:
            if token.type == "myst_role" and token.meta.get("name", "").split(":")[0] == "cite":
                keys.extend(m.group(1) for m in MYST_KEY.finditer(token.content))
            if token.type == "fence":
                name = re.match(r"\s*\{([^}]*)\}", token.info)
                if name and name.group(1) in MYST_PROSE:
                    body = "\n".join(line for line in token.content.splitlines() if not line.startswith(":"))
                    keys.extend(myst_keys(body))
            if token.children:
                walk(token.children)

    walk(parser.parse(text))
    return keys


def main() -> None:
    expected: dict[str, list[str]] = {}
    for document in sorted(HERE.rglob("*")):
        suffix = document.suffix.lower()
        if suffix in LATEX_SUFFIXES:
            if "\\documentclass" not in document.read_text(errors="replace"):
                continue  # a chapter: its keys are those of the document that inputs it
            keys = latex_keys(document)
        elif suffix in MARKDOWN_SUFFIXES and document.name != "README.md":
            text = document.read_text(encoding="utf-8")
            keys = pandoc_keys(text) + myst_keys(text)
        else:
            continue
        name = document.relative_to(HERE).as_posix()
        expected[name] = sorted(set(keys))
        print(f"{name}: {len(expected[name])} keys", file=sys.stderr)
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
