"""The static checker: find what the runtime registry would reject, without running code.

``check_file`` is what the command line runs per file; the flake8 plugin calls
``check_text`` on the source flake8 has already read.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from taskspec_lint.checker.config import Config
from taskspec_lint.checker.findings import Finding
from taskspec_lint.checker.noqa import file_is_skipped, filter_noqa, source_lines
from taskspec_lint.checker.prefilter import could_contain_call
from taskspec_lint.checker.rules import UncheckableFile
from taskspec_lint.model import Catalog

if TYPE_CHECKING:
    import libcst as cst

__all__ = ["Finding", "SourceError", "check_file", "check_text", "decode_source", "parse_source"]


@dataclass
class SourceError(Exception):
    """A file that cannot be read, decoded or parsed, at a 1-based line and column."""

    reason: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return self.reason


def decode_source(data: bytes) -> str:
    """Decode Python source bytes as the interpreter would: BOM, coding line, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise SourceError(f"cannot decode: {error.msg}") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        # Columns count characters, so decode the valid part of the line before the error.
        column = len(data[line_start : error.start].decode(encoding, errors="replace")) + 1
        raise SourceError(
            f"cannot decode as {encoding}: invalid byte 0x{data[error.start]:02x}", line, column
        ) from None


def parse_source(text: str) -> cst.Module:
    """Parse decoded source with libcst; raise SourceError if it does not parse."""
    import libcst as cst

    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise _syntax_error(text, error) from None
    except RecursionError:
        raise SourceError("too deeply nested to parse") from None


def check_text(text: str, path: str, catalog: Catalog, config: Config) -> list[Finding]:
    """Check decoded source; raise SourceError if it does not parse. No noqa filtering."""
    from taskspec_lint.checker.analyze import analyze_module

    return analyze_module(parse_source(text), path, catalog, config)


def _syntax_error(text: str, error: cst.ParserSyntaxError) -> SourceError:
    """Describe a syntax error as CPython does, falling back to libcst's position.

    libcst reports where its parser stopped, often the start of the next line, and its
    first message line holds only that position, so CPython's message and position are
    preferred whenever CPython rejects the source too.
    """
    try:
        compile(text, "<source>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        if python_error.lineno:
            return SourceError(
                f"syntax error: {python_error.msg}", python_error.lineno, python_error.offset or 1
            )
    except (ValueError, RecursionError, MemoryError):
        pass
    message = str(error).splitlines()[0].strip() or "invalid syntax"
    return SourceError(f"syntax error: {message}", error.raw_line, error.raw_column + 1)


@dataclass(frozen=True)
class FileResult:
    """The findings of one file, and whether it passed the prefilter and was parsed."""

    findings: list[Finding]
    parsed: bool


def check_file(path: Path, display: str, catalog: Catalog, config: Config) -> FileResult:
    """Check one file as the command line does: prefilter, decode, parse, analyze, noqa.

    A file that cannot be read, decoded or parsed yields one TSK001 finding instead.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        return FileResult(_uncheckable(display, SourceError(f"cannot read: {error.strerror}"), config), False)
    if not could_contain_call(data, config.prefilter_tokens):
        return FileResult([], False)
    try:
        text = decode_source(data)
        if file_is_skipped(source_lines(text)):
            return FileResult([], True)
        findings = check_text(text, display, catalog, config)
    except SourceError as error:
        return FileResult(_uncheckable(display, error, config), True)
    return FileResult(filter_noqa(findings, text), True)


def _uncheckable(display: str, error: SourceError, config: Config) -> list[Finding]:
    if not config.enabled(UncheckableFile.code):
        return []
    message = UncheckableFile.format(reason=error.reason)
    return [Finding(display, error.line, error.column, UncheckableFile.code, message)]
