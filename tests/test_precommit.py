"""The pre-commit hook, run by the real pre-commit tool in a throwaway git repository.

pre-commit builds the hook's environment with pip, so this test needs the package index
and takes a minute or so on first run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_hook_fails_then_passes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    git("config", "user.email", "dev@example.org", cwd=project)
    git("config", "user.name", "Developer", cwd=project)
    module = project / "tasks.py"
    module.write_text('from taskspec_lint import enqueue\n\nenqueue("email.sned", {})\n', encoding="utf-8")
    git("add", "tasks.py", cwd=project)

    environment = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PRE_COMMIT_COLOR": "never"}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "taskspec-lint", "--files", "tasks.py"]

    failing = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=600)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "tasks.py:3:9: TSK101 unknown task type 'email.sned'" in failing.stdout

    module.write_text('from taskspec_lint import enqueue\n\nenqueue("email.send", {})\n', encoding="utf-8")
    git("add", "tasks.py", cwd=project)
    passing = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=600)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
