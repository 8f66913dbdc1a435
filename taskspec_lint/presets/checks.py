"""Checks of call sites against the project index, shared by the presets."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any

from taskspec_lint.checker import rules
from taskspec_lint.checker.findings import Finding
from taskspec_lint.durations import format_duration
from taskspec_lint.model import Catalog
from taskspec_lint.presets.base import seconds
from taskspec_lint.presets.facts import CallSite, Location, Option, TaskDefinition
from taskspec_lint.presets.index import ProjectIndex
from taskspec_lint.suggest import closest


def no_time_limit(limit: timedelta) -> bool:
    """Return whether ``limit`` means "no time limit"."""
    return limit >= timedelta(days=3650)


class SiteChecker:
    """Collects findings for call sites; each check is one method."""

    def __init__(self, index: ProjectIndex, catalog: Catalog, explicit_catalog: bool,
                 builtin_prefix: str | None = None) -> None:
        self.index = index
        self.catalog = catalog
        self.explicit_catalog = explicit_catalog
        self.builtin_prefix = builtin_prefix
        self.declared_queues: set[str] = set()
        self.findings: list[Finding] = []
        self._labels: dict[int, str] = {}

    def known_names(self) -> Collection[str]:
        """Return the task names call sites may use."""
        return self.catalog.specs if self.explicit_catalog else self.index.tasks_by_name

    def resolve(self, site: CallSite) -> TaskDefinition | None:
        """Return the definition ``site`` names, reporting TSK101 for an unknown name."""
        if site.task.function is not None:
            definition = self.index.tasks_by_function.get(site.task.function)
            if definition is not None:
                self._labels[id(site)] = definition.name
            return definition

        name = site.task.name
        if name is None and site.task.constant is not None:
            name = self.index.constants.get(site.task.constant)
        if name is None:
            return None
        self._labels[id(site)] = name
        definitions = self.index.tasks_by_name.get(name)
        if name in self.known_names():
            return definitions[0] if definitions else None
        if not self.explicit_catalog and not self.index.tasks_by_name:
            return None  # no task is defined in the checked code, so no name can be judged
        if self.builtin_prefix and name.startswith(self.builtin_prefix):
            return None
        hint = _hint(name, self.known_names())
        if definitions:
            hint = f"; it is defined at {definitions[0].path}:{definitions[0].location.line} but not in the catalog"
        self.report(rules.UnknownTaskType, site.path, site.task_location, name, hint=hint)
        return None

    def label(self, site: CallSite) -> str:
        """Return the task name to show in messages about ``site``."""
        return self._labels.get(id(site)) or site.task.name or site.task.function or "task"

    def unknown_options(self, site: CallSite, allowed: Collection[str]) -> None:
        """Report TSK201 for each keyword of ``site`` that the library does not know."""
        for option in site.options:
            if option.keyword not in allowed:
                hint = _hint(option.keyword, allowed)
                self.report(rules.UnknownOption, site.path, option.location, self.label(site),
                            task_type=self.label(site), option=option.keyword, hint=hint)

    def not_negative(self, site: CallSite, option: Option, definition: TaskDefinition | None) -> None:
        """Report TSK203 for a negative delay such as ``countdown=-5``."""
        value = seconds(option.value)
        if value is not None and value < 0:
            self.report(rules.OverrideOutOfBound, site.path, option.location, _name(definition),
                        task_type=self.label(site), option=option.keyword, value=option.value.source,
                        reason="must be 0s or more", bound="0s or more")

    def time_limit(self, site: CallSite, option: Option, limit: timedelta | None) -> None:
        """Report TSK203 for a call-site time limit above the task's own ``limit``."""
        value = seconds(option.value)
        if value is None or limit is None or no_time_limit(limit):
            return
        if value > limit.total_seconds():
            bound = f"at most {format_duration(limit)}"
            self.report(rules.OverrideOutOfBound, site.path, option.location, self.label(site),
                        task_type=self.label(site), option=option.keyword, value=option.value.source,
                        reason=f"is above the task's own limit; it must be {bound}", bound=bound)
        elif value <= 0:
            self.report(rules.OverrideOutOfBound, site.path, option.location, self.label(site),
                        task_type=self.label(site), option=option.keyword, value=option.value.source,
                        reason="must be more than 0s", bound="more than 0s")

    def retries(self, site: CallSite, option: Option, ceiling: int | None) -> None:
        """Report TSK203 for a retry count above the task's own ``ceiling``."""
        value = option.value
        if value.kind != "int" or value.number is None or ceiling is None:
            return
        if not 0 <= value.number <= ceiling:
            bound = f"0..{ceiling}"
            self.report(rules.OverrideOutOfBound, site.path, option.location, self.label(site),
                        task_type=self.label(site), option=option.keyword, value=value.source,
                        reason=f"is outside the allowed range {bound}", bound=bound)

    def queue(self, site: CallSite, option: Option, definition: TaskDefinition | None) -> None:
        """Report TSK204 for a queue the project does not declare (when it declares any)."""
        name = option.value.text
        if option.value.kind != "str" or name is None or not self.declared_queues:
            return
        if name not in self.declared_queues:
            hint = _hint(name, self.declared_queues)
            self.report(rules.UnknownQueue, site.path, option.location, _name(definition),
                        task_type=self.label(site), value=repr(name), hint=hint)

    def duplicate_definitions(self) -> None:
        """Report TSK304 for a task name that two functions define."""
        for name, definitions in sorted(self.index.tasks_by_name.items()):
            first = definitions[0]
            for other in definitions[1:]:
                if other.function == first.function:
                    # The same dotted function twice: one file seen twice, or two folders
                    # outside any package with a module of the same name. Not a clash.
                    continue
                where = f"{first.location.line} of {first.path}" if other.path != first.path else str(first.location.line)
                self.report(rules.DuplicateRegistration, other.path, other.location, name,
                            task_type=name, first_line=where)

    def report(self, rule: type[rules.Rule], path: str, location: Location,
               catalog_type: str | None, **values: Any) -> None:
        """Record a finding of ``rule`` at ``location``."""
        if "task_type" not in values and catalog_type is not None:
            values["task_type"] = catalog_type
        fact_values = tuple((key, str(value)) for key, value in values.items() if key != "hint")
        self.findings.append(Finding(
            path=path, line=location.line, column=location.column, code=rule.code,
            message=rule.format(**values),
            task_type=catalog_type if catalog_type in self.catalog.specs else None,
            values=fact_values, end_line=location.end_line, end_column=location.end_column,
        ))


def _name(definition: TaskDefinition | None) -> str | None:
    return definition.name if definition is not None else None


def _hint(name: str, known: Collection[str]) -> str:
    suggestions = closest(name, known)
    if not suggestions:
        return ""
    return "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
