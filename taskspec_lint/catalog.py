"""Load a catalog file (YAML) into a ``Catalog``, rejecting bad data with file:line:column.

The YAML is composed into nodes with PyYAML's safe loader and validated node by node, so
every error can point at the key or value at fault. Duplicate keys, which PyYAML accepts
silently when it builds dictionaries, are rejected here.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from taskspec_lint.backoff import RetryDelay, exp, schedule
from taskspec_lint.durations import UNLIMITED, coerce_duration, parse_duration
from taskspec_lint.errors import CatalogError
from taskspec_lint.model import Bounds, Catalog, IdempotencyKey, Queue, TaskFacts, TaskSpec
from taskspec_lint.suggest import closest

FORMAT_VERSION = 1
DEFAULT_UNIQUE_TTL_CEILING = timedelta(days=7)
DEFAULT_RETRY_DELAY_CEILING = timedelta(hours=24)

_TOP_KEYS = ("version", "queues", "bounds", "tasks")
_QUEUE_KEYS = ("weight", "concurrency", "shed_above")
_CATALOG_BOUND_KEYS = ("unique_ttl", "retry_delay")
_TASK_BOUND_KEYS = ("max_retry", "timeout", "unique_ttl", "retry_delay")
_TASK_KEYS = (
    "human_name", "queue", "attempts", "backoff", "timeout", "unique_ttl", "idempotent",
    "bounds", "payload", "sensitive", "idempotency_key", "cron", "chosen",
)
_REQUIRED_TASK_KEYS = ("human_name", "queue", "attempts", "backoff", "timeout", "idempotent")
_EXP_KEYS = ("base", "max")
_SCHEDULE_KEYS = ("schedule", "jitter")

# Keys people carry over from other tools, with the catalog's way of saying the same.
_RENAMED_KEYS = {
    key: "; the catalog writes 'attempts', the total number of runs (max_retry + 1)"
    for key in ("max_retry", "max_retries", "retries", "retry")
}

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
T = TypeVar("T")


class _Invalid(Exception):
    """Raised inside the reader to abandon one value; the error is already recorded."""


class _Reader:
    """Validate composed YAML nodes, recording every error with its position."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.errors: list[CatalogError] = []
        self._loader = _Loader(text)

    def fail(self, node: yaml.Node, reason: str) -> _Invalid:
        mark = node.start_mark
        self.errors.append(CatalogError(self.source, mark.line + 1, mark.column + 1, reason))
        return _Invalid()

    def compose(self) -> yaml.Node | None:
        try:
            return self._loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = error.problem or error.context or "invalid YAML"
            raise CatalogError(self.source, line, column, f"not valid YAML: {problem}") from None
        except yaml.YAMLError as error:
            raise CatalogError(self.source, 1, 1, f"not valid YAML: {error}") from None
        finally:
            self._loader.dispose()

    def scalar(self, node: yaml.Node) -> object:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "expected a single value, found a mapping or a list")
        try:
            return self._loader.construct_object(node)
        except yaml.YAMLError as error:
            # Merge keys ("<<") and unknown tags compose, but the safe loader cannot build them.
            problem = getattr(error, "problem", None) or str(error)
            raise self.fail(node, f"unsupported YAML value: {problem}") from None

    def mapping(
        self, node: yaml.Node, field: str, allowed: tuple[str, ...]
    ) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        """Yield (key, key node, value node), rejecting duplicate and unknown keys."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{field} must be a mapping")
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                self.fail(key_node, f"{field} has a key {key!r} that is not a string")
                continue
            if key in seen:
                self.fail(key_node, f"duplicate key {key!r} in {field} (first at line {seen[key]})")
                continue
            seen[key] = key_node.start_mark.line + 1
            if allowed and key not in allowed:
                hint = _RENAMED_KEYS.get(key) or _hint(key, allowed)
                self.fail(key_node, f"unknown key {key!r} in {field}{hint}")
                continue
            yield key, key_node, value_node

    def typed(self, node: yaml.Node, kind: type[T], field: str) -> T:
        value = self.scalar(node)
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(node, f"{field} must be {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(node, f"{field} must be {_kind_name(kind)}, got {value!r}")
        return value

    def duration(self, node: yaml.Node, field: str) -> timedelta:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(node, f"{field} must be a duration such as 30s, 5m or 2h, got {value!r}")
        if isinstance(value, int | float):
            if value < 0:
                raise self.fail(node, f"{field} is negative ({value}); durations must be 0 or more")
            duration = coerce_duration(value)
            if duration is None:
                raise self.fail(
                    node,
                    f"{field} must be a finite number of seconds, "
                    f"at most {timedelta.max.days} days, got {value!r}",
                )
            return duration
        try:
            return parse_duration(value)
        except ValueError as error:
            raise self.fail(node, f"{field}: {error}") from None

    def names(self, node: yaml.Node, field: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{field} must be a list of names")
        return tuple(self.typed(item, str, f"an entry of {field}") for item in node.value)

    def attempt(self, read: Callable[..., T], *args: Any) -> T | None:
        """Return ``read(*args)``, or None when it failed (the error is already recorded)."""
        try:
            return read(*args)
        except _Invalid:
            return None


def load_catalog(path: str | Path) -> Catalog:
    """Load and validate the catalog file at ``path``.

    Raises CatalogError for the first problem; ``error.more`` lists the others found.
    """
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CatalogError(source, 1, 1, f"cannot read catalog: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CatalogError(source, 1, 1, f"not UTF-8 text: byte {error.start}") from None
    return parse_catalog(text, source)


@functools.cache
def load_builtin_catalog() -> Catalog:
    """Load the catalog shipped inside the package (once: a Catalog is immutable)."""
    resource = importlib.resources.files("taskspec_lint").joinpath("data/catalog.yaml")
    return parse_catalog(resource.read_text(encoding="utf-8"), "<built-in catalog>")


def parse_catalog(text: str, source: str) -> Catalog:
    """Validate catalog YAML ``text``; ``source`` names it in error messages."""
    reader = _Reader(source, text)
    root = reader.compose()
    if root is None:
        raise CatalogError(source, 1, 1, "empty catalog: expected queues and tasks")

    catalog = reader.attempt(_read_catalog, reader, root)
    if reader.errors or catalog is None:
        first, *rest = reader.errors or [CatalogError(source, 1, 1, "invalid catalog")]
        first.more = rest
        raise first
    return catalog


def _read_catalog(reader: _Reader, root: yaml.Node) -> Catalog:
    sections: dict[str, yaml.Node] = {}
    for key, _, value in reader.mapping(root, "the catalog", _TOP_KEYS):
        sections[key] = value

    version = sections.get("version")
    if version is not None:
        number = reader.attempt(reader.typed, version, int, "version")
        if number is not None and number != FORMAT_VERSION:
            reader.fail(version, f"unsupported catalog version {number}; expected {FORMAT_VERSION}")

    if "queues" not in sections:
        raise reader.fail(root, "missing key 'queues': the catalog must declare its queues")
    queues = _read_queues(reader, sections["queues"])

    unique_ceiling, delay_ceiling = DEFAULT_UNIQUE_TTL_CEILING, DEFAULT_RETRY_DELAY_CEILING
    if "bounds" in sections:
        for key, _, value in reader.mapping(sections["bounds"], "bounds", _CATALOG_BOUND_KEYS):
            ceiling = reader.attempt(reader.duration, value, f"bounds.{key}")
            if ceiling is not None and key == "unique_ttl":
                unique_ceiling = ceiling
            elif ceiling is not None:
                delay_ceiling = ceiling

    if "tasks" not in sections:
        raise reader.fail(root, "missing key 'tasks': the catalog must list its task types")
    tasks_node = sections["tasks"]
    if isinstance(tasks_node, yaml.MappingNode) and not tasks_node.value:
        raise reader.fail(tasks_node, "empty catalog: 'tasks' lists no task types")
    if isinstance(tasks_node, yaml.ScalarNode) and reader.scalar(tasks_node) is None:
        raise reader.fail(tasks_node, "empty catalog: 'tasks' lists no task types")

    specs: dict[str, TaskSpec] = {}
    bounds: dict[str, Bounds] = {}
    facts: dict[str, TaskFacts] = {}
    for task_type, key_node, body in _task_entries(reader, tasks_node):
        if not task_type.strip() or task_type != task_type.strip():
            reader.fail(key_node, f"task type {task_type!r} is empty or has surrounding spaces")
            continue
        read = reader.attempt(
            _read_task, reader, task_type, body, queues, unique_ceiling, delay_ceiling
        )
        if read is not None:
            specs[task_type], bounds[task_type], facts[task_type] = read

    return Catalog(
        source=reader.source,
        queues=MappingProxyType(queues),
        specs=MappingProxyType(specs),
        bounds=MappingProxyType(bounds),
        facts=MappingProxyType(facts),
    )


def _task_entries(
    reader: _Reader, node: yaml.Node
) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
    """Yield the task entries, naming a type listed twice more plainly than a duplicate key."""
    if not isinstance(node, yaml.MappingNode):
        raise reader.fail(node, "tasks must be a mapping of task type to its spec")
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        task_type = reader.attempt(reader.typed, key_node, str, "a task type")
        if task_type is None:
            continue
        if task_type in seen:
            reader.fail(
                key_node, f"task type {task_type!r} is listed twice (first at line {seen[task_type]})"
            )
            continue
        seen[task_type] = key_node.start_mark.line + 1
        yield task_type, key_node, value_node


def _read_queues(reader: _Reader, node: yaml.Node) -> dict[str, Queue]:
    queues: dict[str, Queue] = {}
    for name, _, body in reader.mapping(node, "queues", ()):
        values: dict[str, int | None] = {"weight": None, "concurrency": 1, "shed_above": None}
        for key, _, value in reader.mapping(body, f"queue {name!r}", _QUEUE_KEYS):
            if key == "shed_above" and isinstance(value, yaml.ScalarNode) and reader.scalar(value) is None:
                continue
            number = reader.attempt(reader.typed, value, int, f"queues.{name}.{key}")
            if number is not None and number < (0 if key == "weight" else 1):
                reader.fail(value, f"queues.{name}.{key} must be {'0' if key == 'weight' else '1'} or more, got {number}")
                continue
            values[key] = number
        weight = values["weight"]
        if weight is None:
            reader.fail(body, f"queue {name!r} is missing its weight")
            continue
        queues[name] = Queue(name, weight, values["concurrency"] or 1, values["shed_above"])
    if not queues:
        raise reader.fail(node, "the catalog declares no queues")
    return queues


def _read_task(
    reader: _Reader,
    task_type: str,
    node: yaml.Node,
    queues: dict[str, Queue],
    unique_ceiling: timedelta,
    delay_ceiling: timedelta,
) -> tuple[TaskSpec, Bounds, TaskFacts]:
    fields: dict[str, Any] = {"unique_ttl": timedelta(0)}
    facts: dict[str, Any] = {}
    bound_nodes: yaml.Node | None = None
    present: set[str] = set()
    failed = False

    for key, key_node, value in reader.mapping(node, f"task type {task_type!r}", _TASK_KEYS):
        present.add(key)
        field = f"{task_type}.{key}"
        try:
            if key == "human_name":
                fields[key] = reader.typed(value, str, field)
            elif key == "queue":
                fields[key] = _read_queue_name(reader, value, field, queues)
            elif key == "attempts":
                attempts = reader.typed(value, int, field)
                if attempts < 1:
                    raise reader.fail(value, f"{field} must be 1 or more (the first run counts), got {attempts}")
                fields["max_retry"] = attempts - 1
            elif key == "backoff":
                fields["retry_delay"] = _read_backoff(reader, value, field)
            elif key == "timeout" and reader.scalar(value) in (None, "none"):
                fields[key] = UNLIMITED  # no per-run time limit
            elif key in ("timeout", "unique_ttl"):
                fields[key] = reader.duration(value, field)
                if key == "timeout" and fields[key] <= timedelta(0):
                    raise reader.fail(value, f"{field} must be more than 0")
            elif key == "idempotent":
                fields[key] = reader.typed(value, bool, field)
            elif key == "bounds":
                bound_nodes = value
            elif key in ("payload", "sensitive", "chosen"):
                facts[key] = reader.names(value, field)
            elif key == "idempotency_key":
                facts[key] = _read_idempotency_key(reader, value, field)
            elif key == "cron":
                facts[key] = reader.typed(value, str, field)
        except _Invalid:
            failed = True

    missing = [key for key in _REQUIRED_TASK_KEYS if key not in present]
    if missing:
        raise reader.fail(node, f"task type {task_type!r} is missing {', '.join(map(repr, missing))}")
    if failed:
        raise _Invalid()

    spec = TaskSpec(type=task_type, **fields)
    bounds = Bounds(
        max_retry=spec.max_retry,
        timeout=spec.timeout,
        unique_ttl=unique_ceiling,
        retry_delay=delay_ceiling,
    )
    if bound_nodes is not None:
        bounds = _read_task_bounds(reader, bound_nodes, task_type, bounds)
    return spec, bounds, _build_facts(reader, node, task_type, facts)


def _read_queue_name(reader: _Reader, node: yaml.Node, field: str, queues: dict[str, Queue]) -> str:
    name = reader.typed(node, str, field)
    if name not in queues:
        raise reader.fail(node, f"{field}: unknown queue {name!r}{_hint(name, queues)}")
    return name


def _read_backoff(reader: _Reader, node: yaml.Node, field: str) -> RetryDelay:
    entries = {key: value for key, _, value in reader.mapping(node, field, ("exp", "schedule", "jitter"))}
    if "exp" in entries:
        if len(entries) > 1:
            raise reader.fail(node, f"{field}: 'exp' takes no other keys")
        parts = {key: value for key, _, value in reader.mapping(entries["exp"], f"{field}.exp", _EXP_KEYS)}
        if set(parts) != set(_EXP_KEYS):
            raise reader.fail(entries["exp"], f"{field}.exp needs both 'base' and 'max'")
        base = reader.duration(parts["base"], f"{field}.exp.base")
        ceiling = reader.duration(parts["max"], f"{field}.exp.max")
        if base <= timedelta(0):
            raise reader.fail(parts["base"], f"{field}.exp.base must be more than 0")
        if base > ceiling:
            raise reader.fail(parts["base"], f"{field}.exp.base {parts['base'].value} exceeds its max {parts['max'].value}")
        return exp(base, ceiling)

    if "schedule" in entries:
        steps_node = entries["schedule"]
        if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
            raise reader.fail(steps_node, f"{field}.schedule must be a non-empty list of durations")
        steps = [reader.duration(step, f"{field}.schedule step") for step in steps_node.value]
        jitter = 0.1
        if "jitter" in entries:
            value = reader.scalar(entries["jitter"])
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise reader.fail(entries["jitter"], f"{field}.jitter must be a number from 0 to 1, got {value!r}")
            jitter = float(value)
        return schedule(*steps, jitter=jitter)

    raise reader.fail(node, f"{field} needs 'exp: {{base, max}}' or 'schedule: [durations]'")


def _read_task_bounds(reader: _Reader, node: yaml.Node, task_type: str, bounds: Bounds) -> Bounds:
    values: dict[str, Any] = {}
    for key, _, value in reader.mapping(node, f"{task_type}.bounds", _TASK_BOUND_KEYS):
        field = f"{task_type}.bounds.{key}"
        if key == "max_retry":
            number = reader.attempt(reader.typed, value, int, field)
            if number is not None and number < 0:
                reader.fail(value, f"{field} must be 0 or more, got {number}")
            elif number is not None:
                values[key] = number
        else:
            ceiling = reader.attempt(reader.duration, value, field)
            if ceiling is not None:
                values[key] = ceiling
    return Bounds(**{**bounds.__dict__, **values})


def _read_idempotency_key(reader: _Reader, node: yaml.Node, field: str) -> IdempotencyKey:
    parts = {key: value for key, _, value in reader.mapping(node, field, ("fields", "ttl"))}
    if "fields" not in parts:
        raise reader.fail(node, f"{field} needs 'fields'")
    ttl = reader.duration(parts["ttl"], f"{field}.ttl") if "ttl" in parts else None
    return IdempotencyKey(fields=reader.names(parts["fields"], f"{field}.fields"), ttl=ttl)


def _build_facts(reader: _Reader, node: yaml.Node, task_type: str, facts: dict[str, Any]) -> TaskFacts:
    declared = {name.rstrip("?") for name in facts.get("payload", ())}
    for name in facts.get("sensitive", ()):
        if declared and name not in declared:
            raise reader.fail(node, f"{task_type}.sensitive names {name!r}, which is not a payload field")
    return TaskFacts(**facts)


def _hint(name: str, known: object) -> str:
    suggestions = closest(name, known)  # type: ignore[arg-type]
    if suggestions:
        return f"; did you mean {suggestions[0]!r}?"
    return f"; expected one of {', '.join(sorted(known))}"  # type: ignore[call-overload]


def _kind_name(kind: type) -> str:
    return {int: "an integer", str: "a string", bool: "true or false", float: "a number"}.get(kind, kind.__name__)
