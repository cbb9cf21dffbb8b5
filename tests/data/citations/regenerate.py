"""Regenerate expected.json: the keys the real tools see in every document of this folder.

    python tests/data/citations/regenerate.py [--markdown]

(`--markdown` reads the Markdown documents again and keeps the LaTeX documents' keys as they are.)

LaTeX: one pdflatex run per document (no bibliography pass is needed: citations are written as LaTeX
reads them; a file with no \\documentclass is a chapter, read with the document that inputs it), then the keys of the `\\citation{…}` lines of the `.aux` (natbib, apacite, plain LaTeX)
or the `<bcf:citekey>` elements of the `.bcf` (biblatex with biber). Markdown: `pandoc -f markdown
-t json`, every `Cite` element, the document's metadata included; keys of Quarto cross-references
(`@fig-…`, `@tbl-…`, `@sec-…`, `@eq-…`) are dropped, as Quarto resolves them itself. MyST roles
(`{cite}`, `{cite:p}`, `{cite:t}`…) are read with markdown-it-py and its MyST plugins (the parser
MyST is built on), directive bodies holding Markdown parsed again as MyST does; a role's keys are
split at `,` or `;`, each key's `{prefix}` and `{suffix}` dropped, by sphinxcontrib-bibtex's rules;
in those bodies pandoc's citations are read too (pandoc sees a code block there, MyST Markdown).
A key naming a target the document defines is a cross-reference, not a citation: the identifiers of
pandoc's AST (`# Intro {#intro}`, `{#fig:x}`, `{#tbl-y}`), a `{#label}` pandoc leaves as text where
pandoc-crossref reads it (after display math, ending a table's caption), MyST's `(label)=` targets and
directives' `:label:` and `:name:` options, or `label:` and `name:` in their `---` block of options
(a figure's subfigures `label-a`, `label-b`…). In a MyST document (one using a role, a colon fence,
a target or a MyST directive), MyST's parser reads the directive fences.

Links are read as links in every document, where pandoc reads a Cite: none in a link's text (MyST's
documentation says so; pandoc reads a Cite inside the Link), none glued to a bare URL
(`https://hackmd.io/@user`, a Str holding the URL, then the Cite), and a `[@key, …]: url` line (a
destination and maybe a title after the `:`, nothing else) is a link reference definition (pandoc
reads a paragraph citing `key`) whose label, wherever it is bracketed, is a reference link (pandoc
reads a Cite).

Needs pdflatex (Debian: texlive-latex-base, texlive-latex-recommended, texlive-latex-extra for
csquotes, texlive-bibtex-extra and biber for biblatex) and pandoc on PATH, and markdown-it-py with
mdit-py-plugins installed. The tests read only expected.json.
"""

from __future__ import annotations

import itertools
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
# After a definition's label: `:`, a destination and an optional title, nothing else on the line.
DEFINITION_REST = r":\s*\S+(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*"
QUARTO_CROSSREF = re.compile(r"^(?:fig|tbl|sec|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr|rem|alg)-")
MYST_KEY = re.compile(r"(?:\{[^{}]*\})?([^\s,;{}]+)(?:\{[^{}]*\})?")
# MyST directives whose body is Markdown (the others hold code, math or options).
# (sphinx-design's cards and tabs, sphinx-proof's and sphinx-exercise's directives, glossaries too.)
MYST_PROSE = {"note", "warning", "tip", "important", "caution", "attention", "danger", "error", "hint",
              "seealso", "admonition", "topic", "sidebar", "epigraph", "figure", "table", "list-table",
              "dropdown", "margin", "card", "tab-item", "tab-set", "grid-item-card", "pull-quote",
              "highlights", "glossary", "prf:theorem", "prf:proof", "prf:lemma", "prf:definition",
              "exercise", "solution", "versionadded", "versionchanged", "deprecated", "container", "div"}  # fmt: skip
MYST_CODE = {"code-block", "code-cell", "math", "toctree", "bibliography", "eval-rst", "literalinclude", "include",
             "image", "glue", "embed", "raw", "csv-table", "grid"}  # fmt: skip


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


def pandoc_tree(text: str) -> Any:
    result = subprocess.run(
        ["pandoc", "-f", "markdown", "-t", "json"],
        input=text,
        capture_output=True,
        encoding="utf-8",
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)


def pandoc_keys(text: str) -> list[str]:
    """Every `Cite` element's keys as pandoc reads the Markdown `text`, once per citation, less those
    a link holds: a citation inside a link's text, one glued to a bare URL (`https://hackmd.io/@user`,
    `https://mystmd.org,@key`: a Str holding the URL, then the Cite), and a citation labelling a link
    reference definition (`[@key, V.9]: url`), there and wherever its label is bracketed."""
    tree = pandoc_tree(text)
    labels = _definition_labels(tree)
    keys: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Link":
                return
            if node.get("t") == "Cite":
                if _label(node["c"][1]) in labels:
                    return
                citations = node["c"][0]
                # `@key [@other]` is one Cite to pandoc; a defined `[@other]` is a link after `@key`.
                in_text = re.fullmatch(r"@\S+\s+(\[.*\])", _text(node["c"][1]), re.S)
                if in_text and len(citations) > 1 and _label(in_text.group(1)) in labels:
                    citations = citations[:1]
                keys.extend(citation["citationId"] for citation in citations)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for before, value in zip([None, *node], node, strict=False):  # each with the one before
                if _glued_to_url(before, value):
                    continue
                walk(value)

    walk(tree)
    return [k for k in keys if not QUARTO_CROSSREF.match(k)]


def _definition_labels(tree: Any) -> set[str]:
    """The labels of the link reference definitions holding a citation, as `_label` gives them: the
    lines opening a paragraph pandoc reads as `[@key, …]` then `: url` (a definition to CommonMark;
    `[ref]: url` lines among them are definitions too)."""
    labels: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Para":
                lines: list[list[Any]] = [[]]
                for inline in node["c"]:
                    if inline["t"] == "SoftBreak":
                        lines.append([])
                    else:
                        lines[-1].append(inline)
                for line in lines:
                    after = _text(line[1:])
                    if line and line[0]["t"] == "Cite" and re.fullmatch(DEFINITION_REST, after):
                        labels.add(_label(line[0]["c"][1]))
                        continue
                    if not (line and line[0]["t"] == "Str" and re.match(r"\[[^\]^][^\]]*\]:\S", _text(line))):
                        break
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return labels


def _text(inlines: list[Any]) -> str:
    """The text of pandoc inlines (formatting dropped), a space for each space or line break."""
    parts = []
    for inline in inlines:
        if inline["t"] in ("Space", "SoftBreak", "LineBreak"):
            parts.append(" ")
        elif inline["t"] == "Str":
            parts.append(inline["c"])
        elif inline["t"] in ("Code", "Math", "RawInline"):
            parts.append(inline["c"][1])
        elif inline["t"] == "Quoted":  # a definition's title, made curly by pandoc
            quote = '"' if inline["c"][0]["t"] == "DoubleQuote" else "'"
            parts.append(quote + _text(inline["c"][1]) + quote)
        elif inline["t"] in ("Cite", "Span", "Link", "Image"):
            parts.append(_text(inline["c"][1]))
        elif inline["t"] != "Note" and isinstance(inline.get("c"), list):  # Emph, Strong…
            parts.append(_text(inline["c"]))
    return "".join(parts)


def _label(inlines: list[Any] | str) -> str:
    """A citation's text as CommonMark compares labels: inside its brackets, white space runs as one
    space and none at either end, case folded (an in-text `@key` has no brackets: it is no label)."""
    text = inlines if isinstance(inlines, str) else _text(inlines)
    if text[:1] == "[" and text[-1:] == "]":
        return "[" + " ".join(text[1:-1].split()).casefold() + "]"
    return text


def _glued_to_url(before: Any, node: Any) -> bool:
    if not (isinstance(node, dict) and node.get("t") == "Cite" and isinstance(before, dict)):
        return False
    if before.get("t") != "Str" or node["c"][0][0]["citationMode"]["t"] != "AuthorInText":
        return False
    return "://" in before["c"] or before["c"].lstrip("(").startswith("www.")


# Where pandoc's AST element of each type keeps its attributes (identifier first).
ATTRIBUTES = {"Header": 1, "Div": 0, "Span": 0, "Image": 0, "Link": 0, "CodeBlock": 0, "Code": 0,
              "Table": 0, "Figure": 0}  # fmt: skip


def pandoc_targets(text: str) -> set[str]:
    """The identifiers pandoc reads in the document's attributes (`# Intro {#intro}`, `{#fig-x}`),
    and the `{#label}` it leaves as text where pandoc-crossref reads one (after display math, at the
    end of a table's caption)."""
    targets: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("t")
            if kind in ATTRIBUTES and node["c"][ATTRIBUTES[kind]][0]:
                targets.add(node["c"][ATTRIBUTES[kind]][0])
            if kind == "Str" and (label := re.fullmatch(r"\{#([^\s{}]+)\}", node["c"])):
                targets.add(label.group(1))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(pandoc_tree(text))
    return targets


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
                    # MyST reads the body as Markdown, pandoc's citations too (pandoc sees a code block)
                    keys.extend(myst_keys(body) + pandoc_keys(without_directives(body)))
            if token.children:
                walk(token.children)

    walk(parser.parse(text))
    return keys


def myst_targets(text: str) -> set[str]:
    """Labels MyST reads as targets: `(label)=` lines, and the `:label:` (or `:name:`) option of a
    directive, fenced with backticks or colons; a figure's subfigures (images in its body) are named
    `label-a`, `label-b`… Directive bodies holding Markdown are read again, as MyST does."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.colon_fence import colon_fence_plugin
    from mdit_py_plugins.myst_blocks import myst_block_plugin

    parser = MarkdownIt("commonmark").use(myst_block_plugin).use(colon_fence_plugin)
    targets: set[str] = set()

    def read(source: str) -> None:
        for token in parser.parse(source):
            if token.type == "myst_target":
                targets.add(token.content.strip())
            name = re.match(r"\s*\{([^}]*)\}", token.info) if token.type in ("fence", "colon_fence") else None
            if not name:
                continue
            lines = token.content.splitlines()
            if lines[:1] == ["---"] and "---" in lines[1:]:  # options as YAML
                options = lines[1 : lines.index("---", 1)]
                body = "\n".join(lines[len(options) + 2 :])
            else:
                options = list(itertools.takewhile(lambda line: line.startswith(":"), lines))
                body = "\n".join(lines[len(options) :])
            for option in options:
                if label := re.match(r":?(?:label|name):\s+[\"']?([^\s\"']+)", option):
                    targets.add(label.group(1))
                    if name.group(1) == "figure":
                        images = len(re.findall(r"!\[", body))
                        targets.update(f"{label.group(1)}-{chr(ord('a') + n)}" for n in range(images))
            if name.group(1) in MYST_PROSE:
                read(body)

    read(text)
    return targets


def is_myst(text: str) -> bool:
    """A MyST document: it uses a role (`{cite}`…`), a colon-fenced directive, a target line
    `(label)=`, or a fence naming a MyST directive (not a knitr engine such as `{r}`)."""
    names = "|".join(re.escape(name) for name in sorted(MYST_PROSE | MYST_CODE))
    return bool(
        re.search(r"(?<![`\w])\{[a-z][\w:-]*\}`(?!`)", text)
        or re.search(r"(?m)^ {0,3}:{3,}\{[a-z]|^ {0,3}\([^()\s]+\)=[ \t]*$", text)
        or re.search(rf"(?m)^ {{0,3}}(?:`{{3,}}|~{{3,}})\{{(?:{names})\}}", text)
    )


def without_directives(text: str) -> str:
    """`text` with MyST's directive fences (as markdown-it-py's MyST plugin reads them) made blank
    lines: pandoc opens no fence for ```` ```{figure} plot.png ```` (two words), so in a MyST document
    it would read the directive as a paragraph and its backticks as code spans."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin
    from mdit_py_plugins.myst_blocks import myst_block_plugin

    lines = text.splitlines(keepends=True)
    for token in MarkdownIt("commonmark").use(front_matter_plugin).use(myst_block_plugin).parse(text):
        if token.type == "fence" and token.map and re.match(r"\s*\{[^}]*\}", token.info):
            for number in range(*token.map):
                lines[number] = "\n"
    return "".join(lines)


def markdown_keys(text: str) -> list[str]:
    """pandoc's citations and MyST's roles, less the keys naming a target the document defines: a
    cross-reference, which MyST, pandoc-crossref and Quarto resolve themselves. In a MyST document,
    MyST's parser reads the directives (their bodies holding Markdown read again, pandoc's citations
    in them too), pandoc the rest."""
    myst = is_myst(text)
    read = without_directives(text) if myst else text
    keys = pandoc_keys(read) + myst_keys(text)
    targets = pandoc_targets(read) | myst_targets(text)
    return [k for k in keys if k not in targets]


def main() -> None:
    only_markdown = "--markdown" in sys.argv[1:]
    expected: dict[str, list[str]] = json.loads((HERE / "expected.json").read_text()) if only_markdown else {}
    for document in sorted(HERE.rglob("*")):
        suffix = document.suffix.lower()
        if suffix in LATEX_SUFFIXES:
            if only_markdown:
                continue  # kept as they were
            if "\\documentclass" not in document.read_text(errors="replace"):
                continue  # a chapter: its keys are those of the document that inputs it
            keys = latex_keys(document)
        elif suffix in MARKDOWN_SUFFIXES and document.name != "README.md":
            keys = markdown_keys(document.read_text(encoding="utf-8"))
        else:
            continue
        name = document.relative_to(HERE).as_posix()
        expected[name] = sorted(set(keys))
        print(f"{name}: {len(expected[name])} keys", file=sys.stderr)
    order = [document.relative_to(HERE).as_posix() for document in sorted(HERE.rglob("*"))]
    expected = {name: expected[name] for name in order if name in expected}  # a whole run's order
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
