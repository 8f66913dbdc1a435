"""The ``taskspec-lint`` command: check paths, or show, validate and export a catalog.

Exit codes: 0 no findings, 1 findings, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from taskspec_lint import __version__
from taskspec_lint.catalog import load_builtin_catalog, load_catalog
from taskspec_lint.checker import check_file
from taskspec_lint.checker.config import (
    Config,
    ConfigError,
    load_config,
    read_config_file,
    runtime_catalog_path,
    select_codes,
)
from taskspec_lint.checker.findings import Finding
from taskspec_lint.discovery import display_path, iter_python_files
from taskspec_lint.errors import CatalogError
from taskspec_lint.formats import FORMATS, RunSummary
from taskspec_lint.model import Catalog
from taskspec_lint.presets import PRESET_NAMES, get_preset
from taskspec_lint.presets.base import Preset
from taskspec_lint.presets.runner import (
    CACHE_ENV,
    CACHE_FOLDER,
    default_cache_directory,
    run_preset,
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

class UsageError(Exception):
    """A command-line or configuration problem: reported in one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if arguments and arguments[0] == "catalog":
            return _catalog_command(arguments[1:])
        if arguments and arguments[0] == "rules":
            return _rules_command(arguments[1:])
        return _check_command(arguments)
    except (UsageError, ConfigError) as error:
        print(f"taskspec-lint: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CatalogError as error:
        for problem in [error, *error.more]:
            print(f"taskspec-lint: invalid catalog: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# Checking -------------------------------------------------------------------------------


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskspec-lint",
        description="Check Python source against the task catalog, without importing it.",
        epilog="Other commands: 'taskspec-lint catalog --help', 'taskspec-lint rules'. "
        "Exit codes: 0 no findings, 1 findings, 2 usage or configuration error.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories to check (default: the current directory)")

    parser.add_argument("--format", choices=sorted(FORMATS), default="text",
                        help="output format (default: text)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--catalog", metavar="FILE",
                        help="catalog file (default: the 'catalog' key of the configuration, "
                        "else $TASKSPEC_CATALOG, else the built-in catalog)")
    parser.add_argument("--config", metavar="PYPROJECT",
                        help="pyproject.toml to read [tool.taskspec-lint] from "
                        "(default: the nearest one above the first PATH)")

    parser.add_argument("--select", metavar="CODES",
                        help="comma-separated codes or prefixes to report, replacing the configured set")
    parser.add_argument("--extend-select", metavar="CODES", help="codes or prefixes to report in addition")
    parser.add_argument("--ignore", metavar="CODES", help="codes or prefixes not to report")

    parser.add_argument("--preset", choices=PRESET_NAMES,
                        help="queue library whose code to read (default: the configured preset, "
                        "else taskspec, this package's own API)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="folder for the index cache of the celery, rq and dramatiq presets "
                        f"(default: ${CACHE_ENV}, else {CACHE_FOLDER} beside the configuration)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the index cache")
    parser.add_argument("--exit-zero", action="store_true", help="exit with 0 even when there are findings")
    parser.add_argument("--version", action="version", version=f"taskspec-lint {__version__}")
    return parser


def _check_command(argv: list[str]) -> int:
    options = _check_parser().parse_args(argv)
    paths = [Path(path) for path in options.paths] or [Path(".")]
    for path in paths:
        if not path.exists():
            hint = ""
            if str(path) in ("catalog", "rules"):
                hint = f"; to run the {path} command, name it first: taskspec-lint {path} ... [options]"
            raise UsageError(f"{path}: no such file or directory{hint}")

    config = _resolve_config(options, paths[0])
    preset = get_preset(config.preset)
    if preset is None:
        catalog = _resolve_catalog(options.catalog, config)
        findings, summary = run_check(paths, catalog, config)
    else:
        findings, summary = _run_preset_command(options, preset, config, paths)
    _write(options.output, FORMATS[options.format](findings, summary))
    if findings and not options.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _run_preset_command(
    options: argparse.Namespace, preset: Preset, config: Config, paths: list[Path]
) -> tuple[list[Finding], RunSummary]:
    """Index the project and report the findings in ``paths``.

    A preset checks across files. When a configuration file sets the project's folder, the
    whole folder is indexed even if only some files are named, as pre-commit does with the
    staged files, so a call in a staged file is checked against tasks defined elsewhere.
    """
    explicit = options.catalog or config.catalog
    scope = [config.root] if config.root is not None else []
    files = [(path, display_path(path)) for path in iter_python_files([*scope, *paths], config)]
    cache: Path | None = None
    if options.cache_dir and not options.no_cache:
        cache = Path(options.cache_dir)
    elif not options.no_cache:
        cache = default_cache_directory(config)
    findings, summary, _ = run_preset(
        files, preset, config, load_catalog(explicit) if explicit else None, cache
    )
    if scope:
        named = [os.path.abspath(path) for path in paths]
        findings = [finding for finding in findings if _within(os.path.abspath(finding.path), named)]
    return findings, summary


def _within(path: str, named: list[str]) -> bool:
    return any(path == name or path.startswith(name.rstrip(os.sep) + os.sep) for name in named)


def _resolve_config(options: argparse.Namespace, first_path: Path) -> Config:
    if options.config:
        config_path = Path(options.config)
        if not config_path.is_file():
            raise UsageError(f"{config_path}: configuration file not found")
        config = read_config_file(config_path)
    else:
        config = load_config(first_path.resolve())

    if options.preset is not None:
        config = replace(config, preset=options.preset)
    if options.select is not None or options.extend_select or options.ignore:
        base = config.select if options.select is None else select_codes(_codes(options.select))
        codes = select_codes(sorted(base), _codes(options.extend_select), _codes(options.ignore), "--")
        config = replace(config, select=codes)
    return config


def _codes(text: str | None) -> list[str]:
    return [code for code in (text or "").replace(" ", ",").split(",") if code]


def _resolve_catalog(option: str | None, config: Config) -> Catalog:
    """Load the catalog: --catalog, else the configuration's, else $TASKSPEC_CATALOG, else built-in.

    The environment variable is the one the runtime registry reads, so an application and
    its linter agree on the catalog unless the configuration sets another.
    """
    if option:
        return load_catalog(option)
    path = config.catalog or runtime_catalog_path()
    return load_catalog(path) if path is not None else load_builtin_catalog()


def run_check(paths: Sequence[Path], catalog: Catalog, config: Config) -> tuple[list[Finding], RunSummary]:
    """Check every Python file under ``paths``; return the findings sorted and the counts."""
    findings: list[Finding] = []
    files = 0
    parsed = 0
    for path in iter_python_files(paths, config):
        files += 1
        result = check_file(path, display_path(path), catalog, config)
        findings.extend(result.findings)
        parsed += result.parsed
    findings.sort()
    return findings, RunSummary(files_checked=files, files_parsed=parsed)


def _write(output: str | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as error:
        raise UsageError(f"{output}: cannot write the report: {error.strerror}") from None


# Catalog and rules ----------------------------------------------------------------------


def _catalog_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskspec-lint catalog",
        description="Show, validate or export a task catalog.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="list the task types and their specs")
    show.add_argument("--catalog", metavar="FILE", help="catalog file (default: configured or built-in)")
    validate = commands.add_parser("validate", help="check catalog files and report every problem")
    validate.add_argument("files", nargs="+", metavar="FILE")
    export = commands.add_parser("export", help="write the catalog as Markdown or JSON")
    export.add_argument("--format", choices=("markdown", "json"), default="markdown",
                        help="output format (default: markdown)")
    export.add_argument("--catalog", metavar="FILE", help="catalog file (default: configured or built-in)")
    extract = commands.add_parser(
        "extract", help="write a catalog file from the task definitions a preset finds in the code"
    )
    extract.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to read")
    extract.add_argument("--preset", choices=[name for name in PRESET_NAMES if name != "taskspec"],
                         required=True, help="queue library whose task definitions to read")
    extract.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    return parser


def _catalog_command(argv: list[str]) -> int:
    options = _catalog_parser().parse_args(argv)
    if options.command == "validate":
        return _validate_catalogs(options.files)
    if options.command == "extract":
        return _extract_catalog(options)

    catalog = _resolve_catalog(options.catalog, load_config(Path.cwd()))
    if options.command == "show":
        _write(None, _catalog_listing(catalog))
    elif options.format == "json":
        _write(None, _catalog_json(catalog))
    else:
        from taskspec_lint.docs import catalog_markdown

        _write(None, catalog_markdown(catalog))
    return EXIT_CLEAN


def _extract_catalog(options: argparse.Namespace) -> int:
    from taskspec_lint.catalog_writer import dump_catalog
    from taskspec_lint.presets.index import build_index

    paths = [Path(path) for path in options.paths]
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    config = load_config(paths[0].resolve())
    preset = get_preset(options.preset)
    assert preset is not None
    files = [(path, display_path(path)) for path in iter_python_files(paths, config)]
    index = build_index(files, preset, None)
    for display, error in sorted(index.errors.items()):
        print(f"taskspec-lint: skipped {display}:{error.line}:{error.column}: {error.reason}", file=sys.stderr)
    catalog = preset.extract_catalog(index)
    header = (
        f"Extracted by taskspec-lint from the {options.preset} task definitions in "
        f"{', '.join(options.paths)}: {len(catalog.specs)} task types.\n"
        "Review every value before committing. Idempotency cannot be read from code: each\n"
        "task says idempotent: false until a person decides.\n"
    )
    _write(options.output, dump_catalog(catalog, header, idempotency_decided=False))
    return EXIT_CLEAN


def _validate_catalogs(files: list[str]) -> int:
    status = EXIT_CLEAN
    for name in files:
        try:
            catalog = load_catalog(name)
        except CatalogError as error:
            for problem in [error, *error.more]:
                print(problem)
            status = EXIT_FINDINGS
            continue
        print(f"{name}: valid: {len(catalog.specs)} task types, {len(catalog.queues)} queues")
    return status


def _catalog_listing(catalog: Catalog) -> str:
    from taskspec_lint.durations import format_duration

    width = max(len(task_type) for task_type in catalog.specs)
    lines = [f"{catalog.source}: {len(catalog.specs)} task types, {len(catalog.queues)} queues"]
    for spec in catalog.specs.values():
        ttl = format_duration(spec.unique_ttl) if spec.unique_ttl else "0"
        lines.append(
            f"{spec.type:<{width}}  queue={spec.queue} max_retry={spec.max_retry} "
            f"timeout={format_duration(spec.timeout)} retry_delay={spec.retry_delay} "
            f"unique_ttl={ttl} idempotent={'yes' if spec.idempotent else 'no'}"
        )
    return "\n".join(lines) + "\n"


def _catalog_json(catalog: Catalog) -> str:
    from taskspec_lint.durations import format_duration

    document = {
        "queues": {
            name: {"weight": q.weight, "concurrency": q.concurrency, "shed_above": q.shed_above}
            for name, q in catalog.queues.items()
        },
        "tasks": {
            spec.type: {
                "human_name": spec.human_name,
                "queue": spec.queue,
                "max_retry": spec.max_retry,
                "timeout": format_duration(spec.timeout),
                "retry_delay": str(spec.retry_delay),
                "unique_ttl": format_duration(spec.unique_ttl),
                "idempotent": spec.idempotent,
            }
            for spec in catalog.specs.values()
        },
    }
    return json.dumps(document, indent=2) + "\n"


def _rules_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="taskspec-lint rules", description="Document the rules.")
    parser.add_argument("--format", choices=("text", "markdown"), default="text",
                        help="text: every rule's full documentation; markdown: the summary table")
    options = parser.parse_args(argv)
    from taskspec_lint.docs import rules_markdown, rules_text

    _write(None, rules_markdown() if options.format == "markdown" else rules_text())
    return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
