"""The flake8 plugin (codes ``TSK``): the same findings as the command line, in flake8.

Configuration comes from ``[tool.taskspec-lint]`` in the nearest pyproject.toml above each
file, as for the command line. ``--taskspec-catalog`` and ``--taskspec-config`` (or
``taskspec-catalog =`` and ``taskspec-config =`` in flake8's configuration) override the
catalog file and the pyproject.toml. flake8 handles ``# noqa`` and reports files that do
not parse (E999), so the plugin reports neither.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskspec_lint import __version__
from taskspec_lint.checker.config import (
    Config,
    ConfigError,
    load_config,
    read_config_file,
    runtime_catalog_path,
)
from taskspec_lint.checker.findings import Finding
from taskspec_lint.checker.rules import UncheckableFile
from taskspec_lint.errors import CatalogError
from taskspec_lint.model import Catalog

if TYPE_CHECKING:
    from taskspec_lint.checker import SourceError

FindingTuple = tuple[int, int, str, type[Any]]


class TaskSpecChecker:
    """flake8 entry point: checks one file per instance."""

    name = "taskspec-lint"
    version = __version__

    catalog_path: str | None = None
    config_path: str | None = None

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager: Any) -> None:
        """Register the plugin's flake8 options."""
        manager.add_option(
            "--taskspec-catalog", parse_from_config=True, metavar="FILE",
            help="catalog file for taskspec-lint (default: [tool.taskspec-lint] catalog, "
            "else the built-in catalog)",
        )
        manager.add_option(
            "--taskspec-config", parse_from_config=True, metavar="PYPROJECT",
            help="pyproject.toml with the [tool.taskspec-lint] table (default: the nearest one)",
        )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        """Store the parsed options for every instance."""
        cls.catalog_path = getattr(options, "taskspec_catalog", None)
        cls.config_path = getattr(options, "taskspec_config", None)

    def run(self) -> Iterator[FindingTuple]:
        """Yield flake8 findings: (line, 0-based column, "CODE message", plugin class)."""
        try:
            config = _config_for(self.filename, self.config_path, self.catalog_path)
        except ConfigError as error:
            yield _setup_failure(error)
            return
        if config.exclude and self.filename not in ("-", "stdin"):
            from taskspec_lint.discovery import is_excluded

            if is_excluded(Path(self.filename), config):
                return
        if config.preset != "taskspec":
            yield from self._run_preset(config)
            return
        tokens = _text_tokens(config)
        if tokens is not None and not any(token in line for line in self.lines for token in tokens):
            return
        text = "".join(self.lines)

        from taskspec_lint.checker import SourceError, check_text

        undecodable = _decoding_error(self.filename)
        if undecodable is not None:
            message = UncheckableFile.format(reason=undecodable.reason)
            yield undecodable.line, undecodable.column - 1, f"{UncheckableFile.code} {message}", type(self)
            return
        try:
            catalog = _catalog_for(config.catalog)
        except CatalogError as error:
            yield _setup_failure(error)
            return
        try:
            findings = check_text(text, self.filename, catalog, config)
        except SourceError:
            return
        for finding in findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)

    def _run_preset(self, config: Config) -> Iterator[FindingTuple]:
        """Report this file's findings from the preset's index of the whole project."""
        try:
            by_file = _preset_findings(config, self.catalog_path)
        except (ConfigError, CatalogError) as error:
            yield _setup_failure(error)
            return
        for finding in by_file.get(str(Path(self.filename).resolve()), ()):
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)


def _decoding_error(filename: str) -> SourceError | None:
    """Return why Python cannot decode the file in its declared encoding, or None.

    flake8 7 reads such a file as Latin-1 without a word, so the plugin would check
    misread text. Like the command line, it reports TSK001 and checks nothing in the file.
    """
    from taskspec_lint.checker import SourceError, decode_source

    if filename in ("-", "stdin"):
        return None
    try:
        decode_source(Path(filename).read_bytes())
    except SourceError as error:
        return error
    except OSError:
        return None
    return None


@lru_cache(maxsize=8)
def _preset_findings_cached(root: Path, config: Config, catalog_path: str | None) -> dict[str, list[Finding]]:
    from taskspec_lint.catalog import load_catalog
    from taskspec_lint.discovery import display_path, iter_python_files
    from taskspec_lint.presets import get_preset
    from taskspec_lint.presets.runner import default_cache_directory, run_preset

    preset = get_preset(config.preset)
    assert preset is not None
    files = [(path, display_path(path)) for path in iter_python_files([root], config)]
    catalog = load_catalog(config.catalog) if config.catalog else None
    findings, _, _ = run_preset(files, preset, config, catalog, default_cache_directory(config))
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        # flake8 reports files it cannot parse itself (E902, E999).
        if finding.code != UncheckableFile.code or "syntax error" not in finding.message:
            by_file.setdefault(str(Path(finding.path).resolve()), []).append(finding)
    return by_file


def _preset_findings(config: Config, catalog_path: str | None) -> dict[str, list[Finding]]:
    """Return the findings of the project that ``config`` belongs to, by absolute path.

    A preset needs the whole project, so the first file of a run indexes it, from the disk
    cache when it can. The other files of the run reuse the result.
    """
    root = config.root if config.root is not None else Path.cwd()
    return _preset_findings_cached(root.resolve(), config, catalog_path)


@lru_cache(maxsize=64)
def _text_tokens(config: Config) -> tuple[str, ...] | None:
    """Return the prefilter tokens as text, to test flake8's lines without encoding them."""
    tokens = config.prefilter_tokens
    return None if tokens is None else tuple(token.decode("utf-8") for token in tokens)


def _setup_failure(error: Exception) -> FindingTuple:
    """Report a bad configuration or catalog on line 1, where editors and CI logs show it."""
    return 1, 0, f"{UncheckableFile.code} taskspec-lint cannot check this file: {error}", TaskSpecChecker


def _config_for(filename: str, config_path: str | None, catalog_path: str | None) -> Config:
    directory = os.path.dirname(filename) if filename not in ("-", "stdin") else ""
    return _config_for_directory(directory or ".", config_path, catalog_path)


@lru_cache(maxsize=256)
def _config_for_directory(directory: str, config_path: str | None, catalog_path: str | None) -> Config:
    if config_path:
        config = read_config_file(Path(config_path))
    else:
        config = load_config(Path(directory).resolve())
    if catalog_path:
        config = replace(config, catalog=Path(catalog_path).resolve())
    return config


@lru_cache(maxsize=16)
def _catalog_for(path: Path | None) -> Catalog:
    from taskspec_lint.catalog import load_builtin_catalog, load_catalog

    path = path or runtime_catalog_path()
    return load_catalog(path) if path is not None else load_builtin_catalog()
