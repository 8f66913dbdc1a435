"""Run a preset over a tree: build the index, pick the catalog, check, filter findings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from taskspec_lint.checker.config import Config
from taskspec_lint.checker.findings import Finding
from taskspec_lint.checker.noqa import is_silenced
from taskspec_lint.checker.rules import UncheckableFile
from taskspec_lint.formats import RunSummary
from taskspec_lint.model import Catalog
from taskspec_lint.presets.base import Preset
from taskspec_lint.presets.facts import CallSite
from taskspec_lint.presets.index import SKIPPED_FILE_LINE, ProjectIndex, build_index

CACHE_ENV = "TASKSPEC_LINT_CACHE_DIR"
CACHE_FOLDER = ".taskspec_lint_cache"


def default_cache_directory(config: Config) -> Path:
    """Return the cache folder: $TASKSPEC_LINT_CACHE_DIR, else beside the configuration."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return (config.root or Path.cwd()) / CACHE_FOLDER


def _checked(site: CallSite, index: ProjectIndex) -> bool:
    """Return whether a site is checked: it names a task, or calls a function of the project.

    A method such as ``.delay()`` on an object the index does not know is recorded, in case
    a task of that name turns up, but nothing is checked there.
    """
    function = site.task.function
    return function is None or function in index.tasks_by_function or function in index.functions


def run_preset(
    files: Sequence[tuple[Path, str]],
    preset: Preset,
    config: Config,
    catalog: Catalog | None,
    cache_directory: Path | None,
) -> tuple[list[Finding], RunSummary, ProjectIndex]:
    """Check ``files`` with ``preset``; ``catalog`` is a configured catalog file, or None."""
    index = build_index(files, preset, cache_directory)
    explicit = catalog is not None
    active = catalog if catalog is not None else preset.build_catalog(index)
    findings = preset.check(index, active, explicit)

    for path, error in index.errors.items():
        message = UncheckableFile.format(reason=error.reason)
        findings.append(Finding(path, error.line, error.column, UncheckableFile.code, message))

    reported = []
    for finding in findings:
        if not config.enabled(finding.code):
            continue
        facts = index.files.get(finding.path)
        if facts is not None and (SKIPPED_FILE_LINE in facts.noqa or is_silenced(finding, facts.noqa)):
            continue
        reported.append(finding)
    reported.sort()
    summary = RunSummary(
        files_checked=index.files_checked,
        files_parsed=index.files_parsed,
        task_definitions=sum(len(definitions) for definitions in index.tasks_by_name.values()),
        call_sites=sum(1 for site in index.call_sites() if _checked(site, index)),
    )
    return reported, summary, index
