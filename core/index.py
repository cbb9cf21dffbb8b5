"""The search index: tantivy on disk, derived from the store and rebuildable at any time.

It records which change of the store's change log it reflects (`seq`), so an opener can tell
whether it is behind: after a crash between the store's commit and the index's, or when another
process has added papers.

Over a shared store (PostgreSQL) each document also keeps its paper's whole record (stored, not
searched): a search's hits come from the index alone, so a node goes on answering while the
database is away, and a search costs no round trip to it. A folder's index does without: its
SQLite store is always there, and reads 20 records faster than the index does (0.56 against 0.98 ms
at a million abstracts), from a sixth of the disk (139 against 817 MB).

Papers are spread over shards by key, and a query searches the shards at once on threads of
their own: tantivy scores one query on one core, and at a million abstracts that is most of a
completion's time. Each shard's scores are put on the scale of the whole index (see `_Shard`).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import tantivy

from core.records import Paper, paper_without_surrogates
from core.search import MAX_RESULTS
from core.text import ANALYZER_NAME, text_analyzer

# Bump when the schema or the analyzer changes: an index of another version is rebuilt.
SCHEMA_VERSION = 2
SHARDS = 2
_STATE_FILE = "papercite-index.json"
# Each shard's writer: one indexing thread, so the shards' writers together keep two cores busy.
_WRITER_HEAP_BYTES = 64 * 1024 * 1024
_NO_YEAR = -1
_I64_MAX = 2**63 - 1
# Measured at 1M abstracts: search p95 27.5 → 20.4 ms; ACM-CR recall unchanged (at 30%: paragraphs −0.009).
COMMON_WORD_SHARE = 0.5
COMMON_WORD_MIN_DOCS = 50_000
# What one search may read, in postings summed over its terms: its cost, since tantivy's pruning
# skips little of a query made of many middling-common words. No ACM-CR query (113k papers) reaches
# it; at a million abstracts a paragraph of context does: search p95 36 → 10 ms (sentences 9.6 →
# 7.5 ms), while ACM-CR with a million synthetic abstracts added loses 0.003 recall@10 on sentences,
# 0.008 on paragraphs (3M: 0.003 / 0.004, paragraphs at 14 ms).
POSTINGS_BUDGET = 2_000_000
# A writer's memory budget for an index of a user's .bib (tantivy asks for at least 15 MB).
_MEMORY_WRITER_HEAP_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class IndexState:
    schema: int
    seq: int


def _schema(*, records: bool) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw")
    builder.add_text_field("text", tokenizer_name=ANALYZER_NAME, index_option="freq")
    builder.add_text_field("authors", tokenizer_name="default", index_option="basic")
    builder.add_integer_field("year", indexed=True, fast=True)
    if records:
        builder.add_bytes_field(_RECORD, stored=True)
    return builder.build()


_RECORD = "record"
# The record comes last, so the fields both schemas share have the same numbers and one query
# serves both.
_SCHEMA = _schema(records=True)
_BARE_SCHEMA = _schema(records=False)
_encode_record = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _record(paper: Paper) -> bytes:
    """What the store keeps of a paper, as compact JSON (where it came from is the store's to say)."""
    fields = (paper.key, paper.title, paper.abstract, paper.authors, paper.year, paper.venue, paper.doi)
    rest = (paper.url, paper.arxiv_id, paper.keywords, paper.entry_type, paper.title_derived, paper.extra)
    return _encode_record((*fields, *rest)).encode("utf-8")


def _paper(record: bytes) -> Paper:
    key, title, abstract, authors, year, venue, doi, url, arxiv_id, keywords, entry_type, derived, extra = (
        json.loads(record)
    )
    return Paper(
        key=key,
        title=title,
        abstract=abstract,
        authors=tuple(authors),
        year=year,
        venue=venue,
        doi=doi,
        url=url,
        arxiv_id=arxiv_id,
        keywords=tuple(keywords),
        entry_type=entry_type,
        title_derived=derived,
        extra=tuple((name, value) for name, value in extra),
    )


def _document(paper: Paper, *, record: bool) -> tantivy.Document:
    try:
        return _tantivy_document(paper, record=record)
    except ValueError:  # a lone surrogate (an editor's buffer can hold one), which tantivy refuses
        return _tantivy_document(paper_without_surrogates(paper), record=record)


def _tantivy_document(paper: Paper, *, record: bool) -> tantivy.Document:
    document = tantivy.Document(
        key=paper.key,
        text=paper.search_text(),
        authors=" ".join(paper.authors),
        year=paper.year if paper.year is not None else _NO_YEAR,
    )
    if record:
        document.add_bytes(_RECORD, _record(paper))
    return document


def _text_query(terms: Mapping[str, float]) -> tantivy.Query:
    """Any of the terms, each counting by its weight."""
    should = [
        (
            tantivy.Occur.Should,
            tantivy.Query.boost_query(
                tantivy.Query.term_query(_SCHEMA, "text", term, index_option="freq"), weight
            ),
        )
        for term, weight in terms.items()
    ]
    return tantivy.Query.boolean_query(should)


def _idf(documents: int, frequency: int) -> float:
    """BM25's inverse document frequency, as tantivy computes it."""
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


@dataclass(frozen=True)
class Statistics:
    """Word statistics of everything a query ranks: documents, and documents holding each term."""

    documents: int
    doc_freq: Mapping[str, int]


def _statistics(searchers: Sequence[tantivy.Searcher], terms: Iterable[str]) -> Statistics:
    return Statistics(
        sum(int(s.num_docs) for s in searchers),
        {term: sum(int(s.doc_freq("text", term)) for s in searchers) for term in terms},
    )


def most_informative(terms: Mapping[str, float], limit: int, collection: Statistics) -> dict[str, float]:
    """The terms a search scores: the most informative first (weight × IDF), at most `limit` of
    them and as many as `POSTINGS_BUDGET` holds. The first always goes in; a term that would
    overflow the budget is passed over for the rarer ones after it, so what is left out is common
    words, which add least to BM25 and cost most.

    In a large collection, words found in over half the documents are left out first (unless
    nothing else is left): their IDF is near nothing and their posting lists the longest.
    """
    total = max(collection.documents, 1)
    if total >= COMMON_WORD_MIN_DOCS:
        ceiling = COMMON_WORD_SHARE * total
        terms = {t: w for t, w in terms.items() if collection.doc_freq[t] <= ceiling} or terms

    def informativeness(term: str) -> float:
        return terms[term] * _idf(total, collection.doc_freq[term])

    kept: dict[str, float] = {}
    postings = 0
    for term in sorted(terms, key=informativeness, reverse=True):
        frequency = collection.doc_freq[term]
        if kept and postings + frequency > POSTINGS_BUDGET:
            continue
        kept[term] = terms[term]
        postings += frequency
        if len(kept) == limit:
            break
    return kept


def _shard_of(key: str) -> int:
    return zlib.crc32(key.encode()) % SHARDS


class _Shard:
    """One tantivy index (on disk, or in memory when `path` is None).

    tantivy computes IDF from the shard alone; each term's boost rescales it to the IDF of the
    whole collection, so that weight × IDF × tf, and with it the ranking, is the whole's.
    """

    def __init__(self, path: Path | None, schema: tantivy.Schema) -> None:
        """ValueError for an index on disk of another schema."""
        if path is None:
            self.index = tantivy.Index(schema)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(schema, path=str(path), reuse=True)
        self.index.register_tokenizer(ANALYZER_NAME, text_analyzer())

    def search(
        self,
        searcher: tantivy.Searcher,
        terms: Mapping[str, float],
        limit: int,
        collection: Statistics,
        filters: Sequence[tuple[tantivy.Occur, tantivy.Query]] = (),
    ) -> list[tuple[str, float]]:
        """This shard's BM25 top `limit` as (key, score), on the scale of `collection`."""
        here = int(searcher.num_docs)
        rescaled = {}
        for term, weight in terms.items():
            frequency = int(searcher.doc_freq("text", term))
            if frequency:
                rescaled[term] = (
                    weight * _idf(collection.documents, collection.doc_freq[term]) / _idf(here, frequency)
                )
        if not rescaled:
            return []
        query = _text_query(rescaled)
        if filters:  # (a bare disjunction is what tantivy can prune block by block; keep it bare)
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *filters])
        # tantivy makes room for `limit` hits up front: never more than the shard holds.
        result = searcher.search(query, min(limit, max(here, 1)), count=False)
        return [(searcher.doc(address)["key"][0], float(score)) for score, address in result.hits]


# Shards past the first are searched here while the caller's thread searches the first.
# (tantivy lets go of the GIL while it searches.)
_SEARCH_THREADS = ThreadPoolExecutor(max_workers=SHARDS - 1, thread_name_prefix="papercite-search")


def stop_search_threads() -> None:
    """For a process about to exit: the idle search threads end now, rather than being taken for
    threads still at work (the language server waits for those before it exits)."""
    _SEARCH_THREADS.shutdown(wait=False)


class PaperIndex:
    def __init__(self, path: Path, *, records: bool = False) -> None:
        """The index in `path`; with `records`, one that keeps each paper's record (see above)."""
        self.path = path
        self.records = records
        schema = _SCHEMA if records else _BARE_SCHEMA
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._shards = [_Shard(path / f"shard-{number}", schema) for number in range(SHARDS)]
        except ValueError:  # one of the other schema (the home moved to or from a shared store)
            shutil.rmtree(path)  # derived data, with its state: rebuilt from the store
            path.mkdir()
            self._shards = [_Shard(path / f"shard-{number}", schema) for number in range(SHARDS)]

    # --- state ----------------------------------------------------------------------------------

    def state(self) -> IndexState | None:
        try:
            raw = json.loads((self.path / _STATE_FILE).read_text())
            return IndexState(schema=int(raw["schema"]), seq=int(raw["seq"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_state(self, seq: int) -> None:
        temporary = self.path / f"{_STATE_FILE}.tmp"
        temporary.write_text(json.dumps({"schema": SCHEMA_VERSION, "seq": seq}))
        os.replace(temporary, self.path / _STATE_FILE)

    def is_current(self, store_seq: int) -> bool:
        state = self.state()
        return state is not None and state.schema == SCHEMA_VERSION and state.seq == store_seq

    @classmethod
    def remove_files(cls, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    # --- writing --------------------------------------------------------------------------------

    def writing(self, *, rebuild: bool = False) -> IndexWriting:
        return IndexWriting(self._shards, rebuild=rebuild, records=self.records, on_commit=self.committed)

    def committed(self, seq: int) -> None:
        """Record that the index now reflects the store up to change `seq`, and look at it."""
        self._write_state(seq)
        self.reload()

    # --- reading --------------------------------------------------------------------------------

    def reload(self) -> None:
        for shard in self._shards:
            shard.index.reload()

    @property
    def num_docs(self) -> int:
        return sum(int(shard.index.searcher().num_docs) for shard in self._shards)

    def doc_freq(self, term: str) -> int:
        return sum(int(shard.index.searcher().doc_freq("text", term)) for shard in self._shards)

    def statistics(self, terms: Iterable[str]) -> Statistics:
        return _statistics([shard.index.searcher() for shard in self._shards], terms)

    def search(
        self,
        terms: Mapping[str, float],
        limit: int,
        *,
        max_terms: int | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        author: str | None = None,
        exclude: Iterable[str] = (),
        only: Iterable[str] | None = None,
    ) -> list[tuple[str, float]]:
        """BM25 top `limit` for weighted terms (the `max_terms` most informative), as (key, score),
        best first; `only` keeps papers with these keys. A `limit` past MAX_RESULTS gives MAX_RESULTS."""
        limit = min(limit, MAX_RESULTS)
        if not terms or limit <= 0:
            return []
        filters: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if year_from is not None or year_to is not None:
            # The field is 64-bit: a bound past it means the same as the largest (tantivy refuses it).
            year_from = None if year_from is None else max(min(year_from, _I64_MAX), -_I64_MAX)
            year_to = None if year_to is None else max(min(year_to, _I64_MAX), -_I64_MAX)
            # Papers of unknown year (stored as -1) never pass a year filter.
            year_range = tantivy.Query.range_query(
                _SCHEMA,
                "year",
                tantivy.FieldType.Integer,
                year_from if year_from is not None else 0,
                year_to,
            )
            filters.append((tantivy.Occur.Must, tantivy.Query.const_score_query(year_range, 0.0)))
        for name_token in analyze_author(author):
            name_query = tantivy.Query.term_query(_SCHEMA, "authors", name_token)
            filters.append((tantivy.Occur.Must, tantivy.Query.const_score_query(name_query, 0.0)))
        if only is not None:
            wanted_keys = sorted(set(only))
            if not wanted_keys:
                return []
            # Scored on the whole collection's statistics, so scores compare with unfiltered ones.
            keys_query = tantivy.Query.term_set_query(_SCHEMA, "key", wanted_keys)
            filters.append((tantivy.Occur.Must, tantivy.Query.const_score_query(keys_query, 0.0)))
        # Excluded keys are dropped from a longer list, not queried away: see `_Shard.search`.
        excluded = set(exclude)
        wanted = limit + len(excluded)
        searchers = [shard.index.searcher() for shard in self._shards]
        collection = _statistics(searchers, terms)
        if max_terms is not None:
            terms = most_informative(terms, max_terms, collection)
        others = [
            _SEARCH_THREADS.submit(shard.search, searcher, terms, wanted, collection, filters)
            for shard, searcher in zip(self._shards[1:], searchers[1:], strict=True)
        ]
        hits = self._shards[0].search(searchers[0], terms, wanted, collection, filters)
        for other in others:
            hits += other.result()
        hits = [hit for hit in hits if hit[0] not in excluded]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))[:limit]

    def most_informative(self, terms: Mapping[str, float], limit: int) -> dict[str, float]:
        return most_informative(terms, limit, self.statistics(terms))

    def keys_with_prefix(self, prefix: str, limit: int = -1) -> set[str]:
        """Keys starting with `prefix`, the first `limit` of them in key order (-1: all)."""
        # Every character written as its code point: nothing in a key is read as regex syntax.
        pattern = "".join(f"\\x{{{ord(char):x}}}" for char in prefix) + "(?s:.)*"
        query = tantivy.Query.regex_query(_SCHEMA, "key", pattern)
        keys = []
        for shard in self._shards:
            searcher = shard.index.searcher()
            hits = searcher.search(query, max(int(searcher.num_docs), 1), count=False).hits
            keys += [searcher.doc(address)["key"][0] for _, address in hits]
        return set(sorted(keys)[:limit] if limit >= 0 else keys)

    def papers(self, keys: Iterable[str]) -> dict[str, Paper]:
        """The records the index holds for `keys` (those it has), as the store had them when indexed;
        an index without records holds none."""
        if not self.records:
            return {}
        by_shard: list[list[str]] = [[] for _ in self._shards]
        for key in set(keys):
            by_shard[_shard_of(key)].append(key)
        found: dict[str, Paper] = {}
        for shard, wanted in zip(self._shards, by_shard, strict=True):
            if not wanted:
                continue
            searcher = shard.index.searcher()
            query = tantivy.Query.term_set_query(_SCHEMA, "key", wanted)
            for _, address in searcher.search(query, len(wanted), count=False).hits:
                paper = _paper(searcher.doc(address)[_RECORD][0])
                found[paper.key] = paper
        return found


class IndexWriting:
    """Changes on their way into the index, while the store writes them. Nothing is visible until
    `commit` records the store's change position with them; `rollback` drops them all.

    Replaying changes is harmless (delete-then-add by key), so a crash between the store's commit
    and this one only means the same changes are applied again next time.
    """

    def __init__(
        self, shards: Sequence[_Shard], *, rebuild: bool, records: bool, on_commit: Callable[[int], None]
    ) -> None:
        self._writers: list[tantivy.IndexWriter] | None = [
            shard.index.writer(_WRITER_HEAP_BYTES, 1) for shard in shards
        ]
        self._rebuild = rebuild
        self._records = records
        self._on_commit = on_commit
        if rebuild:
            for writer in self._writers:
                writer.delete_all_documents()

    def _open_writers(self) -> list[tantivy.IndexWriter]:
        if self._writers is None:
            raise RuntimeError("this index writing is over")
        return self._writers

    def upsert(self, papers: Iterable[Paper], *, new: bool = False) -> int:
        """Add papers, replacing their old versions unless they are `new`. Returns how many."""
        writers = self._open_writers()
        count = 0
        for paper in papers:
            writer = writers[_shard_of(paper.key)]
            if not (new or self._rebuild):
                writer.delete_documents_by_term("key", paper.key)
            writer.add_document(_document(paper, record=self._records))
            count += 1
        return count

    def remove(self, keys: Iterable[str]) -> None:
        writers = self._open_writers()
        for key in keys:
            writers[_shard_of(key)].delete_documents_by_term("key", key)

    def commit(self, seq: int) -> None:
        writers = self._open_writers()
        self._writers = None
        try:
            for writer in writers:
                writer.commit()
        except BaseException:
            for writer in writers:
                writer.rollback()
            raise
        finally:
            for writer in writers:
                writer.wait_merging_threads()  # also lets go of tantivy's writer lock
        self._on_commit(seq)

    def rollback(self) -> None:
        """Drop what was not committed; safe to call after `commit` (it does nothing then)."""
        if self._writers is not None:
            writers, self._writers = self._writers, None
            for writer in writers:
                writer.rollback()
                writer.wait_merging_threads()


class WordStatistics(Protocol):
    """Where a `MemoryIndex` takes the collection's word statistics from: a `PaperIndex`, or what
    a server sent with its latest search."""

    def statistics(self, terms: Iterable[str]) -> Statistics: ...


class MemoryIndex:
    """Papers outside the library (a user's .bib) in a tantivy index held in memory, searched with
    the library index's word statistics so that their scores rank among its hits."""

    def __init__(self, papers: Iterable[Paper]) -> None:
        self._shard = _Shard(None, _BARE_SCHEMA)
        documents = [_document(paper, record=False) for paper in papers]
        if documents:
            writer = self._shard.index.writer(_MEMORY_WRITER_HEAP_BYTES, 1)
            for document in documents:
                writer.add_document(document)
            writer.commit()
            writer.wait_merging_threads()
            self._shard.index.reload()
        self.size = len(documents)

    def search(
        self, terms: Mapping[str, float], limit: int, reference: WordStatistics
    ) -> list[tuple[str, float]]:
        """BM25 top `limit` (at most MAX_RESULTS) as (key, score), with IDF from `reference` and
        these papers together."""
        limit = min(limit, MAX_RESULTS)
        if not self.size or not terms or limit <= 0:
            return []
        searcher = self._shard.index.searcher()
        library = reference.statistics(terms)
        collection = Statistics(
            library.documents + self.size,
            {term: library.doc_freq[term] + int(searcher.doc_freq("text", term)) for term in terms},
        )
        return self._shard.search(searcher, terms, limit, collection)


def analyze_author(author: str | None) -> list[str]:
    """Tokens of an author filter, as tantivy's default tokenizer made them (lower case words)."""
    if not author:
        return []
    return [word.lower() for word in re.findall(r"[^\W_]+", author)]
