"""LaTeX markup in BibTeX fields turned into plain Unicode for display and search."""

from __future__ import annotations

import re
import unicodedata

# Accent commands and the combining mark each one stands for.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
# Escaped braces and tildes survive the removal of markup braces and ties through stand-ins.
_LBRACE, _RBRACE, _TILDE = "\x01", "\x02", "\x03"
_MATH = "\x04"
_LETTERS = {
    "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
    "dh": "ð", "DH": "Ð", "th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ",
}  # fmt: skip
_SYMBOLS = {
    "&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": _LBRACE, "}": _RBRACE,
    "textasciitilde": _TILDE, "textasciicircum": "^", "textunderscore": "_",
    " ": " ", ",": " ", ";": " ", "@": "", "/": "", "-": "",
    "textendash": "–", "textemdash": "—", "textquoteright": "’", "textquoteleft": "‘",
    "textquotedblleft": "“", "textquotedblright": "”", "ldots": "…", "dots": "…",
    "textregistered": "®", "texttrademark": "™", "copyright": "©", "textdegree": "°",
    "times": "×", "pm": "±", "leq": "≤", "geq": "≥", "le": "≤", "ge": "≥", "neq": "≠",
    "approx": "≈", "infty": "∞", "rightarrow": "→", "to": "→", "leftarrow": "←",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "lambda": "λ",
    "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ", "theta": "θ", "phi": "φ", "omega": "ω",
    "textbackslash": "\\", "LaTeX": "LaTeX", "TeX": "TeX", "BibTeX": "BibTeX",
    "textbraceleft": _LBRACE, "textbraceright": _RBRACE, "textless": "<", "textgreater": ">",
}  # fmt: skip

_ACCENT_CMD = re.compile(
    r"""\\([`'^"~=.])\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))"""
    r"""|\\([uvHckrdb])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|\s+(\\?[A-Za-z]))"""
)
# `\symbol{64}` is how an export writes `@` (see core/export.py); a named command eats one space after it.
_NAMED = re.compile(r"\\symbol\s*\{\s*(\d{1,7})\s*\}|\\([A-Za-z]+)\s?|\\(.)")
# Characters the later steps of latex_to_text would take for markup, kept through stand-ins.
_STAND_INS = {"{": _LBRACE, "}": _RBRACE, "~": _TILDE}
_HTML_TAG = re.compile(r"</?(?:sup|sub|i|b|em|strong|span|p|br|scp|inf|italic|bold)\b[^>]*>", re.I)
_MATH_SHIFT = re.compile(r"(?<!\\)\$")
_SPACES = re.compile(r"\s+")


def _base_letter(token: str) -> str:
    # An accent goes on a plain i or j: \"\i is ï, not a dotless ı with a diaeresis.
    if token in ("\\i", "\\j"):
        return token[1]
    return _LETTERS.get(token[1:], token[1:]) if token.startswith("\\") else token


def _accent(match: re.Match[str]) -> str:
    if match.group(1):
        mark, letter = _ACCENTS[match.group(1)], match.group(2) or match.group(3)
    else:
        mark, letter = _ACCENTS[match.group(4)], match.group(5) or match.group(6)
    return unicodedata.normalize("NFC", _base_letter(letter) + mark)


def _named(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        code = int(match.group(1))
        char = chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else ""
        return _STAND_INS.get(char, char) if char.isprintable() else ""
    name = match.group(2)
    if name is None:
        return _SYMBOLS.get(match.group(3), match.group(3))
    if name in _LETTERS:
        return _LETTERS[name]
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    # \emph, \textbf, \url, \mathrm, …: keep the argument, drop the command.
    return ""


def _has_markup(text: str) -> bool:
    """Anything latex_to_text would change besides spacing; most titles and abstracts have none.
    (Plain substring tests: a regular expression is four times slower on an ingest's millions of fields.)"""
    return (
        "\\" in text or "{" in text or "}" in text or "~" in text or "$" in text
        or "--" in text or "``" in text or "''" in text
    )  # fmt: skip


def latex_to_text(text: str) -> str:
    """Accents, escapes, dashes, quotes, formatting commands and braces to plain Unicode.

    >>> latex_to_text(r"M{\\"u}ller and J{\\'e}r{\\^o}me --- {BERT} \\& co.")
    'Müller and Jérôme — BERT & co.'
    """
    if "<" in text:
        text = _HTML_TAG.sub("", text)
    if not _has_markup(text):
        return " ".join(text.split())
    text = _ACCENT_CMD.sub(_accent, text)
    # A math shift ends a command as a space does: `$\alpha$ terms` must keep its space, so the
    # `$` stays (as a stand-in) until the commands are gone.
    text = _MATH_SHIFT.sub(_MATH, text)
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = _NAMED.sub(_named, text).replace(_MATH, "")
    text = text.replace("~", " ").replace("{", "").replace("}", "")
    text = text.replace(_LBRACE, "{").replace(_RBRACE, "}").replace(_TILDE, "~")
    return _SPACES.sub(" ", text).strip()


_ACCENT_COMMANDS = {mark: command for command, mark in _ACCENTS.items()}
_LETTER_COMMANDS = {letter: name for name, letter in _LETTERS.items()}


def _as_latex(char: str) -> str:
    if char in _LETTER_COMMANDS:
        return "{\\" + _LETTER_COMMANDS[char] + "}"
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if base.isascii() and marks and all(mark in _ACCENT_COMMANDS for mark in marks):
        for mark in marks:
            command = _ACCENT_COMMANDS[mark]
            base = f"\\{command}{{{base}}}" if command.isalpha() else f"\\{command}{base}"
        return "{" + base + "}"
    return "?"


def text_to_latex(text: str, encoding: str) -> str:
    """`text` with each character the encoding cannot hold written as LaTeX (é → {\\'e}), else `?`.

    For appending to a `.bib` kept in a legacy encoding without changing the encoding.

    >>> text_to_latex("Müller – Łukasz", "ascii")
    'M{\\\\"u}ller ? {\\\\L}ukasz'
    """
    out = []
    for char in text:
        try:
            char.encode(encoding)
            out.append(char)
        except UnicodeEncodeError:
            out.append(_as_latex(char))
    return "".join(out)
