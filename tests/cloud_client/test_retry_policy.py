"""The back-off policy: capped exponential waits with jitter, Retry-After honoured."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from cloud_client.retry import RetryPolicy, is_retryable_status, parse_retry_after

POLICY = RetryPolicy(max_retries=6, base_delay=0.5, max_delay=4.0, rate_limit_base_delay=2.0, rate_limit_max_delay=30.0)


@given(retry=st.integers(min_value=1, max_value=30), seed=st.integers(min_value=0, max_value=2**32))
def test_delay_stays_between_half_and_all_of_the_capped_exponential(retry: int, seed: int) -> None:
    ceiling = min(4.0, 0.5 * 2 ** (retry - 1))
    delay = POLICY.delay(retry, rate_limited=False, rng=random.Random(seed))
    assert ceiling / 2 <= delay <= ceiling


def test_rate_limited_waits_start_longer_than_server_error_waits() -> None:
    rng = random.Random(1)
    rate_limited = POLICY.delay(1, rate_limited=True, rng=rng)
    server_error = POLICY.delay(1, rate_limited=False, rng=rng)
    assert rate_limited >= 1.0
    assert server_error <= 0.5


def test_jitter_spreads_delays() -> None:
    delays = {POLICY.delay(3, rate_limited=False, rng=random.Random(seed)) for seed in range(20)}
    assert len(delays) > 10


def test_retry_after_is_honoured_for_rate_limits_up_to_the_cap() -> None:
    rng = random.Random(0)
    assert POLICY.delay(1, rate_limited=True, rng=rng, retry_after=7.0) == 7.0
    assert POLICY.delay(1, rate_limited=True, rng=rng, retry_after=3600.0) == 30.0


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_only_429_and_5xx_are_retryable_statuses() -> None:
    assert [s for s in (200, 204, 400, 401, 403, 404, 408, 429, 500, 502, 503, 504) if is_retryable_status(s)] == [
        429, 500, 502, 503, 504,
    ]
