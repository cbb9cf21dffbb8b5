"""What a `/paper …` text asks for. Pure parsing, shared by the slash command and mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bots.links import identifiers_in_command

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Request:
    kind: str  # help, cite, show, stats, add (argument: identifiers, or none for the form), links, search
    argument: str = ""


def parse_request(text: object) -> Request:
    """What the text asks for; text that is not a string (a malformed request) asks for help."""
    text = _MENTION.sub(" ", text if isinstance(text, str) else "").strip()
    if not text or text.lower() in {"help", "-h", "--help", "?"}:
        return Request("help")
    word, _, rest = text.partition(" ")
    lowered = word.lower()
    if lowered in {"cite", "bibtex", "show"}:
        # `/paper cite` with no key is a question about usage, not a search for "cite".
        return (
            Request("cite" if lowered == "bibtex" else lowered, rest.strip())
            if rest.strip()
            else Request("help")
        )
    if lowered in {"stats", "add"} and not rest.strip():
        return Request(lowered)
    if lowered == "add" and identifiers_in_command(rest):
        return Request("add", rest.strip())
    if lowered == "links" and rest.strip().lower() in {"", "on", "off"}:
        return Request("links", rest.strip().lower())
    return Request("search", text)
