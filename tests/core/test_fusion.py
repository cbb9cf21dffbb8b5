from __future__ import annotations

from core.fusion import fused_ranking

BM25 = [("a", 9.0), ("b", 7.0), ("c", 5.0), ("d", 1.0)]


def test_without_vectors_the_order_and_scale_are_bm25s() -> None:
    fused = fused_ranking(BM25, {})
    assert [key for key, _ in fused] == ["a", "b", "c", "d"]
    assert [round(score, 3) for _, score in fused] == [1.0, 0.75, 0.5, 0.0]


def test_a_close_vector_lifts_a_paper_past_a_better_bm25_score() -> None:
    fused = fused_ranking(BM25, {"a": 0.1, "b": 0.2, "c": 0.9, "d": 0.3})
    # c: 0.5 * 0.5 + 0.5 * 1.0 = 0.75 beats a: 0.5 * 1.0 + 0.5 * 0.0 = 0.5
    assert [key for key, _ in fused] == ["c", "a", "b", "d"]
    assert dict(fused)["c"] == 0.75


def test_a_paper_without_a_vector_counts_its_bm25_on_both_sides() -> None:
    fused = dict(fused_ranking(BM25, {"a": 0.1, "b": 0.9, "d": 0.2}))
    assert fused["c"] == 0.5  # its normalised BM25, neither raised nor sunk


def test_weight_zero_is_bm25_and_weight_one_the_model() -> None:
    similarity = {"a": 0.1, "b": 0.2, "c": 0.9, "d": 0.3}
    assert [k for k, _ in fused_ranking(BM25, similarity, 0.0)] == ["a", "b", "c", "d"]
    assert [k for k, _ in fused_ranking(BM25, similarity, 1.0)] == ["c", "d", "b", "a"]


def test_equal_scores_keep_bm25s_order() -> None:
    assert [k for k, _ in fused_ranking([("x", 2.0), ("y", 2.0)], {"x": 0.5, "y": 0.5})] == ["x", "y"]
    assert fused_ranking([], {"x": 1.0}) == []
