"""The preset index: cross-file facts, the two-pass prefilter and the disk cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskspec_lint.catalog import load_catalog
from taskspec_lint.presets import index as index_module
from taskspec_lint.presets.celery import CeleryPreset
from taskspec_lint.presets.index import build_index, module_name_for

TASKS = '''from celery import shared_task

@shared_task(time_limit=60)
def send_receipt(order_id):
    ...
'''
CALLER = '''from shop.tasks import send_receipt

def checkout(order):
    send_receipt.apply_async((order.pk,), time_limit=600)
'''
UNRELATED = '''class Courier:
    def delay(self, minutes):
        ...

Courier().delay(5)
'''


def make_project(root: Path) -> list[tuple[Path, str]]:
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "tasks.py").write_text(TASKS)
    (root / "shop" / "views.py").write_text(CALLER)
    (root / "shop" / "courier.py").write_text(UNRELATED)
    return [(path, path.relative_to(root).as_posix()) for path in sorted(root.rglob("*.py"))]


def count_extractions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    extracted: list[str] = []
    original = index_module.extract_file

    def counting(preset: object, display: str, module: str, data: bytes) -> object:
        extracted.append(display)
        return original(preset, display, module, data)  # type: ignore[arg-type]

    monkeypatch.setattr(index_module, "extract_file", counting)
    return extracted


def test_module_name_from_packages(tmp_path: Path) -> None:
    make_project(tmp_path)
    assert module_name_for(tmp_path / "shop" / "views.py") == "shop.views"
    assert module_name_for(tmp_path / "shop" / "__init__.py") == "shop"


def test_method_call_file_parsed_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = make_project(tmp_path)
    extracted = count_extractions(monkeypatch)
    index = build_index(files, CeleryPreset(), None)
    assert sorted(extracted) == ["shop/tasks.py", "shop/views.py"]
    assert "shop.tasks.send_receipt" in index.tasks_by_name
    assert [site.kind for site in index.call_sites()] == ["apply_async"]


def test_warm_run_parses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    files = make_project(project)
    cache = tmp_path / "cache"
    build_index(files, CeleryPreset(), cache)
    extracted = count_extractions(monkeypatch)
    index = build_index(files, CeleryPreset(), cache)
    assert extracted == []
    assert [site.kind for site in index.call_sites()] == ["apply_async"]
    assert (cache / ".gitignore").read_text().endswith("*\n")


def test_changed_file_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    files = make_project(project)
    cache = tmp_path / "cache"
    build_index(files, CeleryPreset(), cache)
    (project / "shop" / "views.py").write_text(CALLER.replace("600", "6000"))
    extracted = count_extractions(monkeypatch)
    index = build_index(files, CeleryPreset(), cache)
    assert extracted == ["shop/views.py"]
    option = index.call_sites()[0].options[0]
    assert option.value.source == "6000"


def test_touched_file_keeps_its_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    files = make_project(project)
    cache = tmp_path / "cache"
    build_index(files, CeleryPreset(), cache)
    os.utime(project / "shop" / "views.py", ns=(1, 1))
    extracted = count_extractions(monkeypatch)
    build_index(files, CeleryPreset(), cache)
    assert extracted == []


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    files = make_project(project)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "celery-index.json").write_text("{not json")
    index = build_index(files, CeleryPreset(), cache)
    assert len(index.call_sites()) == 1
    assert json.loads((cache / "celery-index.json").read_text())["format"] == index_module.CACHE_FORMAT


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taskspec_lint.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_preset_reports_cross_file(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli("--preset", "celery", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == (
        "shop/views.py:4:43: TSK203 shop.tasks.send_receipt: time_limit=600 is above the "
        "task's own limit; it must be at most 1m\n"
    )
    assert not (tmp_path / ".taskspec_lint_cache").exists()


def test_cache_dir_from_environment(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    make_project(project)
    environment = {**os.environ, "TASKSPEC_LINT_CACHE_DIR": str(tmp_path / "elsewhere")}
    subprocess.run([sys.executable, "-m", "taskspec_lint.cli", "--preset", "celery", "."],
                   cwd=project, env=environment, capture_output=True, timeout=120, check=False)
    assert (tmp_path / "elsewhere" / "celery-index.json").is_file()
    assert not (project / ".taskspec_lint_cache").exists()


def test_catalog_extract_round_trip(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli("catalog", "extract", "--preset", "celery", ".", "-o", "tasks.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "tasks.yaml").read_text()
    assert "idempotent: false  # undecided" in text
    catalog = load_catalog(tmp_path / "tasks.yaml")
    spec = catalog.specs["shop.tasks.send_receipt"]
    assert spec.max_retry == 3
    assert spec.timeout.total_seconds() == 60
    assert spec.queue == "celery"


def test_extracted_catalog_checks_calls(tmp_path: Path) -> None:
    make_project(tmp_path)
    run_cli("catalog", "extract", "--preset", "celery", ".", "-o", "tasks.yaml", cwd=tmp_path)
    (tmp_path / "shop" / "beat.py").write_text(
        'beat_schedule = {"nightly": {"task": "shop.tasks.send_reciept", "schedule": 60}}\n'
    )
    result = run_cli("--preset", "celery", "--no-cache", "--catalog", "tasks.yaml", ".", cwd=tmp_path)
    assert "shop/beat.py:1:38: TSK101 unknown task type 'shop.tasks.send_reciept'" in result.stdout


def test_timeout_none_means_no_limit(tmp_path: Path) -> None:
    (tmp_path / "tasks.yaml").write_text(
        "version: 1\nqueues: {q: {weight: 1}}\ntasks:\n  a:\n    human_name: A\n    queue: q\n"
        "    attempts: 2\n    backoff: {exp: {base: 1s, max: 1m}}\n    timeout: none\n"
        "    idempotent: true\n"
    )
    spec = load_catalog(tmp_path / "tasks.yaml").specs["a"]
    assert spec.timeout.days > 365 * 1000


def test_named_file_checked_against_project(tmp_path: Path) -> None:
    """pre-commit names only staged files; a configured preset still indexes the project."""
    make_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.taskspec-lint]\npreset = "celery"\n')
    (tmp_path / "shop" / "beat.py").write_text(
        'beat_schedule = {"nightly": {"task": "shop.tasks.send_reciept", "schedule": 60}}\n'
    )
    result = run_cli("--no-cache", "shop/beat.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("shop/beat.py:1:38: TSK101 unknown task type 'shop.tasks.send_reciept'")
    assert "shop/views.py" not in result.stdout
