from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.embedding import DIMENSIONS, model_id
from core.vectors import PaperVectors, VectorFolderError, compacted


def _unit(seed: int, count: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, DIMENSIONS)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_rows_appended_are_read_back_and_the_last_of_a_key_wins(tmp_path: Path) -> None:
    vectors = PaperVectors(tmp_path / "v")
    assert vectors.count == 0 and vectors.similarities(_unit(0, 1)[0], ["a"]) == {}
    appender = vectors.appending()
    first, second = _unit(1, 3), _unit(2, 1)
    appender.add(["a", "b", "c"], ["d1", "d2", "d3"], first)
    appender.add(["b"], ["d4"], second)
    again = PaperVectors(tmp_path / "v")
    assert again.count == 3 and again.rows == 4
    assert again.digests() == {"a": "d1", "b": "d4", "c": "d3"}
    similarity = again.similarities(second[0], ["b", "c", "unknown"])
    assert set(similarity) == {"b", "c"}
    assert abs(similarity["b"] - 1.0) < 1e-3  # float16 storage
    assert abs(similarity["c"] - float(first[2] @ second[0])) < 2e-3


def test_rows_past_the_count_of_a_killed_writer_are_cut(tmp_path: Path) -> None:
    vectors = PaperVectors(tmp_path / "v")
    vectors.appending().add(["a"], ["d1"], _unit(1, 1))
    # A writer killed after appending data but before counting it.
    with (tmp_path / "v" / "vectors.f16").open("ab") as handle:
        handle.write(b"\x01" * 1000)
    with (tmp_path / "v" / "keys.tsv").open("a") as handle:
        handle.write("b\td2\nc\t")
    assert PaperVectors(tmp_path / "v").digests() == {"a": "d1"}
    PaperVectors(tmp_path / "v").appending().add(["c"], ["d3"], _unit(3, 1))
    reread = PaperVectors(tmp_path / "v")
    assert reread.digests() == {"a": "d1", "c": "d3"}
    assert abs(reread.similarities(_unit(3, 1)[0], ["c"])["c"] - 1) < 1e-3


def test_a_reader_sees_rows_another_writer_added(tmp_path: Path) -> None:
    reader = PaperVectors(tmp_path / "v")
    PaperVectors(tmp_path / "v").appending().add(["a"], ["d1"], _unit(1, 1))
    reader.reload()
    assert reader.count == 1


def test_a_damaged_state_is_a_clear_error(tmp_path: Path) -> None:
    PaperVectors(tmp_path / "v").appending().add(["a"], ["d1"], _unit(1, 1))
    (tmp_path / "v" / "state.json").write_text(json.dumps({"version": 1, "model": model_id(), "rows": 5}))
    with pytest.raises(VectorFolderError, match="papercite embed --rebuild"):
        PaperVectors(tmp_path / "v")
    (tmp_path / "v" / "state.json").write_text("{not json")
    with pytest.raises(VectorFolderError):
        PaperVectors(tmp_path / "v")


def test_another_versions_vectors_count_as_none(tmp_path: Path) -> None:
    PaperVectors(tmp_path / "v").appending().add(["a"], ["d1"], _unit(1, 1))
    (tmp_path / "v" / "state.json").write_text(json.dumps({"version": 999, "rows": 1}))
    assert PaperVectors(tmp_path / "v").count == 0


def test_another_models_vectors_count_as_none_and_are_replaced(tmp_path: Path) -> None:
    appender = PaperVectors(tmp_path / "v").appending()
    appender.add(["a", "b"], ["d1", "d2"], _unit(1, 2))
    state = json.loads((tmp_path / "v" / "state.json").read_text())
    assert state["model"] == model_id() and PaperVectors(tmp_path / "v").count == 2
    # As the float16 model's papercite wrote them: no model named (and so for any other model).
    (tmp_path / "v" / "state.json").write_text(json.dumps({"version": 1, "dimensions": 384, "rows": 2}))
    assert PaperVectors(tmp_path / "v").count == 0
    PaperVectors(tmp_path / "v").appending().add(["c"], ["d3"], _unit(3, 1))
    reread = PaperVectors(tmp_path / "v")
    assert reread.digests() == {"c": "d3"} and reread.rows == 1


def test_compacting_keeps_only_live_papers_with_current_text(tmp_path: Path) -> None:
    rows = _unit(4, 3)
    appender = PaperVectors(tmp_path / "v").appending()
    appender.add(["a", "b", "c"], ["d1", "d2", "d3"], rows)
    appender.add(["a"], ["d5"], _unit(5, 1))
    kept = compacted(tmp_path / "v", {"a": "d5", "b": "changed", "d": "d9"})
    assert kept == 1
    reread = PaperVectors(tmp_path / "v")
    assert reread.digests() == {"a": "d5"} and reread.rows == 1
    assert abs(reread.similarities(_unit(5, 1)[0], ["a"])["a"] - 1) < 1e-3
