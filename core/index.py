"""The search index: tantivy on disk, derived from the store and rebuildable at any time.

It records which change of the store's change log it reflects (`seq`), so an opener can tell
whether it is behind: after a crash between the store's commit and the index's, or when another
process has added papers.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import tantivy

from core.records import Paper
from core.text import ANALYZER_NAME, analyze, text_analyzer

# Bump when the schema or the analyzer changes: an index of another version is rebuilt.
SCHEMA_VERSION = 1
_STATE_FILE = "papercite-index.json"
_WRITER_HEAP_BYTES = 128 * 1024 * 1024
_NO_YEAR = -1
# Measured at 1M abstracts: search p95 27.5 → 20.4 ms; ACM-CR recall unchanged (at 30%: paragraphs −0.009).
COMMON_WORD_SHARE = 0.5
# tantivy's BM25 parameters, for scoring papers outside the index the way it scores those inside.
_K1, _B = 1.2, 0.75
COMMON_WORD_MIN_DOCS = 50_000


@dataclass(frozen=True)
class IndexState:
    schema: int
    seq: int


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw")
    builder.add_text_field("text", tokenizer_name=ANALYZER_NAME, index_option="freq")
    builder.add_text_field("authors", tokenizer_name="default", index_option="basic")
    builder.add_integer_field("year", indexed=True, fast=True)
    return builder.build()


class PaperIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self._index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self._index.register_tokenizer(ANALYZER_NAME, text_analyzer())

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

    def _document(self, paper: Paper) -> tantivy.Document:
        return tantivy.Document(
            key=paper.key,
            text=paper.search_text(),
            authors=" ".join(paper.authors),
            year=paper.year if paper.year is not None else _NO_YEAR,
        )

    def apply(
        self, upserts: Iterable[Paper], removals: Iterable[str], seq: int, *, rebuild: bool = False
    ) -> int:
        """Write the given changes in one tantivy commit, then record `seq`. Returns docs written.

        Replaying changes is harmless (delete-then-add by key), so a crash between the commit and
        the state file only means the same changes are applied again next time.
        """
        writer = self._index.writer(_WRITER_HEAP_BYTES, 0)
        written = 0
        try:
            if rebuild:
                writer.delete_all_documents()
            for key in removals:
                writer.delete_documents_by_term("key", key)
            for paper in upserts:
                if not rebuild:
                    writer.delete_documents_by_term("key", paper.key)
                writer.add_document(self._document(paper))
                written += 1
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        self._write_state(seq)
        self._index.reload()
        return written

    # --- reading --------------------------------------------------------------------------------

    def reload(self) -> None:
        self._index.reload()

    @property
    def num_docs(self) -> int:
        return int(self._index.searcher().num_docs)

    def search(
        self,
        terms: Mapping[str, float],
        limit: int,
        *,
        year_from: int | None = None,
        year_to: int | None = None,
        author: str | None = None,
        exclude: Iterable[str] = (),
    ) -> list[tuple[str, float]]:
        """BM25 top `limit` for weighted terms, as (key, score), best first."""
        if not terms or limit <= 0:
            return []
        should = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(
                    tantivy.Query.term_query(self.schema, "text", term, index_option="freq"), weight
                ),
            )
            for term, weight in terms.items()
        ]
        clauses = [(tantivy.Occur.Must, tantivy.Query.boolean_query(should))]
        if year_from is not None or year_to is not None:
            # Papers of unknown year (stored as -1) never pass a year filter.
            year_range = tantivy.Query.range_query(
                self.schema,
                "year",
                tantivy.FieldType.Integer,
                year_from if year_from is not None else 0,
                year_to,
            )
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(year_range, 0.0)))
        for name_token in analyze_author(author):
            name_query = tantivy.Query.term_query(self.schema, "authors", name_token)
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(name_query, 0.0)))
        for key in exclude:
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_query(self.schema, "key", key)))
        searcher = self._index.searcher()
        result = searcher.search(tantivy.Query.boolean_query(clauses), limit, count=False)
        return [(searcher.doc(address)["key"][0], float(score)) for score, address in result.hits]

    def most_informative(self, terms: Mapping[str, float], limit: int) -> dict[str, float]:
        """The `limit` terms with the highest weight × IDF: a long paragraph keeps its rare words.

        In a large collection, words found in over 30% of documents are left out (unless nothing else
        is left): they add little to BM25 and most of the cost, their posting lists being the longest.
        """
        searcher = self._index.searcher()
        total = max(int(searcher.num_docs), 1)
        if total >= COMMON_WORD_MIN_DOCS:
            ceiling = COMMON_WORD_SHARE * total
            rare = {t: w for t, w in terms.items() if searcher.doc_freq("text", t) <= ceiling}
            terms = rare or terms
        if len(terms) <= limit:
            return dict(terms)

        def informativeness(term: str) -> float:
            frequency = int(searcher.doc_freq("text", term))
            return terms[term] * math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))

        return {term: terms[term] for term in sorted(terms, key=informativeness, reverse=True)[:limit]}

    def score(self, terms: Mapping[str, float], outside: OutsideDocuments) -> dict[str, float]:
        """BM25 of documents outside the index (a user's .bib) with the index's word statistics, so
        that they rank among its hits. Their own mean length stands in for the index's.

        Only documents holding a query term get a score; the work is that of their postings.
        """
        if not outside.lengths:
            return {}
        searcher = self._index.searcher()
        total = int(searcher.num_docs) + len(outside.lengths)
        scores: dict[str, float] = {}
        for term, weight in terms.items():
            posting = outside.postings.get(term)
            if not posting:
                continue
            frequency = int(searcher.doc_freq("text", term)) + len(posting)
            idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
            for key, count in posting.items():
                norm = _K1 * (1 - _B + _B * outside.lengths[key] / outside.mean_length)
                scores[key] = scores.get(key, 0.0) + weight * idf * count * (_K1 + 1) / (count + norm)
        return scores


@dataclass
class OutsideDocuments:
    """Papers outside the index, with their terms inverted once, so that scoring them is quick."""

    postings: dict[str, dict[str, int]]  # term → key → count
    lengths: dict[str, int]
    mean_length: float

    @classmethod
    def of(cls, papers: Iterable[Paper]) -> OutsideDocuments:
        postings: dict[str, dict[str, int]] = {}
        lengths = {}
        for paper in papers:
            counts = Counter(analyze(paper.search_text()))
            lengths[paper.key] = counts.total()
            for term, count in counts.items():
                postings.setdefault(term, {})[paper.key] = count
        return cls(postings, lengths, max(sum(lengths.values()) / max(len(lengths), 1), 1.0))


def analyze_author(author: str | None) -> list[str]:
    """Tokens of an author filter, as tantivy's default tokenizer made them (lower case words)."""
    if not author:
        return []
    return [word.lower() for word in re.findall(r"[^\W_]+", author)]
