"""The RQ preset (RQ 2.x and 3.x, django-rq): jobs are functions named by their dotted path.

Every module-level function of the checked code is a job that RQ can run, named by its
module and function name. ``@job(...)`` from ``rq.decorators`` or ``django_rq`` adds the
job's own options: its queue, ``timeout`` and ``retry=Retry(max=..., interval=...)``.

Checked sites: ``.enqueue(f, ...)``, ``.enqueue_call(func=...)``, ``.enqueue_in(delta, f, ...)``
and ``.enqueue_at(when, f, ...)`` on any object, and django-rq's ``enqueue(f, ...)``. The job
is a dotted-path string or a function reference. When a module declares django-rq's
``RQ_QUEUES``, the queue names of ``Queue("name")``, ``get_queue("name")`` and ``@job("name")``
are checked against it.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from types import MappingProxyType

from taskspec_lint.backoff import RetryDelay, schedule
from taskspec_lint.checker import rules
from taskspec_lint.checker.findings import Finding
from taskspec_lint.durations import format_duration
from taskspec_lint.model import Catalog, TaskSpec
from taskspec_lint.presets.base import Preset, catalog_of, duration_of, option_map, seconds
from taskspec_lint.presets.checks import SiteChecker
from taskspec_lint.presets.facts import (
    CallSite,
    Option,
    TaskDefinition,
    TaskReference,
    Value,
)
from taskspec_lint.presets.index import ProjectIndex
from taskspec_lint.presets.syntax import (
    FactsVisitor,
    argument,
    is_string,
    last_segment,
    string,
)
from taskspec_lint.suggest import closest

# RQ 3.0 Queue.DEFAULT_TIMEOUT: a job without a timeout gets 180 s.
DEFAULT_TIMEOUT = timedelta(seconds=180)
# RQ 3.0 and django-rq: the queue of a job decorated without one.
DEFAULT_QUEUE = "default"
# RQ 3.0: a job without retry=Retry(...) is not retried.
DEFAULT_MAX_RETRY = 0

# The parameters of Queue.enqueue_call in RQ 3.0. Its signature is fixed, so any other
# keyword raises TypeError. enqueue(), enqueue_in() and enqueue_at() pass unknown
# keywords on to the job function instead.
ENQUEUE_CALL_KEYWORDS = frozenset({
    "func", "args", "kwargs", "timeout", "result_ttl", "ttl", "failure_ttl", "description",
    "depends_on", "job_id", "at_front", "meta", "retry", "repeat", "on_success", "on_failure",
    "on_stopped", "rate_limit", "pipeline", "unique", "webhooks",
})
# Queue methods that enqueue a job: the position and keyword of the job argument.
ENQUEUE_METHODS = MappingProxyType({
    "enqueue": (0, "f"),
    "enqueue_call": (0, "func"),
    "enqueue_in": (1, "func"),
    "enqueue_at": (1, "f"),
})
ENQUEUE_FUNCTIONS = frozenset({"django_rq.enqueue", "django_rq.queues.enqueue"})
JOB_DECORATORS = frozenset({"rq.decorators.job", "django_rq.job", "django_rq.decorators.job"})
QUEUE_FACTORIES = frozenset({"rq.Queue", "rq.queue.Queue", "django_rq.get_queue", "django_rq.queues.get_queue"})
RETRY_CLASSES = frozenset({"rq.Retry", "rq.job.Retry"})
QUEUE_SETTINGS = "RQ_QUEUES"

# A string that can name a function by its module path. An event name such as "user.signup"
# matches too, so an unknown path is reported only when its first segment is a package of
# the checked code.
DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
# RQ 3.0 parse_timeout: an integer, or digits followed by one of these units.
_DURATION_UNITS = MappingProxyType({"d": 86400, "h": 3600, "m": 60, "s": 1})


class _RQChecker(SiteChecker):
    def find_job(self, site: CallSite) -> tuple[bool, TaskDefinition | None]:
        """Return whether ``site`` names a job of the checked code, and its @job definition.

        An unknown dotted path is reported as TSK101. A function reference that is not a
        function of the checked code is neither known nor reported.
        """
        path = site.task.name
        if path is None and site.task.constant is not None:
            path = self.index.constants.get(site.task.constant)
        if path is None:
            path = site.task.function
            if path is None or path not in self.index.functions:
                return False, None
        self._labels[id(site)] = path
        if path in self.known_names():
            return True, self.index.tasks_by_function.get(path)
        if self._could_be_in_project(path):
            suggestions = closest(path, self.known_names())
            hint = "; did you mean " + " or ".join(map(repr, suggestions)) + "?" if suggestions else ""
            self.report(rules.UnknownTaskType, site.path, site.task_location, path, hint=hint)
        return False, None

    def known_names(self) -> set[str] | frozenset[str]:
        if self.explicit_catalog:
            return frozenset(self.catalog.specs)
        return self.index.functions

    def _could_be_in_project(self, path: str) -> bool:
        if self.explicit_catalog:
            # A catalog file may list jobs of other code bases; their first segments count too.
            catalog_packages = {name.partition(".")[0] for name in self.catalog.specs}
            packages = {facts.module.partition(".")[0] for facts in self.index.files.values()}
            return path.partition(".")[0] in catalog_packages | packages
        if not self.index.functions:
            return False  # no function is defined in the checked code, so no path can be judged
        # NOTE: a function that a module only imports, a class, or a static method is a
        # valid path for RQ too, but only module-level functions are indexed.
        packages = {facts.module.partition(".")[0] for facts in self.index.files.values()}
        return path.partition(".")[0] in packages

    def check_options(self, site: CallSite, definition: TaskDefinition | None) -> None:
        """Check the keywords of an enqueue call against RQ and the job's own options."""
        if site.report_unknown_options:
            self.unknown_options(site, ENQUEUE_CALL_KEYWORDS)
        options = option_map(site.options)
        timeout = options.get("timeout" if site.kind == "enqueue_call" else "job_timeout")
        if timeout is not None:
            self._job_timeout(site, timeout, _own_timeout(definition))
        if "ttl" in options:
            self._ttl(site, options["ttl"])

    def _job_timeout(self, site: CallSite, option: Option, limit: timedelta | None) -> None:
        # A string such as "1h" is valid for RQ and is not checked.
        value = seconds(option.value)
        if value is None:
            return
        if value == 0:
            self._out_of_bound(site, option, "is rejected by RQ; use -1 for no time limit", "not 0")
        elif limit is None or limit == timedelta.max:
            return
        elif value < 0:
            bound = f"at most {format_duration(limit)}"
            self._out_of_bound(site, option, f"means no time limit, above the task's own limit; "
                               f"it must be {bound}", bound)
        else:
            self.time_limit(site, option, limit)

    def _ttl(self, site: CallSite, option: Option) -> None:
        # RQ 3.0 Queue.create_job raises ValueError for a ttl of 0 or less. It accepts any
        # result_ttl and failure_ttl: a negative one keeps the job's data forever.
        value = seconds(option.value)
        if value is not None and value <= 0:
            self._out_of_bound(site, option, "is rejected by RQ; it must be more than 0s", "more than 0s")

    def _out_of_bound(self, site: CallSite, option: Option, reason: str, bound: str) -> None:
        label = self.label(site)
        self.report(rules.OverrideOutOfBound, site.path, option.location, label, task_type=label,
                    option=option.keyword, value=option.value.source, reason=reason, bound=bound)


def _own_timeout(definition: TaskDefinition | None) -> timedelta | None:
    """Return the @job's own ``timeout``, timedelta.max for none, or None when it sets none."""
    if definition is None or "timeout" not in option_map(definition.options):
        return None
    value = _rq_seconds(option_map(definition.options)["timeout"].value)
    if value is None:
        return None
    return timedelta.max if value < 0 else duration_of(value)


def _rq_seconds(value: Value) -> float | None:
    """Return a timeout in seconds as RQ 3.0 reads it: a number, a duration or "10m"."""
    number = seconds(value)
    if number is not None or value.kind != "str" or not value.text:
        return number
    text = value.text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return float(text)
    unit = _DURATION_UNITS.get(text[-1:].lower())
    if unit is None or not re.fullmatch(r"[+-]?\d+", text[:-1]):
        return None
    return float(int(text[:-1]) * unit)


def _spec_of(function: str, definition: TaskDefinition | None) -> TaskSpec:
    """Return the spec of a job; options RQ could not use either leave RQ's defaults."""
    try:
        return _read_spec(function, definition)
    except (ValueError, OverflowError, TypeError):
        return _read_spec(function, None)


def _read_spec(function: str, definition: TaskDefinition | None) -> TaskSpec:
    options = option_map(definition.options) if definition is not None else {}
    queue = options.get("queue")
    timeout = _own_timeout(definition)
    retry = options.get("retry")
    max_retry: int = DEFAULT_MAX_RETRY
    delay: RetryDelay = schedule(0, jitter=0)
    if retry is not None and retry.value.kind == "retry":
        max_retry, delay = _retry_of(retry.value, delay)
    return TaskSpec(
        type=function,
        queue=queue.value.text if queue is not None and queue.value.kind == "str" and queue.value.text else DEFAULT_QUEUE,
        max_retry=max_retry,
        timeout=timeout if timeout is not None and timeout > timedelta(0) else DEFAULT_TIMEOUT,
        retry_delay=delay,
        unique_ttl=timedelta(0),
        idempotent=False,
        human_name=function.rpartition(".")[2],
    )


def _retry_of(value: Value, default: RetryDelay) -> tuple[int, RetryDelay]:
    """Return the retry count and delays of a ``Retry(...)`` value (fields ``max``, ``interval_N``)."""
    count = value.fields.get("max")
    max_retry = int(count.number) if count is not None and count.kind == "int" and count.number else 0
    steps = [seconds(value.fields[key]) for key in sorted(value.fields) if key.startswith("interval_")]
    if not steps or any(step is None or step < 0 for step in steps):
        return max_retry, default
    return max_retry, schedule(*[step for step in steps if step is not None], jitter=0)


class _RQVisitor(FactsVisitor):
    def read_module(self, tree: ast.Module) -> None:
        super().read_module(tree)
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                self._job_definition(statement)

    def _job_definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not self.qualified_names(func) & JOB_DECORATORS:
                continue
            function = f"{self.module_name}.{node.name}"
            options = self._job_options(decorator) if isinstance(decorator, ast.Call) else ()
            self.definitions.append(
                TaskDefinition(function, function, self.path, self.name_location(node), options)
            )
            queues = tuple(option for option in options if option.keyword == "queue")
            if queues:
                self._queue_site("job", decorator, function, queues)
            return

    def _job_options(self, node: ast.Call) -> tuple[Option, ...]:
        # rq.decorators.job(queue, connection, timeout, ...); django_rq.job passes its
        # positional arguments on in the same order.
        options: list[Option] = []
        positional = [arg for arg in node.args if not isinstance(arg, ast.Starred)]
        for keyword, arg in zip(("queue", "connection", "timeout"), positional):
            options.append(Option(keyword, self.value(arg), self.location(arg)))
        for item in node.keywords:
            if item.arg is None:
                continue
            value = self._retry_value(item.value) if item.arg == "retry" else self.value(item.value)
            options.append(Option(item.arg, value, self.location(item)))
        return tuple(options)

    def _retry_value(self, node: ast.expr) -> Value:
        """Return ``Retry(max=..., interval=...)`` as a ``retry`` value, intervals numbered from 1."""
        if not isinstance(node, ast.Call) or not self.qualified_names(node.func) & RETRY_CLASSES:
            return self.value(node)
        arguments = [(("max", "interval")[min(position, 1)], arg) for position, arg in enumerate(node.args)]
        arguments += [(item.arg, item.value) for item in node.keywords if item.arg is not None]
        fields: dict[str, Value] = {}
        for keyword, value in arguments:
            if keyword == "max":
                fields["max"] = self.value(value)
            elif keyword == "interval" and isinstance(value, ast.List | ast.Tuple):
                for step, element in enumerate(value.elts, start=1):
                    fields[f"interval_{step}"] = self.value(element)
            elif keyword == "interval":
                fields["interval_1"] = self.value(value)
        return Value("retry", source=self.source(node), fields=fields)

    def visit_Call(self, node: ast.Call) -> None:
        self._call(node)

    def _call(self, node: ast.Call) -> None:
        names = self.qualified_names(node.func)
        if names & QUEUE_FACTORIES:
            name_node = argument(node, 0, "name")
            if name_node is not None:
                # A keyword argument's finding starts at the keyword, as for every option.
                anchor = next((item for item in node.keywords if item.arg == "name"), name_node)
                option = Option("queue", self.value(name_node), self.location(anchor))
                if option.value.kind == "str":
                    self._queue_site("queue", node, min(names & QUEUE_FACTORIES), (option,))
            return
        if names & ENQUEUE_FUNCTIONS:
            self._enqueue_site(node, "enqueue")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in ENQUEUE_METHODS:
            self._enqueue_site(node, node.func.attr)

    def _queue_site(self, kind: str, node: ast.AST, function: str, options: tuple[Option, ...]) -> None:
        location = self.location(node)
        self.call_sites.append(CallSite(kind=kind, path=self.path, location=location,
                                        task=TaskReference(function=function),
                                        task_location=location, options=options))

    def _enqueue_site(self, node: ast.Call, method: str) -> None:
        position, keyword = ENQUEUE_METHODS[method]
        job_node = argument(node, position, keyword)
        if job_node is None:
            return
        reference = self._job_reference(job_node)
        if reference is None:
            return
        self.call_sites.append(CallSite(
            kind=method, path=self.path, location=self.location(node), task=reference,
            task_location=self.location(job_node),
            options=self.options(node.keywords, skip=(keyword, "args", "kwargs")),
            report_unknown_options=method == "enqueue_call",
        ))

    def _job_reference(self, node: ast.expr) -> TaskReference | None:
        """Return a dotted-path string, a constant holding one, or a function reference."""
        reference = self.task_reference(node)
        if reference is None and isinstance(node, ast.Name) and node.id in self.module_names:
            own = f"{self.module_name}.{node.id}"
            return TaskReference(function=own)
        if reference is None:
            return None
        if reference.name is not None:
            return reference if DOTTED_PATH.fullmatch(reference.name) else None
        # A name bound elsewhere is a constant holding a path or a function: the checker
        # looks it up among the constants first, then among the functions.
        return TaskReference(constant=reference.constant, function=reference.constant)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._queue_settings(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._queue_settings(node.target, node.value)

    def _queue_settings(self, target: ast.expr, value: ast.expr) -> None:
        if last_segment(target) != QUEUE_SETTINGS or not isinstance(value, ast.Dict):
            return
        for key in value.keys:
            if is_string(key):
                self.queues.append(string(key))


class RQPreset(Preset):
    """RQ: see the module docstring."""

    visitor_class = _RQVisitor
    name = "rq"
    tokens = (b"enqueue", b"RQ_QUEUES", b"get_queue", b"import rq", b"from rq", b"django_rq")
    decorator_pattern = re.compile(rb"@job\b")
    skim_everything = True

    def build_catalog(self, index: ProjectIndex) -> Catalog:
        specs = [_spec_of(function, index.tasks_by_function.get(function)) for function in sorted(index.functions)]
        return catalog_of("<functions found in the checked code>", specs, index.queues | {DEFAULT_QUEUE})

    def extract_catalog(self, index: ProjectIndex) -> Catalog:
        """Return the jobs only: ``@job`` functions and the functions that calls enqueue.

        Every function could be a job, but a catalog of all of them would let a typo that
        names an ordinary function pass as a job.
        """
        enqueued = {site.task.name or site.task.function for site in index.call_sites()}
        jobs = sorted(
            function for function in index.functions
            if function in index.tasks_by_function or function in enqueued
        )
        specs = [_spec_of(function, index.tasks_by_function.get(function)) for function in jobs]
        return catalog_of("<jobs found in the checked code>", specs, index.queues | {DEFAULT_QUEUE})

    def check(self, index: ProjectIndex, catalog: Catalog, explicit_catalog: bool) -> list[Finding]:
        checker = _RQChecker(index, catalog, explicit_catalog)
        checker.declared_queues = set(index.queues)
        if explicit_catalog:
            checker.declared_queues |= set(catalog.queues)
        for site in index.call_sites():
            if site.kind in ("queue", "job"):
                definition = index.tasks_by_function.get(site.task.function or "")
                for option in site.options:
                    checker.queue(site, option, definition)
                continue
            known, definition = checker.find_job(site)
            if known:
                checker.check_options(site, definition)
        return checker.findings
