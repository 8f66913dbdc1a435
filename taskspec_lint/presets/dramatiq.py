"""The Dramatiq preset (Dramatiq 2.x): actors from ``@dramatiq.actor``, and the messages sent to them.

An actor is a function decorated with ``@dramatiq.actor`` or ``@actor`` (from dramatiq
import actor), bare or called. Its name is ``actor_name=`` or else the function's own
name, as Dramatiq derives it. Checked sites: ``.send(...)``, ``.send_with_options(...)``
and ``.message_with_options(...)`` on actors of the checked code. ``broker.enqueue(...)``
is not checked. Queues are the names of ``declare_queue("name")`` calls and the
``queue_name=`` of actors. Durations (``delay``, ``time_limit``, backoffs) are milliseconds.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta

from taskspec_lint.backoff import exp
from taskspec_lint.checker import rules
from taskspec_lint.checker.findings import Finding
from taskspec_lint.model import Catalog, TaskSpec
from taskspec_lint.presets.base import (
    Preset,
    catalog_of,
    duration_of,
    option_map,
    seconds,
    spec_or_defaults,
)
from taskspec_lint.presets.checks import SiteChecker
from taskspec_lint.presets.facts import (
    CallSite,
    Option,
    TaskDefinition,
    TaskReference,
    Value,
)
from taskspec_lint.presets.index import ProjectIndex
from taskspec_lint.presets.syntax import FactsVisitor

# Dramatiq 2.2 actor(): the queue of an actor declared without queue_name.
DEFAULT_QUEUE = "default"
# Dramatiq 2.2 Retries middleware defaults: max_retries=20, min_backoff 15 s, max_backoff 7 days.
DEFAULT_MAX_RETRIES = 20
DEFAULT_MIN_BACKOFF_MS = 15_000
DEFAULT_MAX_BACKOFF_MS = 7 * 86_400_000
# Dramatiq 2.2 TimeLimit middleware default: 10 minutes.
DEFAULT_TIME_LIMIT_MS = 600_000

# Keywords of send_with_options() itself, and the message options that Dramatiq 2.2's
# default middleware read: AgeLimit, TimeLimit, ShutdownNotifications, Callbacks,
# Pipelines and Retries. Dramatiq forwards any other option without a word.
SEND_KEYWORDS = frozenset({"args", "kwargs", "delay"})
MIDDLEWARE_OPTIONS = frozenset({
    "max_age", "time_limit", "notify_shutdown", "on_failure", "on_success", "pipe_ignore",
    "pipe_target", "max_retries", "min_backoff", "max_backoff", "retry_when", "throws",
    "on_retry_exhausted",
})
# Options of middleware that ship with Dramatiq 2.2 but are not enabled by default: the
# Results middleware, and the RabbitMQ broker's message priority. Projects that add them
# use these names, so they are not reported either.
BUNDLED_OPTIONS = frozenset({"store_results", "result_ttl", "broker_priority"})
MESSAGE_OPTIONS = SEND_KEYWORDS | MIDDLEWARE_OPTIONS | BUNDLED_OPTIONS

ACTOR_DECORATORS = frozenset({"dramatiq.actor", "dramatiq.actor.actor"})
SEND_METHODS = frozenset({"send", "send_with_options", "message_with_options"})


class _DramatiqChecker(SiteChecker):
    def check_options(self, site: CallSite, definition: TaskDefinition) -> None:
        """Check the options of a message to ``definition`` against Dramatiq and the actor."""
        if site.report_unknown_options:
            self.unknown_options(site, MESSAGE_OPTIONS)
        options = option_map(site.options)
        own = option_map(definition.options)
        if "delay" in options:
            self.not_negative(site, options["delay"], definition)
        if "max_retries" in options and "max_retries" in own:
            self.retries(site, options["max_retries"], _integer(own["max_retries"].value))
        if "time_limit" in options and "time_limit" in own:
            self.time_limit(site, _in_seconds(options["time_limit"]), _milliseconds(own["time_limit"].value))
        if "min_backoff" in options or "max_backoff" in options:
            self._backoffs(site, options, own)

    def _backoffs(self, site: CallSite, options: dict[str, Option], own: dict[str, Option]) -> None:
        """Report TSK203 when the message's min_backoff is above its max_backoff."""
        low = options.get("min_backoff") or own.get("min_backoff")
        high = options.get("max_backoff") or own.get("max_backoff")
        low_ms = seconds(low.value) if low is not None else DEFAULT_MIN_BACKOFF_MS
        high_ms = seconds(high.value) if high is not None else DEFAULT_MAX_BACKOFF_MS
        if low_ms is None or high_ms is None or low_ms <= high_ms:
            return
        where = options.get("min_backoff") or options["max_backoff"]
        label = self.label(site)
        self.report(rules.OverrideOutOfBound, site.path, where.location, label, task_type=label,
                    option=where.keyword, value=where.value.source,
                    reason=f"leaves min_backoff above max_backoff ({low_ms:g} ms > {high_ms:g} ms)",
                    bound="min_backoff <= max_backoff")


def _integer(value: Value) -> int | None:
    return int(value.number) if value.kind == "int" and value.number is not None else None


def _milliseconds(value: Value) -> timedelta | None:
    number = seconds(value)
    return duration_of(number / 1000) if number is not None and number > 0 else None


def _in_seconds(option: Option) -> Option:
    """Return a millisecond option as seconds, keeping its source for messages."""
    number = seconds(option.value)
    if number is None:
        return option
    return Option(option.keyword, Value("float", number=number / 1000, source=option.value.source),
                  option.location)


def _spec_of(definition: TaskDefinition) -> TaskSpec:
    return spec_or_defaults(_read_spec, definition)


def _read_spec(definition: TaskDefinition) -> TaskSpec:
    options = option_map(definition.options)
    queue = options.get("queue_name")
    retries = _integer(options["max_retries"].value) if "max_retries" in options else None
    limit = _milliseconds(options["time_limit"].value) if "time_limit" in options else None
    low = seconds(options["min_backoff"].value) if "min_backoff" in options else None
    high = seconds(options["max_backoff"].value) if "max_backoff" in options else None
    base = (low or DEFAULT_MIN_BACKOFF_MS) / 1000
    ceiling = (high or DEFAULT_MAX_BACKOFF_MS) / 1000
    return TaskSpec(
        type=definition.name,
        queue=queue.value.text if queue is not None and queue.value.kind == "str" and queue.value.text else DEFAULT_QUEUE,
        max_retry=retries if retries is not None else DEFAULT_MAX_RETRIES,
        timeout=limit or timedelta(milliseconds=DEFAULT_TIME_LIMIT_MS),
        retry_delay=exp(base, max(base, ceiling)),
        unique_ttl=timedelta(0),
        idempotent=False,
        human_name=definition.function.rpartition(".")[2],
    )


class _DramatiqVisitor(FactsVisitor):
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if self.qualified_names(func) & ACTOR_DECORATORS:
                self.add_definition(node, decorator, node.name, "actor_name", "queue_name")
                break

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        self._call(node)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        method = func.attr
        if method == "declare_queue" and node.args:
            value = self.value(node.args[0])
            if value.kind == "str" and value.text:
                self.queues.append(value.text)
        elif method in SEND_METHODS:
            receiver = self.qualified_name(func.value)
            if receiver is None:
                return
            with_options = method != "send"
            self.call_sites.append(CallSite(
                kind=method, path=self.path, location=self.location(node),
                task=TaskReference(function=receiver), task_location=self.location(func.value),
                options=self.options(node.keywords) if with_options else (),
                report_unknown_options=with_options,
            ))


class DramatiqPreset(Preset):
    """Dramatiq: see the module docstring."""

    visitor_class = _DramatiqVisitor
    name = "dramatiq"
    tokens = (b"dramatiq", b"declare_queue")
    method_pattern = re.compile(rb"\.(?:send|send_with_options|message_with_options)\(")

    def build_catalog(self, index: ProjectIndex) -> Catalog:
        specs = [_spec_of(definitions[0]) for _, definitions in sorted(index.tasks_by_name.items())]
        return catalog_of("<actors found in the checked code>", specs, index.queues | {DEFAULT_QUEUE}, retry_delay_ceiling=timedelta(days=7))

    def check(self, index: ProjectIndex, catalog: Catalog, explicit_catalog: bool) -> list[Finding]:
        checker = _DramatiqChecker(index, catalog, explicit_catalog)
        for site in index.call_sites():
            definition = checker.resolve(site)
            if definition is not None:
                checker.check_options(site, definition)
        checker.duplicate_definitions()
        return checker.findings
