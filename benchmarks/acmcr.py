"""ACM-CR: real citing sentences and paragraphs → the papers they cite. recall@10 and nDCG@10.

    python -m benchmarks.acmcr [--collection PATH] [--home DIR] [--limit N] [--rank-bm25] [--no-title] [--tune]

The collection (public domain, https://github.com/boudinfl/acm-cr) is read from --collection or
PAPERCITE_ACMCR; tests/data/acm-cr-sample holds a small sample of it in the same layout.
Protocol of the collection (its README): index title + abstract + keywords, drop the
citing papers (topics/blacklist.txt) from the rankings, query with each citing text, take the top 10,
average recall@10 and nDCG@10 (trec_eval definitions, binary relevance) over topics with a judged DOI.
Without --home, a fresh home is filled by `papercite ingest` of the BibTeX folder, and timed.

When the home has sentence vectors (`papercite embed`), each set is also run with them (BM25 + MiniLM,
core/fusion.py), on all topics and on each half: the topics are split by citing paper (half A: the
even-numbered titles in sorted order), A choosing the fusion's weight and depth (`--tune` prints the
grid), B reporting them.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.fusion import fused_ranking
from core.library import QUERY_TERMS, Library
from core.query import DOCUMENT_TITLE, weighted_terms

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "acm-cr-sample"
TOP = 10
PUBLISHED = {  # Anserini BM25 and BM25 + SciBERT re-ranking (recall@10, nDCG@10)
    "sentences": {"BM25 (Anserini)": (0.3903, 0.3156), "BM25 + SciBERT": (0.4030, 0.3231)},
    "contexts": {"BM25 (Anserini)": (0.3358, 0.2827), "BM25 + SciBERT": (0.3440, 0.2937)},
}


def collection_path(given: Path | None) -> Path:
    """The ACM-CR folder from the command line or PAPERCITE_ACMCR; a clear exit when there is none."""
    path = given or (Path(os.environ["PAPERCITE_ACMCR"]) if os.environ.get("PAPERCITE_ACMCR") else None)
    if path is None or not (path / "acm-dl").is_dir() or not (path / "topics").is_dir():
        where = f"{path} holds no acm-dl/ and topics/" if path else "no collection given"
        raise SystemExit(
            f"ACM-CR: {where}. Get it from https://github.com/boudinfl/acm-cr (its acm-dl/ and topics/ "
            f"folders) and pass --collection PATH or set PAPERCITE_ACMCR; {SAMPLE.relative_to(SAMPLE.parents[2])} "
            "is a small sample for a quick run."
        )
    return path


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    text: str


def load_topics(path: Path) -> list[Topic]:
    topics = []
    for block in re.findall(r"<top>(.*?)</top>", path.read_text(), re.DOTALL):
        number = re.search(r"<num>\s*Number:\s*(\S+)", block)
        title = re.search(r"<title>\s*(.*?)\s*\n", block)
        text = re.search(r"<desc>\s*Description:\s*(.*?)\s*<narr>", block, re.DOTALL)
        if number and text:
            topics.append(
                Topic(number.group(1), title.group(1) if title else "", " ".join(text.group(1).split()))
            )
    return topics


def load_qrels(path: Path) -> dict[str, set[str]]:
    judged: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3] != "0":
            judged.setdefault(parts[0], set()).add(parts[2].lower())
    return judged


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = TOP) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = TOP) -> float:
    """trec_eval's ndcg_cut: binary gains, log2(rank + 1) discount, ideal ranking of all judged."""
    dcg = sum(1 / math.log2(rank + 2) for rank, doi in enumerate(ranked[:k]) if doi in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal


@dataclass(frozen=True)
class Scores:
    run: str
    topics: int
    recall: float
    ndcg: float
    seconds_per_query: float

    def row(self) -> str:
        return (
            f"| {self.run} | {self.topics} | {self.recall:.4f} | {self.ndcg:.4f} | "
            f"{1000 * self.seconds_per_query:.1f} |"
        )


Ranker = Callable[[Topic], Sequence[str]]  # a topic → DOIs, best first


def evaluate(run: str, topics: Sequence[Topic], judged: Mapping[str, set[str]], rank: Ranker) -> Scores:
    scored = [t for t in topics if judged.get(t.id)]
    recalls, ndcgs = [], []
    started = time.perf_counter()
    for topic in scored:
        ranked = rank(topic)
        recalls.append(recall_at(ranked, judged[topic.id]))
        ndcgs.append(ndcg_at(ranked, judged[topic.id]))
    elapsed = time.perf_counter() - started
    n = len(scored)
    return Scores(run, n, sum(recalls) / n, sum(ndcgs) / n, elapsed / max(n, 1))


def topic_terms(topic: Topic, use_title: bool) -> dict[str, float]:
    """The citing text, with the citing paper's title as context, weighted as the editor weights it."""
    title = topic.title if use_title else ""
    return weighted_terms([(topic.text, 1.0), (title, DOCUMENT_TITLE)], once=frozenset({1}))


def halves(topic_sets: Mapping[str, Sequence[Topic]]) -> dict[str, set[str]]:
    """Topic ids of half A and half B, split by citing paper so no paper's text is in both."""
    titles = sorted({topic.title for topics in topic_sets.values() for topic in topics})
    in_a = set(titles[0::2])
    split: dict[str, set[str]] = {"A": set(), "B": set()}
    for topics in topic_sets.values():
        for topic in topics:
            split["A" if topic.title in in_a else "B"].add(topic.id)
    return split


_DOIS: dict[int, tuple[dict[str, str], list[str]]] = {}


async def _dois(library: Library, blacklist: set[str]) -> tuple[dict[str, str], list[str]]:
    """Each paper's DOI, and the keys of the citing papers; read once per library (113k records)."""
    if id(library) in _DOIS:
        return _DOIS[id(library)]
    doi_of: dict[str, str] = {}
    excluded = []
    async for batch in library.store.iter_papers():
        for paper in batch:
            if paper.doi:
                doi_of[paper.key] = paper.doi
                if paper.doi in blacklist:
                    excluded.append(paper.key)
    _DOIS[id(library)] = (doi_of, excluded)
    return doi_of, excluded


async def our_rankings(
    library: Library, topics: Sequence[Topic], blacklist: set[str], use_title: bool, semantic: bool = False
) -> dict[str, list[str]]:
    doi_of, excluded = await _dois(library, blacklist)
    rankings = {}
    for topic in topics:
        hits = await library.search(
            topic_terms(topic, use_title), TOP, exclude=excluded, meaning=topic.text, semantic=semantic
        )
        rankings[topic.id] = [doi_of.get(h.key, "") for h in hits]
    return rankings


WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
DEPTHS = (20, 30, 50, 100, 200)


async def tuning_table(
    library: Library,
    topic_sets: Mapping[str, Sequence[Topic]],
    judged: Mapping[str, Mapping[str, set[str]]],
    blacklist: set[str],
    use_title: bool,
) -> str:
    """recall@10 / nDCG@10 of each fusion weight and depth, on half A and half B of each set."""
    doi_of, excluded = await _dois(library, blacklist)
    split = halves(topic_sets)
    encoder = await library.encoder()
    lines = [
        "| set | weight | depth | A recall@10 | A nDCG@10 | B recall@10 | B nDCG@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    covered: list[str] = []
    for name, topics in topic_sets.items():
        pools = {}
        for topic in topics:
            ranked = library.index.search(
                topic_terms(topic, use_title), max(DEPTHS), max_terms=QUERY_TERMS, exclude=excluded
            )
            vector = encoder.encode_query(topic.text)
            pools[topic.id] = (ranked, library.vectors.similarities(vector, [key for key, _ in ranked]))
        # How deep every topic's candidates all have vectors (a home partly embedded is measured
        # only down to there: deeper, a candidate without a vector keeps its BM25 place).
        depth = min(
            next((rank for rank, (key, _) in enumerate(ranked) if key not in sims), len(ranked))
            for ranked, sims in pools.values()
        )
        covered.append(f"{name}: every topic's BM25 top {depth} has vectors")
        for weight in WEIGHTS:
            for depth in DEPTHS:
                rankings = {
                    tid: [doi_of.get(key, "") for key, _ in fused_ranking(ranked[:depth], sims, weight)[:TOP]]
                    for tid, (ranked, sims) in pools.items()
                }
                cells = []
                for half in ("A", "B"):
                    part = [t for t in topics if t.id in split[half]]
                    scores = evaluate("", part, judged[name], lambda t, r=rankings: r[t.id])
                    cells += [f"{scores.recall:.4f}", f"{scores.ndcg:.4f}"]
                lines.append(f"| {name} | {weight} | {depth} | " + " | ".join(cells) + " |")
    return "\n".join([*covered, "", *lines])


def ingest_collection(collection: Path, home: Path) -> float:
    """`papercite ingest` of the BibTeX folder into a fresh home; returns seconds taken."""
    env = {**os.environ, "PAPERCITE_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "core.cli", "stats"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "core.cli", "ingest", "--no-embed", str(collection / "acm-dl")],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


async def rank_bm25_rankings(
    library: Library, topic_sets: Mapping[str, Sequence[Topic]], blacklist: set[str]
) -> tuple[dict[str, dict[str, list[str]]], float]:
    """rank-bm25's BM25Okapi over the same tokens (our analyzer); returns rankings and build seconds."""
    import numpy as np
    from rank_bm25 import BM25Okapi

    from core.text import analyze, clean_citing_text

    papers = [p async for batch in library.store.iter_papers() for p in batch if p.doi not in blacklist]
    started = time.perf_counter()
    reference = BM25Okapi([analyze(p.search_text()) for p in papers], k1=1.2, b=0.75)
    build = time.perf_counter() - started
    rankings: dict[str, dict[str, list[str]]] = {}
    for name, topics in topic_sets.items():
        rankings[name] = {}
        for topic in topics:
            scores = reference.get_scores(analyze(clean_citing_text(topic.text)))
            best = np.argsort(-scores)[:TOP]
            rankings[name][topic.id] = [papers[i].doi for i in best]
    return rankings, build


async def run(
    collection: Path,
    home: Path | None,
    limit: int | None,
    with_rank_bm25: bool,
    use_title: bool,
    tune: bool = False,
) -> str:
    topics_dir = collection / "topics"
    blacklist = {line.strip().lower() for line in (topics_dir / "blacklist.txt").read_text().splitlines()}
    topic_sets = {
        name: load_topics(topics_dir / f"{name}.topics")[:limit] for name in ("sentences", "contexts")
    }
    judged = {name: load_qrels(topics_dir / f"{name}.qrels") for name in topic_sets}
    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        if home is None:
            home = Path(scratch)
            seconds = ingest_collection(collection, home)
            lines.append(f"Ingest of the ACM-CR BibTeX folder with `papercite ingest`: {seconds:.1f} s")
        library = await Library.open(home)
        try:
            stats = await library.stats()
            lines.append(
                f"Papers in the index: {stats['papers']:,}; with a sentence vector: {stats['vectors']:,}\n"
            )
            if collection.resolve() == SAMPLE.resolve():
                lines.append("The sample in tests/data: not comparable with the published figures.\n")
            lines += ["| run | topics | recall@10 | nDCG@10 | ms/query |", "|---|---|---|---|---|"]
            reference = None
            if with_rank_bm25:
                reference, build = await rank_bm25_rankings(library, topic_sets, blacklist)
            split = halves(topic_sets)
            for name, topics in topic_sets.items():
                ours = await our_rankings(library, topics, blacklist, use_title)
                timed = await _timed_queries(library, topics, use_title)
                scores = evaluate(f"{name}: papercite", topics, judged[name], lambda t, r=ours: r[t.id])
                lines.append(Scores(scores.run, scores.topics, scores.recall, scores.ndcg, timed).row())
                if library.vectors.count:
                    fused = await our_rankings(library, topics, blacklist, use_title, semantic=True)
                    timed = await _timed_queries(library, topics, use_title, semantic=True)
                    run_name = f"{name}: papercite + MiniLM"
                    scores = evaluate(run_name, topics, judged[name], lambda t, r=fused: r[t.id])
                    lines.append(Scores(run_name, scores.topics, scores.recall, scores.ndcg, timed).row())
                    for half in ("A", "B"):
                        part = [t for t in topics if t.id in split[half]]
                        for label, ranking in (("papercite", ours), ("papercite + MiniLM", fused)):
                            lines.append(
                                evaluate(
                                    f"{name}, half {half}: {label}",
                                    part,
                                    judged[name],
                                    lambda t, r=ranking: r[t.id],
                                ).row()
                            )
                if reference is not None:
                    ref = reference[name]
                    lines.append(
                        evaluate(f"{name}: rank-bm25", topics, judged[name], lambda t, r=ref: r[t.id]).row()
                    )
                for label, (recall, ndcg) in PUBLISHED[name].items():
                    lines.append(f"| {name}: {label}, published | — | {recall:.4f} | {ndcg:.4f} | — |")
            if reference is not None:
                lines.append(f"\nrank-bm25 index build: {build:.1f} s")
            if tune and library.vectors.count:
                lines += ["", await tuning_table(library, topic_sets, judged, blacklist, use_title)]
        finally:
            await library.close()
    return "\n".join(lines)


async def _timed_queries(
    library: Library, topics: Sequence[Topic], use_title: bool, *, semantic: bool = False
) -> float:
    started = time.perf_counter()
    for topic in topics:
        await library.search(topic_terms(topic, use_title), TOP, meaning=topic.text, semantic=semantic)
    return (time.perf_counter() - started) / max(len(topics), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, help="the ACM-CR folder (default: PAPERCITE_ACMCR)")
    parser.add_argument("--home", type=Path, help="a home that already holds the collection")
    parser.add_argument("--limit", type=int, help="only the first N topics of each set (a quick run)")
    parser.add_argument("--rank-bm25", action="store_true", help="also run rank-bm25 over the same text")
    parser.add_argument("--no-title", action="store_true", help="query with the citing text alone")
    parser.add_argument("--tune", action="store_true", help="also print the fusion's weight × depth grid")
    args = parser.parse_args()
    collection = collection_path(args.collection)
    print(asyncio.run(run(collection, args.home, args.limit, args.rank_bm25, not args.no_title, args.tune)))


if __name__ == "__main__":
    main()
