"""Facts a preset extracts from one file: task definitions, constants, queues, call sites.

Facts are plain data that round-trip through JSON, so the project index can cache them
on disk by file content and a warm run parses nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Location:
    """A 1-based span in a file."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Value:
    """A literal value the extractor evaluated.

    ``kind`` is ``int``, ``float``, ``bool``, ``str``, ``none``, ``seconds`` (a duration,
    ``number`` holding seconds), ``retry`` (RQ's ``Retry(max=..., interval=...)``) or
    ``unknown`` for an expression that is not a literal.
    """

    kind: str
    number: float | None = None
    text: str | None = None
    source: str = ""
    fields: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """One keyword argument of a call site or a task definition."""

    keyword: str
    value: Value
    location: Location


@dataclass(frozen=True)
class TaskReference:
    """The way a call site names its task: a literal, a constant in another module, or a function.

    ``name`` is a resolved task name. ``constant`` is the fully qualified name of a
    module-level constant to look up in the index. ``function`` is the fully qualified
    name of a function (a ``.delay()`` receiver, or a callable passed to ``enqueue``).
    """

    name: str | None = None
    constant: str | None = None
    function: str | None = None


@dataclass(frozen=True)
class TaskDefinition:
    """A task defined in the checked code, with the options of its decorator.

    ``name_constant`` is the fully qualified name of a constant in another module that
    contains the task name. The index fills in ``name`` from it once every file is read.
    """

    name: str
    function: str
    path: str
    location: Location
    options: tuple[Option, ...] = ()
    name_constant: str | None = None


@dataclass(frozen=True)
class CallSite:
    """A place that sends a task or names one; ``kind`` is its form (``send_task``, ...)."""

    kind: str
    path: str
    location: Location
    task: TaskReference
    task_location: Location
    options: tuple[Option, ...] = ()
    report_unknown_options: bool = False


@dataclass(frozen=True)
class FileFacts:
    """Everything one file contributes to the project index."""

    module: str
    definitions: tuple[TaskDefinition, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)
    queues: tuple[str, ...] = ()
    call_sites: tuple[CallSite, ...] = ()
    functions: tuple[str, ...] = ()
    noqa: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict; ``from_json`` reads it back."""
        return {
            "module": self.module,
            "definitions": [asdict(definition) for definition in self.definitions],
            "constants": self.constants,
            "queues": list(self.queues),
            "call_sites": [asdict(site) for site in self.call_sites],
            "functions": list(self.functions),
            "noqa": self.noqa,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileFacts:
        """Rebuild facts written by ``to_json``."""
        return cls(
            module=data["module"],
            definitions=tuple(_definition(item) for item in data["definitions"]),
            constants=dict(data["constants"]),
            queues=tuple(data["queues"]),
            call_sites=tuple(_call_site(item) for item in data["call_sites"]),
            functions=tuple(data["functions"]),
            noqa={int(line): text for line, text in data["noqa"].items()},
        )


def _value(data: dict[str, Any]) -> Value:
    return Value(
        kind=data["kind"], number=data["number"], text=data["text"], source=data["source"],
        fields={key: _value(item) for key, item in data["fields"].items()},
    )


def _option(data: dict[str, Any]) -> Option:
    return Option(data["keyword"], _value(data["value"]), Location(**data["location"]))


def _definition(data: dict[str, Any]) -> TaskDefinition:
    return TaskDefinition(
        name=data["name"], function=data["function"], path=data["path"],
        location=Location(**data["location"]),
        options=tuple(_option(item) for item in data["options"]),
        name_constant=data["name_constant"],
    )


def _call_site(data: dict[str, Any]) -> CallSite:
    return CallSite(
        kind=data["kind"], path=data["path"], location=Location(**data["location"]),
        task=TaskReference(**data["task"]), task_location=Location(**data["task_location"]),
        options=tuple(_option(item) for item in data["options"]),
        report_unknown_options=data["report_unknown_options"],
    )
