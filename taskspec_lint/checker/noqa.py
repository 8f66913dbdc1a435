"""``# noqa`` handling with flake8's semantics, for the command line.

A bare ``# noqa`` silences every finding on its line; ``# noqa: TSK101,TSK2`` silences
the listed codes and code prefixes. A comment at the end of a multi-line string covers
every line of that string, and ``# flake8: noqa`` on a line of its own skips the file.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable

from taskspec_lint.checker.findings import Finding

_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_FILE_NOQA = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def source_lines(text: str) -> list[str]:
    """Split source into lines as Python's tokenizer does, keeping the line ends.

    ``str.splitlines`` also splits at form feeds and Unicode line separators, which are
    not line ends in Python source, so line numbers would drift after one.
    """
    return io.StringIO(text, newline="").readlines()


def file_is_skipped(lines: list[str]) -> bool:
    """Return whether a ``# flake8: noqa`` line skips the whole file."""
    return any(_FILE_NOQA.match(line) for line in lines)


def filter_noqa(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Drop the findings that a ``# noqa`` comment silences."""
    findings = list(findings)
    if not findings or "noqa" not in text.lower():
        return findings
    comments = noqa_comments(text)
    return [finding for finding in findings if not is_silenced(finding, comments)]


def noqa_comments(text: str) -> dict[int, str]:
    """Map each line that a ``noqa`` comment may cover to the text to search for it.

    Only lines whose text mentions noqa are kept, so the map is small enough to cache.
    """
    if "noqa" not in text.lower():
        return {}
    lines = source_lines(text)
    mapping = _noqa_lines(text, lines)
    if not mapping:
        mapping = dict(enumerate(lines, start=1))
    return {number: line for number, line in mapping.items() if "noqa" in line.lower()}


def is_silenced(finding: Finding, comments: dict[int, str]) -> bool:
    """Return whether a ``# noqa`` comment in ``comments`` silences ``finding``."""
    match = _NOQA.search(comments.get(finding.line, ""))
    if match is None:
        return False
    codes_text = match.group("codes")
    if codes_text is None:
        return True
    # flake8 compares the codes as written, so codes listed in lower case silence nothing.
    codes = tuple(_CODE.findall(codes_text))
    return finding.code in codes or finding.code.startswith(codes)


def _noqa_lines(text: str, lines: list[str]) -> dict[int, str]:
    """Map each line number to the text searched for ``noqa``, joining multi-line tokens."""
    mapping: dict[int, str] = {}
    first, last = len(lines) + 2, -1
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = min(first, token.start[0])
            last = max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(lines[first - 1 : last])
                for number in range(first, last + 1):
                    mapping[number] = joined
                first, last = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError):
        return {}
    return mapping
