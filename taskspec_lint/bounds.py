"""Override bounds, shared by ``enqueue()`` at run time and by the checker.

``check_override`` takes a Python value, whether a caller passed it or the checker
evaluated it from a literal, and returns the problems it finds. Problems of an advisory
kind (escalation, disabled deduplication, a redundant override) are allowed at run time
and only reported by the checker.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from taskspec_lint.backoff import ExpBackoff, RetryDelay, ScheduleBackoff
from taskspec_lint.durations import coerce_duration, format_duration
from taskspec_lint.model import Catalog, TaskSpec
from taskspec_lint.suggest import closest

OVERRIDE_OPTIONS = ("queue", "max_retry", "timeout", "retry_delay", "unique_ttl", "delay")


class ProblemKind(enum.Enum):
    """The kind of problem an override has."""

    WRONG_TYPE = "wrong-type"
    OUT_OF_BOUND = "out-of-bound"
    UNKNOWN_QUEUE = "unknown-queue"
    ESCALATION = "escalation"
    DISABLES_DEDUPLICATION = "disables-deduplication"
    REDUNDANT = "redundant"

    @property
    def advisory(self) -> bool:
        """Whether the runtime allows it: only the checker reports advisory problems."""
        return self in _ADVISORY


_ADVISORY = {ProblemKind.ESCALATION, ProblemKind.DISABLES_DEDUPLICATION, ProblemKind.REDUNDANT}


@dataclass(frozen=True)
class OverrideProblem:
    """One problem with one override: ``reason`` completes "option=value ...", ``bound`` states the limit."""

    kind: ProblemKind
    option: str
    value: str
    reason: str
    bound: str | None = None
    suggestions: tuple[str, ...] = ()


def display_value(value: object) -> str:
    """Format an override value the way messages show it: durations as ``30s``."""
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, RetryDelay):
        return str(value)
    return repr(value)


def check_override(
    catalog: Catalog, spec: TaskSpec, option: str, value: object
) -> list[OverrideProblem]:
    """Return the problems of passing ``option=value`` when enqueuing ``spec``'s task type."""
    checker = _CHECKS.get(option)
    if checker is None:
        raise ValueError(f"{option!r} is not an override option; expected one of {OVERRIDE_OPTIONS}")
    wrong_type = check_override_type(option, value)
    if wrong_type is not None:
        return [wrong_type]
    return checker(catalog, spec, value)


def check_override_type(option: str, value: object) -> OverrideProblem | None:
    """Return the WRONG_TYPE problem of ``option=value``, or None; needs no spec."""
    accepts, expected = _TYPES[option]
    if accepts(value):
        return None
    return OverrideProblem(ProblemKind.WRONG_TYPE, option, display_value(value), expected)


def check_override_without_spec(catalog: Catalog, option: str, value: object) -> list[OverrideProblem]:
    """Return the problems of ``option=value`` that hold whatever the task type.

    The checker uses this when the task type is not in the catalog: the value's type,
    and for ``queue`` whether the catalog declares that queue.
    """
    wrong_type = check_override_type(option, value)
    if wrong_type is not None:
        return [wrong_type]
    if option == "queue" and isinstance(value, str):
        return _unknown_queue(catalog, value)
    return []


def _unknown_queue(catalog: Catalog, value: str) -> list[OverrideProblem]:
    if value in catalog.queues:
        return []
    suggestions = tuple(closest(value, catalog.queues))
    known = ", ".join(sorted(catalog.queues))
    return _problem(ProblemKind.UNKNOWN_QUEUE, "queue", value,
                    f"is not a queue of the catalog ({known})", known, suggestions)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_duration(value: object) -> bool:
    return coerce_duration(value) is not None


_DURATION = (_is_duration, "must be a timedelta or a number of seconds")
_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "queue": (lambda value: isinstance(value, str), "must be a queue name (str)"),
    "max_retry": (_is_int, "must be an int"),
    "timeout": _DURATION,
    "unique_ttl": _DURATION,
    "delay": _DURATION,
    "retry_delay": (
        lambda value: isinstance(value, RetryDelay),
        "must be a RetryDelay such as exp(5, 3600) or schedule(1, 5, 30)",
    ),
}


def _problem(kind: ProblemKind, option: str, value: object, reason: str, bound: str | None = None,
             suggestions: tuple[str, ...] = ()) -> list[OverrideProblem]:
    return [OverrideProblem(kind, option, display_value(value), reason, bound, suggestions)]


def _check_queue(catalog: Catalog, spec: TaskSpec, value: object) -> list[OverrideProblem]:
    assert isinstance(value, str)
    unknown = _unknown_queue(catalog, value)
    if unknown:
        return unknown
    queue = catalog.queues[value]
    if value == spec.queue:
        return _problem(ProblemKind.REDUNDANT, "queue", value, "repeats the catalog's queue")
    home = catalog.queues[spec.queue]
    if queue.weight > home.weight:
        return _problem(
            ProblemKind.ESCALATION, "queue", value,
            f"moves the task from {spec.queue!r} (weight {home.weight}) "
            f"to a queue of higher weight ({queue.weight})",
            f"weight {home.weight}",
        )
    return []


def _check_max_retry(catalog: Catalog, spec: TaskSpec, value: object) -> list[OverrideProblem]:
    assert isinstance(value, int)
    ceiling = catalog.bounds[spec.type].max_retry
    bound = f"0..{ceiling}"
    if not 0 <= value <= ceiling:
        return _problem(ProblemKind.OUT_OF_BOUND, "max_retry", value,
                        f"is outside the allowed range {bound}", bound)
    if value == spec.max_retry:
        return _problem(ProblemKind.REDUNDANT, "max_retry", value, "repeats the catalog's value")
    return []


def _check_timeout(catalog: Catalog, spec: TaskSpec, value: object) -> list[OverrideProblem]:
    duration = coerce_duration(value)
    assert duration is not None
    ceiling = catalog.bounds[spec.type].timeout
    bound = f"more than 0s and at most {format_duration(ceiling)}"
    if not timedelta(0) < duration <= ceiling:
        return _problem(ProblemKind.OUT_OF_BOUND, "timeout", duration, f"must be {bound}", bound)
    if duration == spec.timeout:
        return _problem(ProblemKind.REDUNDANT, "timeout", duration, "repeats the catalog's value")
    return []


def _check_unique_ttl(catalog: Catalog, spec: TaskSpec, value: object) -> list[OverrideProblem]:
    duration = coerce_duration(value)
    assert duration is not None
    ceiling = catalog.bounds[spec.type].unique_ttl
    bound = f"0s..{format_duration(ceiling)}"
    if not timedelta(0) <= duration <= ceiling:
        return _problem(ProblemKind.OUT_OF_BOUND, "unique_ttl", duration,
                        f"is outside the allowed range {bound}", bound)
    if duration == spec.unique_ttl:
        return _problem(ProblemKind.REDUNDANT, "unique_ttl", duration, "repeats the catalog's value")
    if duration == timedelta(0) and spec.unique_ttl > timedelta(0):
        return _problem(
            ProblemKind.DISABLES_DEDUPLICATION, "unique_ttl", duration,
            f"turns off the {format_duration(spec.unique_ttl)} deduplication window of the catalog",
        )
    return []


def _check_retry_delay(catalog: Catalog, spec: TaskSpec, value: object) -> list[OverrideProblem]:
    assert isinstance(value, RetryDelay)
    ceiling = catalog.bounds[spec.type].retry_delay
    longest = value.max if isinstance(value, ExpBackoff) else None
    if isinstance(value, ScheduleBackoff):
        longest = max(value.steps)
    if longest is not None and longest > ceiling:
        bound = f"at most {format_duration(ceiling)}"
        return _problem(ProblemKind.OUT_OF_BOUND, "retry_delay", value,
                        f"waits up to {format_duration(longest)}; the longest wait must be {bound}",
                        bound)
    if value == spec.retry_delay:
        return _problem(ProblemKind.REDUNDANT, "retry_delay", value, "repeats the catalog's value")
    return []


def _check_delay(catalog: Catalog, spec: TaskSpec, value: object) -> list[OverrideProblem]:
    duration = coerce_duration(value)
    assert duration is not None
    if duration < timedelta(0):
        return _problem(ProblemKind.OUT_OF_BOUND, "delay", duration, "must be 0s or more", "0s or more")
    return []


_CHECKS = {
    "queue": _check_queue,
    "max_retry": _check_max_retry,
    "timeout": _check_timeout,
    "retry_delay": _check_retry_delay,
    "unique_ttl": _check_unique_ttl,
    "delay": _check_delay,
}
