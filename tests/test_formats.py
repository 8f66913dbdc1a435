"""Output formats: SARIF validates against the official schema, GitHub and JSON shapes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from taskspec_lint.checker.findings import Finding
from taskspec_lint.checker.rules import RULES
from taskspec_lint.formats import RunSummary, render_github, render_json, render_sarif, render_text

# The official schema is not shipped with the project; TASKSPEC_SARIF_SCHEMA names it, and
# the development checkout keeps a copy in a shared folder beside the repository.
SARIF_SCHEMA = Path(
    os.environ.get("TASKSPEC_SARIF_SCHEMA")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "sarif-schema-2.1.0.json"
)

FINDINGS = [
    Finding("app/views.py", 12, 5, "TSK101", "unknown task type 'email.sned'; did you mean 'email.send'?",
            None, (("task_type", "email.sned"),), 12, 17),
    Finding("app/views.py", 20, 30, "TSK205", "search.reindex.full: queue='critical' moves the task",
            "search.reindex.full", (("option", "queue"), ("value", "'critical'")), 20, 47),
    Finding("app/weird, name:%.py", 1, 1, "TSK001", "file could not be checked: syntax error: line\nbreak"),
]
SUMMARY = RunSummary(files_checked=3, files_parsed=2)


def test_text_is_flake8_style() -> None:
    lines = render_text(FINDINGS, SUMMARY).splitlines()
    assert lines[0] == "app/views.py:12:5: TSK101 unknown task type 'email.sned'; did you mean 'email.send'?"
    assert len(lines) == 4  # the message with a line break spans two lines in text


@pytest.mark.skipif(not SARIF_SCHEMA.is_file(), reason="the SARIF schema file is not beside the project")
def test_sarif_validates_against_schema() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    log = json.loads(render_sarif(FINDINGS, SUMMARY))
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)


@pytest.mark.skipif(not SARIF_SCHEMA.is_file(), reason="the SARIF schema file is not beside the project")
def test_sarif_without_findings_validates() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(render_sarif([], SUMMARY)), schema, cls=jsonschema.Draft4Validator)


def test_sarif_has_one_rule_per_code() -> None:
    driver = json.loads(render_sarif(FINDINGS, SUMMARY))["runs"][0]["tool"]["driver"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == [rule.code for rule in RULES]
    assert len(set(ids)) == len(ids)


def test_sarif_result_points_at_rule() -> None:
    run = json.loads(render_sarif(FINDINGS, SUMMARY))["runs"][0]
    result = run["results"][0]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == "TSK101"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 12, "startColumn": 5, "endLine": 12, "endColumn": 17}


def test_sarif_uri_is_percent_encoded() -> None:
    run = json.loads(render_sarif(FINDINGS, SUMMARY))["runs"][0]
    location = run["results"][2]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "app/weird%2C%20name%3A%25.py"
    assert location["uriBaseId"] == "%SRCROOT%"


def test_sarif_advisory_rules_are_warnings() -> None:
    results = json.loads(render_sarif(FINDINGS, SUMMARY))["runs"][0]["results"]
    assert [result["level"] for result in results] == ["error", "warning", "error"]


def test_github_one_command_per_finding() -> None:
    lines = render_github(FINDINGS, SUMMARY).splitlines()
    assert len(lines) == len(FINDINGS)
    assert lines[0] == (
        "::error file=app/views.py,line=12,col=5,endLine=12,endColumn=17,"
        "title=TSK101 unknown-task-type::TSK101 unknown task type 'email.sned'; "
        "did you mean 'email.send'?"
    )


def test_github_escapes_properties_and_data() -> None:
    lines = render_github(FINDINGS, SUMMARY).splitlines()
    assert lines[1].startswith("::warning file=app/views.py,")
    assert "file=app/weird%2C name%3A%25.py," in lines[2]
    assert lines[2].endswith("syntax error: line%0Abreak")


def test_json_shape_is_stable() -> None:
    document = json.loads(render_json(FINDINGS, SUMMARY))
    assert list(document) == ["version", "tool", "summary", "findings"]
    assert document["version"] == 1
    assert document["summary"] == {
        "files_checked": 3,
        "files_parsed": 2,
        "task_definitions": None,
        "call_sites": None,
        "findings": 3,
        "by_code": {"TSK001": 1, "TSK101": 1, "TSK205": 1},
    }
    first = document["findings"][0]
    assert list(first) == [
        "path", "line", "column", "end_line", "end_column", "code", "rule", "message",
        "task_type", "values",
    ]
    assert first["rule"] == "unknown-task-type"
    assert first["values"] == {"task_type": "email.sned"}
    assert first["task_type"] is None
    assert document["findings"][1]["task_type"] == "search.reindex.full"
