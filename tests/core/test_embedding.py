"""The shipped sentence model, run for real."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from core.embedding import DIMENSIONS, MAX_TOKENS, Encoder, ModelUnavailable, model_folder, shared_encoder


def test_the_shipped_model_matches_its_recorded_checksum() -> None:
    recorded = json.loads((model_folder() / "origin.json").read_text())
    digest = hashlib.sha256((model_folder() / "model.onnx").read_bytes()).hexdigest()
    assert digest == recorded["files"]["model.onnx"]["sha256"]
    assert recorded["licence"] == "Apache-2.0"


def test_similarities_of_the_published_example() -> None:
    # The sentence-transformers quick start prints these for all-MiniLM-L6-v2: 0.6660, 0.1046, 0.1411.
    vectors = shared_encoder().encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert abs(similarity[0, 1] - 0.6660) < 0.002
    assert abs(similarity[0, 2] - 0.1046) < 0.002
    assert abs(similarity[1, 2] - 0.1411) < 0.002


def test_a_batch_gives_each_text_the_vector_it_gets_alone() -> None:
    texts = [
        "short",
        "a somewhat longer sentence about retrieval of scientific papers",
        "",
        "mid length text",
    ]
    encoder = shared_encoder()
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([text])[0] for text in texts])
    assert np.min(np.sum(together * alone, axis=1)) > 0.9999


def test_text_past_the_token_limit_is_cut_not_refused() -> None:
    long_text = "retrieval " * (4 * MAX_TOKENS)
    vector = shared_encoder().encode([long_text])[0]
    assert np.isfinite(vector).all() and abs(float(np.linalg.norm(vector)) - 1) < 1e-5


def test_a_query_vector_is_cached() -> None:
    encoder = shared_encoder()
    first = encoder.encode_query("speculative decoding with a draft model")
    assert encoder.cached_query("speculative decoding with a draft model") is first
    assert encoder.encode_query("speculative decoding with a draft model") is first


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="sentence model cannot be loaded"):
        Encoder(tmp_path)
