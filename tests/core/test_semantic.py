"""Sentence vectors in a home, and searches fused with them: the real model, the real index."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.library import Library, shipped_vectors
from core.records import Paper
from core.text import query_terms
from tests.conftest import REPO, run_cli

TARGET = Paper(
    key="tactilegrasp",
    title="Grasping unfamiliar objects",
    abstract="Robots equipped with touch sensors learn to lift household items never seen before, "
    "adjusting grip force from contact feedback.",
)
# Papers that share the query's words in another sense, so BM25 ranks them first.
DISTRACTORS = [
    Paper(
        key="openset",
        title="Open-set recognition of unfamiliar objects",
        abstract="Image classifiers flag unfamiliar objects: an open-set detector rejects objects outside "
        "the training classes, so unfamiliar objects in photographs are not mislabelled.",
    ),
    Paper(
        key="machinetranslation",
        title="Translating unfamiliar words",
        abstract="Neural machine translation of unfamiliar words: a machine copies rare words and picks "
        "subword units for names.",
    ),
    Paper(
        key="wordlearning",
        title="How children name unfamiliar objects",
        abstract="Children learn names for unfamiliar objects from shape: shown unfamiliar objects, toddlers "
        "extend a new word by shape rather than colour.",
    ),
    Paper(
        key="objectmemory",
        title="Memory for unfamiliar objects",
        abstract="People recall unfamiliar objects less accurately than familiar ones; recognition of "
        "unfamiliar objects improves with repeated viewing.",
    ),
]
PARAPHRASE = "a machine that picks up unfamiliar objects by feel"


async def test_a_fresh_home_has_the_seed_vectors_without_running_the_model(library: Library) -> None:
    assert (await library.stats())["vectors"] == 179
    assert library._encoder is None  # the shipped vectors were copied, not computed
    digests, rows = shipped_vectors()
    assert len(digests) == 179 and rows.dtype == np.float16


async def test_a_paraphrase_sharing_no_word_with_the_abstract_is_found_by_fusion(library: Library) -> None:
    assert not set(query_terms(PARAPHRASE)) & set(query_terms(TARGET.abstract))
    await library.add_papers([TARGET, *DISTRACTORS])
    assert library.vectors.count == 179 + 5  # embedded as they were added
    bm25 = [hit.key for hit in await library.search(PARAPHRASE, 10, semantic=False)]
    fused = [hit.key for hit in await library.search(PARAPHRASE, 10)]
    assert "tactilegrasp" not in bm25[:3]
    assert "tactilegrasp" in fused[:3]


async def test_a_home_without_vectors_searches_exactly_as_bm25(home: Path) -> None:
    async with await Library.open(home) as library:
        await library.add_papers([TARGET, *DISTRACTORS])
    shutil.rmtree(home / "vectors")
    async with await Library.open(home) as library:
        assert library.vectors.count == 0
        for query in (PARAPHRASE, "speculative decoding with a small draft model", "citation recommendation"):
            fused = await library.search(query, 20)
            plain = await library.search(query, 20, semantic=False)
            assert [(h.key, h.score) for h in fused] == [(h.key, h.score) for h in plain]
            assert fused and fused[0].score > 1  # BM25's own scale, not a fused score
        assert library._encoder is None  # no vectors: the model is never loaded
        assert (await library.stats())["vectors"] == 0


async def test_a_home_with_an_older_models_vectors_ranks_by_bm25_until_embedded_again(home: Path) -> None:
    async with await Library.open(home) as library:
        await library.add_papers([TARGET, *DISTRACTORS])
    # The vectors' state as the float16 model's papercite wrote it: no model named.
    state = home / "vectors" / "state.json"
    written = json.loads(state.read_text())
    state.write_text(json.dumps({key: value for key, value in written.items() if key != "model"}))
    async with await Library.open(home, seed=False) as library:
        assert library.vectors.count == 0  # another model's: none count
        fused = await library.search(PARAPHRASE, 20)
        plain = await library.search(PARAPHRASE, 20, semantic=False)
        assert [(h.key, h.score) for h in fused] == [(h.key, h.score) for h in plain]
    async with await Library.open(home) as library:
        # Opened as usual, the seed corpus gets the vectors shipped for it at once, without the
        # model; the papers added since wait for `papercite embed`.
        assert library.vectors.count == 179 and library._encoder is None
        assert await library.embed_pending() == 5
        assert library.vectors.count == library.vectors.rows == 179 + 5
        assert "tactilegrasp" in [hit.key for hit in (await library.search(PARAPHRASE, 10))[:3]]


async def test_semantic_off_ranks_by_bm25_alone(home: Path) -> None:
    async with await Library.open(home, semantic=False) as library:
        await library.add_papers([TARGET, *DISTRACTORS])
        assert library.vectors.count == 179  # not fusing: new papers wait for `papercite embed`
        hits = await library.search(PARAPHRASE, 5)
        assert "tactilegrasp" not in [h.key for h in hits[:3]]
        assert hits[0].score > 1


async def test_reindex_drops_vectors_of_removed_and_changed_papers(library: Library) -> None:
    await library.add_papers([TARGET, *DISTRACTORS])
    await library.remove(["openset"])
    changed = TARGET.replace(abstract="A different abstract about tactile sensing in robot hands.")
    await library.add_papers([changed])
    assert library.vectors.rows == 179 + 5 + 1  # the changed paper got a second row
    await library.reindex()
    assert library.vectors.rows == library.vectors.count == 179 + 4
    assert (await library.stats())["vectors"] == 179 + 4


def test_cli_search_semantic_off_and_stats(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fused = json.loads(run_cli(home, "search", "--json", "speculative decoding draft model").stdout)
    plain = json.loads(
        run_cli(home, "search", "--json", "--semantic", "off", "speculative decoding draft model").stdout
    )
    assert 0 < fused[0]["score"] <= 1 < plain[0]["score"]
    off = run_cli(
        home, "search", "--json", "speculative decoding draft model", variables={"PAPERCITE_SEMANTIC": "off"}
    )
    assert json.loads(off.stdout) == plain
    stats = json.loads(run_cli(home, "stats", "--json").stdout)
    assert stats["vectors"] == stats["papers"] == 179
    assert "with a sentence vector: 179" in run_cli(home, "stats").stdout


def test_vectors_survive_a_kill_during_embed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "stats").returncode == 0
    shipped = {key: vector for key, vector in _vectors(home).items()}
    shutil.rmtree(home / "vectors")  # as in a home seeded before vectors existed
    state = home / "vectors" / "state.json"
    env = {**os.environ, "PAPERCITE_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "embed"], env=env, cwd=REPO, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        # Killed once the first chunk is counted and the rest is under way.
        while time.monotonic() < deadline and _counted(state) == 0:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    survived = _vectors(home)
    assert 0 < len(survived) < 179
    for key, vector in survived.items():
        assert float(vector @ shipped[key]) > 0.999
    done = run_cli(home, "embed")
    assert done.returncode == 0, done.stderr
    assert f"embedded {179 - len(survived)} papers" in done.stdout
    again = _vectors(home)
    assert set(again) == set(shipped)
    assert min(float(again[key] @ shipped[key]) for key in shipped) > 0.999
    assert "embedded 0 papers" in run_cli(home, "embed").stdout


def _counted(state: Path) -> int:
    try:
        return int(json.loads(state.read_text())["rows"])
    except (OSError, ValueError, KeyError):
        return 0


def _vectors(home: Path) -> dict[str, np.ndarray]:
    from core.vectors import PaperVectors

    vectors = PaperVectors(home / "vectors")
    return {key: vector for key in vectors.digests() if (vector := vectors.vector(key)) is not None}


async def test_a_model_that_cannot_load_leaves_bm25_answering(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A damaged install: the model's folder is empty.
    monkeypatch.setattr("core.embedding._shared", None)
    monkeypatch.setattr("core.embedding.model_folder", lambda: tmp_path)
    async with await Library.open(home) as library:
        assert library.vectors.count == 179
        query = "speculative decoding with a small draft model"
        hits = await library.search(query, 5)
        assert hits and hits[0].score > 1  # BM25's scale: answered without the model
        plain = await library.search(query, 5, semantic=False)
        assert [(h.key, h.score) for h in hits] == [(h.key, h.score) for h in plain]
        assert await library.similarities(query, [h.key for h in hits], 1.0) is None


def test_cli_ingest_embeds_what_it_added_unless_told_not_to(tmp_path: Path) -> None:
    from core.export import to_bibtex

    bib = tmp_path / "new.bib"
    bib.write_text("".join(to_bibtex(paper) for paper in [TARGET, *DISTRACTORS]))
    home = tmp_path / "home"
    assert run_cli(home, "ingest", "--no-embed", str(bib)).returncode == 0
    assert json.loads(run_cli(home, "stats", "--json").stdout)["vectors"] == 179
    done = run_cli(home, "embed")
    assert "embedded 5 papers" in done.stdout, done.stderr
    other = tmp_path / "other"
    assert run_cli(other, "ingest", str(bib)).returncode == 0
    assert json.loads(run_cli(other, "stats", "--json").stdout)["vectors"] == 184
