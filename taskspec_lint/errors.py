"""Exceptions raised by the runtime registry, enqueue and handler registration."""

from __future__ import annotations

from collections.abc import Iterable

from taskspec_lint.suggest import closest


class TaskSpecError(Exception):
    """Base class of every error this package raises on purpose."""


class UnknownTaskType(TaskSpecError, LookupError):
    """A task type that is not in the catalog."""

    def __init__(self, task_type: str, known: Iterable[str]) -> None:
        self.task_type = task_type
        self.suggestions = closest(task_type, known)
        hint = f"; did you mean {_quote_list(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown task type {task_type!r}{hint}")


class InvalidOverride(TaskSpecError, ValueError):
    """An enqueue option of the wrong type or outside its bound.

    ``value`` is what the caller passed, ``value_text`` how the message prints it (durations
    as ``30s``), and ``bound`` the limit it broke, when it has one.
    """

    def __init__(
        self,
        task_type: str,
        option: str,
        value: object,
        reason: str,
        *,
        value_text: str | None = None,
        bound: str | None = None,
        suggestions: Iterable[str] = (),
    ) -> None:
        self.task_type = task_type
        self.option = option
        self.value = value
        self.reason = reason
        self.bound = bound
        self.suggestions = list(suggestions)
        hint = f"; did you mean {_quote_list(self.suggestions)}?" if self.suggestions else ""
        value_text = value_text if value_text is not None else repr(value)
        super().__init__(f"{task_type}: {option}={value_text} {reason}{hint}")


class MissingCompensation(TaskSpecError, TypeError):
    """A handler of a non-idempotent task type registered without compensation."""

    def __init__(self, task_type: str) -> None:
        self.task_type = task_type
        super().__init__(
            f"task type {task_type!r} is not idempotent, so its handler needs compensation: "
            f"pass compensate=<function that undoes a partial run>"
        )


class DuplicateHandler(TaskSpecError, ValueError):
    """A second handler registered for the same task type."""

    def __init__(self, task_type: str, existing: str) -> None:
        self.task_type = task_type
        super().__init__(f"task type {task_type!r} already has a handler: {existing}")


class CatalogError(TaskSpecError, ValueError):
    """A catalog file that cannot be read or breaks the catalog format.

    The message starts with ``path:line:column:`` so editors and CI logs link to the spot.
    """

    def __init__(self, path: str, line: int, column: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        self.more: list[CatalogError] = []
        super().__init__(f"{path}:{line}:{column}: {reason}")


def _quote_list(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
