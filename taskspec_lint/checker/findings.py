"""Findings: what the checker reports, as data that output formats render at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Finding:
    """One finding at a 1-based line and column of a file.

    ``task_type`` and ``values`` carry the facts behind the message (option, value,
    bound, suggestions) so formats such as JSON and SARIF can show them as fields.
    """

    path: str
    line: int
    column: int
    code: str
    message: str = field(compare=False)
    task_type: str | None = field(default=None, compare=False)
    values: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    end_line: int | None = field(default=None, compare=False)
    end_column: int | None = field(default=None, compare=False)
