"""Adding papers by identifier from Slack, and each channel's choice about its links.

The lookups are `core.sources.add_identifiers` (Crossref, the arXiv API, OpenAlex, cached in the
home), over a folder or a server's URL alike; a channel's choice about links is kept in a folder's
store, so a bot over a URL leaves links alone and says it cannot change that.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.follows import remember_channel_papers
from core.interface import PaperLibrary
from core.library import Library
from core.records import PaperciteError
from core.sources import AddResult, add_identifiers

# Per channel, in the store's meta table: shared by every process on the home, kept across restarts.
_LINKS_META = "slack.links.{channel}"


class CannotAdd(PaperciteError):
    pass


def _folder(library: PaperLibrary) -> Library:
    if not isinstance(library, Library):
        raise CannotAdd(
            "Adding papers by DOI or arXiv link works when the bot serves a folder, not a remote index."
        )
    return library


async def add_by_identifiers(library: PaperLibrary, texts: Sequence[str]) -> AddResult:
    """Look each identifier up and add what is found; one AddError per identifier that failed."""
    return await add_identifiers(library, texts)


async def links_enabled(library: PaperLibrary, channel: str) -> bool:
    """Whether links posted in `channel` join the index (they do unless the channel said no)."""
    if not isinstance(library, Library) or not channel:
        return False
    return await library.store.get_meta(_LINKS_META.format(channel=channel)) != "off"


async def set_links(library: PaperLibrary, channel: str, enabled: bool) -> None:
    folder = _folder(library)
    await folder.add_papers([], meta={_LINKS_META.format(channel=channel): "on" if enabled else "off"})


async def remember_shared(library: PaperLibrary, channel: str, keys: Sequence[str], how: str) -> None:
    """Note papers a channel shared, added or linked (what `/paper follow --library` ranks by);
    a bot over a URL has no store of its own to note them in."""
    if isinstance(library, Library) and channel:
        await remember_channel_papers(library, channel, keys, how)
