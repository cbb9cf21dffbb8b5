"""Block Kit messages as pure functions of papers and hits: tested without Slack.

Limits hold by construction: at most 50 blocks, section text at most 3000 characters, button
values at most 2000. Text from papers is escaped for mrkdwn (`&`, `<`, `>`), so an abstract can
neither ping `@channel` (that takes `<!channel>`) nor forge a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bots.values import MAX_RESULTS_SHOWN, PAGE_SIZE, encode_value
from core.export import to_bibtex
from core.highlight import best_sentence_index, matching_words, sentences
from core.records import Paper
from core.search import Hit

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_PLAIN_TEXT = 150  # header blocks and button labels
SNIPPET_CHARS = 420

Block = dict[str, Any]

USAGE = (
    "*/paper* searches the team's paper index.\n"
    "• `/paper speculative decoding with a sparse KV cache` — the best 5 papers, only you see them\n"
    "• `/paper cite KEY` — the BibTeX entry\n"
    "• `/paper show KEY` — the whole abstract\n"
    "• `/paper add` — add a paper (form, or paste a BibTeX entry)\n"
    "• `/paper add 10.1145/3404835.3463238` or an arXiv link — add it in one step\n"
    "• `/paper links off` (or `on`) — whether DOI and arXiv links posted here join the index\n"
    "• `/paper stats` — what the index holds\n"
    "• `/paper follow speculative decoding` — new papers on it come to this channel (09:00 on weekdays;"
    " `--at 14:00`, `--weekly`); `/paper follow --library` — new papers like the ones shared here\n"
    "• `/paper following` — this channel's follows; `/paper unfollow N` ends one\n"
    "Mention me with a query and I answer in a thread."
)


# Explicit bidirectional overrides, embeddings and isolates: an unclosed one in a title reorders
# what follows it on the line (the key, the next words) as a channel sees it, without changing what
# is copied. Text from papers is shown without them; marks (U+200E/F) and joiners stay.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_HAS_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """mrkdwn's three control characters: the one escaper for every string of ours Slack renders.

    Slack reads `<!channel>`, `<!here>`, `<@U…>` and `<url|label>` only between `<` and `>`, so with
    those escaped, text from papers, queries or users can neither ping anyone nor forge a link.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.translate(_BIDI_CONTROLS) if _HAS_BIDI_CONTROL.search(text) else text


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bold_terms(text: str, terms: Mapping[str, float]) -> str:
    """Escaped text with the words that match the query in *bold*."""
    out, last = [], 0
    for start, end in matching_words(text, terms):
        out += [escape(text[last:start]), f"*{escape(text[start:end])}*"]
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def snippet(abstract: str, terms: Mapping[str, float], limit: int = SNIPPET_CHARS) -> str:
    """The abstract from its best-matching sentence on, clipped, with query words in bold."""
    parts = sentences(abstract)
    if not parts:
        return ""
    best = best_sentence_index(abstract, terms) or 0
    start = best if best < len(parts) else 0
    text = " ".join(parts[start:])
    text = ("… " if start else "") + clip(text, limit)
    return bold_terms(text, terms)


def _round_terms(terms: Mapping[str, float]) -> dict[str, float]:
    return {term: round(weight, 3) for term, weight in terms.items()}


_SAFE_LINK = re.compile(r"https?://[^\s|<>&]+", re.IGNORECASE)
# A Slack user id as Slack writes it; anything else is not shown as a mention.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def title_link(paper: Paper) -> str:
    title = escape(clip(paper.title, 300))
    link = paper.link
    # Only web addresses are linked; `|`, `<`, `>` or a space would end the link early, and `&` could
    # spell an escaped `<`: a URL with any of them is shown unlinked.
    if _SAFE_LINK.fullmatch(link):
        return f"*<{link}|{title}>*"
    return f"*{title}*"


def byline(paper: Paper) -> str:
    parts = [escape(paper.author_line(3))] if paper.authors else []
    if paper.year:
        parts.append(str(paper.year))
    parts.append(f"`{escape(paper.key)}`")
    return " · ".join(parts)


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, 75), "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}]}


def result_blocks(hit: Hit, terms: Mapping[str, float], *, with_buttons: bool = True) -> list[Block]:
    paper = hit.paper
    text = f"{title_link(paper)}\n{byline(paper)}"
    if paper.abstract:
        text += "\n" + snippet(paper.abstract, terms)
    blocks = [section(text)]
    if with_buttons:
        value = encode_value({"k": paper.key, "t": _round_terms(terms)})
        blocks.append(
            {
                "type": "actions",
                "block_id": f"paper:{clip(paper.key, 200)}",
                "elements": [
                    button("Share in channel", "share", value, "primary"),
                    button("BibTeX", "bibtex", encode_value({"k": paper.key})),
                    button("More like this", "more_like_this", encode_value({"k": paper.key})),
                ],
            }
        )
    return blocks


def results_message(
    hits: Sequence[Hit], terms: Mapping[str, float], query: str, offset: int, has_more: bool
) -> list[Block]:
    """A page of results, visible to the asker only, with a Next button when there are more."""
    if not hits:
        return [section(f"No papers match _{escape(clip(query, 200))}_. Try other words, or `/paper help`.")]
    shown = f"{offset + 1}–{offset + len(hits)}"
    blocks = [context(f"Papers {shown} for _{escape(clip(query, 300))}_")]
    for hit in hits[:PAGE_SIZE]:
        blocks += result_blocks(hit, terms)
        blocks.append({"type": "divider"})
    if has_more and offset + PAGE_SIZE < MAX_RESULTS_SHOWN:
        value = encode_value({"q": clip(query, 300), "o": offset + PAGE_SIZE, "t": _round_terms(terms)})
        blocks.append({"type": "actions", "elements": [button(f"Next {PAGE_SIZE}", "next_page", value)]})
    return blocks[:MAX_BLOCKS]


def shared_message(hit: Hit, terms: Mapping[str, float], user_id: str) -> list[Block]:
    """One result, for everyone in the channel, saying who shared it."""
    sharer = f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else "someone"
    return [*result_blocks(hit, terms, with_buttons=False), context(f"Shared by {sharer} with /paper")]


def bibtex_message(paper: Paper) -> list[Block]:
    # Code blocks keep text as typed, but mrkdwn control characters still need escaping.
    # Shortened to fit as a whole entry: a clipped one would not parse.
    return [section(f"```{escape(to_bibtex(paper, max_chars=MAX_SECTION_TEXT - 10))}```")]


def paper_message(paper: Paper) -> list[Block]:
    """The whole paper: title, byline, venue and the full abstract over as many sections as it takes."""
    blocks = [section(f"{title_link(paper)}\n{byline(paper)}")]
    if paper.venue:
        blocks.append(context(escape(paper.venue)))
    abstract = escape(paper.abstract)
    chunk = MAX_SECTION_TEXT - 10
    while abstract and len(blocks) < MAX_BLOCKS:
        cut = abstract.rfind(" ", 0, chunk) if len(abstract) > chunk else len(abstract)
        cut = cut if cut > 0 else chunk
        blocks.append(section(abstract[:cut]))
        abstract = abstract[cut:].lstrip()
    return blocks


def stats_message(stats: Mapping[str, Any]) -> list[Block]:
    years = stats.get("years")
    lines = [f"*{stats['papers']:,}* papers in the index"]
    lines.append(
        f"{stats['with_abstract']:,} with an abstract · {stats['with_doi']:,} with a DOI · "
        f"{stats['with_arxiv_id']:,} with an arXiv id"
    )
    if years:
        lines.append(f"Years {years[0]}–{years[1]}")
    return [section("\n".join(lines))]


ADDED_LABELS = {"added": "Added", "updated": "Already known, updated", "unchanged": "Already in the index"}


def added_message(papers: Sequence[tuple[Paper, str]], failures: Sequence[str]) -> list[Block]:
    """Each paper added by identifier (or found already there) as its card, with the usual buttons,
    then one line per identifier that could not be added."""
    message: list[Block] = []
    for paper, status in papers:
        message.append(context(f"{ADDED_LABELS.get(status, 'Added')}: `{escape(paper.key)}`"))
        message += result_blocks(Hit(paper, 0.0, 1), {})
    for failure in failures:
        message.append(section(f"Could not add {escape(failure)}"))
    return message[:MAX_BLOCKS] or [section("Nothing to add.")]


# --- digests ------------------------------------------------------------------------------------


def follow_heading(label: str, number: int) -> str:
    return f"*New papers: {escape(clip(label, 200))}* (follow {number})"


# One follow's part of a digest: (label, number, hits for the message, more for the thread, terms).
DigestPart = tuple[str, int, Sequence[Hit], Sequence[Hit], Mapping[str, float]]


def _cards(hits: Sequence[Hit], terms: Mapping[str, float]) -> list[Block]:
    cards: list[Block] = []
    for hit in hits:
        cards += [*result_blocks(hit, terms), {"type": "divider"}]
    return cards


def digest_messages(parts: Sequence[DigestPart]) -> tuple[list[Block], list[list[Block]]]:
    """A channel's digest: the message (each follow's best new papers as search-result cards, under
    its heading) and the replies for its thread (each follow's next papers, under **More**; a follow
    that would take the message past Slack's block limit goes there whole)."""
    message: list[Block] = []
    thread: list[list[Block]] = []
    for label, number, hits, more, terms in parts:
        part = [context(follow_heading(label, number)), *_cards(hits, terms)]
        if message and len(message) + len(part) > MAX_BLOCKS:
            thread.append(part[:MAX_BLOCKS])
        else:
            message += part[:MAX_BLOCKS]
        if more:
            thread.append(
                [context(f"*More* for {follow_heading(label, number)}"), *_cards(more, terms)][:MAX_BLOCKS]
            )
    return message, thread


def following_message(follows: Sequence[tuple[int, str, str]]) -> list[Block]:
    """`/paper following`: (number, label, when) per follow."""
    if not follows:
        return [section("This channel follows nothing yet. `/paper follow speculative decoding` starts.")]
    lines = [f"*{number}.* {escape(clip(label, 300))} — {escape(when)}" for number, label, when in follows]
    return [section("This channel follows:\n" + "\n".join(lines)), context("`/paper unfollow N` ends one.")]


def text_message(text: str) -> list[Block]:
    return [section(text)]


def usage_message() -> list[Block]:
    return [section(USAGE)]


# --- the /paper add modal ---------------------------------------------------------------------

ADD_CALLBACK = "add_paper"
ADD_FIELDS = ("identifier", "title", "abstract", "authors", "year", "link", "bibtex")


def _input(
    block_id: str, label: str, *, multiline: bool = False, optional: bool = True, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline},
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def add_paper_modal(private_metadata: str = "") -> Block:
    return {
        "type": "modal",
        "callback_id": ADD_CALLBACK,
        "private_metadata": private_metadata[:3000],
        "title": {"type": "plain_text", "text": "Add a paper"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(
                "identifier",
                "DOI or arXiv link",
                hint="Fills in the rest from Crossref, arXiv or OpenAlex; leave the fields below empty",
            ),
            _input("title", "Title"),
            _input("abstract", "Abstract", multiline=True),
            _input("authors", "Authors", hint="One per line, or separated by ' and ' or ';'"),
            _input("year", "Year"),
            _input("link", "DOI or URL"),
            _input(
                "bibtex", "…or paste a BibTeX entry", multiline=True, hint="Used instead of the fields above"
            ),
        ],
    }
