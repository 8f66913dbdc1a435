"""The catalog's value types: queues, task specs, per-task bounds and optional facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from taskspec_lint.backoff import RetryDelay


@dataclass(frozen=True)
class TaskSpec:
    """Everything a producer and a worker must agree on for one task type."""

    type: str
    queue: str
    max_retry: int
    timeout: timedelta
    retry_delay: RetryDelay
    unique_ttl: timedelta
    idempotent: bool
    human_name: str


@dataclass(frozen=True)
class Queue:
    """A queue of the catalog; a higher weight means workers serve it more often."""

    name: str
    weight: int
    concurrency: int
    shed_above: int | None


@dataclass(frozen=True)
class Bounds:
    """Ceilings of the overrides a call site may pass for one task type."""

    max_retry: int
    timeout: timedelta
    unique_ttl: timedelta
    retry_delay: timedelta


@dataclass(frozen=True)
class IdempotencyKey:
    """Payload fields that identify one unit of work, and how long the key is remembered."""

    fields: tuple[str, ...]
    ttl: timedelta | None


@dataclass(frozen=True)
class TaskFacts:
    """Optional facts about a task type, for documentation and later rules."""

    payload: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    idempotency_key: IdempotencyKey | None = None
    cron: str | None = None
    chosen: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """A loaded catalog: its queues, its specs and, per task type, bounds and facts."""

    source: str
    queues: Mapping[str, Queue]
    specs: Mapping[str, TaskSpec]
    bounds: Mapping[str, Bounds]
    facts: Mapping[str, TaskFacts] = field(default_factory=dict)

    def spec(self, task_type: str) -> TaskSpec | None:
        """Return the spec of ``task_type``, or None when the catalog has no such type."""
        return self.specs.get(task_type)
