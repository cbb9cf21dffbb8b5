"""Paper identifiers in what people write in Slack: pure, so tested without Slack.

Slack sends message text in its own markup: a pasted link arrives as `<https://arxiv.org/abs/…>` or
`<https://arxiv.org/abs/…|arxiv.org/abs/…>`, mentions as `<@U…>`, `<#C…|name>`, `<!here>`, and `&`,
`<`, `>` typed by people as `&amp;`, `&lt;`, `&gt;`. What a link or the words around it name (a DOI,
an arXiv id or link, an OpenAlex work) is then found by `core.identifiers`, the same reader
`papercite add` and the editor use.
"""

from __future__ import annotations

import re

from core.identifiers import InvalidIdentifier, find_identifiers, parse_identifier

# A message naming more papers than this is a bibliography pasted for reading, not papers shared
# one by one; the first ones are taken (each costs a lookup, arXiv's one per three seconds).
MAX_IDENTIFIERS_PER_MESSAGE = 10

_ANGLED = re.compile(r"<([^<>]*)>")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain_text(text: str) -> str:
    """Slack markup as plain text: a link becomes its address (the label is Slack's shortening of
    it, or words), mentions, channels and broadcasts become a space."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner[:1] in {"@", "#", "!"}:
            return " "
        return " " + inner.split("|", 1)[0] + " "

    return unescape(_ANGLED.sub(replace, text))


def identifiers_in_message(text: object, limit: int = MAX_IDENTIFIERS_PER_MESSAGE) -> list[str]:
    """The identifiers a message names, as written, in order, each once (at most `limit`)."""
    if not isinstance(text, str):
        return []
    return [found.identifier.text for found in find_identifiers(plain_text(text))][:limit]


def identifiers_in_command(text: str) -> list[str] | None:
    """`/paper add …`'s argument when every word of it is an identifier, else None (then the
    words are a search, as in `/paper add noise to diffusion`)."""
    words = plain_text(text).split()
    if not words or len(words) > MAX_IDENTIFIERS_PER_MESSAGE:
        return None
    try:
        for word in words:
            parse_identifier(word)
    except InvalidIdentifier:
        return None
    return words
