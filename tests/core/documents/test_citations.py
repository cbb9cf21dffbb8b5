from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.documents.citations import citation_at, latex_citations, markdown_citations


def test_latex_citations_skip_comments_and_verbatim() -> None:
    text = (
        "See \\citep[see][p.~3]{a, b} and \\cites[x]{c}[y]{d}. % \\cite{hidden}\n"
        "\\begin{verbatim}\\cite{nope}\\end{verbatim} \\textcquote{e}{quote \\emph{x}} "
        "\\volcite{3}{f} \\nocite{*} \\Citet{g}"
    )
    found = latex_citations(text)
    assert [c.key for c in found] == ["a", "b", "c", "d", "e", "f", "*", "g"]
    assert all(text[c.start : c.end] == c.key for c in found)


def test_markdown_citations_skip_code_emails_and_crossrefs() -> None:
    text = (
        "Pandoc [@a; -@b, p. 3] and @c. Mail x@y.org, see @fig-1 and {cite:p}`d,e` and @{f.g.}\n"
        "`@code`\n```\n@fence\n```\nend @h."
    )
    found = markdown_citations(text)
    assert [c.key for c in found] == ["a", "b", "c", "d", "e", "f.g.", "h"]
    assert all(text[c.start : c.end] == c.key for c in found)


def test_citation_at_touches_the_key_end() -> None:
    found = latex_citations(r"\cite{abc}")
    assert citation_at(found, 6) == found[0]
    assert citation_at(found, 9) == found[0]
    assert citation_at(found, 1) is None


def test_thousands_of_citations() -> None:
    text = " ".join(f"\\cite{{key{n}}}" for n in range(5000))
    assert len(latex_citations(text)) == 5000


def test_an_unfinished_key_list_ends_where_it_stops_being_one() -> None:
    text = "Early work \\cite{\nAs in \\cite{okapi1994zebra} and \\cite{foo, The model is new}\n\n\\citep{a,\n\nb}"
    found = latex_citations(text)
    assert [c.key for c in found] == ["okapi1994zebra"]
    later = text.index("okapi1994zebra") + 3
    assert citation_at(found, later) == found[0]


def test_prose_after_an_unfinished_cite_gives_no_key() -> None:
    text = "\\cite{However, the model, as trained, is new.\n\nLater \\cite{done}."
    assert [c.key for c in latex_citations(text)] == ["done"]


def test_what_latex_does_not_read_as_citations() -> None:
    text = (
        "\\documentclass{ltxdoc}\n\\newcommand*{\\code}[1]{\\detokenize{#1}}\n"
        "\\newcommand{\\seecite}[2]{see \\citet{#1} and \\citet{#2}}\n"
        "|\\cite{short}| \\code{\\cite{detok}} \\verb+\\cite{v}+ \\setcitestyle{numbers} \\citetext{priv}\n"
        "\\iffalse \\cite{off} \\fi \\seecite{a}{b} \\def\\x#1{\\cite{#1}} \\x{c}\n"
        "\\end{document}\n\\cite{after}"
    )
    assert [c.key for c in latex_citations(text)] == ["a", "b", "c"]


def test_markdown_lists_examples_and_directives() -> None:
    text = (
        "(@ex) An example.\n\nAs (@ex) shows, @real.\n\n"
        "``````{list-table}\n* - ```md\n    {cite}`incode`\n    ```\n  - {cite:p}`inrow`\n``````\n\n"
        "- item\n\n        @indentedcode\n\n- item\n\n    continued @continued\n\n"
        '![](a.png){fig-alt="The citation \'@inalt\' in brackets"} and [@inspan]{.mark title="@attr"}\n'
    )
    assert [c.key for c in markdown_citations(text)] == ["real", "inrow", "continued", "inspan"]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("the\n\n- @a.", []),  # an example list inside a bullet list: its marker, no citation
        ("the\n\n- @a. x\n\nsee @a and [@a]", ["a"]),  # bare: the example's number; bracketed: a citation
        ("the\n\n@a0000. [@a0000]", ["a0000"]),
        ("1. @b) y\n\n@b, [@b; @c]", ["b", "c"]),
    ],
)
def test_markdown_example_labels_are_references_only_outside_brackets(text: str, keys: list[str]) -> None:
    # As pandoc 2.17 reads them (found by the live property test against pandoc).
    assert [c.key for c in markdown_citations(text)] == keys


_PIECES = st.sampled_from(
    ["\\cite{", "\\citep[", "]", "[", "{", "}", ",", " ", "\n", "\n\n", "%", "\\verb|", "|", "\\iffalse",
     "\\fi", "\\newcommand{\\x}[1]{", "#1", "key", "@", "[@", ";", "`", "```", "    ", "- ", "$", "<!--",
     "-->", "](", ")", "{cite:p}`", "\\", "*", "\\begin{verbatim}", "\\end{verbatim}", "é"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_any_text_scans_to_keys_standing_where_they_are(text: str) -> None:
    for scan in (latex_citations, markdown_citations):
        found = scan(text)
        assert all(text[c.start : c.end] == c.key and c.key for c in found)
        assert [c.start for c in found] == sorted(c.start for c in found)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        # pandoc opens a fence only for one word or a valid attribute block after the backticks: an R
        # Markdown chunk header with spaces is paragraph text, and its closing ``` closes the code span.
        ("```{r setup, include=FALSE}\nx <- '@inspan'\n```\n\nthen @a", ["a"]),
        ("```{r, echo=FALSE}\nx\n\n```\ny @incode\n```\n\n@a", ["a"]),
        ("```{r,echo=F}\n@incode\n```\n\n@a", ["a"]),
        ('```{.r fig.cap="a b"}\n@incode\n```\n\n@a', ["a"]),
        ("```r x\n@inspan\n```\n\n@a", ["a"]),
        ("~~~ {r x}\n\n@b\n\n~~~\n@c\n~~~\n\n@a", ["b", "a"]),
    ],
)
def test_markdown_fences_open_only_as_pandoc_reads_their_info(text: str, keys: list[str]) -> None:
    assert [c.key for c in markdown_citations(text)] == keys


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        # pandoc passes raw TeX through unread: a command with its [..] and {..} arguments (balanced),
        # and an environment, blank lines and all when it opens a block.
        ("a \\index{x!in y@in \\texttt{z}} \\emph {@b} \\foo[x]{@d}[@e] \\foo @f", ["e", "f"]),
        (
            "\\begin{tabular*}{\\textwidth}{@{\\extracolsep\\fill}l}\nx @b\n\ny @c\n\\end{tabular*}\n\n@a",
            ["a"],
        ),
        ("- \\begin{center}\n  @b\n  \\end{center}\n\nx \\begin{a}@c\\end{a} @a", ["a"]),
        ("x \\citep[see][ then [@a; @b] more.", ["a", "b"]),  # unbalanced: no argument, text
        ("x \\\\@a and \\@b", ["a"]),
        # a footnote is prose, not a link reference definition
        ("x[^n]\n\n[^n]: The forcats [@a] package.", ["a"]),
    ],
)
def test_markdown_raw_tex_and_footnotes(text: str, keys: list[str]) -> None:
    assert [c.key for c in markdown_citations(text)] == keys


def test_markdown_yaml_double_quoted_escapes() -> None:
    # YAML reads "\\@" as \@, which pandoc reads as an escaped @; unquoted, \\@ stays an escaped
    # backslash before a citation, as in the body.
    text = '---\nemail: "bob\\\\@email.com"\nnote: see \\\\@a\n---\n\nx \\\\@b and "\\\\@c"\n'
    assert [c.key for c in markdown_citations(text)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        # pandoc opens a fence only when a closing fence follows: an unclosed one is paragraph text
        ("x\n```\ncode @a\n\nmore @b\n", ["a", "b"]),
        ("plot\n}\n```\n\nmore @a\n\n    ```\n\n@b\n", ["a", "b"]),
        ("```\ncode @a\n    ```\n\n@b\n\n```\n\n@c", ["c"]),  # indented four: not a closer
    ],
)
def test_markdown_unclosed_fences_are_text(text: str, keys: list[str]) -> None:
    assert [c.key for c in markdown_citations(text)] == keys


def test_markdown_example_marker_does_not_interrupt_a_paragraph() -> None:
    # `@label.` opening a continuation line is a citation (pandoc's lua-filters sample); example
    # items following one another are still markers.
    text = "Authors are referred to\n@Upper_writers_1974.\n\n(@a) An example.\n(@b) Another.\n\nAs (@a) and @b show, [@b].\n"
    assert [c.key for c in markdown_citations(text)] == ["Upper_writers_1974", "b"]


def test_latex_unbraced_bracket_in_a_note_is_an_unfinished_citation() -> None:
    # `\citep[see][` typed before `\textcolor[HTML]{DFECF7}`: the note finds no `]` of its own before
    # the next citation, so DFECF7 is no key; brackets inside a note nest, as xparse reads them (icite).
    text = (
        "x \\citep[see][  This is \\textcolor[HTML]{DFECF7}{inline}. \\cite{a} \\cite[{[3]}]{b}"
        " \\icite[\\plat{179}[a][1--4]]{Plato:Laches}"
    )
    assert [c.key for c in latex_citations(text)] == ["a", "b", "Plato:Laches"]


def test_latex_macros_defined_with_argument_specifications() -> None:
    # xparse and tcolorbox definitions: the body cites parameter #4, the first `m` of the specification
    # (biblatex-oxref's manual); `#4` itself is never a key. multibib's \newcites defines, cites nothing.
    text = (
        "\\NewTColorBox{bibexbox}{D(){ok}d<>omo}{after upper={\\fullcite[#3]{#4}}}\n"
        "\\NewDocumentCommand{\\seecite}{s o m}{see \\cite[#2]{#3}}\n"
        "\\newcites{article}{Articles}\n\\begin{document}\n"
        "\\begin{bibexbox}\n<OGS \\S13.4.4>\n{C118/07}\nCase.\\end{bibexbox}\n"
        "\\seecite*[p.~3]{knuth} \\citearticle{art}"
    )
    assert [c.key for c in latex_citations(text)] == ["C118/07", "knuth", "art"]


def test_latex_unfinished_citation_in_a_definition_hides_its_body() -> None:
    # `\cite{` typed in a macro's body does not open a group: the body still ends where it did.
    text = "\\providecommand{\\desc}{%\nThis\\cite{ package \\autocite{inbody}.\n}\n\\cite{after}"
    assert [c.key for c in latex_citations(text)] == ["after"]


def test_markdown_braced_key_holds_balanced_braces() -> None:
    # pandoc reads `@{…}` with balanced braces inside (a Jinja template in manubot's front matter).
    text = 'By [\\@{{author.name}}@{{author["server"]}}] and @{a{b}c}.'
    assert [c.key for c in markdown_citations(text)] == ['{author["server"]}', "a{b}c"]


def test_latex_comment_environments_chained_macros_and_foreign_quotes() -> None:
    # \excludecomment makes an environment a comment; a macro citing through one defined before it
    # (with @ in its name) cites; \foreigntextcquote's first group is a language, not a key.
    text = (
        "\\excludecomment{hideme}\n\\makeatletter\n\\def\\my@cite#1{\\cite{#1}}\n"
        "\\newcommand\\mycite[1]{\\my@cite{#1}}\n\\makeatother\n"
        "\\begin{hideme}\n\\cite{hidden}\n\\end{hideme}\n"
        "\\mycite{chained} \\foreigntextcquote{german}[p.~3]{quoted}{Text}"
    )
    assert [c.key for c in latex_citations(text)] == ["chained", "quoted"]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("<pre>\n@p1\n\n@p2 after a blank line\n</pre>\n\nAfter @ok.", ["ok"]),
        ("Para\n<script>\nvar a = '@s';\n</script>\n", []),
        ("Inline <style>.a{content:'@st'}</style> and <textarea>@ta</textarea> @ok.", ["ok"]),
        ('<?php echo "@php"; ?>\n\n<div>\n@indiv\n</div>', ["indiv"]),
        ("All: @* and [@*, p. 3].\n", ["*", "*"]),
    ],
)
def test_markdown_raw_html_and_nocite_star(text: str, keys: list[str]) -> None:
    # pandoc passes <pre>, <script>, <style>, <textarea> and processing instructions through unread.
    assert [c.key for c in markdown_citations(text)] == keys


def test_latex_macro_throwing_its_argument_away() -> None:
    # `\newcommand{\hide}[1]{}` or `\def\comment#1{}` drops what it is given: nothing in it is cited.
    text = (
        "\\newcommand{\\hide}[1]{}\n\\long\\def\\comment#1{}\n\\newcommand{\\todo}[1]{\\textbf{#1}}\n"
        "\\hide{\\cite{h1}} \\comment{\\cite{h2}} \\todo{see \\cite{shown}}"
    )
    assert [c.key for c in latex_citations(text)] == ["shown"]


def test_latex_keys_a_macro_body_names_are_cited_where_it_is_used() -> None:
    # `\newcommand{\bert}{BERT~\cite{devlin2019}}`: LaTeX cites devlin2019 each time \bert is used;
    # a macro never used cites nothing, and a parameter is still no key.
    text = (
        "\\newcommand{\\bert}{BERT~\\citep{devlin2019}}\n\\newcommand{\\unused}{\\cite{never}}\n"
        "\\newcommand{\\gptcite}[1]{\\cite{brown2020,#1}}\n\\begin{document}\n"
        "\\bert{} is strong; so is GPT~\\gptcite{radford2019}. \\bertlarge\n"
    )
    found = latex_citations(text)
    assert [c.key for c in found] == ["devlin2019", "brown2020", "radford2019"]
    assert all(text[c.start : c.end] == c.key for c in found)


def test_latex_verbatim_environments_defined_in_the_document() -> None:
    # listings', fancyvrb's and minted's definitions make verbatim environments; a tcolorbox listing
    # only when `listing only` (by default it typesets its body too); a listing's options are read.
    text = (
        "\\lstnewenvironment{code}[1][]{}{}\n\\DefineVerbatimEnvironment{MyVerb}{Verbatim}{}\n"
        "\\newminted{python}{}\n\\newtcblisting{onlylist}{listing only}\n\\newtcblisting{both}{colback=white}\n"
        "\\begin{code}\\cite{l1}\\end{code} \\begin{MyVerb}\\cite{l2}\\end{MyVerb}\n"
        "\\begin{pythoncode}\\cite{l3}\\end{pythoncode} \\begin{onlylist}\\cite{l4}\\end{onlylist}\n"
        "\\begin{both}\\cite{shown}\\end{both}\n"
        "\\begin{lstlisting}[caption={From \\cite{caption}}]\n\\cite{l5}\n\\end{lstlisting}"
    )
    assert [c.key for c in latex_citations(text)] == ["shown", "caption"]


def test_latex_a_listing_showing_a_whole_document_and_commands_not_named_cite() -> None:
    # A second \begin{document} inside an environment (a package's example listing) is shown, not read:
    # its \end{document} does not end the document. \bibentry and abnTeX2's \apud{cited}{citing} cite.
    text = (
        "\\documentclass{article}\n\\begin{document}\nIntro \\cite{a}.\n\\begin{ltxexample}\n"
        "\\documentclass{article}\n\\begin{document}\n\\cite{shown}\n\\end{document}\n\\end{ltxexample}\n"
        "Later \\bibentry{b} and \\apud[p.~3]{c}{d}.\n\\end{document}\n\\cite{after}"
    )
    assert [c.key for c in latex_citations(text)] == ["a", "b", "c", "d"]


def test_latex_cite_typed_before_an_arguments_last_word_flags_nothing() -> None:
    # `\cite{` typed in \title{…} before its last word takes the title's `}`: the document then has a
    # `{` more than its unfinished key lists explain, and a key list that closed an argument is unfinished.
    finished = (
        "\\title{A Study of\nSomething Interesting}\n\\author{A. N. Other}\n\\begin{document}\n"
        "As \\textbf{in \\cite{a}} and \\footnote{See \\cite{b}.\n\nMore.} \\cite{c}.\n"
    )
    for typed in ("Something\\cite{ ", "Something\\cite{foo, "):
        edited = finished.replace("Something ", typed)
        assert [c.key for c in latex_citations(edited)] == ["a", "b", "c"], typed
    assert [c.key for c in latex_citations(finished)] == ["a", "b", "c"]


MYST = "(top)=\n# Top\n\n"  # a target line: the document is MyST


@pytest.mark.parametrize("opening", ["", MYST, "{cite}`a` "], ids=["pandoc", "myst-target", "myst-role"])
@pytest.mark.parametrize(
    ("text", "keys"),
    [
        # A citation inside a link's text, or glued to a bare URL, is the link's, in any document
        # (pandoc reads a Cite in both); in brackets a URL's `@` is a citation.
        ("[@jupyter-book](https://github.com/jupyter-book) [@b]", ["b"]),
        ("notes at https://hackmd.io/@turingway/B1OnVLe-3, https://mystmd.org,@c and @d", ["d"]),
        ("www.hackmd.io/@team/x (www.example.org/@y) [https://hackmd.io/@user]", ["user"]),
        ("[@link][ref] and [the notes of @he2010](https://x.org) @k\n\n[ref]: https://x.org", ["k"]),
        # brackets balanced inside a link's text; an image's description is a caption, citing (not in a link)
        ('[\\@{{a.b}}@{{a["c"]}}](https://x.org/@{{a.b}}) @k', ["k"]),
        (
            "![Recall, after @cohan2020](recall.png) and [![@logo](l.png)](https://x.org)",
            ["cohan2020"],
        ),
    ],
)
def test_markdown_citations_in_links_and_bare_urls(opening: str, text: str, keys: list[str]) -> None:
    found = [c.key for c in markdown_citations(opening + text)]
    assert found == (["a", *keys] if opening.startswith("{cite}") else keys)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        # MyST targets: `(label)=`, a directive's `:label:` (its subfigures `label-a`…), `{#label}`
        ("(intro)=\n# Introduction\n\nAs @intro and [@intro; @k] show.", ["k"]),
        ("```{math}\n:label: bm25\nx\n```\n\n@bm25 and @k", ["k"]),
        (":::{figure}\n:align: left\n:label: fig\n![a](a.png)\n![b](b.png)\n:::\n\n@fig-b @k-b", ["k-b"]),
        ("```{note}\n:name: remark\nSee @k.\n```\n\n@remark", ["k"]),
        # options as YAML (Jupyter Book's habit): `name:` or `label:` in the `---` block
        ("```{figure} a.png\n---\nname: fig-yaml\nwidth: 80%\n---\nSee @k.\n```\n\n@fig-yaml", ["k"]),
        ("```{math}\n---\nlabel: eq\n---\nx\n```\n\nname: @j, @eq", ["j"]),
        # a directive with an argument is a fence to MyST (pandoc opens none for two words)
        ("```{figure} plot.png\n:name: fig\nA caption, after @k.\n```\n\nSee @fig and `x` @j.", ["k", "j"]),
        # pandoc-crossref and Quarto labels the document defines
        ("# Method {#sec:method}\n\n$$ x $$ {#eq:x}\n\n@sec:method, @eq:x, [@k]", ["k"]),
        ("![Plot](p.png){#fig:plot width=50%}\n\n```{#lst:code .py}\nx\n```\n\n[@fig:plot; @lst:code]", []),
        ("```{r}\n#| label: fig-cars\nplot(cars)\n```\n\n@fig-cars and @k", ["k"]),
        # a label defined only in code, or only in another document, is not a target here
        ("```\n(intro)=\n```\n\n@intro", ["intro"]),
    ],
)
def test_markdown_labels_the_document_defines_are_cross_references(text: str, keys: list[str]) -> None:
    assert [c.key for c in markdown_citations(text)] == keys


@pytest.mark.parametrize("opening", ["", MYST], ids=["pandoc", "myst"])
def test_markdown_reference_definition_labelled_with_a_citation(opening: str) -> None:
    # `[@k, V.9]: url` is a link reference definition and every `[@k, V.9]` (any case, any spacing)
    # a reference link, where pandoc (2.17 and 3.9) reads citations; `@k` itself is still cited.
    text = (
        "See [@k, V.9] and [ @K,\nv.9 ], after @k and [@j].\n\n"
        "[ref]: https://example.org\n[@k, V.9]: https://example.org/v9\n[@j]: https://example.org/j\n"
    )
    found = markdown_citations(opening + text)
    assert [(c.key, c.start - len(opening)) for c in found] == [("k", 38)]
    # Not a definition: it cannot interrupt a paragraph, and `[@k, V.9]` is then a citation.
    assert [c.key for c in markdown_citations("See [@k, V.9].\n[@k, V.9]: https://example.org\n")] == [
        "k",
        "k",
    ]
