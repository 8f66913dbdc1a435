"""Write a ``Catalog`` back as catalog YAML, the format ``load_catalog`` reads."""

from __future__ import annotations

import json
from datetime import timedelta

import yaml

from taskspec_lint.backoff import ExpBackoff, RetryDelay, ScheduleBackoff
from taskspec_lint.durations import UNLIMITED, format_duration
from taskspec_lint.model import Catalog

# Celery retries forever when max_retries is None; extracted specs carry this instead.
UNLIMITED_RETRIES = 2**31 - 1


def dump_catalog(catalog: Catalog, header: str = "", idempotency_decided: bool = True) -> str:
    """Return catalog YAML for ``catalog``; ``header`` lines become leading comments.

    With ``idempotency_decided`` false, every task is written ``idempotent: false`` with a
    comment asking a person to decide, because no code reveals whether a retry is safe.
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += ["version: 1", "", "queues:"]
    for queue in catalog.queues.values():
        shed = "null" if queue.shed_above is None else str(queue.shed_above)
        lines.append(f"  {_key(queue.name)}: {{weight: {queue.weight}, concurrency: {queue.concurrency}, "
                     f"shed_above: {shed}}}")
    lines += ["", "tasks:"]
    for spec in catalog.specs.values():
        lines.append(f"  {_key(spec.type)}:")
        lines.append(f"    human_name: {_text(spec.human_name)}")
        lines.append(f"    queue: {_key(spec.queue)}")
        if spec.max_retry >= UNLIMITED_RETRIES:
            lines.append(f"    attempts: {UNLIMITED_RETRIES + 1}  # the code retries without a limit")
        else:
            lines.append(f"    attempts: {spec.max_retry + 1}")
        lines.append(f"    backoff: {_backoff(spec.retry_delay)}")
        lines.append(f"    timeout: {_duration(spec.timeout)}")
        lines.append(f"    unique_ttl: {_duration(spec.unique_ttl)}")
        if idempotency_decided:
            lines.append(f"    idempotent: {'true' if spec.idempotent else 'false'}")
        else:
            lines.append("    idempotent: false  # undecided: set true only if a retry is safe without compensation")
    return "\n".join(lines) + "\n"


def _duration(value: timedelta) -> str:
    if value >= UNLIMITED:
        return "none"
    return format_duration(value) if value else "0"


def _backoff(delay: RetryDelay) -> str:
    if isinstance(delay, ExpBackoff):
        return f"{{exp: {{base: {format_duration(delay.base)}, max: {format_duration(delay.max)}}}}}"
    if isinstance(delay, ScheduleBackoff):
        steps = ", ".join(format_duration(step) for step in delay.steps)
        return f"{{schedule: [{steps}], jitter: {delay.jitter:g}}}"
    raise ValueError(f"cannot write retry delay {delay!r}")


def _key(text: str) -> str:
    """Return ``text`` bare when YAML reads it back as that string, else quoted."""
    plain = text.replace(".", "").replace("_", "").replace("-", "").isalnum()
    if plain:
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text)


def _text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
