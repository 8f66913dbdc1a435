"""Render findings as text, JSON, GitHub Actions workflow commands or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import quote

from taskspec_lint import __version__
from taskspec_lint.checker.findings import Finding
from taskspec_lint.checker.rules import RULES, RULES_BY_CODE

JSON_FORMAT_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_ADVISORY_CODES = frozenset({"TSK205", "TSK206", "TSK207"})


@dataclass(frozen=True)
class RunSummary:
    """Counts of one run, reported by the JSON format."""

    files_checked: int
    files_parsed: int
    # Only with a preset (celery, rq, dramatiq): what the project index holds.
    task_definitions: int | None = None
    call_sites: int | None = None


def render_text(findings: Sequence[Finding], summary: RunSummary) -> str:
    """Render ``path:line:col: CODE message``, one finding a line, as flake8 does."""
    return "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)


def render_json(findings: Sequence[Finding], summary: RunSummary) -> str:
    """Render the documented JSON shape (see the README); keys and order are stable."""
    document = {
        "version": JSON_FORMAT_VERSION,
        "tool": {"name": "taskspec-lint", "version": __version__},
        "summary": {
            "files_checked": summary.files_checked,
            "files_parsed": summary.files_parsed,
            "task_definitions": summary.task_definitions,
            "call_sites": summary.call_sites,
            "findings": len(findings),
            "by_code": dict(sorted(Counter(f.code for f in findings).items())),
        },
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "end_line": f.end_line,
                "end_column": f.end_column,
                "code": f.code,
                "rule": RULES_BY_CODE[f.code].name,
                "message": f.message,
                "task_type": f.task_type,
                "values": dict(f.values),
            }
            for f in findings
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_github(findings: Sequence[Finding], summary: RunSummary) -> str:
    """Render one GitHub Actions ``::error`` or ``::warning`` workflow command per finding."""
    lines = []
    for f in findings:
        level = "warning" if f.code in _ADVISORY_CODES else "error"
        properties = [f"file={_escape_property(f.path)}", f"line={f.line}", f"col={f.column}"]
        if f.end_line is not None and f.end_column is not None:
            properties += [f"endLine={f.end_line}", f"endColumn={f.end_column}"]
        properties.append(f"title={_escape_property(f'{f.code} {RULES_BY_CODE[f.code].name}')}")
        lines.append(f"::{level} {','.join(properties)}::{_escape_data(f'{f.code} {f.message}')}\n")
    return "".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_sarif(findings: Sequence[Finding], summary: RunSummary) -> str:
    """Render a SARIF 2.1.0 log with one rule entry per code and one result per finding."""
    rule_index = {rule.code: index for index, rule in enumerate(RULES)}
    rules = [
        {
            "id": rule.code,
            "name": "".join(part.capitalize() for part in rule.name.split("-")),
            "shortDescription": {"text": rule.summary()},
            "fullDescription": {"text": rule.documentation()},
            "help": {"text": rule.documentation()},
            "defaultConfiguration": {
                "enabled": rule.default_enabled,
                "level": "warning" if rule.code in _ADVISORY_CODES else "error",
            },
        }
        for rule in RULES
    ]
    results = []
    for f in findings:
        region: dict[str, int] = {"startLine": f.line, "startColumn": f.column}
        if f.end_line is not None and f.end_column is not None:
            region.update(endLine=f.end_line, endColumn=f.end_column)
        result: dict[str, object] = {
            "ruleId": f.code,
            "ruleIndex": rule_index[f.code],
            "level": "warning" if f.code in _ADVISORY_CODES else "error",
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact_location(f.path),
                        "region": region,
                    }
                }
            ],
        }
        if f.task_type is not None:
            result["properties"] = {"taskType": f.task_type}
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "taskspec-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _artifact_location(path: str) -> dict[str, str]:
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    return {"uri": quote(pure.as_posix(), safe="/"), "uriBaseId": "%SRCROOT%"}


FORMATS: dict[str, Callable[[Sequence[Finding], RunSummary], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}
