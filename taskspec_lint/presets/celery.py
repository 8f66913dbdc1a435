"""The Celery preset: tasks from ``@app.task``/``@shared_task``, sites that name or send them.

Task names are the decorator's ``name=`` or, as Celery derives them, the module's dotted
path plus the function name. Checked sites: ``send_task("name")``, ``signature("name")``,
the ``"task"`` entries of beat schedules, ``task_routes`` keys, and ``.delay()``,
``.apply_async()``, ``.s()``, ``.si()`` and ``.signature()`` on tasks of the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from types import MappingProxyType

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper

from taskspec_lint.backoff import exp, schedule
from taskspec_lint.checker import rules
from taskspec_lint.checker.findings import Finding
from taskspec_lint.checker.noqa import noqa_comments
from taskspec_lint.durations import format_duration
from taskspec_lint.model import Bounds, Catalog, Queue, TaskFacts, TaskSpec
from taskspec_lint.presets.base import FactsVisitor, Preset, option_map, seconds
from taskspec_lint.presets.checks import SiteChecker, no_time_limit
from taskspec_lint.presets.facts import CallSite, FileFacts, Option, TaskDefinition, TaskReference
from taskspec_lint.presets.index import ProjectIndex

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
QUEUE_NAMES = frozenset({"task_queues", "CELERY_TASK_QUEUES", "CELERY_QUEUES"})
DEFAULT_QUEUE_NAMES = frozenset({"task_default_queue", "CELERY_TASK_DEFAULT_QUEUE", "CELERY_DEFAULT_QUEUE"})
SIGNATURE_FUNCTIONS = frozenset({"celery.signature", "celery.canvas.signature",
                                 "celery.Signature", "celery.canvas.Signature"})
TASK_DECORATORS = frozenset({"celery.shared_task", "celery.task", "celery.app.shared_task"})
TASK_METHODS = frozenset({"delay", "apply_async", "s", "si", "signature"})


class CeleryPreset(Preset):
    """Celery: see the module docstring."""

    name = "celery"
    tokens = (b"celery", b"Celery", b"CELERY", b"send_task", b".delay(", b".apply_async(",
              b".si(", b".s(", b"signature(", b"shared_task", b".task")

    def extract(self, module: cst.Module, module_name: str, path: str, text: str) -> FileFacts:
        visitor = _CeleryVisitor(module_name, path)
        MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
        return visitor.facts(noqa_comments(text))

    def build_catalog(self, index: ProjectIndex) -> Catalog:
        queues = {name: Queue(name, 0, 1, None) for name in sorted(index.queues | {DEFAULT_QUEUE})}
        specs: dict[str, TaskSpec] = {}
        bounds: dict[str, Bounds] = {}
        facts: dict[str, TaskFacts] = {}
        for name, definitions in sorted(index.tasks_by_name.items()):
            spec = _spec_of(definitions[0])
            queues.setdefault(spec.queue, Queue(spec.queue, 0, 1, None))
            specs[name] = spec
            bounds[name] = Bounds(spec.max_retry, spec.timeout, timedelta(days=7), timedelta(hours=24))
            facts[name] = TaskFacts()
        return Catalog("<tasks found in the checked code>", MappingProxyType(queues),
                       MappingProxyType(specs), MappingProxyType(bounds), MappingProxyType(facts))

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
                if keyword in options and definition is not None:
                    checker.time_limit(site, options[keyword], _limit_of(definition, keyword, catalog))
            if "queue" in options:
                checker.queue(site, options["queue"], definition)
        checker.duplicate_definitions()
        return checker.findings


def _limit_of(definition: TaskDefinition, keyword: str, catalog: Catalog) -> timedelta | None:
    """Return the task's own limit for ``keyword``: its decorator, else its catalog timeout."""
    options = option_map(definition.options)
    for name in (keyword, "time_limit"):
        if name in options:
            limit = seconds(options[name].value)
            if limit is not None:
                return timedelta(seconds=limit)
    spec = catalog.specs.get(definition.name)
    if spec is not None and not no_time_limit(spec.timeout):
        return spec.timeout
    return None


def _spec_of(definition: TaskDefinition) -> TaskSpec:
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
        delay = exp(base, max(base, ceiling))
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
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            expression = decorator.decorator
            func = expression.func if isinstance(expression, cst.Call) else expression
            if not self._is_task_decorator(func):
                continue
            function = f"{self.module_name}.{node.name.value}"
            name, options, constant = function, (), None
            if isinstance(expression, cst.Call):
                options = self.options(expression.args, skip=("name",))
                for arg in expression.args:
                    if arg.keyword is not None and arg.keyword.value == "name":
                        reference = self.task_reference(arg.value)
                        if reference is None or (reference.name is None and reference.constant is None):
                            return  # a name the checker cannot resolve: not indexed
                        name, constant = reference.name or "", reference.constant
            self.definitions.append(TaskDefinition(
                name, function, self.path, self.location(node.name), options, name_constant=constant,
            ))
            self.queues.extend(
                option.value.text for option in options
                if option.keyword == "queue" and option.value.text
            )
            return

    def _is_task_decorator(self, func: cst.BaseExpression) -> bool:
        names = self.qualified_names(func)
        if names & TASK_DECORATORS:
            return True
        return isinstance(func, cst.Attribute) and func.attr.value == "task" and not any(
            name.startswith(("pytest.", "unittest.")) for name in names
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        names = self.qualified_names(func)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "send_task":
                self._named_site("send_task", node, keyword="name", report_options=True)
                return
            if method == "update" and _last_segment(func.value) in SCHEDULE_NAMES and node.args:
                self._schedule_entries(node.args[0].value)
                return
            if method == "update" and _last_segment(func.value) == "conf":
                self._conf_update(node.args)
                return
            if method in TASK_METHODS and self._task_method(node, func, method):
                return
        if names & SIGNATURE_FUNCTIONS or (isinstance(func, cst.Attribute) and func.attr.value == "signature"):
            self._named_site("signature", node, keyword="varies", report_options=False)

    def _named_site(self, kind: str, node: cst.Call, keyword: str, report_options: bool) -> None:
        task_arg = _argument(node.args, 0, keyword)
        if task_arg is None:
            return
        reference = self.task_reference(task_arg.value)
        if reference is None:
            return
        skip = ("name", "varies", "args", "kwargs") if kind == "send_task" else ()
        self.call_sites.append(CallSite(
            kind=kind, path=self.path, location=self.location(node), task=reference,
            task_location=self.location(task_arg.value),
            options=self.options(node.args, skip=skip) if report_options else (),
            report_unknown_options=report_options,
        ))

    def _task_method(self, node: cst.Call, func: cst.Attribute, method: str) -> bool:
        receivers = sorted(self.qualified_names(func.value))
        if not receivers or method == "signature" and node.args and _is_string(node.args[0].value):
            return False
        options: tuple[Option, ...] = ()
        if method == "apply_async":
            options = self.options(node.args, skip=("args", "kwargs"))
        self.call_sites.append(CallSite(
            kind=method, path=self.path, location=self.location(node),
            task=TaskReference(function=receivers[0]), task_location=self.location(func.value),
            options=options, report_unknown_options=method == "apply_async",
        ))
        return True

    # Configuration: beat schedules, routes, queues ------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._configuration(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._configuration(node.target, node.value)

    def _configuration(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript) and _last_segment(target.value) in SCHEDULE_NAMES:
            self._schedule_entry(value)
            return
        name = _last_segment(target)
        if name in SCHEDULE_NAMES:
            self._schedule_entries(value)
        elif name in ROUTE_NAMES:
            self._routes(value)
        elif name in QUEUE_NAMES:
            self._declared_queues(value)
        elif name in DEFAULT_QUEUE_NAMES and _is_string(value):
            self.queues.append(_string(value))

    def _conf_update(self, args: Sequence[cst.Arg]) -> None:
        for arg in args:
            if arg.keyword is not None:
                self._configuration(arg.keyword, arg.value)
            elif isinstance(arg.value, cst.Dict):
                for element in arg.value.elements:
                    if isinstance(element, cst.DictElement) and _is_string(element.key):
                        self._configuration(cst.Name(_string(element.key)), element.value)

    def _schedule_entries(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement):
                    self._schedule_entry(element.value)

    def _schedule_entry(self, value: cst.BaseExpression) -> None:
        entry: cst.BaseExpression | None = None
        if isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement) and _is_string(element.key) and _string(element.key) == "task":
                    entry = element.value
        elif isinstance(value, cst.Call) and get_full_name_for_node(value.func) == "dict":
            for arg in value.args:
                if arg.keyword is not None and arg.keyword.value == "task":
                    entry = arg.value
        if entry is None:
            return
        reference = self.task_reference(entry)
        if reference is not None:
            self.call_sites.append(CallSite(
                kind="beat", path=self.path, location=self.location(entry), task=reference,
                task_location=self.location(entry),
            ))

    def _routes(self, value: cst.BaseExpression) -> None:
        tables = [value]
        if isinstance(value, cst.List | cst.Tuple):
            tables = [element.value for element in value.elements]
        for table in tables:
            if not isinstance(table, cst.Dict):
                continue
            for element in table.elements:
                if not isinstance(element, cst.DictElement):
                    continue
                if isinstance(element.value, cst.Dict):
                    for item in element.value.elements:
                        if (isinstance(item, cst.DictElement) and _is_string(item.key)
                                and _string(item.key) == "queue" and _is_string(item.value)):
                            self.queues.append(_string(item.value))
                if _is_string(element.key) and not any(char in _string(element.key) for char in "*?["):
                    self.call_sites.append(CallSite(
                        kind="route", path=self.path, location=self.location(element.key),
                        task=TaskReference(name=_string(element.key)),
                        task_location=self.location(element.key),
                    ))

    def _declared_queues(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.List | cst.Tuple | cst.Set):
            for element in value.elements:
                item = element.value
                if isinstance(item, cst.Call) and item.args and _is_string(item.args[0].value):
                    self.queues.append(_string(item.args[0].value))
                elif _is_string(item):
                    self.queues.append(_string(item))
        elif isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement) and _is_string(element.key):
                    self.queues.append(_string(element.key))


def _argument(args: Sequence[cst.Arg], position: int, keyword: str) -> cst.Arg | None:
    for arg in args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    positional = [arg for arg in args if arg.keyword is None and not arg.star]
    if any(arg.star for arg in args[: position + 1]):
        return None
    return positional[position] if position < len(positional) else None


def _is_string(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.SimpleString | cst.ConcatenatedString) and isinstance(node.evaluated_value, str)


def _string(node: cst.BaseExpression | None) -> str:
    assert isinstance(node, cst.SimpleString | cst.ConcatenatedString)
    value = node.evaluated_value
    assert isinstance(value, str)
    return value


def _last_segment(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def describe_limit(limit: timedelta) -> str:
    """Format a time limit for messages."""
    return format_duration(limit)
