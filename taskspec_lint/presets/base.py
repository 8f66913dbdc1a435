"""The shared part of the presets: the extraction visitor's helpers and the Preset interface.

A preset describes one queue library. It says which files could matter (byte tokens),
extracts facts from each such file (task definitions, constants, declared queues, call
sites), turns the definitions into a catalog, and checks every call site against the
catalog and the project index.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from taskspec_lint.checker import SourceError, decode_source
from taskspec_lint.presets.facts import (
    FileFacts,
    Option,
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

    def extract(self, tree: ast.Module, module_name: str, path: str, text: str) -> FileFacts:
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


def seconds(value: Value) -> float | None:
    """Return a number or duration value in seconds, or None."""
    if value.kind in ("int", "float", "seconds") and value.number is not None:
        return value.number
    return None


def option_map(options: Iterable[Option]) -> dict[str, Option]:
    """Return options by keyword; the last one wins, as in a Python call."""
    return {option.keyword: option for option in options}
