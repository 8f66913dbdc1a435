"""The Celery preset: tasks from ``@app.task``/``@shared_task``, sites that name or send them.

Task names are the decorator's ``name=`` or, as Celery derives them, the module's dotted
path plus the function name. Checked sites: ``send_task("name")``, ``signature("name")``,
the ``"task"`` entries of beat schedules, ``task_routes`` keys, and ``.delay()``,
``.apply_async()``, ``.s()``, ``.si()`` and ``.signature()`` on tasks of the project.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta

from taskspec_lint.backoff import RetryDelay, exp, schedule
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
from taskspec_lint.presets.checks import SiteChecker, no_time_limit
from taskspec_lint.presets.facts import CallSite, Option, TaskDefinition, TaskReference
from taskspec_lint.presets.index import ProjectIndex
from taskspec_lint.presets.syntax import (
    FactsVisitor,
    argument,
    is_string,
    last_segment,
    string,
)

DEFAULT_QUEUE = "celery"
DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_DELAY = 180
DEFAULT_BACKOFF_MAX = 600

# Keywords that apply_async() and send_task() accept or pass on to the message, from
# Celery 5.x: Task.apply_async, Celery.send_task, AMQP.as_task_v2 and send_task_message,
# and kombu's Producer.publish. Celery forwards any other keyword without a word.
CELERY_OPTIONS = frozenset({
    "add_to_parent", "args", "argsrepr", "chain", "chord", "compression", "confirm_timeout",
    "connection", "content_encoding", "content_type", "countdown", "declare", "delivery_mode",
    "eta", "exchange", "exchange_type", "expiration", "expires", "group_id", "group_index",
    "headers", "ignore_result", "immediate", "kwargs", "kwargsrepr", "link", "link_error",
    "mandatory", "parent_id", "priority", "producer", "publisher", "queue", "replaced_task_nesting",
    "reply_to", "result_cls", "retries", "retry", "retry_policy", "root_id", "route_name",
    "router", "routing_key", "serializer", "shadow", "soft_time_limit", "stamped_headers",
    "task_id", "task_type", "time_limit", "timeout",
})
# Task names Celery registers itself.
BUILTIN_TASK_PREFIX = "celery."

SCHEDULE_NAMES = frozenset({"beat_schedule", "CELERY_BEAT_SCHEDULE", "CELERYBEAT_SCHEDULE"})
ROUTE_NAMES = frozenset({"task_routes", "CELERY_TASK_ROUTES", "CELERY_ROUTES"})
# task_annotations maps task names (or "*") to attributes to set on them.
ANNOTATION_NAMES = frozenset({"task_annotations", "CELERY_TASK_ANNOTATIONS", "CELERY_ANNOTATIONS"})
QUEUE_NAMES = frozenset({"task_queues", "CELERY_TASK_QUEUES", "CELERY_QUEUES"})
DEFAULT_QUEUE_NAMES = frozenset({"task_default_queue", "CELERY_TASK_DEFAULT_QUEUE", "CELERY_DEFAULT_QUEUE"})
SIGNATURE_FUNCTIONS = frozenset({"celery.signature", "celery.canvas.signature",
                                 "celery.Signature", "celery.canvas.Signature"})
TASK_DECORATORS = frozenset({"celery.shared_task", "celery.task", "celery.app.shared_task"})
TASK_METHODS = frozenset({
    "delay", "apply_async", "s", "si", "signature",
    # Celery 5.4's DjangoTask: send once the database transaction commits.
    "delay_on_commit", "apply_async_on_commit",
})
OPTION_METHODS = frozenset({"apply_async", "apply_async_on_commit"})
# Other libraries' functions called signature(), such as inspect.signature(callable).
FOREIGN_SIGNATURES = ("inspect.", "funcsigs.")


def _limit_of(
    name: str, definition: TaskDefinition | None, keyword: str, catalog: Catalog, explicit: bool
) -> timedelta | None:
    """Return the task's own limit for ``keyword``, or None when it has none.

    A configured catalog file decides: its timeout bound applies to both limits. Without
    one, the limit is the decorator's own ``keyword``, else its ``time_limit``.
    """
    if explicit:
        bounds = catalog.bounds.get(name)
        return bounds.timeout if bounds is not None and not no_time_limit(bounds.timeout) else None
    if definition is None:
        return None
    options = option_map(definition.options)
    for option_name in (keyword, "time_limit"):
        if option_name in options:
            limit = duration_of(seconds(options[option_name].value))
            if limit is not None:
                return limit
    return None


def _spec_of(definition: TaskDefinition) -> TaskSpec:
    return spec_or_defaults(_read_spec, definition)


def _read_spec(definition: TaskDefinition) -> TaskSpec:
    options = option_map(definition.options)

    def number(keyword: str, default: float | None) -> float | None:
        option = options.get(keyword)
        if option is None:
            return default
        if option.value.kind == "none":
            return None
        return seconds(option.value) if seconds(option.value) is not None else default

    queue = options["queue"].value.text if "queue" in options and options["queue"].value.kind == "str" else None
    retries = number("max_retries", DEFAULT_MAX_RETRIES)
    limit = number("time_limit", None)
    backoff = options.get("retry_backoff")
    if backoff is not None and backoff.value.kind in ("bool", "int", "float") and backoff.value.number:
        base = 1.0 if backoff.value.kind == "bool" else backoff.value.number
        ceiling = number("retry_backoff_max", DEFAULT_BACKOFF_MAX) or DEFAULT_BACKOFF_MAX
        delay: RetryDelay = exp(base, max(base, ceiling))
    else:
        delay = schedule(number("default_retry_delay", DEFAULT_RETRY_DELAY) or 0, jitter=0)
    return TaskSpec(
        type=definition.name,
        queue=queue or DEFAULT_QUEUE,
        # Celery retries forever when max_retries is None; the extracted spec has no ceiling.
        max_retry=int(retries) if retries is not None else 2**31 - 1,
        timeout=timedelta(seconds=limit) if limit else timedelta.max,
        retry_delay=delay,
        unique_ttl=timedelta(0),
        idempotent=False,
        human_name=definition.function.rpartition(".")[2],
    )


class _CeleryVisitor(FactsVisitor):
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._definition(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not self._is_task_decorator(func):
                continue
            self.add_definition(node, decorator, f"{self.module_name}.{node.name}", "name", "queue")
            return

    def _is_task_decorator(self, func: ast.expr) -> bool:
        name = self.qualified_name(func) or ""
        if name in TASK_DECORATORS:
            return True
        return isinstance(func, ast.Attribute) and func.attr == "task" and not name.startswith(
            ("pytest.", "unittest.")
        )

    def visit_Call(self, node: ast.Call) -> None:
        self._call(node)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method == "send_task":
                self._named_site("send_task", node, keyword="name", report_options=True)
                return
            if method == "update" and last_segment(func.value) in SCHEDULE_NAMES and node.args:
                self._schedule_entries(node.args[0])
                return
            if method == "update" and last_segment(func.value) == "conf":
                self._conf_update(node)
                return
            if (self.qualified_name(func) or "").startswith(FOREIGN_SIGNATURES):
                return
            if method in TASK_METHODS and self._task_method(node, func, method):
                return
        if self.qualified_name(func) in SIGNATURE_FUNCTIONS or (
            isinstance(func, ast.Attribute) and func.attr == "signature"
        ):
            self._named_site("signature", node, keyword="varies", report_options=False)

    def _named_site(self, kind: str, node: ast.Call, keyword: str, report_options: bool) -> None:
        task_node = argument(node, 0, keyword)
        if task_node is None:
            return
        reference = self.task_reference(task_node)
        if reference is None:
            return
        self.call_sites.append(CallSite(
            kind=kind, path=self.path, location=self.location(node), task=reference,
            task_location=self.location(task_node),
            options=self.options(node.keywords, skip=("name", "args", "kwargs")) if report_options else (),
            report_unknown_options=report_options,
        ))

    def _task_method(self, node: ast.Call, func: ast.Attribute, method: str) -> bool:
        receiver = self.qualified_name(func.value)
        if receiver is None or method == "signature" and node.args and is_string(node.args[0]):
            return False
        options: tuple[Option, ...] = ()
        if method in OPTION_METHODS:
            options = self.options(node.keywords, skip=("args", "kwargs"))
        self.call_sites.append(CallSite(
            kind=method, path=self.path, location=self.location(node),
            task=TaskReference(function=receiver), task_location=self.location(func.value),
            options=options, report_unknown_options=method in OPTION_METHODS,
        ))
        return True

    # Configuration: beat schedules, routes, queues ------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._configuration(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._configuration(node.target, node.value)

    def _configuration(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Subscript) and last_segment(target.value) in SCHEDULE_NAMES:
            self._schedule_entry(value)
            return
        self._setting(last_segment(target), value)

    def _setting(self, name: str | None, value: ast.expr) -> None:
        if name in SCHEDULE_NAMES:
            self._schedule_entries(value)
        elif name in ROUTE_NAMES or name in ANNOTATION_NAMES:
            self._routes(value)
        elif name in QUEUE_NAMES:
            self._declared_queues(value)
        elif name in DEFAULT_QUEUE_NAMES and is_string(value):
            self.queues.append(string(value))

    def _conf_update(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg is not None:
                self._setting(keyword.arg, keyword.value)
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                for key, value in zip(arg.keys, arg.values):
                    if is_string(key):
                        self._setting(string(key), value)

    def _schedule_entries(self, value: ast.expr) -> None:
        if isinstance(value, ast.Dict):
            for entry in value.values:
                self._schedule_entry(entry)

    def _schedule_entry(self, value: ast.expr) -> None:
        task: ast.expr | None = None
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values):
                if is_string(key) and string(key) == "task":
                    task = item
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
            task = argument(value, None, "task")
        if task is None:
            return
        reference = self.task_reference(task)
        if reference is not None:
            self.call_sites.append(CallSite(
                kind="beat", path=self.path, location=self.location(task), task=reference,
                task_location=self.location(task),
            ))

    def _routes(self, value: ast.expr) -> None:
        """Read task names from routes or annotations, in any of Celery's literal forms.

        The forms are a dict by task name, a list of such dicts, and the ordered form, a
        list of (name or glob, route) pairs.
        """
        for key, route in _route_pairs(value):
            if isinstance(route, ast.Dict):
                for item_key, item in zip(route.keys, route.values):
                    if is_string(item_key) and string(item_key) == "queue" and is_string(item):
                        self.queues.append(string(item))
            if key is not None and is_string(key) and not any(char in string(key) for char in "*?["):
                self.call_sites.append(CallSite(
                    kind="route", path=self.path, location=self.location(key),
                    task=TaskReference(name=string(key)), task_location=self.location(key),
                ))

    def _declared_queues(self, value: ast.expr) -> None:
        if isinstance(value, ast.List | ast.Tuple | ast.Set):
            for item in value.elts:
                if isinstance(item, ast.Call) and item.args and is_string(item.args[0]):
                    self.queues.append(string(item.args[0]))
                elif is_string(item):
                    self.queues.append(string(item))
        elif isinstance(value, ast.Dict):
            self.queues.extend(string(key) for key in value.keys if is_string(key))


def _route_pairs(value: ast.expr) -> list[tuple[ast.expr | None, ast.expr]]:
    """Return the (key, route) pairs of a routes setting in any of its literal forms."""
    if isinstance(value, ast.Dict):
        return list(zip(value.keys, value.values))
    if isinstance(value, ast.Tuple) and len(value.elts) == 2 and is_string(value.elts[0]):
        return [(value.elts[0], value.elts[1])]
    if isinstance(value, ast.List | ast.Tuple):
        return [pair for element in value.elts for pair in _route_pairs(element)]
    return []


class CeleryPreset(Preset):
    """Celery: see the module docstring."""

    visitor_class = _CeleryVisitor
    name = "celery"
    tokens = (
        b"shared_task", b"send_task", b"signature(", b"conf.update(", b"beat_schedule",
        b"BEAT_SCHEDULE", b"task_routes", b"TASK_ROUTES", b"CELERY_ROUTES", b"task_queues",
        b"TASK_QUEUES", b"CELERY_QUEUES", b"DEFAULT_QUEUE", b"default_queue",
    )
    decorator_pattern = re.compile(rb"@[\w.]*\btask\b")
    method_pattern = re.compile(
        rb"\.(?:delay|apply_async|si|s|signature|delay_on_commit|apply_async_on_commit)\("
    )

    def build_catalog(self, index: ProjectIndex) -> Catalog:
        specs = [_spec_of(definitions[0]) for _, definitions in sorted(index.tasks_by_name.items())]
        return catalog_of("<tasks found in the checked code>", specs, index.queues | {DEFAULT_QUEUE})

    def check(self, index: ProjectIndex, catalog: Catalog, explicit_catalog: bool) -> list[Finding]:
        checker = SiteChecker(index, catalog, explicit_catalog, builtin_prefix=BUILTIN_TASK_PREFIX)
        checker.declared_queues = set(index.queues) | ({DEFAULT_QUEUE} if index.queues else set())
        if explicit_catalog:
            checker.declared_queues |= set(catalog.queues)
        for site in index.call_sites():
            definition = checker.resolve(site)
            if site.report_unknown_options:
                checker.unknown_options(site, CELERY_OPTIONS)
            options = option_map(site.options)
            if "countdown" in options:
                checker.not_negative(site, options["countdown"], definition)
            for keyword in ("time_limit", "soft_time_limit"):
                if keyword in options:
                    limit = _limit_of(checker.label(site), definition, keyword, catalog, explicit_catalog)
                    checker.time_limit(site, options[keyword], limit)
            if "queue" in options:
                checker.queue(site, options["queue"], definition)
        checker.duplicate_definitions()
        return checker.findings
