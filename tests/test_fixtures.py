"""Check the command line and the flake8 plugin against the checker's fixture files.

Each fixture line that must be reported ends with ``# expect: TSK101`` or
``# expect: TSK203:16, TSK205:60`` (a code, optionally with its 1-based column). Findings
that only the command line reports (TSK001: files that do not decode or parse) use
``# expect-cli:``. Every other line must stay silent in both tools.

A fixture folder is fixtures/checker or one of its subfolders with its own pyproject.toml,
or a preset project under fixtures/presets. Both tools run once per folder, in a subprocess,
with the folder as the working directory, so that folder's ``[tool.taskspec-lint]`` table
applies. A preset project's files are all ``*.py`` files below it, and the command line
checks the whole folder, because a preset's index spans files.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "checker"
PRESET_FIXTURES = FIXTURES.parent / "presets"

_EXPECT = re.compile(r"#\s*expect(?P<cli>-cli)?:\s*(?P<codes>TSK\d{3}(?::\d+)?(?:\s*,\s*TSK\d{3}(?::\d+)?)*)")
_FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<code>TSK\d{3}) ")

# (file, line, code, column); column is None where the expectation gives none.
Finding = tuple[str, int, str, int | None]


def _fixture_folders() -> list[Path]:
    folders = [FIXTURES]
    folders += sorted(path.parent for path in FIXTURES.glob("*/pyproject.toml"))
    folders += sorted(path.parent for path in PRESET_FIXTURES.glob("*/pyproject.toml"))
    return folders


def _is_preset_project(folder: Path) -> bool:
    return folder.parent == PRESET_FIXTURES


def _label(folder: Path) -> str:
    if _is_preset_project(folder):
        return folder.relative_to(FIXTURES.parent).as_posix()
    return folder.relative_to(FIXTURES).as_posix()


def _fixture_files(folder: Path) -> list[str]:
    if _is_preset_project(folder):
        return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.py"))
    return sorted(path.name for path in folder.glob("*.py"))


@cache
def _environment() -> dict[str, str]:
    """Return the environment of the tools: the preset index cache goes to a temporary folder."""
    return {**os.environ, "TASKSPEC_LINT_CACHE_DIR": tempfile.mkdtemp(prefix="taskspec-lint-cache-")}


def _expectations(folder: Path, name: str) -> tuple[set[Finding], set[Finding]]:
    """Return the (both tools, command line only) expectations of one fixture file."""
    both: set[Finding] = set()
    cli_only: set[Finding] = set()
    # Latin-1 maps every byte to one character, so undecodable fixtures can be read too.
    # Splitting on "\n" only keeps the line numbers of the file, whatever its encoding.
    text = (folder / name).read_bytes().decode("latin-1")
    for number, line in enumerate(text.split("\n"), start=1):
        for match in _EXPECT.finditer(line):
            target = cli_only if match.group("cli") else both
            for item in match.group("codes").split(","):
                code, _, column = item.strip().partition(":")
                target.add((name, number, code, int(column) if column else None))
    return both, cli_only


@cache
def _run_cli(folder: Path) -> tuple[int, frozenset[Finding], str]:
    files = ["."] if _is_preset_project(folder) else _fixture_files(folder)
    command = [sys.executable, "-m", "taskspec_lint.cli", "--format", "json", *files]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False,
                            env=_environment())
    if result.returncode not in (0, 1):
        pytest.fail(f"taskspec-lint exited with {result.returncode} in {folder}:\n{result.stderr}")
    document = json.loads(result.stdout)
    findings = frozenset(
        (item["path"], item["line"], item["code"], item["column"]) for item in document["findings"]
    )
    return result.returncode, findings, result.stdout


@cache
def _run_flake8(folder: Path) -> frozenset[Finding]:
    files = _fixture_files(folder)
    # --isolated ignores any flake8 configuration file, so only [tool.taskspec-lint] applies.
    command = [sys.executable, "-m", "flake8", "--isolated", "--select", "TSK", "--format", "default",
               *files]
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False,
                            env=_environment())
    if result.returncode not in (0, 1) or result.stderr.strip():
        pytest.fail(f"flake8 exited with {result.returncode} in {folder}:\n{result.stderr}")
    findings = set()
    for line in result.stdout.splitlines():
        match = _FLAKE8_LINE.match(line)
        if match is None:
            pytest.fail(f"unexpected flake8 output line in {folder}: {line!r}")
        findings.add((match["path"], int(match["line"]), match["code"], int(match["column"])))
    return frozenset(findings)


def _compare(tool: str, actual: set[Finding], expected: set[Finding]) -> list[str]:
    """Return readable lines for missing and unexpected findings; empty when they agree."""
    unmatched = set(actual)
    missing = []
    for item in sorted(expected, key=lambda finding: (finding[1], finding[2], finding[3] or 0)):
        name, line, code, column = item
        candidates = sorted(
            found for found in unmatched
            if found[:3] == (name, line, code) and (column is None or found[3] == column)
        )
        if candidates:
            unmatched.remove(candidates[0])
        else:
            missing.append(item)

    problems = []
    for name, line, code, column in missing:
        where = f"{line}:{column}" if column is not None else f"{line}"
        problems.append(f"{tool}: missing    {name}:{where} {code}")
    for name, line, code, column in sorted(unmatched):
        problems.append(f"{tool}: unexpected {name}:{line}:{column} {code}")
    return problems


def _cases() -> list:
    cases = []
    for folder in _fixture_folders():
        label = _label(folder)
        for name in _fixture_files(folder):
            case_id = name if label == "." else f"{label}/{name}"
            cases.append(pytest.param(folder, name, id=case_id))
    return cases


@pytest.mark.parametrize(("folder", "name"), _cases())
def test_fixture_findings_match(folder: Path, name: str) -> None:
    both, cli_only = _expectations(folder, name)
    _, cli_findings, _ = _run_cli(folder)
    flake8_findings = _run_flake8(folder)

    problems = _compare("cli", {f for f in cli_findings if f[0] == name}, both | cli_only)
    problems += _compare("flake8", {f for f in flake8_findings if f[0] == name}, both)
    assert not problems, "findings differ from the # expect comments:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "folder",
    [pytest.param(folder, id=_label(folder)) for folder in _fixture_folders()],
)
def test_fixture_folder_exit_code(folder: Path) -> None:
    expected_any = any(any(_expectations(folder, name)) for name in _fixture_files(folder))
    returncode, _, output = _run_cli(folder)

    assert returncode == (1 if expected_any else 0), output


def test_fixture_folders_have_files() -> None:
    for folder in _fixture_folders():
        assert _fixture_files(folder), f"{folder} holds no fixture files"
