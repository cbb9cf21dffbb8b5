"""Harvests: every paper of an arXiv set over OAI-PMH, or of an OpenAlex filter by cursor paging.

Each page is one write to the store, and the point to resume from (the OAI-PMH resumption token,
the OpenAlex cursor) is stored in the same transaction (against a team server: just after; see
`core.sources.marks`). A harvest killed at any moment (Ctrl-C,
`kill -9`) has stored whole pages and the token after the last of them; run again, it goes on
from there. Anything sent twice (a page re-read after a token expired, a day that two incremental
runs share) meets the library's identity rules and changes nothing.

A finished arXiv harvest remembers the newest datestamp it saw: the next run asks only for
records changed since that day (`from`, inclusive, so the boundary day is read twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from core.formats.openalex import openalex_id, work_to_paper
from core.interface import PaperLibrary
from core.records import Paper, PaperciteError
from core.sources import Sources, SourcesConfig
from core.sources.arxiv import OaiPage, parse_list_records
from core.sources.http import BadResponse, json_answer
from core.sources.marks import add_with_mark, load_mark

# Called after each page with (records read so far, records expected in all, or None).
Progress = Callable[[int, int | None], None]
# OpenAlex's largest page (per_page 1–100 since 2026).
OPENALEX_PAGE = 100


class HarvestError(PaperciteError):
    pass


@dataclass
class HarvestReport:
    pages: int = 0
    records: int = 0  # records read from the service (after a category filter)
    skipped: int = 0  # other categories, no abstract, deleted
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    resumed: bool = False
    complete: bool = False
    since: str = ""  # the `from` of an incremental arXiv run

    def summary(self) -> str:
        state = "complete" if self.complete else "stopped; run again to go on"
        return (
            f"{self.records} records in {self.pages} pages ({state}): added {self.added}, "
            f"updated {self.updated}, unchanged {self.unchanged}, skipped {self.skipped}"
        )


@dataclass
class _ArxivState:
    token: str = ""  # resumption token of the run under way; empty between runs
    date_from: str = ""  # the `from` the run under way started with
    until: str = ""
    newest: str = ""  # newest datestamp stored by the run under way
    next_from: str = ""  # where the next run starts, once a run has finished
    read: int = 0  # records read by the run under way


def _state_name(kind: str, *parts: str) -> str:
    return "harvest:" + kind + ":" + ":".join(quote(part, safe="") for part in parts)


async def _store_page(
    library: PaperLibrary, papers: list[Paper], name: str, state: dict[str, Any], report: HarvestReport
) -> None:
    outcome = await add_with_mark(library, papers, name, state)
    report.added += len(outcome.added)
    report.updated += len(outcome.updated)
    report.unchanged += len(outcome.unchanged)


async def harvest_arxiv(
    library: PaperLibrary,
    *,
    set_spec: str = "",
    category: str = "",
    date_from: str = "",
    until: str = "",
    config: SourcesConfig | None = None,
    progress: Progress | None = None,
    max_pages: int | None = None,
) -> HarvestReport:
    """Harvest arXiv's OAI-PMH `ListRecords` (metadata format `arXiv`) into the library.

    `category` keeps only records filed under it (as primary or cross-list, e.g. `cs.CL`); an
    explicit `date_from`/`until` starts a fresh run over those dates instead of resuming.
    """
    name = _state_name("arxiv", set_spec, category)
    state = _ArxivState(**await load_mark(library, name))
    report = HarvestReport()
    explicit = bool(date_from or until)
    if state.token and not explicit:
        report.resumed = True
    else:
        state = _ArxivState(
            date_from=date_from or state.next_from, until=until, next_from=state.next_from, newest=""
        )
    report.since = state.date_from
    restarted = False
    async with Sources(config, library.home, shared_store=library.shared_store) as sources:

        def request(token: str) -> dict[str, str]:
            if token:
                return {"verb": "ListRecords", "resumptionToken": token}
            params = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
            return params | {
                k: v for k, v in (("set", set_spec), ("from", state.date_from), ("until", state.until)) if v
            }

        async def fetch(token: str) -> OaiPage:
            return await sources.client.fetch(
                sources.arxiv_oai,
                sources.config.arxiv_oai_url,
                request(token),
                parse_list_records,
                what="ListRecords",
            )

        page = await fetch(state.token)
        while True:
            if page.error is not None:
                code, message = page.error
                if code == "noRecordsMatch":
                    state = _ArxivState(next_from=state.next_from or state.date_from)
                    await _store_page(library, [], name, asdict(state), report)
                    report.complete = True
                    break
                if code == "badResumptionToken" and state.token and report.resumed and not restarted:
                    # The token expired while we were away: read the run again from its start;
                    # what was already stored is recognised and left as it is.
                    state.token, restarted = "", True
                    page = await fetch("")
                    continue
                raise HarvestError(f"arXiv's OAI-PMH answered {code}: {message}")
            report.pages += 1
            kept = [
                p
                for p in page.papers
                if not category or _filed_under(page.categories.get(p.arxiv_id, []), category)
            ]
            report.records += len(kept)
            report.skipped += len(page.papers) - len(kept) + page.deleted
            state.read += len(page.papers) + page.deleted
            state.newest = max([state.newest, *page.datestamps])
            state.token = page.token
            if not page.token:  # the list is complete: the next run starts at the newest day seen
                state = _ArxivState(next_from=state.newest or state.next_from)
            more = bool(page.token) and (max_pages is None or report.pages < max_pages)
            # The next page is asked for while this one is written: with arXiv's pause between
            # requests, the store and the index work in the wait.
            store = _store_page(library, kept, name, asdict(state), report)
            if more:
                _, following = await asyncio.gather(store, fetch(page.token))
            else:
                await store
            if progress:
                progress(state.read if page.token else (page.complete_size or 0), page.complete_size)
            if not page.token:
                report.complete = True
            if not more:
                break
            page = following
    return report


def _filed_under(categories: list[str], category: str) -> bool:
    """`cs.CL` takes papers listed in cs.CL, primary or cross-listed; `cs` any cs.* category."""
    return category in categories or any(c.startswith(category + ".") for c in categories)


async def harvest_openalex(
    library: PaperLibrary,
    *,
    filter_text: str,
    max_records: int | None = None,
    config: SourcesConfig | None = None,
    progress: Progress | None = None,
) -> HarvestReport:
    """Harvest OpenAlex `/works?filter=…` by cursor paging; works without an abstract are skipped.

    `max_records` bounds this run; the cursor is kept, so the next run goes on from there. A
    finished harvest run again starts over (and changes nothing that is unchanged).
    """
    name = _state_name("openalex", filter_text)
    saved = await load_mark(library, name)
    report = HarvestReport()
    cursor = saved.get("cursor") or "*"
    report.resumed = cursor != "*"
    read = int(saved.get("read", 0)) if report.resumed else 0
    async with Sources(config, library.home, shared_store=library.shared_store) as sources:
        url = f"{sources.config.openalex_url.rstrip('/')}/works"
        while max_records is None or report.records + report.skipped < max_records:
            per_page = OPENALEX_PAGE
            if max_records is not None:
                per_page = max(1, min(per_page, max_records - report.records - report.skipped))
            answer = await sources.client.fetch(
                sources.openalex,
                url,
                {"filter": filter_text, "per_page": str(per_page), "cursor": cursor},
                _parse_works_page,
                secret_params=sources._openalex_params(),
                what=f"works?filter={filter_text}",
            )
            results, meta = answer
            papers = []
            for number, record in enumerate(results, start=read + 1):
                paper = (
                    work_to_paper(record, f"openalex:{filter_text}", number)
                    if isinstance(record, dict)
                    else None
                )
                if isinstance(paper, Paper) and paper.abstract:
                    # A work without a well-formed id keeps the harvest's name as its origin.
                    work = openalex_id(record)
                    papers.append(paper.replace(origin=f"openalex:{work}") if work else paper)
                else:
                    report.skipped += 1
            report.pages += 1
            report.records += len(papers)
            read += len(results)
            next_cursor = meta.get("next_cursor")
            done = not next_cursor or not results
            state = {"cursor": "" if done else next_cursor, "read": 0 if done else read}
            await _store_page(library, papers, name, state, report)
            if progress:
                count = meta.get("count")
                progress(read, count if isinstance(count, int) else None)
            if done:
                report.complete = True
                break
            cursor = str(next_cursor)
    return report


def _parse_works_page(body: bytes) -> tuple[list[Any], dict[str, Any]]:
    answer = json_answer(body, "OpenAlex")
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise BadResponse("OpenAlex's answer is not a page of works")
    meta = answer.get("meta")
    return answer["results"], meta if isinstance(meta, dict) else {}


__all__ = ["HarvestError", "HarvestReport", "harvest_arxiv", "harvest_openalex"]
