"""The shipped sentence model, run for real."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from core.embedding import (
    DIMENSIONS,
    MAX_TOKENS,
    Encoder,
    ModelUnavailable,
    model_folder,
    paper_text,
    shared_encoder,
    text_digest,
)
from core.library import Library, shipped_vectors


def test_the_shipped_model_matches_its_recorded_checksum() -> None:
    recorded = json.loads((model_folder() / "origin.json").read_text())
    digest = hashlib.sha256((model_folder() / "model.onnx").read_bytes()).hexdigest()
    assert digest == recorded["files"]["model.onnx"]["sha256"]
    assert recorded["licence"] == "Apache-2.0"


QUICK_START = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
# The vectors PyTorch gives these sentences with the published float32 weights (the reference
# scripts/export_minilm.py checks its export against), saved once.
FLOAT32_VECTORS = Path(__file__).parents[1] / "data" / "minilm-float32-quickstart.npy"


def test_similarities_of_the_published_example() -> None:
    vectors = shared_encoder().encode(QUICK_START)
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The int8 model is within cosine 0.99 of the float32 one (0.993 measured at export)...
    reference = np.load(FLOAT32_VECTORS)
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.99
    # ...and its similarities within 0.03 of those the sentence-transformers quick start prints for
    # all-MiniLM-L6-v2 (0.6660, 0.1046, 0.1411; the int8 model gives 0.642, 0.116, 0.149).
    similarity = vectors @ vectors.T
    assert abs(similarity[0, 1] - 0.6660) < 0.03
    assert abs(similarity[0, 2] - 0.1046) < 0.03
    assert abs(similarity[1, 2] - 0.1411) < 0.03


async def _seed_texts(tmp_path: Path) -> list[str]:
    async with await Library.open(tmp_path / "home", semantic=False) as library:
        return [paper_text(paper) async for batch in library.store.iter_papers() for paper in batch]


async def test_many_texts_get_exactly_the_vectors_each_gets_alone(tmp_path: Path) -> None:
    # Texts of many lengths, more of them than there are threads: a call spreads them over its
    # threads, and the int8 model would give a text run beside others another vector.
    texts = [*(await _seed_texts(tmp_path))[:40], "short", "", "mid length text"]
    encoder = Encoder(threads=3)
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([text])[0] for text in texts])
    assert np.allclose(together, alone, atol=1e-6)
    assert np.min(np.sum(together * shared_encoder().encode(texts), axis=1)) > 0.99999


async def test_the_shipped_seed_vectors_are_the_shipped_models(tmp_path: Path) -> None:
    # scripts/seed_vectors.py must be run again whenever the model changes.
    digests, rows = shipped_vectors()
    assert len(digests) == 179
    texts = {text_digest(text): text for text in await _seed_texts(tmp_path)}
    sample = digests[:: len(digests) // 12]
    fresh = shared_encoder().encode([texts[digest] for digest in sample])
    shipped = rows[[digests.index(digest) for digest in sample]].astype(np.float32)
    assert np.min(np.sum(fresh * shipped, axis=1)) > 0.999  # float16 rounding only


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
