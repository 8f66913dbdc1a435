"""Broken catalog files: each error's position and reason, and switching to another catalog."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from datetime import timedelta
from pathlib import Path

import pytest

from taskspec_lint.backoff import exp, schedule
from taskspec_lint.catalog import load_catalog, parse_catalog
from taskspec_lint.errors import CatalogError, UnknownTaskType
from taskspec_lint.producer import InMemoryBackend, enqueue
from taskspec_lint.tasktypes import REGISTRY, active_catalog, spec, use_catalog

CATALOGS = Path(__file__).resolve().parent.parent / "fixtures" / "catalogs"
VALID_SMALL = CATALOGS / "valid-small.yaml"

# file | line | column | phrase of the reason
BROKEN = [
    ("unknown-top-level-key.yaml", 6, 1, "unknown key 'workers' in the catalog"),
    ("unknown-task-key.yaml", 11, 5, "unknown key 'max_retries' in task type 'demo.task'"),
    ("duplicate-task-key.yaml", 14, 5, "duplicate key 'timeout' in task type 'demo.task' (first at line 12)"),
    ("duplicate-task-type.yaml", 21, 3, "task type 'demo.task' is listed twice (first at line 7)"),
    ("unknown-queue.yaml", 9, 12, "unknown queue 'bulk'"),
    ("malformed-duration.yaml", 12, 14, "malformed duration '30 secs'"),
    ("negative-duration.yaml", 13, 17, "negative duration '-5s'"),
    ("zero-attempts.yaml", 10, 15, "demo.task.attempts must be 1 or more"),
    ("exp-base-above-max.yaml", 11, 27, "base 2m exceeds its max 1m"),
    ("empty.yaml", 1, 1, "empty catalog"),
    ("no-tasks.yaml", 6, 8, "'tasks' lists no task types"),
    ("missing-tasks-key.yaml", 2, 1, "missing key 'tasks'"),
    ("invalid-syntax.yaml", 11, 37, "not valid YAML"),
    ("wrong-type.yaml", 13, 17, "demo.task.idempotent must be true or false, got 'maybe'"),
    ("missing-required-key.yaml", 8, 5, "task type 'demo.task' is missing 'timeout'"),
    ("queue-missing-weight.yaml", 5, 8, "queue 'low' is missing its weight"),
    ("two-problems.yaml", 9, 12, "unknown queue 'bulk'"),
]
BROKEN_IDS = [row[0].removesuffix(".yaml") for row in BROKEN]


def load_error(path: Path) -> CatalogError:
    """Load ``path``, expect CatalogError and return it."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return caught.value


def all_errors(error: CatalogError) -> list[CatalogError]:
    return [error, *error.more]


def test_every_broken_file_is_tested():
    on_disk = {path.name for path in CATALOGS.glob("*.yaml")} - {"valid-small.yaml"}

    assert on_disk == {row[0] for row in BROKEN}
    assert len(on_disk) >= 14


@pytest.mark.parametrize("name", sorted(path.name for path in CATALOGS.glob("*.yaml")))
def test_fixture_starts_with_comment(name):
    first_line = (CATALOGS / name).read_text(encoding="utf-8").splitlines()[0]

    assert first_line.startswith("# ")
    assert len(first_line) > 10


@pytest.mark.parametrize(("name", "line", "column", "phrase"), BROKEN, ids=BROKEN_IDS)
def test_broken_catalog_position(name, line, column, phrase):
    error = load_error(CATALOGS / name)

    assert (error.line, error.column) == (line, column)
    assert phrase in error.reason


@pytest.mark.parametrize(("name", "line", "column", "phrase"), BROKEN, ids=BROKEN_IDS)
def test_message_starts_with_path(name, line, column, phrase):
    path = CATALOGS / name

    error = load_error(path)

    assert str(error) == f"{path}:{line}:{column}: {error.reason}"
    assert error.path == str(path)


@pytest.mark.parametrize("name", [row[0] for row in BROKEN], ids=BROKEN_IDS)
def test_message_has_no_traceback(name):
    error = load_error(CATALOGS / name)

    for reported in all_errors(error):
        message = str(reported)
        assert "\n" not in message
        assert "Traceback" not in message
        assert "<unicode string>" not in message
        assert 'File "' not in message
    # A chained cause would print a second traceback ("The above exception was ...").
    printed = "".join(traceback.format_exception(error))
    assert printed.count("Traceback") == 1


def test_single_problem_has_no_more():
    error = load_error(CATALOGS / "unknown-queue.yaml")

    assert error.more == []


def test_two_problems_fill_more():
    path = CATALOGS / "two-problems.yaml"

    error = load_error(path)

    assert len(error.more) == 1
    second = error.more[0]
    assert (second.line, second.column) == (17, 15)
    assert "other.task.attempts must be 1 or more" in second.reason
    assert str(second).startswith(f"{path}:17:15: ")


def test_unknown_queue_lists_declared():
    error = load_error(CATALOGS / "unknown-queue.yaml")

    assert "default" in error.reason
    assert "low" in error.reason


def test_missing_file_is_catalog_error(tmp_path):
    path = tmp_path / "absent.yaml"

    error = load_error(path)

    assert str(error).startswith(f"{path}:1:1: cannot read catalog")


def test_non_utf8_file_is_catalog_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("# caf\xe9\n".encode("latin-1"))

    error = load_error(path)

    assert str(error).startswith(f"{path}:1:1: not UTF-8 text")


QUEUES = "queues:\n  default: {weight: 1}\n"
TASK = (
    "tasks:\n"
    "  a.b:\n"
    "    human_name: A\n"
    "    queue: default\n"
    "    attempts: 2\n"
    "    backoff: {exp: {base: 1s, max: 1m}}\n"
    "    timeout: 30s\n"
    "    idempotent: true\n"
)


@pytest.mark.parametrize(
    ("before", "after", "line", "column", "phrase"),
    [
        ("timeout: 30s", "timeout: .inf", 9, 14, "must be a finite number of seconds"),
        ("timeout: 30s", "timeout: .nan", 9, 14, "must be a finite number of seconds"),
        ("timeout: 30s", "timeout: 99999999999999999999999", 9, 14, "must be a finite number"),
        ("timeout: 30s", "timeout: 99999999999999999999d", 9, 14, "is too long"),
        ("human_name: A", "<<: {human_name: A}", 5, 5, "unsupported YAML value"),
        ("human_name: A", "human_name: !custom A", 5, 17, "unsupported YAML value"),
    ],
    ids=["inf", "nan", "huge-number", "huge-duration", "merge-key", "unknown-tag"],
)
def test_odd_value_is_catalog_error(before, after, line, column, phrase):
    text = QUEUES + TASK.replace(before, after)

    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "inline.yaml")

    assert (caught.value.line, caught.value.column) == (line, column)
    assert phrase in caught.value.reason


def test_valid_small_loads():
    catalog = load_catalog(VALID_SMALL)

    assert set(catalog.queues) == {"fast", "slow"}
    assert set(catalog.specs) == {"demo.notify", "demo.import", "demo.cleanup"}
    assert catalog.source == str(VALID_SMALL)


def test_valid_small_values():
    catalog = load_catalog(VALID_SMALL)
    notify = catalog.specs["demo.notify"]
    imported = catalog.specs["demo.import"]
    cleanup = catalog.specs["demo.cleanup"]

    assert notify.queue == "fast"
    assert notify.max_retry == 3
    assert notify.timeout == timedelta(seconds=10)
    assert notify.unique_ttl == timedelta(seconds=30)
    assert notify.retry_delay == exp(2, 60)
    assert imported.idempotent is False
    assert imported.unique_ttl == timedelta(0)
    assert imported.retry_delay == schedule(10, 60, jitter=0.2)
    assert cleanup.max_retry == 0
    assert catalog.queues["fast"].shed_above is None
    assert catalog.queues["slow"].shed_above == 100
    assert catalog.facts["demo.notify"].sensitive == ("token_ref",)
    assert catalog.facts["demo.cleanup"].cron == "15 4 * * *"


def test_use_catalog_path_switches(builtin_catalog):
    use_catalog(VALID_SMALL)
    backend = InMemoryBackend()

    result = enqueue("demo.notify", {"user_id": 1}, backend=backend)

    assert active_catalog().source == str(VALID_SMALL)
    assert spec("demo.notify") is not None
    assert spec("demo.notify").queue == "fast"
    assert spec("email.send") is None
    assert set(REGISTRY) == {"demo.notify", "demo.import", "demo.cleanup"}
    assert result.queue == "fast"
    assert result.max_retry == 3
    assert len(backend.tasks) == 1


def test_use_catalog_path_rejects_builtin(builtin_catalog):
    use_catalog(str(VALID_SMALL))

    with pytest.raises(UnknownTaskType) as caught:
        enqueue("email.send", {}, backend=InMemoryBackend())

    assert "unknown task type 'email.send'" in str(caught.value)


def test_use_catalog_restored_after(builtin_catalog):
    assert spec("email.send") is not None
    assert spec("demo.notify") is None
    assert len(REGISTRY) == 33


def test_use_broken_catalog_keeps_active(builtin_catalog):
    with pytest.raises(CatalogError):
        use_catalog(CATALOGS / "unknown-queue.yaml")

    assert spec("email.send") is not None
    assert len(REGISTRY) == 33


SUBPROCESS_SCRIPT = """
from taskspec_lint import enqueue, spec, InMemoryBackend
result = enqueue("demo.import", {"run_id": 1, "offset": 0}, backend=InMemoryBackend())
print(spec("demo.import").queue, spec("email.send"), result.queue, result.max_retry)
"""


def run_python(script: str, catalog_path: Path) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, TASKSPEC_CATALOG=str(catalog_path))
    return subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_environment_variable_catalog():
    completed = run_python(SUBPROCESS_SCRIPT, VALID_SMALL)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["slow", "None", "slow", "1"]


def test_environment_variable_broken_catalog():
    path = CATALOGS / "zero-attempts.yaml"

    completed = run_python("from taskspec_lint import spec", path)

    assert completed.returncode != 0
    assert "CatalogError" in completed.stderr
    assert f"{path}:10:15: demo.task.attempts must be 1 or more" in completed.stderr
