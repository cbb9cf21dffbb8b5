from __future__ import annotations

from api.limits import RateLimit, retry_after


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
