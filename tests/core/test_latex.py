from __future__ import annotations

import pytest

from core.latex import latex_to_text, text_to_latex


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"M{\"u}ller, J{\'e}r{\^o}me", "Müller, Jérôme"),
        (r"{\'{E}}cole Polytechnique", "École Polytechnique"),
        (
            r"Erd\H{o}s and \c{C}elik and {\O}stergaard and Stra\ss e",
            "Erdős and Çelik and Østergaard and Straße",
        ),
        (
            r"{BERT}: Pre-training --- of \emph{Deep} Transformers",
            "BERT: Pre-training — of Deep Transformers",
        ),
        (r"50\% of A \& B cost \$5 in 1990--2000", "50% of A & B cost $5 in 1990–2000"),
        (r"na{\"\i}ve", "naïve"),
        ("The Semantic Web 10<sup>th</sup> Year", "The Semantic Web 10th Year"),
        (r"critics $\texttt{CTRL}$ work", "critics CTRL work"),
        (r"escaped \{braces\} and \textasciitilde{} stay", "escaped {braces} and ~ stay"),
        ("plain text   with  spaces", "plain text with spaces"),
    ],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


def test_text_to_latex_writes_what_an_encoding_cannot_hold_and_reads_back() -> None:
    text = "Jérôme Łukasz Dvořák Ångström – 東京"
    assert text_to_latex(text, "utf-8") == text
    ascii_text = text_to_latex(text, "ascii")
    assert ascii_text.isascii()
    assert ascii_text == "J{\\'e}r{\\^o}me {\\L}ukasz Dvo{\\v{r}}{\\'a}k {\\AA}ngstr{\\\"o}m ? ??"
    assert latex_to_text(ascii_text) == "Jérôme Łukasz Dvořák Ångström ? ??"


def test_a_math_shift_ends_a_command_like_a_space() -> None:
    # arXiv abstracts: `$\alpha$ terms` lost its space and indexed the word "αterms".
    assert latex_to_text("strings with $\\alpha$ terms") == "strings with α terms"
    assert latex_to_text("costs \\$5 and $x$ more") == "costs $5 and x more"
