"""BM25 and sentence similarity, fused into one ranking.

BM25 picks the candidates; each candidate's cosine with the query's vector re-scores it. Both scores
are min-max normalised over the candidates and mixed linearly. Chosen on half of ACM-CR's topics
(the even-numbered citing papers) and reported on the other half in docs/benchmarks.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# How much the sentence similarity counts against BM25 in the mix (0: BM25 alone, 1: the model alone).
SEMANTIC_WEIGHT = 0.5
# BM25's top this many are re-scored.
CANDIDATES = 100
# How long a completion waits for its sentence's vector before answering with BM25 alone: a
# sentence takes about 10 ms to embed on an idle 2-core machine (docs/benchmarks.md), so a first
# ask usually fuses, and a loaded machine still answers within its usual time.
SENTENCE_WAIT = 0.05
# The longest a team server waits for a sentence's vector when an editor asks (a completion's budget).
MAX_SIMILARITY_WAIT = 0.2


def _normalised(scores: Sequence[float]) -> list[float]:
    low, high = min(scores), max(scores)
    if high - low <= 1e-12:
        return [1.0 for _ in scores]
    return [(score - low) / (high - low) for score in scores]


def fused_ranking(
    ranked: Sequence[tuple[str, float]],
    similarity: Mapping[str, float],
    weight: float = SEMANTIC_WEIGHT,
) -> list[tuple[str, float]]:
    """`ranked` (key, BM25 score, best first) re-ordered by the mix, with the mixed score (0 to 1).

    A candidate without a vector counts its normalised BM25 score on both sides of the mix, so it
    keeps its place relative to BM25 rather than sinking; with no vectors at all the order is BM25's.
    """
    if not ranked:
        return []
    lexical = _normalised([score for _, score in ranked])
    known = [similarity[key] for key, _ in ranked if key in similarity]
    semantic_of: dict[str, float] = {}
    if known:
        normalised = _normalised(known)
        semantic_of = dict(zip([key for key, _ in ranked if key in similarity], normalised, strict=True))
    mixed = []
    for position, ((key, _), bm25) in enumerate(zip(ranked, lexical, strict=True)):
        semantic = semantic_of.get(key, bm25)
        mixed.append((key, (1 - weight) * bm25 + weight * semantic, position))
    mixed.sort(key=lambda item: (-item[1], item[2]))
    return [(key, score) for key, score, _ in mixed]
