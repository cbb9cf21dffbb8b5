"""Slack digests on ACM-CR: does a follow's digest bring the paper a team later cited, and how much
else comes with it, at each relevance floor?

    python -m benchmarks.digest_floor [--collection PATH] [--home DIR] [--arrivals N] [--seed S]

A team is one of ACM-CR's 50 citing papers; its library is the papers that paper cites (the ones
found in the collection, with an abstract). Each cited paper in turn is held out: it arrives with
N-1 other papers of the collection drawn at random (a harvest's worth), and the digest ranks the
arrivals as `core.digests.rank_new` does — `/paper follow --library` by the rest of the team's
library as one query, and a topic follow by the citing paper's title. recall@5 is how often the
held-out paper is among the digest's 5 papers for that follow; "other papers shown" is how many of
the 5 slots random arrivals fill on average (noise). The floor is a share of the best score any
paper in the library reaches for the same query. Random ranking's recall@5 is 5/N.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.acmcr import collection_path, ingest_collection, load_qrels, load_topics
from core.digests import PER_FOLLOW, floor_for, library_terms
from core.library import Library
from core.query import text_terms
from core.records import Paper

FLOORS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
DEFAULT = -1.0  # the row of the floor the digest picks (core.digests.floor_for)
LABELS = {
    "library": "`--library` (the team's other cited papers)",
    "keyword": "short topic (the keyword most of them share)",
    "topic": "long topic (the citing paper's title)",
}
MIN_LIBRARY = 3  # a team with fewer cited papers found says too little to rank by


@dataclass(frozen=True)
class Trial:
    team: str
    held_out: str  # key
    own: tuple[str, ...]  # the rest of the team's library
    arrivals: tuple[str, ...]  # held_out among the random others


@dataclass
class Outcome:
    found: dict[float, int]
    noise: dict[float, int]
    trials: int = 0


def teams(collection: Path) -> dict[str, set[str]]:
    """Citing paper title → the DOIs its sentences and paragraphs cite."""
    cited: dict[str, set[str]] = {}
    for name in ("sentences", "contexts"):
        judged = load_qrels(collection / "topics" / f"{name}.qrels")
        for topic in load_topics(collection / "topics" / f"{name}.topics"):
            cited.setdefault(topic.title, set()).update(judged.get(topic.id, set()))
    return cited


async def trials(library: Library, collection: Path, arrivals: int, seed: int) -> list[Trial]:
    blacklist = {
        line.strip().lower() for line in (collection / "topics" / "blacklist.txt").read_text().split()
    }
    key_of: dict[str, str] = {}
    pool: list[str] = []
    async for batch in library.store.iter_papers():
        for paper in batch:
            if paper.doi and paper.abstract and paper.doi not in blacklist:
                key_of[paper.doi] = paper.key
                pool.append(paper.key)
    chooser = random.Random(seed)
    made = []
    for title, dois in sorted(teams(collection).items()):
        keys = sorted({key_of[doi] for doi in dois if doi in key_of})
        if len(keys) < MIN_LIBRARY:
            continue
        for held_out in keys:
            others: set[str] = set()
            while len(others) < arrivals - 1:
                candidate = chooser.choice(pool)
                if candidate not in keys:
                    others.add(candidate)
            made.append(Trial(title, held_out, tuple(k for k in keys if k != held_out), (held_out, *others)))
    return made


def team_keyword(papers: Sequence[Paper]) -> str:
    """The author keyword most of the team's papers share (at least two of them): a short topic,
    like the ones a channel follows, told without the held-out paper ("" when there is none)."""
    counts = Counter(keyword.lower().strip() for paper in papers for keyword in set(paper.keywords))
    ranked = sorted(((-count, keyword) for keyword, count in counts.items() if count >= 2 and keyword))
    return ranked[0][1] if ranked else ""


async def score(library: Library, made: Sequence[Trial], kind: str) -> Outcome:
    outcome = Outcome({f: 0 for f in (*FLOORS, DEFAULT)}, {f: 0 for f in (*FLOORS, DEFAULT)})
    for trial in made:
        papers = await library.get_many(trial.own)
        if kind == "library":
            terms = library_terms(papers[key] for key in trial.own)
        elif kind == "keyword":
            terms = text_terms(team_keyword([papers[key] for key in trial.own]))
        else:
            terms = text_terms(trial.team)
        if not terms:
            continue
        outcome.trials += 1
        best = await library.search(terms, 1, exclude=trial.own)
        hits = await library.search(terms, len(trial.arrivals), exclude=trial.own, only=trial.arrivals)
        top = best[0].score if best else 0.0
        for floor in FLOORS:
            shown = [hit.paper.key for hit in hits if hit.score >= floor * top][:PER_FOLLOW]
            outcome.found[floor] += trial.held_out in shown
            outcome.noise[floor] += len([key for key in shown if key != trial.held_out])
        # What the digest does: the floor core.digests picks for this follow and query.
        shown = [hit.paper.key for hit in hits if hit.score >= floor_for(kind == "library", terms) * top]
        outcome.found[DEFAULT] += trial.held_out in shown[:PER_FOLLOW]
        outcome.noise[DEFAULT] += len([key for key in shown[:PER_FOLLOW] if key != trial.held_out])
    return outcome


async def run(collection: Path, home: Path | None, arrivals: int, seed: int) -> str:
    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        if home is None:
            home = Path(scratch)
            lines.append(f"Ingest of ACM-CR: {ingest_collection(collection, home):.0f} s")
        library = await Library.open(home)
        try:
            made = await trials(library, collection, arrivals, seed)
            team_count = len({t.team for t in made})
            lines.append(
                f"{team_count} teams (citing papers with at least {MIN_LIBRARY} cited papers found), "
                f"{len(made)} held-out papers, each among {arrivals} arrivals; random recall@5 "
                f"{PER_FOLLOW / arrivals:.3f}\n"
            )
            lines += [
                "| follow | held-out papers | floor | recall@5 | other papers shown (of 5) | ms/digest |",
                "|---|---|---|---|---|---|",
            ]
            for kind in ("library", "keyword", "topic"):
                started = time.perf_counter()
                outcome = await score(library, made, kind)
                per = 1000 * (time.perf_counter() - started) / max(outcome.trials, 1)
                label = LABELS[kind]
                for floor in (*FLOORS, DEFAULT):
                    shown_floor = "the digest's" if floor == DEFAULT else f"{floor:.1f}"
                    lines.append(
                        f"| {label} | {outcome.trials} | {shown_floor} | "
                        f"{outcome.found[floor] / outcome.trials:.3f} | "
                        f"{outcome.noise[floor] / outcome.trials:.2f} | {per:.0f} |"
                    )
        finally:
            await library.close()
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, help="the ACM-CR folder (default: PAPERCITE_ACMCR)")
    parser.add_argument("--home", type=Path, help="a home that already holds the collection")
    parser.add_argument("--arrivals", type=int, default=200, help="papers arriving per digest (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="the random draw of the other arrivals")
    args = parser.parse_args()
    print(asyncio.run(run(collection_path(args.collection), args.home, args.arrivals, args.seed)))


if __name__ == "__main__":
    main()
