"""Fact extraction on the standard library's ``ast``, shared by the presets.

The presets read every file of a project that could define or send a task. libcst with
scope metadata costs about a second per file on this kind of code, so a Celery project
would take a minute. The index reads files with ``ast`` instead, whose parse is several
times faster and needs no extra passes. Names are resolved through the module's
imports, without scope analysis: a local variable that shadows an imported name is
read as the import.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from taskspec_lint.checker.noqa import source_lines
from taskspec_lint.presets.facts import (
    CallSite,
    FileFacts,
    Location,
    Option,
    TaskDefinition,
    TaskReference,
    Value,
)

_TIMEDELTA = "datetime.timedelta"
# The node types a preset visitor may handle with a visit_<NodeType> method.
_VISITED_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Call, ast.Assign, ast.AnnAssign)
_TIMEDELTA_KEYWORDS = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")


class FactsVisitor(ast.NodeVisitor):
    """Base visitor: imports, positions, absolute qualified names, literal values, constants."""

    def __init__(self, module_name: str, path: str, text: str) -> None:
        self.module_name = module_name
        self.package = module_name if path.endswith("__init__.py") else module_name.rpartition(".")[0]
        self.path = path
        self.lines = source_lines(text)
        self.definitions: list[TaskDefinition] = []
        self.call_sites: list[CallSite] = []
        self.constants: dict[str, str] = {}
        self.queues: list[str] = []
        self.functions: list[str] = []
        self.aliases: dict[str, str] = {}
        self.module_names: set[str] = set()

    # Module level ------------------------------------------------------------------------

    def read_module(self, tree: ast.Module) -> None:
        """Collect imports, top-level functions and string constants, then visit the tree."""
        assigned: dict[str, int] = {}
        for statement in ast.walk(tree):
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self._import(statement)
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.module_names.add(statement.name)
                if not isinstance(statement, ast.ClassDef):
                    self.functions.append(f"{self.module_name}.{statement.name}")
            for target in _assigned_names(statement):
                assigned[target] = assigned.get(target, 0) + 1
                self.module_names.add(target)
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                only = statement.targets[0]
                if isinstance(only, ast.Name) and _is_string(statement.value):
                    self.constants[only.id] = _string(statement.value)
        for name, count in assigned.items():
            if count > 1:
                self.constants.pop(name, None)
        self._visit_all(tree)

    def _visit_all(self, tree: ast.Module) -> None:
        """Call ``visit_<NodeType>`` for every node of ``tree``, in no particular order.

        A flat walk with a dispatch table instead of NodeVisitor's recursion, which spends
        most of its time looking up methods for node types that have none.
        """
        handlers: dict[type[ast.AST], Callable[[Any], None]] = {}
        for node_type in _VISITED_TYPES:
            handler = getattr(self, f"visit_{node_type.__name__}", None)
            if handler is not None:
                handlers[node_type] = handler
        for node in ast.walk(tree):
            handler = handlers.get(type(node))
            if handler is not None:
                handler(node)

    def _import(self, statement: ast.Import | ast.ImportFrom) -> None:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    root = alias.name.partition(".")[0]
                    self.aliases[root] = root
            return
        base = statement.module or ""
        if statement.level:
            base = self.absolute("." * statement.level + base)
        for alias in statement.names:
            if alias.name != "*":
                self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name

    # Helpers ---------------------------------------------------------------------------

    def location(self, node: ast.AST) -> Location:
        """Return the 1-based span of ``node``, with columns counted in characters."""
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        column = self._characters(line, getattr(node, "col_offset", 0))
        end_column = self._characters(end_line, getattr(node, "end_col_offset", None) or 0)
        return Location(line, column + 1, end_line, end_column + 1)

    def _characters(self, line: int, byte_offset: int) -> int:
        """Convert ast's UTF-8 byte offset into a character offset."""
        if not 0 < line <= len(self.lines):
            return byte_offset
        text = self.lines[line - 1]
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))

    def source(self, node: ast.AST) -> str:
        """Return the source text of ``node`` (rebuilt by ``ast.unparse`` when it spans lines)."""
        line = getattr(node, "lineno", 0)
        end_offset = getattr(node, "end_col_offset", None)
        if line == getattr(node, "end_lineno", None) and end_offset is not None and 0 < line <= len(self.lines):
            data = self.lines[line - 1].encode("utf-8")
            return data[getattr(node, "col_offset", 0):end_offset].decode("utf-8", errors="replace")
        return ast.unparse(node)

    def qualified_name(self, node: ast.AST) -> str | None:
        """Return the absolute dotted name of a Name or Attribute chain, through imports."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id)
        if head is None:
            head = f"{self.module_name}.{node.id}" if node.id in self.module_names else node.id
        return ".".join([head, *reversed(parts)])

    def qualified_names(self, node: ast.AST) -> set[str]:
        """Return ``{qualified_name(node)}``, or an empty set when it has none."""
        name = self.qualified_name(node)
        return {name} if name is not None else set()

    def absolute(self, relative: str) -> str:
        """Resolve a relative dotted name (``.tasks.send``) against this module's package."""
        dots = len(relative) - len(relative.lstrip("."))
        parts = self.package.split(".") if self.package else []
        if dots > 1:
            parts = parts[: max(0, len(parts) - (dots - 1))]
        rest = relative[dots:]
        return ".".join([*parts, rest] if rest else parts)

    def name_location(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Location:
        """Return the span of a definition's name, which ast does not record directly."""
        line = node.lineno
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        keyword = "class" if isinstance(node, ast.ClassDef) else "def"
        column = text.find(node.name, max(text.find(keyword), 0))
        start = self._characters(line, len(text[:column].encode("utf-8"))) + 1 if column >= 0 else 1
        return Location(line, start, line, start + len(node.name))

    def value(self, node: ast.expr) -> Value:
        """Evaluate a literal expression into a serialisable ``Value``."""
        return _to_value(self._evaluate(node), self.source(node))

    def _evaluate(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant) and not isinstance(node.value, bytes | complex):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self._evaluate(node.operand)
            if _is_number(operand):
                return -operand if isinstance(node.op, ast.USub) else operand  # type: ignore[operator]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
            left, right = self._evaluate(node.left), self._evaluate(node.right)
            if _is_number(left) and _is_number(right):
                try:
                    if isinstance(node.op, ast.Add):
                        return left + right  # type: ignore[operator]
                    if isinstance(node.op, ast.Sub):
                        return left - right  # type: ignore[operator]
                    return left * right  # type: ignore[operator]
                except (TypeError, OverflowError):
                    return _UNKNOWN
        if isinstance(node, ast.Call) and self.qualified_name(node.func) == _TIMEDELTA:
            return self._timedelta(node)
        if isinstance(node, ast.Call) and self.qualified_name(node.func) in ("rq.Retry", "rq.retry.Retry"):
            return {keyword.arg: self.value(keyword.value) for keyword in node.keywords if keyword.arg}
        return _UNKNOWN

    def _timedelta(self, node: ast.Call) -> object:
        args = [self._evaluate(arg) for arg in node.args]
        kwargs = {keyword.arg: self._evaluate(keyword.value) for keyword in node.keywords}
        values = [*args, *kwargs.values()]
        if any(not _is_number(value) for value in values) or None in kwargs:
            return _UNKNOWN
        if any(key not in _TIMEDELTA_KEYWORDS for key in kwargs if key):
            return _UNKNOWN
        try:
            return timedelta(*args, **kwargs)  # type: ignore[arg-type]
        except (TypeError, OverflowError, ValueError):
            return _UNKNOWN

    def task_reference(self, node: ast.expr) -> TaskReference | None:
        """Resolve a task-name expression: a literal, a constant here or elsewhere, or None."""
        if _is_string(node):
            return TaskReference(name=_string(node))
        if isinstance(node, ast.Name) and node.id in self.constants and node.id not in self.aliases:
            return TaskReference(name=self.constants[node.id])
        if isinstance(node, ast.Name | ast.Attribute):
            name = self.qualified_name(node)
            if name is not None and not name.startswith(self.module_name + "."):
                return TaskReference(constant=name)
        return None

    def options(self, keywords: Iterable[ast.keyword], skip: Iterable[str] = ()) -> tuple[Option, ...]:
        """Return keyword arguments as options, leaving out ``skip`` and ``**kwargs``."""
        skipped = set(skip)
        return tuple(
            Option(keyword.arg, self.value(keyword.value), self.location(keyword))
            for keyword in keywords
            if keyword.arg is not None and keyword.arg not in skipped
        )

    def add_definition(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        decorator: ast.expr,
        default_name: str,
        name_keyword: str,
        queue_keyword: str,
    ) -> None:
        """Record the task that ``decorator`` defines on ``node``, with the decorator's options.

        The task's name is the ``name_keyword`` argument when given (a literal or a
        constant of another module), else ``default_name``. A name the checker cannot
        resolve leaves the task out of the index.
        """
        name, constant = default_name, None
        options: tuple[Option, ...] = ()
        if isinstance(decorator, ast.Call):
            options = self.options(decorator.keywords, skip=(name_keyword,))
            name_node = argument(decorator, None, name_keyword)
            if name_node is not None:
                reference = self.task_reference(name_node)
                if reference is None or (reference.name is None and reference.constant is None):
                    return
                name, constant = reference.name or "", reference.constant
        function = f"{self.module_name}.{node.name}"
        self.definitions.append(TaskDefinition(
            name, function, self.path, self.name_location(node), options, name_constant=constant,
        ))
        self.queues.extend(
            option.value.text for option in options
            if option.keyword == queue_keyword and option.value.kind == "str" and option.value.text
        )

    def found_anything(self) -> bool:
        """Return whether the file defines or names any task, so its noqa comments matter."""
        return bool(self.definitions or self.call_sites)

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


def noqa_lines(text: str, tree: ast.Module) -> dict[int, str]:
    """Map each line a ``noqa`` comment may cover to the text to search, as flake8 does.

    A comment at the end of a multi-line string covers every line of that string, so
    those lines map to the string's joined lines. Only lines that mention noqa are kept.
    """
    if "noqa" not in text.lower():
        return {}
    lines = source_lines(text)
    mapping = {number: line for number, line in enumerate(lines, start=1) if "noqa" in line.lower()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant | ast.JoinedStr) and (node.end_lineno or 0) > node.lineno:
            end = node.end_lineno or node.lineno
            joined = "".join(lines[node.lineno - 1 : end])
            if "noqa" in joined.lower():
                for number in range(node.lineno, end + 1):
                    mapping[number] = joined
    return mapping


# Integers beyond this are not kept: a float cannot hold them, and no option needs them.
_MAX_EXACT_FLOAT_INT = 2**53


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


_UNKNOWN = _Unknown()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | timedelta) and not isinstance(value, bool)


def _to_value(result: object, source: str) -> Value:
    if result is None:
        return Value("none", source=source)
    if isinstance(result, bool):
        return Value("bool", number=float(result), source=source)
    if isinstance(result, int):
        if abs(result) > _MAX_EXACT_FLOAT_INT:
            return Value("unknown", source=source)
        return Value("int", number=float(result), source=source)
    if isinstance(result, float):
        return Value("float", number=result, source=source)
    if isinstance(result, str):
        return Value("str", text=result, source=source)
    if isinstance(result, timedelta):
        return Value("seconds", number=result.total_seconds(), source=source)
    if isinstance(result, dict):
        return Value("retry", source=source, fields=result)
    return Value("unknown", source=source)


def _assigned_names(statement: ast.stmt) -> list[str]:
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets = [statement.target]
    return [target.id for target in targets if isinstance(target, ast.Name)]


def _is_string(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _string(node: ast.AST | None) -> str:
    assert isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value


def is_string(node: ast.AST | None) -> bool:
    """Return whether ``node`` is a string literal (implicit concatenation included)."""
    return _is_string(node)


def string(node: ast.AST | None) -> str:
    """Return the value of a string literal node."""
    return _string(node)


def argument(node: ast.Call, position: int | None, keyword: str | None) -> ast.expr | None:
    """Return the argument at ``position`` or passed as ``keyword``, or None.

    A position of None means keyword only; a ``*args`` before the position hides it.
    """
    for item in node.keywords:
        if keyword is not None and item.arg == keyword:
            return item.value
    if position is None:
        return None
    positional: Sequence[ast.expr] = node.args
    if any(isinstance(arg, ast.Starred) for arg in positional[: position + 1]):
        return None
    return positional[position] if position < len(positional) else None


def last_segment(node: ast.AST) -> str | None:
    """Return the last name of a Name or Attribute node."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
