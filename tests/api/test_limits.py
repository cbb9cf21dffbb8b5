from __future__ import annotations

from pathlib import Path

from api.limits import RateLimit, retry_after
from api.shared_rate import SLOTS, SharedRateLimit


def test_each_token_has_its_own_bucket_that_refills_at_the_rate() -> None:
    limit = RateLimit(rate=2.0, burst=3.0)
    assert [limit.wait("alice", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.wait("alice", now=0.0) == 0.5  # one request's worth at 2 a second
    assert limit.wait("bob", now=0.0) == 0.0
    assert limit.wait("alice", now=0.5) == 0.0
    assert limit.wait("alice", now=0.5) > 0
    assert limit.wait("alice", now=100.0) == 0.0  # refilled, but never beyond the burst
    assert [limit.wait("alice", now=100.0) for _ in range(3)][-1] > 0


def test_no_rate_means_no_limit_and_retry_after_is_whole_seconds() -> None:
    assert all(RateLimit(rate=0).wait("a", now=0.0) == 0.0 for _ in range(1000))
    assert (retry_after(0.01), retry_after(1.0), retry_after(1.2)) == ("1", "1", "2")


def test_shared_buckets_are_one_bucket_per_token_across_processes_views(tmp_path: Path) -> None:
    # Two mappings of one file: what two workers hold.
    first, second = (SharedRateLimit(tmp_path / "rates", rate=2.0, burst=3.0) for _ in range(2))
    try:
        assert [first.wait("alice", now=10.0), second.wait("alice", now=10.0)] == [0.0, 0.0]
        assert first.wait("alice", now=10.0) == 0.0
        assert second.wait("alice", now=10.0) == 0.5  # the burst of 3 is spent, whichever asked
        assert first.wait("bob", now=10.0) == 0.0
        assert second.wait("alice", now=10.5) == 0.0 and first.wait("alice", now=10.5) > 0
        # A bucket from a later time (the machine restarted, its clock with it) starts afresh.
        assert second.wait("alice", now=1.0) == 0.0
        assert all(SharedRateLimit(tmp_path / "off", rate=0, burst=1).wait("a") == 0.0 for _ in range(100))
    finally:
        first.close()
        second.close()


def test_more_tokens_than_slots_near_one_another_take_over_the_longest_idle(tmp_path: Path) -> None:
    limit = SharedRateLimit(tmp_path / "rates", rate=1.0, burst=1.0)
    try:
        names = [f"token-{n}" for n in range(3 * SLOTS)]
        for n, name in enumerate(names):
            assert limit.wait(name, now=float(n)) == 0.0  # each new token gets its burst
        assert limit.wait(names[-1], now=float(len(names) - 1)) == 1.0  # and is counted after it
    finally:
        limit.close()
