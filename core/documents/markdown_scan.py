"""Markdown citations as pandoc and MyST read them: a line-by-line block scanner, then inline spans.

The block scanner follows CommonMark where pandoc does: fenced code closes only at a fence of the same
character at least as long; indented code needs a blank line before it and four columns past the
list item it sits in; HTML comments and link reference definitions are not prose. MyST directive
bodies (```` ```{note} ````) are prose unless the directive holds code. Inside prose, code spans pair
backtick runs of equal length, and math, raw HTML, autolinks, link destinations and backslash escapes
are set aside; every `@key` left is a citation by pandoc's rules (not after a letter, digit or `.`; a
key ends before punctuation no word character follows), unless it names a target the document defines
(MyST's `(label)=` and `:label:`, a `{#id}` attribute as pandoc-crossref and Quarto write them): that is
a cross-reference. Links are read as links in every document, where pandoc (2.17, 3.9) reads a Cite:
a citation in a link's text (`[@jupyter-book](https://…)`), one glued to a bare URL
(`https://hackmd.io/@user/x`), and `[@key, V.9]: url` (a link reference definition) with every
`[@key, V.9]` it defines are the link's. Their writers meant links, and pandoc only warns there of a
citation it cannot find. An image's description keeps its citations (a figure's caption). A MyST
directive with an argument (```` ```{figure} a.png ````) opens a fence, as it does to MyST (pandoc's
rule would not: two words). A hand-written scanner, not markdown-it-py:
on a 1 MB document markdown-it's block pass alone took 225 ms, this whole scan takes a fraction of that.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from core.documents import syntax
from core.documents.cited import CitedKey

# Bullets, numbers and pandoc's fancy lists (`#.`, `a.`, `iv)`, `(b)`, example markers `(@)`, `@x.`).
_LIST_ITEM = re.compile(
    r"( *)([-+*]|\d{1,9}[.)]|#\.|[a-z][.)]|[ivxlc]{1,5}[.)]|\([a-z0-9]{1,5}\)|\(@[\w-]*\)|@[\w-]*[.)])"
    r"( {1,4}(?! )| *(?=\n|$))"
)
# pandoc's example lists: `(@)`, `(@label)`, `@label.` or `@label)` opening a line are markers.
_EXAMPLE_ITEM = re.compile(r" {0,3}(\(@[\w-]*\)|@[\w-]*[.)])(?=[ \t]|$)")
_EXAMPLE_LABEL = re.compile(
    r"(?m)^ {0,3}(?:(?:[-+*]|\d{1,9}[.)]) +)*(?:\(@([\w-]+)\)|@([\w-]+)[.)])(?=[ \t]|$)"
)
_FENCE = re.compile(r" *(`{3,}|~{3,})([^\n]*)")
# pandoc opens a fence only when its info string is one word (`r`, `{r}`, `{r,echo=F}`) or a valid
# attribute block (`{.r #id key="v w"}`): R Markdown's ```` ```{r, echo=FALSE} ```` is not a fence to it.
_FENCE_INFO = re.compile(
    r"[ \t]*(?:\S+|\{[ \t]*(?:(?:[#.=][^\s{}]+|[\w.:-]+=(?:\"[^\"]*\"|'[^']*'|[^\s\"'{}]+))[ \t]*)*\})?[ \t]*$"
)
_BEGIN = re.compile(r"\s*\\begin\{([A-Za-z*]+)\}")
# HTML whose content pandoc passes through unread, blank lines and all (and a processing instruction).
_RAW_HTML = re.compile(r"\s*<(?:(script|pre|style|textarea)(?=[\s>]|$)|(\?))", re.I)
# YAML front matter: its double-quoted strings have escapes of their own.
_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n.*?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)", re.S)
_BLOCKQUOTE = re.compile(r"(?: {0,3}> ?)+")
_REFERENCE_DEFINITION = re.compile(r" {0,3}\[(?!\^)([^\]\n]+)\]:[ \t]*\S")
# What follows a definition's `:` on its line: a destination and an optional title, nothing else
# (`[@smith2020]: proposes a variant of BM25.`, as in an annotated list, is prose citing smith2020).
_DEFINITION_REST = re.compile(
    r"[ \t]*(?:<[^<>\n]*>|\S+)(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*$"
)
_DIRECTIVE = re.compile(r"\s*\{([A-Za-z][\w:-]*)\}")
# MyST directives whose body is Markdown; any other (code, math, raw, eval-rst…) holds no citation.
_PROSE_DIRECTIVES = frozenset(
    {
        "note", "warning", "tip", "important", "caution", "attention", "danger", "error", "hint",
        "seealso", "admonition", "topic", "sidebar", "epigraph", "pull-quote", "highlights", "margin",
        "figure", "table", "list-table", "card", "grid-item-card", "tab-item", "tab-set", "dropdown",
        "div", "glossary", "prf:theorem", "prf:proof", "prf:lemma", "prf:definition", "exercise",
        "solution", "versionadded", "versionchanged", "deprecated", "centered", "container",
    }
)  # fmt: skip

# MyST directives whose body is not Markdown, which only MyST documents use.
_MYST_CODE_DIRECTIVES = frozenset(
    {"code-block", "code-cell", "math", "toctree", "bibliography", "eval-rst", "literalinclude", "include",
     "image", "glue", "embed", "raw", "csv-table", "grid"}
)  # fmt: skip

_INLINE = re.compile(
    r"(?P<escape>\\[!-/:-@\[-`{-~])"
    r"|(?P<code>`+)"
    # Raw TeX, which pandoc passes through unread: an environment, or a command with its arguments.
    r"|(?P<environment>\\begin\{(?P<env>[A-Za-z*]+)\}.*?\\end\{(?P=env)\})"
    r"|(?P<tex>\\[A-Za-z]+\*?(?:\s*\[[^\[\]\n]*\])*(?:\s*\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})*)"
    r"|(?P<comment><!--.*?-->|<\?.*?\?>)"
    r"|(?P<raw><(?P<rawtag>(?i:script|pre|style|textarea))(?=[\s>])[^>]*>.*?</(?P=rawtag)\s*>)"
    r"|(?P<autolink><[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*>|<[^\s<>@]+@[^\s<>]+>)"
    r"|(?P<tag></?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>)"
    r"|(?P<math>\$\$.+?\$\$|\$(?=\S)(?:[^$\\\n]|\\.|\n(?!\n))*?(?<=\S)\$(?!\d))"
    r"|(?P<destination>\](?:\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\))?"
    r"\{(?:[^{}\"']|\"[^\"]*\"|'[^']*')*\}"  # pandoc attributes: {#id .class fig-alt="…"}
    r"|\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\))",
    re.S,
)
_INLINE_START = re.compile(r"[\\`<$\]]")
_BRACKETED = re.compile(r"\[[^\[\]]*@[^\[\]]*\]")
_MYST_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}$")
_COLON_DIRECTIVE = re.compile(r":{3,}\{([A-Za-z][\w:-]*)\}")
# Targets a document defines, which `@label` refers to: MyST's `(label)=` line and a directive's
# `:label:` (or Sphinx's `:name:`) option, and a pandoc attribute's `{#id}` (headings, spans, divs,
# images, code blocks; pandoc-crossref's `$$…$$ {#eq:x}`; Quarto's `{#fig-x}`).
_TARGET_LINE = re.compile(r"[ \t]*\(([^()\s]+)\)=[ \t]*$")
_LABEL_OPTION = re.compile(r"[ \t]*:(?:label|name):[ \t]+(\S+)[ \t]*$")
_YAML_LABEL_OPTION = re.compile(r"(?:label|name):[ \t]+[\"']?([^\s\"']+)[\"']?$")
_ATTRIBUTE = re.compile(r"\{[ \t]*#")
_ATTRIBUTE_ID = re.compile(r"\{[ \t]*#([^\s{}#]+)[^{}\n]*\}")
# How far back a link's text or a URL's start is looked for: a search back to the previous space or
# line, unbounded, made a 1 MB document's scan three times slower.
_LOOK_BACK = 300
_MYST_KEY = re.compile(r"(?:\{[^{}]*\})?([^\s,;{}]+)(?:\{[^{}]*\})?")
# pandoc: a key starts with a letter, digit, _ or * (`@*`, as in nocite); punctuation inside it must
# be followed by a word character (or be a / or : before a /, as in URLs); @{…} holds anything but
# spaces, its braces balanced (`@{{author["server"]}}` cites `{author["server"]}`).
_PANDOC = re.compile(
    r"@(?<![^\W_]@)(?<![.\\]@)(?:\{((?:[^{}\s]|\{[^{}\s]*\})+)\}|([\w*](?:\w|[:.#$%&\-+?<>~/](?=\w)|[:/](?=/))*))"
)


def markdown_citations(text: str) -> list[CitedKey]:
    reading = _blocks(text)
    hidden = reading.hidden
    found: list[CitedKey] = []
    for start, end in reading.chunks:
        _inline(text, start, end, reading, found)
    visible = _blank(text, hidden)
    targets = reading.labels
    if first := _ATTRIBUTE.search(text):  # in prose only: link attributes are hidden from `visible`
        for attribute in _ATTRIBUTE_ID.finditer(text, first.start()):
            if _in_spans(reading.chunks, attribute.start()):
                targets.add(attribute.group(1))
    # A link's text is the link's, not citations (pandoc reads citations there).
    links = _link_texts(text, reading.link_ends)
    if reading.definitions:  # `[@key, V.9]` where a definition names it is a reference link
        links = sorted(links + _defined_references(visible, reading.definitions))
    # The first link whose text ends after the citation: both come in document order (a bisection
    # per citation took 3.3 ms of a 1 MB scan with a link every other paragraph, this walk 0.7).
    link = 0
    # A bare `@label` naming one of pandoc's numbered examples is a reference to it, not a citation;
    # in brackets (`[@label]`) it is still a citation.
    examples = set()
    if "@" in text:  # labels of the example markers the block pass read as markers
        for label in _EXAMPLE_LABEL.finditer(text):
            group = 1 if label.group(1) is not None else 2
            if visible[label.start(group) - 1] == " ":
                examples.add(label.group(group))
    bracketed = [m.span() for m in _BRACKETED.finditer(visible)] if examples else []
    yaml = _FRONT_MATTER.match(text)
    front = yaml.end() if yaml else 0
    for match in _PANDOC.finditer(visible):
        group = 1 if match.group(1) is not None else 2
        key = match.group(group)
        if group == 2 and syntax.QUARTO_CROSSREF.match(key):
            continue
        if key in examples and not any(start < match.start() < end for start, end in bracketed):
            continue
        if targets and (key in targets or (reading.figures and _subfigure_of(key, reading.figures))):
            continue  # a cross-reference to a target the document defines
        while link < len(links) and links[link][1] <= match.start():
            link += 1
        if (link < len(links) and links[link][0] <= match.start()) or _in_bare_url(visible, match.start()):
            continue
        if match.start() < front and _yaml_escaped(text, match.start()):
            continue
        found.append(CitedKey(key, match.start(group), match.end(group)))
    found.sort(key=lambda cited: cited.start)
    return found


def _link_texts(text: str, ends: list[int]) -> list[tuple[int, int]]:
    """The spans of the links' texts, from the `]` ending each (on its line, brackets balanced in
    it); an image's description is not one: pandoc makes it a figure's caption, citations and all."""
    spans = []
    for end in ends:
        start = _link_text_start(text, end)
        if start >= 0 and text[start - 1 : start] != "!":
            spans.append((start + 1, end))
    return spans


def _link_text_start(text: str, end: int) -> int:
    """The `[` that the `]` at `end` closes, brackets in between balanced and escaped ones skipped
    (`[@{{a["b"]}}](url)`), or -1."""
    floor = max(0, end - _LOOK_BACK, text.rfind("\n", 0, end) + 1)
    depth, at = 0, end
    while True:
        at = max(text.rfind("[", floor, at), text.rfind("]", floor, at))
        if at < 0:
            return -1
        if text[at - 1 : at] == "\\":
            continue
        if text[at] == "]":
            depth += 1
        elif depth:
            depth -= 1
        else:
            return at


def _defined_references(visible: str, labels: set[str]) -> list[tuple[int, int]]:
    """The bracketed spans whose text matches a link reference definition's label, as CommonMark
    matches them (case and runs of white space aside): reference links, not citations. One search
    for the labels themselves: a search for every bracketed `@` took 2.3 ms of a 1 MB scan, this 0.4."""
    words = (r"\s+".join(map(re.escape, label.split())) for label in sorted(labels))
    pattern = re.compile(r"\[\s*(" + "|".join(words) + r")\s*\]", re.IGNORECASE)
    return [span.span(1) for span in pattern.finditer(visible) if _label(span.group(1)) in labels]


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def _subfigure_of(key: str, figures: set[str]) -> bool:
    """MyST names a figure's subfigures after its label: `fig-a`, `fig-b`, …"""
    return key[-2:-1] == "-" and "a" <= key[-1] <= "z" and key[:-2] in figures


def _in_spans(spans: list[tuple[int, int]], at: int) -> bool:
    index = bisect_right(spans, at, key=lambda span: span[0]) - 1
    return index >= 0 and spans[index][0] <= at < spans[index][1]


def _in_bare_url(visible: str, at: int) -> bool:
    """MyST links a bare URL whole (`https://hackmd.io/@user/x`, `https://mystmd.org,@key`): an `@`
    in the word that holds `://` or starts `www.` is the URL's, unless a `[` opens the citation
    before it (`[https://hackmd.io/@user]` is a citation to MyST too)."""
    if at == 0 or visible[at - 1] in " \t\n[-;":  # most citations: `[@k`, `[-@k`, `; @k`, ` @k`
        return False
    word_start, floor = at - 1, max(0, at - _LOOK_BACK)
    while word_start > floor and not visible[word_start - 1].isspace():
        word_start -= 1
    word = visible[word_start:at]
    scheme = word.find("://")
    if scheme < 0:
        scheme = 0 if word.startswith(("www.", "(www.")) else -1
    return scheme >= 0 and "[" not in word[:scheme]


def _yaml_escaped(text: str, at: int) -> bool:
    """In a double-quoted YAML string `\\\\@` is `\\@` to pandoc: an escaped `@`, no citation."""
    if text[at - 2 : at] != "\\\\":
        return False
    line = text[text.rfind("\n", 0, at) + 1 : at]
    return line.count('"') % 2 == 1


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the given spans replaced by spaces, so offsets stay put."""
    if not spans:
        return text
    spans.sort()
    parts, last = [], 0
    for start, end in spans:
        if end <= last:
            continue
        start = max(start, last)
        parts += [text[last:start], " " * (end - start)]
        last = end
    parts.append(text[last:])
    return "".join(parts)


# --- blocks -----------------------------------------------------------------------------------


def _indent(line: str) -> int:
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


@dataclass
class _Reading:
    """What the block pass read: code, comments and definitions are hidden; a chunk is a run of prose
    lines with no blank line in it (inline constructs never cross one)."""

    hidden: list[tuple[int, int]] = field(default_factory=list)
    chunks: list[tuple[int, int]] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)  # targets: `(label)=`, `:label:`, a fence's `{#id}`
    figures: set[str] = field(default_factory=set)  # labels of figure directives
    link_ends: list[int] = field(default_factory=list)  # the `]` of each link's text (by the inline pass)
    # The labels of link reference definitions holding a citation (`[@key, V.9]: url`), as compared:
    # pandoc reads such a line as a paragraph citing `key`, and every `[@key, V.9]` as a citation.
    definitions: set[str] = field(default_factory=set)


def _blocks(text: str) -> _Reading:
    """Read the document line by line: most lines are prose from the margin, on a fast path."""
    reading = _Reading()
    hidden, chunks = reading.hidden, reading.chunks
    directive = ""  # the directive whose options may come next (`:label:` among them)
    yaml_options = False  # in the `---` block of that directive's options
    lists: list[int] = []  # the content columns of the open list items
    fences: list[tuple[str, int, bool, int]] = []  # (character, length, body is prose, column) of open fences
    in_comment = False
    raw_html = ""  # what ends the raw HTML a block opened (`</pre`, `?>`), lower-cased
    unclosed_fences: dict[tuple[str, int], int] = {}  # (fence, column) → a position with no closer after it
    environment = ""  # the raw TeX environment a block opened (pandoc passes it through, blank lines and all)
    depth = 0
    previous_blank = True
    previous_code = False  # the previous line was indented code
    chunk_start = -1
    offset = 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        if (
            line[:1].isalpha()
            and not in_comment
            and not environment
            and not raw_html
            and not (fences and not fences[-1][2])
        ):
            # Most lines: prose starting at the margin (ends any list after a blank line).
            if previous_blank:
                lists.clear()
            previous_blank = previous_code = False
            if directive:  # `name: x` in a directive's `---` block of options
                directive, yaml_options = _option(line, directive, yaml_options, reading)
            if chunk_start < 0:
                chunk_start = start
            continue
        body = line.rstrip("\r\n")
        quote = _BLOCKQUOTE.match(body) if body.lstrip(" ").startswith(">") else None
        content = body[quote.end() :] if quote else body
        visible = True
        if in_comment:
            visible = False
            in_comment = "-->" not in content
        elif raw_html:
            visible = False
            if raw_html in content.lower():
                raw_html = ""
        elif environment:
            visible = False
            depth += content.count("\\begin{" + environment + "}") - content.count(
                "\\end{" + environment + "}"
            )
            if depth <= 0:
                environment = ""
        elif fences and not fences[-1][2]:
            visible = False
            if _closes(content, fences[-1]):
                fences.pop()
                directive = ""
            elif directive:  # options end where the body starts
                directive, yaml_options = _option(content, directive, yaml_options, reading)
        elif not content.strip():
            previous_blank, previous_code = True, False
            directive, yaml_options = "", False
            if chunk_start >= 0:
                chunks.append((chunk_start, start))
                chunk_start = -1
            continue
        else:
            if directive:
                directive, yaml_options = _option(content, directive, yaml_options, reading)
            if not directive and content.lstrip(" ")[:1] in (":", "("):
                directive = _mark(content, reading)
            if fences and _closes(content, fences[-1]):
                fences.pop()
                visible = False
            else:
                indent = _indent(content)
                if previous_blank:
                    # pandoc keeps a paragraph indented four columns past the enclosing list in the item.
                    while lists and indent < min(lists[-1], (lists[-2] if len(lists) > 1 else 0) + 4):
                        lists.pop()
                base = lists[-1] if lists else 0
                at = start + len(body) - len(content)
                example = _EXAMPLE_ITEM.match(content)
                # A list does not interrupt a paragraph: `@label.` on a continuation line is a citation.
                if example and (chunk_start < 0 or _LIST_ITEM.match(text, chunk_start)):
                    hidden.append((at + example.start(1), at + example.end(1)))
                item = _LIST_ITEM.match(content)
                first_item = True
                while item and indent < base + 4:  # `* - x` opens two lists on one line
                    while first_item and lists and indent < lists[-1]:
                        lists.pop()
                    if not first_item and "@" in item.group(2):  # `- @x.`: an example list inside
                        hidden.append((at + item.start(2), at + item.end(2)))
                    first_item = False
                    marker = item.end(2) - item.start(2)
                    spaces = item.end(3) - item.start(3)
                    lists.append(indent + marker + (spaces or 1))
                    base = lists[-1]
                    content = " " * base + content[item.end() :]
                    indent = _indent(content)
                    item = _LIST_ITEM.match(content) if content.strip() else None
                if indent >= base + 4 and (previous_blank or previous_code) and chunk_start < 0:
                    visible = False
                    previous_code = True
                else:
                    previous_code = False
                    fence = _FENCE.match(content) if indent < base + 4 else None
                    if (
                        fence
                        and not (fence.group(1)[0] == "`" and "`" in fence.group(2))
                        and (_FENCE_INFO.match(fence.group(2)) or _is_directive(fence.group(2)))
                        and not (chunk_start >= 0 and _closes_span(text, chunk_start, at, fence.group(1)))
                        and _closed_later(text, offset, fence.group(1), base, unclosed_fences)
                    ):
                        name = _DIRECTIVE.match(fence.group(2))
                        directive, yaml_options = name.group(1) if name else "", False
                        prose = directive in _PROSE_DIRECTIVES
                        fences.append((fence.group(1)[0], len(fence.group(1)), prose, base))
                        if "#" in fence.group(2) and (attribute := _ATTRIBUTE_ID.search(fence.group(2))):
                            reading.labels.add(attribute.group(1))  # ```{#lst:x .python}, pandoc-crossref's
                        visible = False
                    elif chunk_start < 0 and indent < base + 4 and (opened := _BEGIN.match(content)):
                        visible = False
                        environment = opened.group(1)
                        depth = content.count("\\begin{" + environment + "}")
                        depth -= content.count("\\end{" + environment + "}")
                        if depth <= 0:
                            environment = ""
                    elif content.lstrip().startswith("<!--") and indent < base + 4:
                        visible = False
                        in_comment = "-->" not in content
                    elif indent < base + 4 and (raw := _RAW_HTML.match(content)):
                        visible = False
                        raw_html = "?>" if raw.group(2) else "</" + raw.group(1).lower()
                        if raw_html in content.lower()[raw.end() :]:
                            raw_html = ""
                    elif chunk_start < 0 and (definition := _REFERENCE_DEFINITION.match(content)):
                        if "@" not in definition.group(1) or not _PANDOC.search(definition.group(1)):
                            visible = False
                        elif _DEFINITION_REST.match(content, definition.end(1) + 2):
                            visible = False
                            reading.definitions.add(_label(definition.group(1)))
        previous_blank = False
        if visible:
            if chunk_start < 0:
                chunk_start = start
        else:
            hidden.append((start, offset))
            if chunk_start >= 0:
                chunks.append((chunk_start, start))
                chunk_start = -1
    if chunk_start >= 0:
        chunks.append((chunk_start, offset))
    return reading


def _is_directive(info: str) -> bool:
    """A MyST directive with an argument (```` ```{figure} plot.png ````): a fence to MyST, whatever
    pandoc makes of an info string of two words."""
    name = _DIRECTIVE.match(info)
    return name is not None and (name.group(1) in _PROSE_DIRECTIVES or name.group(1) in _MYST_CODE_DIRECTIVES)


def _mark(content: str, reading: _Reading) -> str:
    """Read a line starting `:` or `(` for MyST's marks: a colon fence's directive (whose options
    follow) or a target `(label)=`. Returns the directive whose options may come next."""
    stripped = content.strip()
    if stripped.startswith(":::"):
        opened = _COLON_DIRECTIVE.match(stripped)
        return opened.group(1) if opened else ""
    if target := _TARGET_LINE.match(content):
        reading.labels.add(target.group(1))
    return ""


def _option(content: str, directive: str, yaml: bool, reading: _Reading) -> tuple[str, bool]:
    """One line of a directive's options, `:label: x` or in a `---` block `name: x`: (the directive,
    still reading options; in a `---` block), or ("", False) where its body starts."""
    stripped = content.strip()
    if stripped == "---":
        return (directive, True) if not yaml else ("", False)
    option = _YAML_LABEL_OPTION.match(stripped) if yaml else None
    if not yaml and stripped[:1] == ":":
        option = _LABEL_OPTION.match(stripped)
    elif not yaml:
        return "", False
    if option:
        reading.labels.add(option.group(1))
        if directive == "figure":
            reading.figures.add(option.group(1))
    return directive, yaml


def _closed_later(
    text: str, position: int, fence: str, column: int, unclosed: dict[tuple[str, int], int]
) -> bool:
    """pandoc opens a fence only if a closing fence follows; an unclosed one is paragraph text."""
    if position >= unclosed.get((fence, column), len(text) + 1):
        return False
    closer = re.compile(
        rf"(?m)^(?: {{0,3}}> ?)*[ \t]{{0,{column + 3}}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*\r?$"
    )
    if closer.search(text, position):
        return True
    unclosed[(fence, column)] = position
    return False


def _closes_span(text: str, start: int, end: int, fence: str) -> bool:
    """pandoc reads a paragraph's code span before the next block: a fence line whose run closes a
    span the paragraph opened (```` ```{r, echo=FALSE} ```` … ```` ``` ````) is part of that span."""
    if fence[0] != "`" or "`" not in text[start:end]:
        return False
    runs = re.findall(r"(?<!`)`+(?!`)", text[start:end])
    return sum(len(run) == len(fence) for run in runs) % 2 == 1


def _closes(content: str, fence: tuple[str, int, bool, int]) -> bool:
    """CommonMark: a closing fence is the same character, at least as long, with nothing after it."""
    character, length, _, column = fence
    stripped = content.strip()
    return len(stripped) >= length and stripped == character * len(stripped) and _indent(content) < column + 4


# --- inline -----------------------------------------------------------------------------------


def _inline(text: str, start: int, end: int, reading: _Reading, found: list[CitedKey]) -> None:
    """Hide the code spans, math, HTML, autolinks, escapes and link destinations of one prose
    chunk; MyST `{cite}` roles are read from their code spans."""
    hidden = reading.hidden
    position = start
    candidate, match_inline = _INLINE_START.search, _INLINE.match
    unclosed: dict[int, int] = {}  # run length → a position after which no run of that length closes
    while True:
        at = candidate(text, position, end)
        if at is None:
            return
        match = match_inline(text, at.start(), end)
        if match is None:
            if text[at.start() : at.start() + 2] == "][":  # a reference link's text ends
                reading.link_ends.append(at.start())
            position = at.start() + 1
            continue
        if match.lastgroup != "code":
            if match.lastgroup == "destination" and text[match.start() + 1] == "(":
                reading.link_ends.append(match.start())  # an inline link's text ends
            hidden.append(match.span())
            position = match.end()
            continue
        run = match.group("code")
        close = -1
        if match.end() < unclosed.get(len(run), end):
            close = _closing_run(text, match.end(), end, len(run))
        if close < 0:
            # No run of the same length: literal backticks (and none later either, so the search
            # is not repeated: a paragraph of unmatched runs stays linear).
            unclosed[len(run)] = min(unclosed.get(len(run), end), match.end())
            position = match.end()
            continue
        hidden.append((match.start(), close + len(run)))
        if _MYST_ROLE.search(text, max(start, match.start() - 12), match.start()):
            content_start = match.end()
            for key in _MYST_KEY.finditer(text, content_start, close):
                found.append(CitedKey(key.group(1), key.start(1), key.end(1)))
        position = close + len(run)


def _closing_run(text: str, position: int, end: int, length: int) -> int:
    """The start of the next backtick run of exactly `length` before `end`, or -1."""
    while True:
        at = text.find("`" * length, position, end)
        if at < 0:
            return -1
        run_end = at
        while run_end < end and text[run_end] == "`":
            run_end += 1
        if run_end - at == length:
            return at
        position = run_end
