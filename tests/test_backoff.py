"""Retry delays: the bounds of exp() and schedule(), their determinism and their value semantics."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskspec_lint.backoff import ExpBackoff, ScheduleBackoff, exp, schedule
from taskspec_lint.catalog import load_builtin_catalog

MICROSECOND = timedelta(microseconds=1)
# Up to about 31 years in microseconds, so ceilings both below and far above 24h are drawn.
MAX_MICROSECONDS = 10**15

retries = st.integers(min_value=1, max_value=10_000)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def base_and_max(draw):
    """Draw (base, max) in whole microseconds with 1 <= base <= max."""
    base_us = draw(st.integers(min_value=1, max_value=MAX_MICROSECONDS))
    max_us = draw(st.integers(min_value=base_us, max_value=MAX_MICROSECONDS))
    return base_us, max_us


def expected_ceiling_us(base_us: int, max_us: int, retry: int) -> int:
    """Compute min(base * 2**(retry-1), max) with exact integers."""
    return min(base_us * 2 ** (retry - 1), max_us)


class FixedRandom:
    """A random source that always returns the same number."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


FLOAT_JUST_BELOW_ONE = math.nextafter(1.0, 0.0)


@settings(max_examples=300)
@given(bounds=base_and_max(), retry=retries, seed=seeds)
def test_exp_delay_within_ceiling(bounds, retry, seed):
    base_us, max_us = bounds
    delay = exp(base_us * MICROSECOND, max_us * MICROSECOND, rng=random.Random(seed))

    waited = delay(retry)

    assert isinstance(waited, timedelta)
    assert waited >= timedelta(0)
    assert waited < expected_ceiling_us(base_us, max_us, retry) * MICROSECOND


@settings(max_examples=300)
@given(bounds=base_and_max(), retry=retries)
def test_exp_ceiling_matches_formula(bounds, retry):
    base_us, max_us = bounds
    delay = exp(base_us * MICROSECOND, max_us * MICROSECOND)

    assert delay.ceiling(retry) == expected_ceiling_us(base_us, max_us, retry) * MICROSECOND


@given(bounds=base_and_max(), retry=retries)
def test_exp_largest_draw_below_ceiling(bounds, retry):
    base_us, max_us = bounds
    delay = exp(base_us * MICROSECOND, max_us * MICROSECOND, rng=FixedRandom(FLOAT_JUST_BELOW_ONE))

    assert delay(retry) < expected_ceiling_us(base_us, max_us, retry) * MICROSECOND


def test_exp_zero_draw_waits_nothing():
    delay = exp(5, 3600, rng=FixedRandom(0.0))

    assert delay(1) == timedelta(0)
    assert delay(10_000) == timedelta(0)


@pytest.mark.parametrize(
    ("base", "ceiling"),
    [
        (timedelta(microseconds=1), timedelta(microseconds=1)),
        (timedelta(microseconds=1), timedelta.max),
        (timedelta(seconds=5), timedelta(hours=1)),
        (timedelta(days=1), timedelta(days=999_999_999)),
    ],
)
def test_exp_retry_10000_no_overflow(base, ceiling):
    delay = exp(base, ceiling, rng=random.Random(7))

    waited = delay(10_000)

    assert delay.ceiling(10_000) == ceiling
    assert waited >= timedelta(0)
    assert waited < ceiling


def test_exp_ceiling_doubles_then_caps():
    delay = exp(5, 3600)

    assert delay.ceiling(1) == timedelta(seconds=5)
    assert delay.ceiling(2) == timedelta(seconds=10)
    assert delay.ceiling(3) == timedelta(seconds=20)
    assert delay.ceiling(10) == timedelta(seconds=2560)
    assert delay.ceiling(11) == timedelta(hours=1)
    assert delay.ceiling(10_000) == timedelta(hours=1)


@pytest.mark.parametrize("retry", [1, 3, 8, 40])
def test_exp_mean_near_half_ceiling(retry):
    # 20,000 uniform draws give a standard error of ceiling / sqrt(12 * 20,000), about
    # 0.2% of the ceiling, so a 2% tolerance is ten standard errors. The seed is fixed,
    # so the draws are the same on every run.
    draws = 20_000
    delay = exp(5, 3600, rng=random.Random(20240611))
    ceiling = delay.ceiling(retry).total_seconds()

    mean = sum(delay(retry).total_seconds() for _ in range(draws)) / draws

    assert mean == pytest.approx(ceiling / 2, rel=0.02)


@given(seed=seeds, retry=retries)
def test_exp_same_seed_same_delays(seed, retry):
    first = exp(5, 3600, rng=random.Random(seed))
    second = exp(5, 3600, rng=random.Random(seed))

    first_delays = [first(retry) for _ in range(5)]
    second_delays = [second(retry) for _ in range(5)]

    assert first_delays == second_delays


def test_exp_different_seed_differs():
    first = exp(5, 3600, rng=random.Random(1))
    second = exp(5, 3600, rng=random.Random(2))

    assert [first(12) for _ in range(5)] != [second(12) for _ in range(5)]


@pytest.mark.parametrize("retry", [0, -1, True, False, 1.5, 1.0, "1", None])
def test_exp_invalid_retry_raises(retry):
    delay = exp(5, 3600)

    with pytest.raises(ValueError, match="retry must be an int of 1 or more"):
        delay(retry)


@pytest.mark.parametrize("retry", [0, -1, True, 1.5])
def test_exp_ceiling_invalid_retry_raises(retry):
    with pytest.raises(ValueError):
        exp(5, 3600).ceiling(retry)


@pytest.mark.parametrize("retry", [0, -1, True, 1.5])
def test_schedule_invalid_retry_raises(retry):
    delay = schedule(1, 5, 30)

    with pytest.raises(ValueError, match="retry must be an int of 1 or more"):
        delay(retry)


def test_exp_accepts_float_seconds():
    delay = exp(0.5, 1.5)

    assert delay.base == timedelta(milliseconds=500)
    assert delay.max == timedelta(milliseconds=1500)
    assert delay.ceiling(2) == timedelta(seconds=1)
    assert delay.ceiling(3) == timedelta(milliseconds=1500)


def test_exp_base_above_max_raises():
    with pytest.raises(ValueError, match="exceeds its max"):
        exp(10, 5)


@pytest.mark.parametrize("base", [0, -1, timedelta(0)])
def test_exp_non_positive_base_raises(base):
    with pytest.raises(ValueError, match="base must be more than 0"):
        exp(base, 5)


@pytest.mark.parametrize("value", ["5s", None, True, float("nan")])
def test_exp_non_duration_raises(value):
    with pytest.raises(TypeError, match="must be a timedelta or a number of seconds"):
        exp(value, 3600)


WEBHOOK_STEPS = [
    timedelta(seconds=1),
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
]


@pytest.fixture(scope="module")
def webhook_spec():
    return load_builtin_catalog().specs["webhook.deliver"]


def test_webhook_has_eight_runs(webhook_spec):
    assert webhook_spec.max_retry == 7
    assert len(webhook_spec.retry_delay.steps) == webhook_spec.max_retry


@settings(max_examples=200)
@given(seed=seeds)
def test_webhook_delays_within_jitter(webhook_spec, seed):
    base = webhook_spec.retry_delay
    delay = schedule(*base.steps, jitter=base.jitter, rng=random.Random(seed))

    for retry, step in enumerate(WEBHOOK_STEPS, start=1):
        waited = delay(retry)
        assert waited >= step, f"retry {retry}"
        assert waited <= step * 1.1, f"retry {retry}"


@pytest.mark.parametrize("retry", range(1, 8))
def test_webhook_catalog_delay_in_range(webhook_spec, retry):
    step = WEBHOOK_STEPS[retry - 1]

    waited = webhook_spec.retry_delay(retry)

    assert step <= waited <= step * 1.1


def test_schedule_largest_draw_adds_jitter():
    delay = schedule(10, 100, jitter=0.1, rng=FixedRandom(FLOAT_JUST_BELOW_ONE))

    assert delay(1) < timedelta(seconds=11)
    assert delay(1) > timedelta(seconds=10)
    assert delay(2) < timedelta(seconds=110)


def test_schedule_zero_jitter_is_exact():
    delay = schedule(10, 100, jitter=0, rng=random.Random(3))

    assert delay(1) == timedelta(seconds=10)
    assert delay(2) == timedelta(seconds=100)


def test_schedule_past_end_reuses_last():
    delay = schedule(1, 5, 30, jitter=0)

    assert delay.step(3) == timedelta(seconds=30)
    assert delay.step(4) == timedelta(seconds=30)
    assert delay(10_000) == timedelta(seconds=30)


def test_schedule_same_seed_same_delays():
    first = schedule(1, 5, 30, rng=random.Random(11))
    second = schedule(1, 5, 30, rng=random.Random(11))

    assert [first(n) for n in (1, 2, 3)] == [second(n) for n in (1, 2, 3)]


def test_schedule_without_steps_raises():
    with pytest.raises(ValueError, match="at least one step"):
        schedule()


@pytest.mark.parametrize("jitter", [-0.1, 1.5, True])
def test_schedule_invalid_jitter_raises(jitter):
    with pytest.raises(ValueError, match="jitter must be between 0 and 1"):
        schedule(1, 5, jitter=jitter)


def test_schedule_negative_step_raises():
    with pytest.raises(ValueError, match="is negative"):
        schedule(1, -5)


def test_exp_equal_by_parameters():
    assert exp(5, 3600) == exp(timedelta(seconds=5), timedelta(hours=1))
    assert exp(5, 3600) != exp(5, 7200)
    assert exp(5, 3600) != exp(6, 3600)


def test_exp_hash_by_parameters():
    assert hash(exp(5, 3600)) == hash(exp(timedelta(seconds=5), timedelta(hours=1)))
    assert len({exp(5, 3600), exp(5, 3600), exp(5, 7200)}) == 2


def test_exp_equality_ignores_rng():
    seeded = exp(5, 3600, rng=random.Random(1))

    assert seeded == exp(5, 3600)
    assert hash(seeded) == hash(exp(5, 3600))


def test_schedule_equal_by_parameters():
    assert schedule(1, 5, 30) == schedule(timedelta(seconds=1), 5.0, timedelta(seconds=30))
    assert schedule(1, 5, 30) != schedule(1, 5, 31)
    assert schedule(1, 5, 30) != schedule(1, 5, 30, jitter=0.2)


def test_schedule_hash_by_parameters():
    assert hash(schedule(1, 5, 30)) == hash(schedule(1, 5, 30))
    assert len({schedule(1, 5), schedule(1, 5), schedule(5, 1)}) == 2


def test_schedule_equality_ignores_rng():
    seeded = schedule(1, 5, 30, rng=random.Random(1))

    assert seeded == schedule(1, 5, 30)
    assert hash(seeded) == hash(schedule(1, 5, 30))


def test_exp_differs_from_schedule():
    assert exp(5, 5) != schedule(5)


def test_exp_str_uses_catalog_notation():
    assert str(exp(5, 3600)) == "exp(5s, 1h)"
    assert str(exp(0.5, 90)) == "exp(500ms, 1m30s)"
    assert repr(exp(2, 300)) == "exp(2s, 5m)"


def test_schedule_str_uses_catalog_notation(webhook_spec):
    assert str(schedule(1, 5, 30)) == "schedule(1s, 5s, 30s, jitter=0.1)"
    assert str(webhook_spec.retry_delay) == "schedule(1s, 5s, 30s, 2m, 10m, 1h, 6h, jitter=0.1)"
    assert repr(schedule(2, jitter=0.25)) == "schedule(2s, jitter=0.25)"


def test_delay_kinds_are_classes():
    assert isinstance(exp(5, 3600), ExpBackoff)
    assert isinstance(schedule(1), ScheduleBackoff)
