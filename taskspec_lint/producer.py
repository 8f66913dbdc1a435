"""Enqueue tasks with their catalog spec applied, unless the caller overrides an option.

``None`` means "use the spec"; any other value is an explicit override, checked against
its bound before anything reaches the backend.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from taskspec_lint import tasktypes
from taskspec_lint.backoff import RetryDelay
from taskspec_lint.bounds import check_override
from taskspec_lint.durations import coerce_duration
from taskspec_lint.errors import InvalidOverride, UnknownTaskType

__all__ = ["Backend", "EnqueueResult", "InMemoryBackend", "TaskMessage", "enqueue", "set_default_backend"]


@dataclass(frozen=True)
class EnqueueResult:
    """A task as handed to the backend, with every option resolved."""

    id: str
    task_type: str
    payload: Any
    queue: str
    max_retry: int
    timeout: timedelta
    retry_delay: RetryDelay
    unique_ttl: timedelta
    process_at: datetime
    duplicate: bool = False


@dataclass(frozen=True)
class TaskMessage:
    """The message a backend receives: the resolved options, the payload and the deduplication key."""

    task_type: str
    payload: Any
    queue: str
    max_retry: int
    timeout: timedelta
    retry_delay: RetryDelay
    unique_ttl: timedelta
    unique_key: str
    process_at: datetime


class Backend(Protocol):
    """A queue that accepts resolved tasks; adapt Celery, RQ or Dramatiq to this."""

    def submit(self, message: TaskMessage) -> tuple[str, bool]:
        """Store or send ``message`` and return (task id, whether it was a duplicate)."""
        ...


class InMemoryBackend:
    """A thread-safe backend that keeps tasks in a list and honours unique windows.

    A second task with the same unique key inside the first one's ``unique_ttl`` is not
    stored: ``submit`` returns the first task's id and ``True``. ``clock`` returns the
    current time as a timezone-aware datetime; tests inject their own.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tasks: list[tuple[str, TaskMessage]] = []
        self._unique: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def submit(self, message: TaskMessage) -> tuple[str, bool]:
        with self._lock:
            now = self.clock()
            if message.unique_ttl > timedelta(0):
                existing = self._unique.get(message.unique_key)
                if existing is not None and existing[1] > now:
                    return existing[0], True
            task_id = f"{next(self._ids):08d}-{uuid.uuid4().hex[:12]}"
            if message.unique_ttl > timedelta(0):
                self._unique[message.unique_key] = (task_id, now + message.unique_ttl)
            self.tasks.append((task_id, message))
            return task_id, False

    def now(self) -> datetime:
        """Return the backend's current time."""
        return self.clock()


_default_backend: Backend = InMemoryBackend()


def set_default_backend(backend: Backend) -> None:
    """Make ``backend`` the one ``enqueue()`` uses when the call passes none."""
    global _default_backend
    _default_backend = backend


def enqueue(
    task_type: str,
    payload: Any = None,
    *,
    queue: str | None = None,
    max_retry: int | None = None,
    timeout: timedelta | float | None = None,
    retry_delay: RetryDelay | None = None,
    unique_ttl: timedelta | float | None = None,
    delay: timedelta | float | None = None,
    unique_key: str | None = None,
    backend: Backend | None = None,
) -> EnqueueResult:
    """Enqueue a task of ``task_type``, applying its spec to every option left as None.

    Raises UnknownTaskType for a type the catalog lacks, InvalidOverride for an override
    outside its bound, and TypeError for a payload that is not JSON-serialisable. Nothing
    reaches the backend when any check fails.
    """
    catalog = tasktypes.active_catalog()
    spec = catalog.specs.get(task_type)
    if spec is None:
        raise UnknownTaskType(task_type, catalog.specs)

    overrides = {
        "queue": queue, "max_retry": max_retry, "timeout": timeout,
        "retry_delay": retry_delay, "unique_ttl": unique_ttl, "delay": delay,
    }
    for option, value in overrides.items():
        if value is None:
            continue
        for problem in check_override(catalog, spec, option, value):
            if not problem.kind.advisory:
                raise InvalidOverride(
                    task_type, option, value, problem.reason, value_text=problem.value,
                    bound=problem.bound, suggestions=problem.suggestions,
                )

    encoded = _encode_payload(task_type, payload)
    if unique_key is not None and not isinstance(unique_key, str):
        raise InvalidOverride(task_type, "unique_key", unique_key, "must be a str")

    target = backend if backend is not None else _default_backend
    now = _backend_now(target)
    message = TaskMessage(
        task_type=task_type,
        payload=payload,
        queue=queue if queue is not None else spec.queue,
        max_retry=max_retry if max_retry is not None else spec.max_retry,
        timeout=_resolve(timeout, spec.timeout),
        retry_delay=retry_delay if retry_delay is not None else spec.retry_delay,
        unique_ttl=_resolve(unique_ttl, spec.unique_ttl),
        unique_key=unique_key if unique_key is not None else f"{task_type}:{encoded}",
        process_at=_process_at(task_type, now, delay),
    )
    task_id, duplicate = target.submit(message)
    return EnqueueResult(
        id=task_id,
        task_type=task_type,
        payload=payload,
        queue=message.queue,
        max_retry=message.max_retry,
        timeout=message.timeout,
        retry_delay=message.retry_delay,
        unique_ttl=message.unique_ttl,
        process_at=message.process_at,
        duplicate=duplicate,
    )


def _resolve(value: timedelta | float | None, default: timedelta) -> timedelta:
    if value is None:
        return default
    duration = coerce_duration(value)
    assert duration is not None, "check_override accepted a value that is not a duration"
    return duration


def _process_at(task_type: str, now: datetime, delay: timedelta | float | None) -> datetime:
    try:
        return now + _resolve(delay, timedelta(0))
    except OverflowError:
        raise InvalidOverride(
            task_type, "delay", delay, "is too long: the task would run after the year 9999",
            bound="a date before the year 10000",
        ) from None


def _encode_payload(task_type: str, payload: Any) -> str:
    """Return the canonical JSON of ``payload``: sorted keys, no spaces."""
    try:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{task_type}: the payload must be JSON-serialisable "
            f"(dicts with str keys, lists, str, numbers, bool, None): {error}"
        ) from None


def _backend_now(backend: Backend) -> datetime:
    now = getattr(backend, "now", None)
    if callable(now):
        value = now()
        if isinstance(value, datetime):
            return value
    return datetime.fromtimestamp(time.time(), UTC)
