"""Retry delays: exponential backoff with full jitter, and fixed schedules with jitter.

A ``RetryDelay`` is a frozen value: two delays with the same parameters compare equal,
print in the catalog's notation and can be used as dictionary keys. Calling one returns
the wait before a retry, where ``retry`` is 1 for the first retry (the second run).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from taskspec_lint.durations import coerce_duration, format_duration

_MICROSECONDS = 1_000_000


class RandomSource(Protocol):
    """Anything with ``random() -> float`` in ``[0, 1)``, such as ``random.Random(seed)``."""

    def random(self) -> float: ...


@dataclass(frozen=True)
class RetryDelay:
    """Base class of the retry delay kinds; call an instance to get a delay."""

    rng: RandomSource | None = field(default=None, compare=False, repr=False, kw_only=True)

    def __call__(self, retry: int, error: BaseException | None = None) -> timedelta:
        """Return the wait before retry number ``retry`` (1-based); ``error`` is for subclasses."""
        raise NotImplementedError

    def _uniform(self, upper_us: int) -> int:
        source = self.rng if self.rng is not None else random
        return int(source.random() * upper_us)


def _validate_retry(retry: int) -> None:
    if isinstance(retry, bool) or not isinstance(retry, int) or retry < 1:
        raise ValueError(f"retry must be an int of 1 or more (1 is the first retry), got {retry!r}")


def _to_microseconds(value: timedelta | float, name: str) -> int:
    duration = coerce_duration(value)
    if duration is None:
        raise TypeError(f"{name} must be a timedelta or a number of seconds, got {value!r}")
    return duration // timedelta(microseconds=1)


@dataclass(frozen=True)
class ExpBackoff(RetryDelay):
    """Exponential backoff with full jitter.

    Before retry n the task waits a uniformly random duration in
    ``[0, min(base * 2**(n-1), max))``.
    """

    base: timedelta = timedelta(seconds=1)
    max: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0):
            raise ValueError(f"exp base must be more than 0, got {format_duration(self.base)}")
        if self.base > self.max:
            raise ValueError(
                f"exp base {format_duration(self.base)} exceeds its max {format_duration(self.max)}"
            )

    def ceiling(self, retry: int) -> timedelta:
        """Return the exclusive upper end of the delay before retry number ``retry``."""
        _validate_retry(retry)
        base_us = self.base // timedelta(microseconds=1)
        max_us = self.max // timedelta(microseconds=1)
        shift = retry - 1
        # Once the shift passes the bit length of max, base << shift exceeds max for any base
        # of at least 1µs; checking first keeps retry 10,000 from building a 10,000-bit integer.
        if shift >= max_us.bit_length():
            return self.max
        return timedelta(microseconds=min(base_us << shift, max_us))

    def __call__(self, retry: int, error: BaseException | None = None) -> timedelta:
        upper_us = self.ceiling(retry) // timedelta(microseconds=1)
        return timedelta(microseconds=self._uniform(upper_us))

    def __str__(self) -> str:
        return f"exp({format_duration(self.base)}, {format_duration(self.max)})"

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class ScheduleBackoff(RetryDelay):
    """A fixed list of waits, each plus a random extra of up to ``jitter`` times the step.

    Retry n waits ``steps[n-1]``; retries past the end of the schedule reuse the last step.
    The catalog's ``max_retry`` decides how many retries there are.
    """

    steps: tuple[timedelta, ...] = ()
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a schedule needs at least one step")
        for step in self.steps:
            if step < timedelta(0):
                raise ValueError(f"schedule step {format_duration(step)} is negative")
        if isinstance(self.jitter, bool) or not 0 <= self.jitter <= 1:
            raise ValueError(f"schedule jitter must be between 0 and 1, got {self.jitter!r}")

    def step(self, retry: int) -> timedelta:
        """Return the wait before retry number ``retry`` without its jitter."""
        _validate_retry(retry)
        return self.steps[min(retry, len(self.steps)) - 1]

    def __call__(self, retry: int, error: BaseException | None = None) -> timedelta:
        step_us = self.step(retry) // timedelta(microseconds=1)
        return timedelta(microseconds=step_us + self._uniform(int(step_us * self.jitter)))

    def __str__(self) -> str:
        steps = ", ".join(format_duration(step) for step in self.steps)
        return f"schedule({steps}, jitter={self.jitter:g})"

    def __repr__(self) -> str:
        return str(self)


def exp(
    base: timedelta | float, max: timedelta | float, *, rng: RandomSource | None = None
) -> ExpBackoff:
    """Build exponential backoff with full jitter; durations are timedeltas or seconds."""
    return ExpBackoff(
        base=timedelta(microseconds=_to_microseconds(base, "base")),
        max=timedelta(microseconds=_to_microseconds(max, "max")),
        rng=rng,
    )


def schedule(
    *steps: timedelta | float, jitter: float = 0.1, rng: RandomSource | None = None
) -> ScheduleBackoff:
    """Build a fixed retry schedule; each step is a timedelta or seconds."""
    converted = tuple(
        timedelta(microseconds=_to_microseconds(step, f"step {index}"))
        for index, step in enumerate(steps, start=1)
    )
    return ScheduleBackoff(steps=converted, jitter=jitter, rng=rng)
