"""The shared part of the presets: the Preset interface, skimming, and catalog building.

A preset describes one queue library. Its byte tokens pick the files worth parsing. It
extracts facts from each such file (task definitions, constants, declared queues, call
sites), turns the definitions into a catalog, and checks every call site against the
catalog and the project index.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from taskspec_lint.model import Bounds, Catalog, Queue, TaskFacts, TaskSpec
from taskspec_lint.presets.facts import FileFacts, Option, TaskDefinition, Value
from taskspec_lint.presets.syntax import FactsVisitor, noqa_lines

if TYPE_CHECKING:
    from taskspec_lint.checker.findings import Finding
    from taskspec_lint.presets.index import ProjectIndex


class Preset:
    """One queue library: subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    # A file that contains one of these bytes is parsed at once: it may define or name tasks.
    tokens: ClassVar[tuple[bytes, ...]]
    # A file that matches this is parsed at once too; it starts with "@" so a search is fast.
    decorator_pattern: ClassVar[re.Pattern[bytes] | None] = None
    # A task method call, such as ".delay(", without its receiver. A file with no other hint
    # is parsed only when a receiver (the "send_mail" of "send_mail.delay(") is a task function.
    method_pattern: ClassVar[re.Pattern[bytes] | None] = None
    # Whether every file's functions and constants matter (RQ: any function is a job), or
    # only those of modules that a call site or definition refers to (read on demand).
    skim_everything: ClassVar[bool] = False

    # The visitor that reads one parsed file for this library.
    visitor_class: ClassVar[type[FactsVisitor]]

    def extract(self, tree: ast.Module, module_name: str, path: str, text: str) -> FileFacts:
        """Return the facts of one parsed file."""
        visitor = self.visitor_class(module_name, path, text)
        visitor.read_module(tree)
        return visitor.facts(noqa_lines(text, tree) if visitor.found_anything() else {})

    def build_catalog(self, index: ProjectIndex) -> Catalog:
        """Return the catalog the project's own task definitions describe."""
        raise NotImplementedError

    def extract_catalog(self, index: ProjectIndex) -> Catalog:
        """Return the catalog ``catalog extract`` writes: by default, the one checks use."""
        return self.build_catalog(index)

    def check(self, index: ProjectIndex, catalog: Catalog, explicit_catalog: bool) -> list[Finding]:
        """Return the findings of every call site; ``explicit_catalog`` is a catalog file."""
        raise NotImplementedError

    def could_matter(self, data: bytes) -> bool:
        """Return whether a file's bytes show it may define or name tasks, so it must be parsed."""
        if any(token in data for token in self.tokens):
            return True
        return self.decorator_pattern is not None and self.decorator_pattern.search(data) is not None

    def receivers(self, data: bytes) -> list[str]:
        """Return the names a file calls task methods on (``x`` of ``x.delay(``), sorted."""
        if self.method_pattern is None:
            return []
        names: set[str] = set()
        for match in self.method_pattern.finditer(data):
            end = start = match.start()
            while start > 0 and data[start - 1] in _IDENTIFIER_BYTES:
                start -= 1
            if start < end:
                names.add(data[start:end].decode("ascii", "replace"))
        return sorted(names)

    def skim(self, data: bytes, module_name: str) -> FileFacts | None:
        """Return the module-level string constants and functions of a file the tokens rule out.

        Other files name tasks with such constants, and RQ jobs are plain functions, so
        these facts matter even in a file without a token. Lines are matched, not parsed.
        """
        return skim_bytes(data, module_name)


_IDENTIFIER_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

# Module-level statements, recognised by a line that starts at column 0.
_FUNCTION_BYTES = re.compile(rb"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_ASSIGNMENT_BYTES = re.compile(rb"^([A-Za-z_]\w*)[ \t]*=(?!=)[ \t]*([^\r\n]*)", re.MULTILINE)
_STRING_BYTES = re.compile(rb"""(["'])([^"'\\\n]*)\1[ \t]*(?:#.*)?""")


def skim_bytes(data: bytes, module_name: str) -> FileFacts:
    """Return the constants and functions that lines at column 0 define, without parsing.

    The raw bytes are matched, and names and string values are decoded as UTF-8, so a
    file in another encoding can only lose a constant whose value is not ASCII.
    NOTE: a line at column 0 inside a triple-quoted string is read as code too.
    """
    functions = tuple(
        f"{module_name}.{match[1].decode('utf-8', 'replace')}" for match in _FUNCTION_BYTES.finditer(data)
    )
    constants: dict[str, str] = {}
    assigned: dict[str, int] = {}
    for match in _ASSIGNMENT_BYTES.finditer(data):
        name = match[1].decode("utf-8", "replace")
        assigned[name] = assigned.get(name, 0) + 1
        value = _STRING_BYTES.fullmatch(match[2].rstrip())
        if value is not None:
            constants[name] = value[2].decode("utf-8", "replace")
    for name, count in assigned.items():
        if count > 1:
            constants.pop(name, None)
    return FileFacts(module=module_name, constants=constants, functions=functions)


def catalog_of(
    source: str,
    specs: Iterable[TaskSpec],
    declared_queues: Iterable[str],
    retry_delay_ceiling: timedelta = timedelta(hours=24),
) -> Catalog:
    """Build the catalog of specs extracted from code; queues have no weights there."""
    queues = {name: Queue(name, 0, 1, None) for name in sorted(declared_queues)}
    by_type: dict[str, TaskSpec] = {}
    bounds: dict[str, Bounds] = {}
    for spec in specs:
        queues.setdefault(spec.queue, Queue(spec.queue, 0, 1, None))
        by_type[spec.type] = spec
        bounds[spec.type] = Bounds(spec.max_retry, spec.timeout, timedelta(days=7), retry_delay_ceiling)
    facts = {name: TaskFacts() for name in by_type}
    return Catalog(source, MappingProxyType(queues), MappingProxyType(by_type),
                   MappingProxyType(bounds), MappingProxyType(facts))


def spec_or_defaults(read: Callable[[TaskDefinition], TaskSpec], definition: TaskDefinition) -> TaskSpec:
    """Return ``read(definition)``, or the library's defaults when an option cannot be used.

    A decorator value such as ``retry_backoff=-5`` or ``time_limit=1e15`` is valid Python
    that the library rejects or cannot represent either, so the spec falls back to the
    defaults instead of stopping the run.
    """
    try:
        return read(definition)
    except (ValueError, OverflowError, TypeError):
        return read(replace(definition, options=()))


def duration_of(number: float | None) -> timedelta | None:
    """Return ``number`` seconds as a timedelta, or None when it is None or out of range."""
    if number is None:
        return None
    try:
        return timedelta(seconds=number)
    except (OverflowError, ValueError):
        return None


def seconds(value: Value) -> float | None:
    """Return a number or duration value in seconds, or None."""
    if value.kind in ("int", "float", "seconds") and value.number is not None:
        return value.number
    return None


def option_map(options: Iterable[Option]) -> dict[str, Option]:
    """Return options by keyword; the last one wins, as in a Python call."""
    return {option.keyword: option for option in options}
