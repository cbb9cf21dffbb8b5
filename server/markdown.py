"""Markdown built from paper data that cannot carry markup: a title, an abstract or an author is text.

Hover and completion documentation show what anyone put in a record (a Slack form, a shared `.bib`),
so every value is escaped as Markdown text: no raw HTML, images or links reach the editor from data.
The only links are the ones built here, `https?://` addresses percent-encoded so that nothing in
them can end the link early.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# CommonMark lets any ASCII punctuation be escaped with a backslash; these are the characters that
# start markup in the middle of a line (emphasis, code, links, images, HTML, entities, strikethrough,
# tables, braces and dollars that some renderers read as math or attributes). Not ( ) !, which make
# a link or an image only after an unescaped ] or before an unescaped [: renderers that show escapes
# as typed (Emacs's markdown-mode) would put a backslash in every "(LLMs)" of an abstract.
_INLINE = re.compile(r"([\\`*_\[\]<>&~|{}$#@])")
# Extended autolinks (GFM, and the linkify of markdown-it and marked) turn bare addresses into
# links: escaping the colon of `scheme:` or the dot of `www.` keeps them text.
_AUTOLINK = re.compile(r"(?i)(https?|ftp|mailto|xmpp):")
_WWW = re.compile(r"(?i)(www)\.")
# linkify also reads a protocol-relative `//host/…` as an address.
_SLASHES = re.compile(r"//")
# At the start of a block: headings, quotes, lists, thematic breaks, setext underlines.
_BLOCK_START = re.compile(r"^(\d{1,9})([.)])|^([-+=>#])")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_DOI = re.compile(r"10\.\d{1,9}(?:\.\d+)*/\S+")
_ENTITY_START = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LINK = re.compile(r"\[((?:[^\]\\]|\\.)*)\]\(([^)\s]*)\)")
# In one pass: an escaped character, a hard break (two spaces, newline), an emphasis or code mark.
_PLAIN = re.compile(r"\\([!-/:-@\[-`{-~])|  \n|[*`]")


def escape(text: str) -> str:
    """`text` as Markdown that renders as exactly that text, on one line (whitespace collapsed)."""
    text = " ".join(text.split())
    text = _INLINE.sub(r"\\\1", text)
    text = _AUTOLINK.sub(r"\1\\:", text)
    text = _WWW.sub(r"\1\\.", text)
    text = _SLASHES.sub(r"/\\/", text)
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text, count=1)


def code(text: str) -> str:
    """A code span holding `text`: its fence is longer than any run of backticks inside."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else ""


def web_address(url: str) -> str | None:
    """An http(s) address with a host, percent-encoded for a Markdown link; None for anything else."""
    url = url.strip()
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        return None
    # A plain host name or address: no user part (`https://trusted.example@evil.example` reads as
    # the first and goes to the second) and nothing a renderer would re-encode or drop.
    if (
        parts.scheme.lower() not in ("http", "https")
        or "@" in parts.netloc
        or not _HOST.fullmatch(host or "")
    ):
        return None
    # Everything that could end a link destination or its text, or start markup, is encoded; so is
    # an `&` that starts an entity, which Markdown would decode (`&#46;` into a dot of the host).
    return _ENTITY_START.sub("%26", quote(url, safe=":/?#@!$&'*+,;=%~"))


def doi_address(doi: str) -> str | None:
    """The doi.org address of a well-formed DOI (`10.NNNN/suffix`), the suffix percent-encoded."""
    doi = doi.strip()
    if not _DOI.fullmatch(doi):
        return None
    return "https://doi.org/" + quote(doi, safe="/")


def link(text: str, address: str) -> str:
    """A Markdown link to an address from `web_address` or `doi_address`."""
    return f"[{escape(text)}]({address})"


def plain_text(markdown: str) -> str:
    """Our Markdown as plain text, for clients that cannot show Markdown: links become
    `text <address>`, emphasis and code marks go, escaped characters are themselves again."""
    return _PLAIN.sub(_plain_piece, _LINK.sub(r"\1 <\2>", markdown))


def _plain_piece(match: re.Match[str]) -> str:
    escaped, whole = match.group(1), match.group(0)
    return escaped if escaped is not None else "\n" if whole.endswith("\n") else ""
