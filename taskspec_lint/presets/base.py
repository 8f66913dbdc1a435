"""The shared part of the presets: the extraction visitor's helpers and the Preset interface.

A preset describes one queue library. It says which files could matter (byte tokens),
extracts facts from each such file (task definitions, constants, declared queues, call
sites), turns the definitions into a catalog, and checks every call site against the
catalog and the project index.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

from taskspec_lint.backoff import RetryDelay
from taskspec_lint.checker import SourceError, decode_source
from taskspec_lint.checker.evaluate import UNKNOWN, InvalidLiteral, evaluate
from taskspec_lint.presets.facts import (
    CallSite,
    FileFacts,
    Location,
    Option,
    TaskDefinition,
    TaskReference,
    Value,
)

if TYPE_CHECKING:
    from taskspec_lint.checker.findings import Finding
    from taskspec_lint.model import Catalog
    from taskspec_lint.presets.index import ProjectIndex


class Preset:
    """One queue library: subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    tokens: ClassVar[tuple[bytes, ...]]

    def extract(self, module: cst.Module, module_name: str, path: str, text: str) -> FileFacts:
        """Return the facts of one parsed file."""
        raise NotImplementedError

    def build_catalog(self, index: ProjectIndex) -> Catalog:
        """Return the catalog the project's own task definitions describe."""
        raise NotImplementedError

    def check(self, index: ProjectIndex, catalog: Catalog, explicit_catalog: bool) -> list[Finding]:
        """Return the findings of every call site; ``explicit_catalog`` is a catalog file."""
        raise NotImplementedError

    def could_matter(self, data: bytes) -> bool:
        """Return whether a file's bytes contain any of the preset's tokens."""
        return any(token in data for token in self.tokens)

    def skim(self, data: bytes, module_name: str) -> FileFacts | None:
        """Return the module-level string constants and functions of a file the tokens rule out.

        Other files name tasks with such constants, and RQ jobs are plain functions, so
        these facts matter even in a file without a token. Lines are matched, not parsed.
        """
        try:
            text = decode_source(data)
        except SourceError:
            return None
        return skim_text(text, module_name)


# Module-level statements, recognised by a line that starts at column 0.
_FUNCTION_LINE = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_ASSIGNMENT_LINE = re.compile(r"^([A-Za-z_]\w*)[ \t]*=(?!=)[ \t]*(.*)$", re.MULTILINE)
_STRING_VALUE = re.compile(r"""(["'])([^"'\\\n]*)\1[ \t]*(?:#.*)?""")


def skim_text(text: str, module_name: str) -> FileFacts:
    """Return the constants and functions that lines at column 0 define in ``text``.

    NOTE: a line at column 0 inside a triple-quoted string is read as code too.
    """
    functions = tuple(f"{module_name}.{match[1]}" for match in _FUNCTION_LINE.finditer(text))
    constants: dict[str, str] = {}
    assigned: dict[str, int] = {}
    for match in _ASSIGNMENT_LINE.finditer(text):
        name = match[1]
        assigned[name] = assigned.get(name, 0) + 1
        value = _STRING_VALUE.fullmatch(match[2].rstrip())
        if value is not None:
            constants[name] = value[2]
    for name, count in assigned.items():
        if count > 1:
            constants.pop(name, None)
    return FileFacts(module=module_name, constants=constants, functions=functions)


class FactsVisitor(cst.CSTVisitor):
    """Base visitor: positions, qualified names made absolute, literal values, constants."""

    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider)

    def __init__(self, module_name: str, path: str) -> None:
        super().__init__()
        self.module_name = module_name
        self.package = module_name if path.endswith("__init__.py") else module_name.rpartition(".")[0]
        self.path = path
        self.definitions: list[TaskDefinition] = []
        self.call_sites: list[CallSite] = []
        self.constants: dict[str, str] = {}
        self.queues: list[str] = []
        self.functions: list[str] = []
        self._rebound: set[str] = set()

    # Module level ------------------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        seen: dict[str, int] = {}
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef):
                self.functions.append(f"{self.module_name}.{statement.name.value}")
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name):
                        seen[target.value] = seen.get(target.value, 0) + 1
                        text = _string_value(small.value)
                        if text is not None:
                            self.constants[target.value] = text
        for name, count in seen.items():
            if count > 1:
                self.constants.pop(name, None)

    # Helpers ---------------------------------------------------------------------------

    def location(self, node: cst.CSTNode) -> Location:
        """Return the 1-based span of ``node``."""
        code_range = self.get_metadata(PositionProvider, node)
        return Location(code_range.start.line, code_range.start.column + 1,
                        code_range.end.line, code_range.end.column + 1)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Return the absolute qualified names of ``node``, or its dotted spelling."""
        names: set[str] = set()
        for qualified in self.get_metadata(QualifiedNameProvider, node, set()):
            name = qualified.name
            if "<locals>" in name:
                continue
            if name.startswith("."):
                name = self.absolute(name)
            elif qualified.source is QualifiedNameSource.LOCAL:
                name = f"{self.module_name}.{name}"
            names.add(name)
        if not names:
            spelled = get_full_name_for_node(node)
            if spelled:
                names.add(spelled)
        return names

    def absolute(self, relative: str) -> str:
        """Resolve a relative dotted name (``.tasks.send``) against this module's package."""
        dots = len(relative) - len(relative.lstrip("."))
        parts = self.package.split(".") if self.package else []
        if dots > 1:
            parts = parts[: len(parts) - (dots - 1)]
        return ".".join([*parts, relative[dots:]]) if parts else relative[dots:]

    def value(self, node: cst.BaseExpression) -> Value:
        """Evaluate ``node`` into a serialisable ``Value``."""
        source = cst.Module([]).code_for_node(node)
        result = evaluate(node, self._names_for_evaluate)
        return to_value(result, source)

    def _names_for_evaluate(self, node: cst.CSTNode) -> Collection[str]:
        return self.qualified_names(node)

    def task_reference(self, node: cst.BaseExpression) -> TaskReference | None:
        """Resolve a task-name expression: a literal, a constant here or elsewhere, or None."""
        text = _string_value(node)
        if text is not None:
            return TaskReference(name=text)
        if isinstance(node, cst.Name | cst.Attribute):
            scope_names = self.get_metadata(QualifiedNameProvider, node, set())
            for qualified in scope_names:
                if qualified.source is QualifiedNameSource.LOCAL and qualified.name in self.constants:
                    return TaskReference(name=self.constants[qualified.name])
            for name in self.qualified_names(node):
                if name.startswith(self.module_name + "."):
                    local = name[len(self.module_name) + 1:]
                    if local in self.constants:
                        return TaskReference(name=self.constants[local])
                    continue
                return TaskReference(constant=name)
        return None

    def options(self, args: Sequence[cst.Arg], skip: Iterable[str] = ()) -> tuple[Option, ...]:
        """Return the keyword arguments of a call as options, leaving out ``skip``."""
        skipped = set(skip)
        return tuple(
            Option(arg.keyword.value, self.value(arg.value), self.location(arg))
            for arg in args
            if arg.keyword is not None and arg.keyword.value not in skipped
        )

    def facts(self, noqa: dict[int, str]) -> FileFacts:
        """Return what the visit collected."""
        return FileFacts(
            module=self.module_name,
            definitions=tuple(self.definitions),
            constants=dict(self.constants),
            queues=tuple(dict.fromkeys(self.queues)),
            call_sites=tuple(self.call_sites),
            functions=tuple(self.functions),
            noqa=noqa,
        )


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def to_value(result: object, source: str) -> Value:
    """Convert an evaluated literal into a ``Value``."""
    if result is UNKNOWN or isinstance(result, InvalidLiteral | RetryDelay):
        return Value("unknown", source=source)
    if result is None:
        return Value("none", source=source)
    if isinstance(result, bool):
        return Value("bool", number=float(result), source=source)
    if isinstance(result, int):
        return Value("int", number=float(result), source=source)
    if isinstance(result, float):
        return Value("float", number=result, source=source)
    if isinstance(result, str):
        return Value("str", text=result, source=source)
    if isinstance(result, timedelta):
        return Value("seconds", number=result.total_seconds(), source=source)
    return Value("unknown", source=source)


def seconds(value: Value) -> float | None:
    """Return a number or duration value in seconds, or None."""
    if value.kind in ("int", "float", "seconds") and value.number is not None:
        return value.number
    return None


def option_map(options: Iterable[Option]) -> dict[str, Option]:
    """Return options by keyword; the last one wins, as in a Python call."""
    return {option.keyword: option for option in options}
