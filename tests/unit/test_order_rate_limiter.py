"""The per-account order limiter: never more than `rate` order requests start in any rolling second."""

from __future__ import annotations

import pytest

from brokers.kite import ratelimit
from brokers.kite.ratelimit import OrderRateLimiter, Unlimited, limiter_for


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def starts(rate: int, requests: int, spacing: float = 0.0) -> list[float]:
    clock = FakeTime()
    limiter = OrderRateLimiter(rate, monotonic=clock.monotonic, sleep=clock.sleep)
    moments = []
    for _ in range(requests):
        limiter.acquire()
        moments.append(clock.now)
        clock.now += spacing
    return moments


def most_in_any_second(moments: list[float]) -> int:
    return max(sum(1 for m in moments if start <= m < start + 1.0) for start in moments)


def test_a_burst_of_eight_goes_at_once_and_the_ninth_waits_for_the_window() -> None:
    moments = starts(8, 9)

    assert moments[:8] == [100.0] * 8
    assert moments[8] == pytest.approx(101.0)


@pytest.mark.parametrize("spacing", [0.0, 0.01, 0.07, 0.2])
def test_never_more_than_the_rate_in_any_rolling_second(spacing: float) -> None:
    moments = starts(8, 60, spacing)

    assert most_in_any_second(moments) <= 8 < 10  # Kite's limit is 10


def test_one_limiter_per_account_shared_by_its_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_limiters", {})

    assert limiter_for("paper:alice", 8) is limiter_for("paper:alice", 8)
    assert limiter_for("paper:alice", 8) is not limiter_for("paper:bob", 8)
    assert isinstance(limiter_for("paper:alice", 0), Unlimited)


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        OrderRateLimiter(0)
