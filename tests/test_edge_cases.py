"""Edge cases of real code that once produced wrong results or crashes."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from taskspec_lint import InvalidOverride, enqueue
from taskspec_lint.catalog import parse_catalog
from taskspec_lint.catalog_writer import dump_catalog
from taskspec_lint.model import Catalog, Queue
from taskspec_lint.presets.celery import CeleryPreset
from taskspec_lint.presets.index import build_index


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taskspec_lint.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


CELERY_PROJECT = {
    "pyproject.toml": '[tool.taskspec-lint]\npreset = "celery"\n',
    "app/__init__.py": "",
    "app/tasks.py": "from celery import shared_task\n\n@shared_task\ndef send_mail():\n    ...\n",
}


def test_moved_project_keeps_findings(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_files(project, {
        **CELERY_PROJECT,
        "app/b.py": "from app.tasks import send_mail\n\nsend_mail.apply_async(countdwon=3)\n",
    })
    cache = tmp_path / "cache"
    first = run_cli("--cache-dir", str(cache), ".", cwd=project)
    second = run_cli("--cache-dir", str(cache), "project", cwd=tmp_path)
    assert "app/b.py:3:23: TSK201" in first.stdout
    assert "project/app/b.py:3:23: TSK201" in second.stdout


def test_constant_user_keeps_call_sites(tmp_path: Path) -> None:
    write_files(tmp_path, {
        **CELERY_PROJECT,
        "app/b.py": (
            "from app.tasks import send_mail\n\nNAME = 'app.tasks.send_mail'\n\n"
            "def go():\n    send_mail.apply_async(countdwon=1)\n"
        ),
        "app/c.py": "from celery import current_app\nfrom app.b import NAME\n\ncurrent_app.send_task(NAME)\n",
    })
    cold = run_cli("--cache-dir", str(tmp_path / "cache"), ".", cwd=tmp_path)
    warm = run_cli("--cache-dir", str(tmp_path / "cache"), ".", cwd=tmp_path)
    assert "app/b.py:6:27: TSK201" in cold.stdout
    assert warm.stdout == cold.stdout


def test_noqa_file_keeps_definitions(tmp_path: Path) -> None:
    write_files(tmp_path, {
        **CELERY_PROJECT,
        "app/legacy.py": (
            "# flake8: noqa\nfrom celery import shared_task\n\n@shared_task\n"
            "def legacy():\n    legacy.apply_async(countdwon=1)\n"
        ),
        "app/calls.py": "from celery import current_app\n\ncurrent_app.send_task('app.legacy.legacy')\n",
    })
    result = run_cli("--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("options", [
    "retry_backoff=-5", "retry_backoff=0.0000001", "default_retry_delay=-1", "time_limit=1e15",
])
def test_odd_decorator_values_do_not_crash(tmp_path: Path, options: str) -> None:
    write_files(tmp_path, {
        **CELERY_PROJECT,
        "app/tasks.py": f"from celery import shared_task\n\n@shared_task({options})\ndef job():\n    ...\n",
    })
    result = run_cli("--no-cache", "--format", "json", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_huge_integer_is_unknown(tmp_path: Path) -> None:
    huge = "1" + "0" * 5000
    write_files(tmp_path, {"app.py": f"from taskspec_lint import enqueue\nenqueue('email.send', max_retry={huge})\n"})
    result = run_cli("app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_form_feed_keeps_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "ff.py").write_text(
        'from taskspec_lint import enqueue\n\x0c\nenqueue("email.sendx")  # noqa\nenqueue("email.sendy")\n'
    )
    result = run_cli("ff.py", cwd=tmp_path)
    assert result.stdout.startswith("ff.py:4:9: TSK101 unknown task type 'email.sendy'")
    assert "sendx" not in result.stdout


def test_rq_job_from_same_module(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "app/__init__.py": "",
        "app/jobs.py": (
            "from rq import Queue\nfrom rq.decorators import job\n\nq = Queue()\n\n"
            "@job('default', timeout=60)\ndef report():\n    ...\n\n"
            "def run():\n    q.enqueue(report, job_timeout=600)\n"
        ),
    })
    result = run_cli("--preset", "rq", "--no-cache", ".", cwd=tmp_path)
    assert "app/jobs.py:11:23: TSK203" in result.stdout


def test_class_compensate_beats_none(tmp_path: Path) -> None:
    (tmp_path / "h.py").write_text(
        "from taskspec_lint import handler\n\n"
        "@handler('media.video.transcode', compensate=None)\n"
        "class Transcode:\n    def handle(self, payload): ...\n    def compensate(self, payload): ...\n"
    )
    assert run_cli("h.py", cwd=tmp_path).returncode == 0


def test_yaml_keywords_survive_round_trip() -> None:
    catalog = CeleryPreset().build_catalog(build_index([], CeleryPreset(), None))
    queues = {name: Queue(name, 0, 1, None) for name in ("on", "null", "2024", "default")}
    odd = Catalog("test", queues, catalog.specs, catalog.bounds, catalog.facts)
    loaded = parse_catalog(dump_catalog(odd).replace("tasks:\n", "tasks:\n  a.b:\n    human_name: A\n"
                           "    queue: 'on'\n    attempts: 1\n    backoff: {exp: {base: 1s, max: 1s}}\n"
                           "    timeout: 1s\n    idempotent: true\n"), "round trip")
    assert set(loaded.queues) == {"on", "null", "2024", "default"}


def test_delay_past_year_9999_is_invalid() -> None:
    with pytest.raises(InvalidOverride, match="delay"):
        enqueue("email.send", {}, delay=timedelta.max)
