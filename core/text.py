"""How text becomes search terms.

One analyzer serves the index and the queries, so a word typed in a sentence meets the same
stemmed token that the abstract produced. Citing text is cleaned first: the citation markup,
math, URLs and formatting around a sentence carry no meaning about the paper being cited.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import tantivy

from core.latex import latex_to_text
from core.records import without_surrogates

ANALYZER_NAME = "papercite_en"
_MAX_TOKEN_CHARS = 40


@lru_cache(maxsize=1)
def text_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(_MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def analyze(text: str) -> list[str]:
    try:
        return list(text_analyzer().analyze(text))
    except UnicodeEncodeError:  # a lone surrogate, which tantivy cannot take: read as U+FFFD
        return list(text_analyzer().analyze(without_surrogates(text)))


# --- cleaning citing text -----------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_TEX_COMMENT = re.compile(r"(?<!\\)%.*$", re.MULTILINE)
_TEX_CITE = re.compile(
    r"\\[A-Za-z]*cite[A-Za-z]*\*?(?:\s*\[[^\]]*\]){0,2}(?:\s*<[^>]*>)?\s*(?:\{[^}]*\}|\{[^}]*$)"
    r"|\\(?:cquote|textcquote|blockcquote)\b"
)
_TEX_REFERENCE = re.compile(
    r"\\(?:ref|eqref|autoref|cref|Cref|label|pageref|url|input|include|bibliography\w*|addbibresource)"
    r"\s*\{[^}]*\}"
)
_TEX_MATH = re.compile(r"\$\$.*?\$\$|(?<!\\)\$.*?(?<!\\)\$|\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)
_MATH_TEXT = re.compile(r"\\(?:text\w*|math(?:rm|it|bf|sf|tt|cal)|operatorname)\s*\{([^{}]*)\}")
_TEX_ENV = re.compile(r"\\(?:begin|end)\s*\{[^}]*\}")
_MD_CITATION = re.compile(r"\[[^\[\]]*-?@[^\[\]]*\]|(?<![\w@])-?@\{[^}]*\}|(?<![\w@])-?@[\w:./+-]*\w")
_MYST_ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)
_MD_MARKUP = re.compile(
    r"(?m)^\s{0,3}(?:#{1,6}\s|>\s?|[-*+]\s|\d+\.\s)|\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)"
)
_NUMERIC_CITATION = re.compile(r"\[\s*\d+(?:\s*[-–,;]\s*\d+)*\s*\]")
_AUTHOR_YEAR = re.compile(
    r"\((?:[^()]{0,120}?\b(?:1[89]|20)\d\d[a-z]?)(?:\s*[,;][^()]{0,120}?\b(?:1[89]|20)\d\d[a-z]?)*\)"
)
_ET_AL = re.compile(r"\bet\s+al\b\.?", re.IGNORECASE)


def _math_words(match: re.Match[str]) -> str:
    return " ".join(_MATH_TEXT.findall(match.group(0)))


def clean_citing_text(text: str) -> str:
    """Drop what a citing sentence carries besides its meaning.

    >>> clean_citing_text(r"As shown by Smith et al. (2020) and [12], $\\texttt{CTRL}$~\\cite{ctrl} see https://x.org")
    'As shown by Smith and , CTRL see'
    """
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    if "\\" in text or "$" in text or "%" in text:
        text = _TEX_COMMENT.sub(" ", text)
        text = _TEX_CITE.sub(" ", text)
        text = _TEX_REFERENCE.sub(" ", text)
        text = _TEX_MATH.sub(_math_words, text)
        text = _TEX_ENV.sub(" ", text)
    text = _MYST_ROLE.sub(" ", text)
    text = _MD_CODE.sub(" ", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_CITATION.sub(" ", text)
    text = _NUMERIC_CITATION.sub(" ", text)
    text = _AUTHOR_YEAR.sub(" ", text)
    text = _ET_AL.sub(" ", text)
    text = _MD_MARKUP.sub(" ", text)
    return latex_to_text(text)


def query_terms(text: str) -> Counter[str]:
    """Search terms of a citing text, each with how often it occurs."""
    return Counter(analyze(clean_citing_text(text)))
