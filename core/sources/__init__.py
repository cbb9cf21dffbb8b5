"""Papers from where they live: look up DOIs, arXiv ids and OpenAlex works, and add them.

The API the faces call (the CLI's `papercite add`, the Slack bot, the editor's code action):

- `parse_identifier(text)` / `find_identifiers(text)`: pure; what a whole argument, or running
  text, names (re-exported from `core.identifiers`).
- `await add_identifiers(library, ["10.1145/3404835.3463238", "arXiv:2404.11912"])`: fetches
  each one and adds what it finds to the library in one write; returns an `AddResult` with the
  stored papers (keys given) and one `AddError` per identifier that failed. One failing identifier
  never stops the others.
- `await fetch_identifiers(texts, home=…)`: the same lookups without storing anything.

Services and manners are configured by `SourcesConfig.from_env()`: `PAPERCITE_CROSSREF_URL`,
`PAPERCITE_ARXIV_API_URL`, `PAPERCITE_ARXIV_OAI_URL`, `PAPERCITE_OPENALEX_URL` (mirrors, tests),
`PAPERCITE_MAILTO` (the contact address sent with every request), `PAPERCITE_OPENALEX_API_KEY`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from core.formats.openalex import work_to_paper as openalex_work_to_paper
from core.identifiers import Found, Identifier, InvalidIdentifier, find_identifiers, parse_identifier
from core.records import IngestReport, Paper
from core.sources import arxiv, crossref
from core.sources.http import (
    BadResponse,
    Client,
    ErrorKind,
    NetworkError,
    NotFound,
    Service,
    SourceError,
    SourcesConfig,
    json_answer,
)

if TYPE_CHECKING:
    from core.interface import PaperLibrary

__all__ = [
    "AddError",
    "AddResult",
    "Found",
    "Identifier",
    "InvalidIdentifier",
    "NoAbstract",
    "Sources",
    "SourcesConfig",
    "add_identifiers",
    "fetch_identifiers",
    "find_identifiers",
    "parse_identifier",
]


class NoAbstract(SourceError):
    """The paper exists, but no source has its abstract; `paper` holds what was found."""

    kind: ErrorKind = "no-abstract"

    def __init__(self, message: str, paper: Paper) -> None:
        super().__init__(message)
        self.paper = paper


@dataclass(frozen=True)
class AddError:
    """One identifier that could not be added, and why (`kind`: invalid, not-found, no-abstract,
    network, bad-response). `paper` is the metadata found when only the abstract is missing."""

    text: str
    kind: ErrorKind
    reason: str
    paper: Paper | None = None

    def __str__(self) -> str:
        return f"{self.text}: {self.reason}"


@dataclass
class AddResult:
    """`papers`: the stored papers, in the order asked (an identifier named twice, once);
    `status[key]` is `added`, `updated` or `unchanged`; `asked[key]` the text that named it."""

    papers: list[Paper] = field(default_factory=list)
    errors: list[AddError] = field(default_factory=list)
    report: IngestReport = field(default_factory=IngestReport)
    status: dict[str, str] = field(default_factory=dict)
    asked: dict[str, str] = field(default_factory=dict)


class Sources:
    """The metadata services with one client: `async with Sources(config, home) as sources`."""

    def __init__(
        self,
        config: SourcesConfig | None = None,
        home: Path | None = None,
        *,
        shared_store: str | None = None,
    ) -> None:
        self.config = config or SourcesConfig.from_env()
        self.client = Client(self.config, home, shared_store=shared_store)
        self.crossref = Service("Crossref", concurrency=5)
        self.arxiv = Service("arXiv", interval=self.config.arxiv_interval, concurrency=1)
        self.arxiv_oai = Service("arXiv", interval=self.config.arxiv_interval, concurrency=1)
        self.openalex = Service("OpenAlex", concurrency=5)

    async def __aenter__(self) -> Sources:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()

    # Polite-pool parameters travel with every request but stay out of cache keys and messages.
    def _crossref_params(self) -> dict[str, str]:
        return {"mailto": self.config.mailto} if self.config.mailto else {}

    def _openalex_params(self) -> dict[str, str]:
        params = {"mailto": self.config.mailto} if self.config.mailto else {}
        if self.config.openalex_api_key:
            params["api_key"] = self.config.openalex_api_key
        return params

    async def crossref_work(self, doi: str) -> Paper:
        message = await self.client.fetch(
            self.crossref,
            crossref.work_url(self.config.crossref_url, doi),
            None,
            crossref.parse_work,
            cache=True,
            secret_params=self._crossref_params(),
            what=f"doi:{doi}",
        )
        return crossref.work_to_paper(message, f"doi:{doi}")

    async def arxiv_paper(self, arxiv_id: str) -> Paper:
        result = await self.client.fetch(
            self.arxiv,
            self.config.arxiv_api_url,
            {"id_list": arxiv_id},
            arxiv.parse_atom,
            cache=True,
            what=f"arXiv:{arxiv_id}",
        )
        for paper in result.papers:
            if paper.arxiv_id == arxiv_id:
                return paper
        reason = f" ({result.errors[0]})" if result.errors else ""
        raise NotFound(f"arXiv does not know arXiv:{arxiv_id}{reason}")

    async def openalex_work(self, work: str) -> Paper:
        """`work` is a W id or `doi:…`, as OpenAlex's singleton route takes them."""
        record = await self.client.fetch(
            self.openalex,
            # Quoted as Crossref's are: a DOI's `?`, `#` or `%` would otherwise end the path.
            f"{self.config.openalex_url.rstrip('/')}/works/{quote(work, safe=':/')}",
            None,
            _parse_openalex_work,
            cache=True,
            secret_params=self._openalex_params(),
            what=f"openalex:{work}" if not work.startswith("doi:") else work,
        )
        paper = openalex_work_to_paper(record, f"openalex:{work}", 0)
        if not isinstance(paper, Paper):
            raise BadResponse(f"OpenAlex's work {work} has no title")
        return paper.replace(origin=f"openalex:{work}")

    async def _abstract_from_openalex(self, paper: Paper, work: str) -> Paper:
        try:
            found = await self.openalex_work(work)
        except SourceError:
            return paper  # a fallback: its failure is not the lookup's
        return paper.replace(abstract=found.abstract) if found.abstract else paper

    async def lookup(self, identifier: Identifier) -> Paper:
        """The paper an identifier names, with its abstract; raises a SourceError (NotFound,
        NoAbstract, NetworkError, BadResponse) in words a user can act on."""
        if identifier.kind == "arxiv":
            paper = await self.arxiv_paper(identifier.value)
            if not paper.abstract:
                paper = await self._abstract_from_openalex(paper, f"doi:10.48550/arxiv.{identifier.value}")
        elif identifier.kind == "doi":
            try:
                paper = await self.crossref_work(identifier.value)
            except NotFound:
                # DataCite and other agencies' DOIs are not in Crossref; OpenAlex knows many.
                try:
                    paper = await self.openalex_work(f"doi:{identifier.value}")
                except NotFound:
                    raise NotFound(f"neither Crossref nor OpenAlex knows doi:{identifier.value}") from None
            if not paper.abstract:
                paper = await self._abstract_from_openalex(paper, f"doi:{identifier.value}")
        else:
            paper = await self.openalex_work(identifier.value)
            if not paper.abstract and paper.arxiv_id:
                with contextlib.suppress(SourceError):
                    paper = paper.replace(abstract=(await self.arxiv_paper(paper.arxiv_id)).abstract)
        if not paper.title:
            raise BadResponse(f"{identifier} came back without a title")
        if not paper.abstract:
            raise NoAbstract(f"{paper.short_title()!r} was found, but no source has its abstract", paper)
        return paper.replace(origin=str(identifier))


def _parse_openalex_work(body: bytes) -> dict[str, object]:
    record = json_answer(body, "OpenAlex")
    if not isinstance(record, dict) or "id" not in record:
        raise BadResponse("OpenAlex's answer is not a work")
    return record


def _parse_all(texts: Sequence[str]) -> tuple[list[tuple[str, Identifier]], list[AddError]]:
    wanted: list[tuple[str, Identifier]] = []
    errors: list[AddError] = []
    seen: set[tuple[str, str]] = set()
    for text in texts:
        try:
            identifier = parse_identifier(text)
        except InvalidIdentifier as error:
            errors.append(AddError(text, "invalid", str(error)))
            continue
        if (identifier.kind, identifier.value) not in seen:
            seen.add((identifier.kind, identifier.value))
            wanted.append((text, identifier))
    return wanted, errors


async def fetch_identifiers(
    texts: Sequence[str],
    *,
    home: Path | None = None,
    shared_store: str | None = None,
    config: SourcesConfig | None = None,
) -> tuple[list[tuple[str, Paper]], list[AddError]]:
    """(text, paper) for each identifier found, and one AddError for each that failed; nothing
    is stored. `shared_store`, else `home`, holds the response cache and the arXiv pacing (None:
    in memory)."""
    wanted, errors = _parse_all(texts)
    found: list[tuple[str, Paper]] = []
    async with Sources(config, home, shared_store=shared_store) as sources:
        outcomes = await asyncio.gather(
            *(sources.lookup(identifier) for _, identifier in wanted), return_exceptions=True
        )
    for (text, _), outcome in zip(wanted, outcomes, strict=True):
        if isinstance(outcome, Paper):
            found.append((text, outcome))
        elif isinstance(outcome, SourceError):
            paper = outcome.paper if isinstance(outcome, NoAbstract) else None
            errors.append(AddError(text, outcome.kind, str(outcome), paper))
        else:
            raise outcome
    order = {text: i for i, text in enumerate(texts)}
    errors.sort(key=lambda error: order.get(error.text, 0))
    return found, errors


async def stored_key(library: PaperLibrary, paper: Paper) -> str | None:
    """The key under which the library holds `paper` (by arXiv id, DOI, then title and author)."""
    return await library.key_of(paper)


async def add_identifiers(
    library: PaperLibrary,
    texts: Sequence[str],
    *,
    config: SourcesConfig | None = None,
    keep_without_abstract: bool = False,
) -> AddResult:
    """Fetch each identifier and add the papers found to `library` in one write.

    A paper with no abstract anywhere is an error (`no-abstract`) unless `keep_without_abstract`.
    Identity rules are the library's: a DOI that is an arXiv paper, or a paper already there,
    updates the one record.
    """
    found, errors = await fetch_identifiers(
        texts, home=library.home, shared_store=library.shared_store, config=config
    )
    if keep_without_abstract:
        found += [(error.text, error.paper) for error in errors if error.paper is not None]
        errors = [error for error in errors if error.paper is None]
    result = AddResult(errors=errors)
    if not found:
        return result
    result.report = await library.add_papers([paper for _, paper in found])
    states = {
        **{key: "unchanged" for key in result.report.unchanged},
        **{key: "updated" for key in result.report.updated},
        **{key: "added" for key in result.report.added},
    }
    keys: list[str] = []
    for text, paper in found:
        key = await stored_key(library, paper)
        if key is None or key in keys:
            continue
        keys.append(key)
        result.status[key] = states.get(key, "unchanged")
        result.asked[key] = text
    stored = await library.get_many(keys)
    result.papers = [stored[key] for key in keys if key in stored]
    return result


# Re-exported for callers that catch them.
__all__ += ["BadResponse", "NetworkError", "NotFound", "SourceError"]
