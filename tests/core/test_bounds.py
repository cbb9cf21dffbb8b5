"""Result counts: no face can ask a search for more than MAX_RESULTS papers (the review's
`-k 1000000000000` aborted the process with a failed 16 TB allocation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.index import MemoryIndex
from core.library import Library
from core.query import text_terms
from core.records import LimitOutOfRange
from core.search import MAX_RESULTS
from tests.conftest import run_cli


@pytest.mark.parametrize("k", ["-5", "0", "1000000000000", "1001", "ten"])
def test_search_k_out_of_range_is_a_usage_error(home: Path, k: str) -> None:
    result = run_cli(home, "search", "looped transformers", "-k", k)
    assert result.returncode == 2
    assert f"-k/--limit: must be a whole number from 1 to {MAX_RESULTS}, not '{k}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_search_k_at_the_bound_answers(home: Path) -> None:
    result = run_cli(home, "search", "--json", "looped transformers", "-k", str(MAX_RESULTS))
    assert result.returncode == 0 and '"key": "relay"' in result.stdout


@pytest.mark.parametrize("k", [-5, 10**12, MAX_RESULTS + 1, 2.5, True])
async def test_the_library_refuses_a_count_out_of_range_by_name(library: Library, k: object) -> None:
    with pytest.raises(LimitOutOfRange, match=f"from 0 to {MAX_RESULTS} papers"):
        await library.search("looped transformers", k)  # type: ignore[arg-type]
    with pytest.raises(LimitOutOfRange):
        library.search_outside(text_terms("looped"), MemoryIndex([]), k)  # type: ignore[arg-type]


async def test_the_index_itself_clamps_a_huge_limit(library: Library) -> None:
    ranked = library.index.search(text_terms("looped transformers"), 10**12)
    assert 0 < len(ranked) <= MAX_RESULTS
    assert (await library.search("looped transformers", MAX_RESULTS))[0].key == "relay"


@pytest.mark.parametrize(
    ("flag", "year"), [("--year-from", "99999999999999999999"), ("--year-to", "-99999999999999999999")]
)
def test_a_year_past_64_bits_filters_rather_than_fails(home: Path, flag: str, year: str) -> None:
    result = run_cli(home, "search", "--json", "looped transformers", flag, year)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr
    wide = run_cli(home, "search", "--json", "looped transformers", "--year-from", "-" + year.lstrip("-"))
    assert wide.returncode == 0 and '"key": "relay"' in wide.stdout, wide.stderr
