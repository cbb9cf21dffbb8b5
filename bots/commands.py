"""What a `/paper …` text asks for. Pure parsing, shared by the slash command and mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bots.links import identifiers_in_command, plain_text
from core.follows import FollowError
from core.schedule import DEFAULT_AT_MINUTE, BadSchedule, parse_time_of_day

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Request:
    # help, cite, show, stats, add (argument: identifiers, or none for the form), links, follow,
    # following, unfollow, search
    kind: str
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
    if lowered in {"follow", "following", "unfollow"}:
        return Request(lowered, rest.strip())
    return Request("search", text)


@dataclass(frozen=True)
class FollowArguments:
    query: str
    by_library: bool
    at_minute: int
    weekly: bool


def parse_follow(text: str) -> FollowArguments:
    """`/paper follow`'s argument: a topic or `--library`, then `--at HH:MM` and `--weekly` anywhere.
    BadSchedule or FollowError name what is wrong."""
    words = plain_text(text).split()
    query: list[str] = []
    by_library, weekly, at_minute = False, False, DEFAULT_AT_MINUTE
    position = 0
    while position < len(words):
        word = words[position].replace("—", "--").replace("–", "--")  # Slack's smart dashes
        if word == "--library":
            by_library = True
        elif word == "--weekly":
            weekly = True
        elif word == "--at" or word.startswith("--at="):
            value = word.partition("=")[2] if "=" in word else ""
            if not value:
                position += 1
                if position == len(words):
                    raise BadSchedule("--at needs a time of day, e.g. --at 14:00")
                value = words[position]
            at_minute = parse_time_of_day(value)
        elif word.startswith("--"):
            raise FollowError(f"`/paper follow` knows --library, --at HH:MM and --weekly, not {word}")
        else:
            query.append(words[position])
        position += 1
    if by_library and query:
        raise FollowError("Follow either a topic or `--library` (papers like this channel's), not both.")
    return FollowArguments(" ".join(query), by_library, at_minute, weekly)
