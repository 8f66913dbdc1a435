"""The taskspec-lint command as users run it: a subprocess on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BAD_CALL = 'from taskspec_lint import enqueue\n\nenqueue("email.sned", {})\n'
GOOD_CALL = 'from taskspec_lint import enqueue\n\nenqueue("email.send", {"to": "a@example.org"})\n'


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskspec_lint.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_exit_zero_when_clean(tmp_path: Path) -> None:
    write(tmp_path / "app.py", GOOD_CALL)
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_exit_one_with_findings(tmp_path: Path) -> None:
    write(tmp_path / "app.py", BAD_CALL)
    result = run_cli("app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("app.py:3:9: TSK101 unknown task type 'email.sned'")


def test_exit_zero_option(tmp_path: Path) -> None:
    write(tmp_path / "app.py", BAD_CALL)
    assert run_cli("--exit-zero", "app.py", cwd=tmp_path).returncode == 0


def test_missing_path_is_usage_error(tmp_path: Path) -> None:
    result = run_cli("nowhere.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere.py: no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_format_is_usage_error(tmp_path: Path) -> None:
    result = run_cli("--format", "xml", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'xml'" in result.stderr


def test_select_and_ignore(tmp_path: Path) -> None:
    write(tmp_path / "app.py", BAD_CALL)
    assert run_cli("--ignore", "TSK1", "app.py", cwd=tmp_path).returncode == 0
    assert run_cli("--select", "TSK101", "app.py", cwd=tmp_path).returncode == 1
    assert run_cli("--select", "TSK3", "app.py", cwd=tmp_path).returncode == 0


def test_unknown_code_is_usage_error(tmp_path: Path) -> None:
    result = run_cli("--select", "TSK999", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "'TSK999' matches no rule code" in result.stderr


def test_walk_skips_tool_folders(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "tasks.py", BAD_CALL)
    for skipped in (".git/hooks/x.py", "venv/lib/x.py", "build/lib/x.py", "node_modules/x.py",
                    "pkg.egg-info/x.py", "envs/custom/lib/x.py"):
        write(tmp_path / skipped, BAD_CALL)
    write(tmp_path / "envs" / "custom" / "pyvenv.cfg", "home = /usr/bin\n")
    document = json.loads(run_cli("--format", "json", ".", cwd=tmp_path).stdout)
    assert [finding["path"] for finding in document["findings"]] == ["pkg/tasks.py"]
    assert document["summary"]["files_checked"] == 1


def test_explicit_file_is_checked_whatever_its_name(tmp_path: Path) -> None:
    write(tmp_path / "script", BAD_CALL)
    assert run_cli("script", cwd=tmp_path).returncode == 1


def test_broken_files_do_not_stop_the_run(tmp_path: Path) -> None:
    write(tmp_path / "a_syntax.py", "import taskspec_lint\ndef broken(:\n")
    write(tmp_path / "b_bytes.py", b"import taskspec_lint\nx = '\xff\xfe'\n")
    write(tmp_path / "c_empty.py", "")
    write(tmp_path / "d_good.py", BAD_CALL)
    result = run_cli(".", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("a_syntax.py:2:")
    assert "TSK001 file could not be checked: syntax error" in lines[0]
    assert lines[1] == "b_bytes.py:2:6: TSK001 file could not be checked: cannot decode as utf-8: invalid byte 0xff"
    assert lines[2].startswith("d_good.py:3:9: TSK101")
    assert len(lines) == 3


def test_latin1_file_with_coding_line(tmp_path: Path) -> None:
    source = '# -*- coding: latin-1 -*-\nfrom taskspec_lint import enqueue\n# Café\nenqueue("email.sned")\n'
    write(tmp_path / "legacy.py", source.encode("latin-1"))
    result = run_cli("legacy.py", cwd=tmp_path)
    assert result.stdout.startswith("legacy.py:4:9: TSK101")


def test_noqa_in_cli(tmp_path: Path) -> None:
    write(tmp_path / "app.py", BAD_CALL.replace("{})", "{})  # noqa: TSK101"))
    assert run_cli("app.py", cwd=tmp_path).returncode == 0
    write(tmp_path / "app.py", BAD_CALL.replace("{})", "{})  # noqa: TSK203"))
    assert run_cli("app.py", cwd=tmp_path).returncode == 1


def test_file_level_noqa(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "# flake8: noqa\n" + BAD_CALL)
    assert run_cli("app.py", cwd=tmp_path).returncode == 0


def test_config_from_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.taskspec-lint]\nignore = ["TSK101"]\n')
    write(tmp_path / "src" / "app.py", BAD_CALL)
    assert run_cli("src", cwd=tmp_path).returncode == 0


def test_config_error_names_key(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.taskspec-lint]\nselekt = ["TSK1"]\n')
    write(tmp_path / "app.py", BAD_CALL)
    result = run_cli("app.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "[tool.taskspec-lint] selekt: unknown key; did you mean 'select'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_bad_option_mapping(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", (
        '[tool.taskspec-lint]\n[[tool.taskspec-lint.enqueue]]\nname = "*.send_task"\n'
        'options = { countdown = "delays" }\n'
    ))
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 2
    assert "enqueue[0].options.countdown: 'delays' is not an override option; did you mean 'delay'?" in result.stderr


def test_invalid_toml_is_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.taskspec-lint\n")
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid TOML" in result.stderr


def test_bad_catalog_is_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "catalog.yaml", "version: 1\nqueues: {q: {weight: 1}}\ntasks: {a: {queue: r}}\n")
    write(tmp_path / "app.py", BAD_CALL)
    result = run_cli("--catalog", "catalog.yaml", "app.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "taskspec-lint: invalid catalog: catalog.yaml:3:" in result.stderr
    assert "Traceback" not in result.stderr


def test_own_catalog_from_config(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.taskspec-lint]\ncatalog = "tasks.yaml"\n')
    write(tmp_path / "tasks.yaml", (
        "version: 1\nqueues: {default: {weight: 1}}\ntasks:\n"
        "  shop.receipt:\n    human_name: Receipt\n    queue: default\n    attempts: 3\n"
        "    backoff: {exp: {base: 1s, max: 1m}}\n    timeout: 10s\n    idempotent: true\n"
    ))
    write(tmp_path / "app.py", GOOD_CALL.replace("email.send", "shop.receipt"))
    assert run_cli(".", cwd=tmp_path).returncode == 0
    write(tmp_path / "app.py", GOOD_CALL)
    assert "unknown task type 'email.send'" in run_cli(".", cwd=tmp_path).stdout


def test_output_file(tmp_path: Path) -> None:
    write(tmp_path / "app.py", BAD_CALL)
    result = run_cli("--format", "sarif", "--output", "report.sarif", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    assert json.loads((tmp_path / "report.sarif").read_text())["version"] == "2.1.0"


def test_output_is_stable(tmp_path: Path) -> None:
    for name in ("b.py", "a.py", "sub/c.py"):
        write(tmp_path / name, BAD_CALL)
    first = run_cli(".", cwd=tmp_path).stdout
    assert first == run_cli(".", cwd=tmp_path).stdout
    assert [line.split(":")[0] for line in first.splitlines()] == ["a.py", "b.py", "sub/c.py"]


def test_catalog_show(tmp_path: Path) -> None:
    result = run_cli("catalog", "show", cwd=tmp_path)
    assert result.returncode == 0
    assert "33 task types, 7 queues" in result.stdout
    assert "media.video.transcode" in result.stdout


def test_catalog_validate(tmp_path: Path) -> None:
    write(tmp_path / "bad.yaml", "version: 1\nqueues: {q: {weight: 1}}\ntasks: {}\n")
    result = run_cli("catalog", "validate", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("bad.yaml:3:8: empty catalog")


@pytest.mark.parametrize("form", ["markdown", "json"])
def test_catalog_export(tmp_path: Path, form: str) -> None:
    result = run_cli("catalog", "export", "--format", form, cwd=tmp_path)
    assert result.returncode == 0
    assert "webhook.retry.dlq.scan" in result.stdout


def test_rules_command(tmp_path: Path) -> None:
    result = run_cli("rules", cwd=tmp_path)
    assert result.returncode == 0
    assert "TSK301 missing-compensation" in result.stdout


def test_runtime_catalog_setting_is_used(tmp_path: Path) -> None:
    """Without --catalog or a configured catalog, the linter reads TASKSPEC_CATALOG, as the runtime does."""
    write(tmp_path / "broken.yaml", "tasks: [\n")
    write(tmp_path / "app.py", BAD_CALL)
    result = subprocess.run(
        [sys.executable, "-m", "taskspec_lint.cli", "app.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "TASKSPEC_CATALOG": str(tmp_path / "broken.yaml")},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"invalid catalog: {tmp_path / 'broken.yaml'}:2:1:" in result.stderr


def test_missing_command_hint(tmp_path: Path) -> None:
    result = run_cli("--catalog", "tasks.yaml", "catalog", "show", cwd=tmp_path)
    assert result.returncode == 2
    assert "to run the catalog command, name it first" in result.stderr
