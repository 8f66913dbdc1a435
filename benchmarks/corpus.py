"""Benchmark taskspec-lint on real published code that does not use the package.

Run with ``python benchmarks/corpus.py`` from the virtualenv where taskspec-lint,
flake8 and ruff are installed. The corpus is the ``.py`` files of five pinned wheels
from the package index (see PROJECTS). They are downloaded with ``pip download`` when
missing and unpacked once into the cache folder: ``~/.cache/taskspec-lint-corpus`` by
default, or ``--cache DIR``, or the TASKSPEC_CORPUS_CACHE environment variable.

Each figure is the best of ``--repeat`` timed runs, because the fastest run is the one
least disturbed by other work on the machine. The script measures:

- the command line, ``python -m taskspec_lint.cli --format json`` on all five projects
  in one process, with its findings and its summary counts;
- ``ruff check --no-cache --isolated --exit-zero`` (ruff's default rules) on the same
  files, and the ratio of the two wall-clock times;
- ``ast.parse`` of every file in this process, as the floor of any Python-level parser;
- flake8 on one project with the TSK plugin installed against flake8 without it. flake8
  7 has no option that stops an installed plugin from loading, so the baseline runs the
  same flake8, pycodestyle, pyflakes and mccabe versions from a second virtualenv, kept
  in the cache folder, where taskspec-lint is not installed;
- the presets. For each of PRESET_RUNS, one ``--preset NAME --format json --no-cache``
  run gives the task definitions, call sites, parsed files and findings. A cold
  ``--preset celery`` run over all five projects with an empty ``--cache-dir`` is timed,
  then a warm run on the same cache. Each of INJECTIONS misspells one task name in a
  temporary copy of a project and must add exactly one TSK101 finding.

It prints a table, writes the same figures as JSON with ``--json FILE``, and exits 0
even when a target is missed, because a miss is a result to report. It exits 2 only
when the corpus cannot be downloaded or unpacked.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The checkout this script belongs to; the plugin's flake8 virtualenv installs it.
REPOSITORY = Path(__file__).resolve().parents[1]
CACHE_ENV = "TASKSPEC_CORPUS_CACHE"
DEFAULT_CACHE = Path("~/.cache/taskspec-lint-corpus")
# The interpreter version given to ``pip download``, so the same wheels are chosen
# whatever Python runs this script.
WHEEL_PYTHON_VERSION = "3.12"

CLI_RUFF_RATIO_TARGET = 1.0
FLAKE8_OVERHEAD_TARGET_PERCENT = 3.0
FINDINGS_TARGET = 0
FLAKE8_SELECT = "E,F,W,C90,TSK"
# flake8, the plugins it ships with, and the plugin's own dependencies. Both flake8
# virtualenvs pin these versions, so they differ only in taskspec-lint itself.
FLAKE8_DISTRIBUTIONS = ("flake8", "pycodestyle", "pyflakes", "mccabe", "libcst", "PyYAML")
PLUGIN_NAME = "taskspec-lint"

EXIT_OK = 0
EXIT_CORPUS_UNAVAILABLE = 2

# A cold preset run over the whole corpus may take at most this many times ruff's time,
# and a warm run on the cache the cold run wrote at most this many seconds.
PRESET_COLD_RUFF_RATIO_TARGET = 1.5
PRESET_WARM_TARGET_SECONDS = 0.5
# The preset that the cold and warm runs measure.
TIMED_PRESET = "celery"


@dataclass(frozen=True)
class Project:
    """A pinned distribution on the package index whose wheel is part of the corpus."""

    name: str
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        """The start of the wheel's file name: the name normalized as wheels spell it."""
        return f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}-"

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.version}"


PROJECTS = (
    Project("weblate", "5.14.3"),
    Project("apache-superset", "6.1.0"),
    Project("apache-airflow-core", "3.3.2"),
    Project("pretix", "2026.8.0"),
    Project("netbox", "4.7.3"),
)


@dataclass(frozen=True)
class PresetRun:
    """One preset on one project of the corpus, a row of the per-project table.

    ``expect_silent`` marks a project that does not use the preset's library, so every
    finding there is a false positive.
    """

    preset: str
    project: str
    expect_silent: bool = False


PRESET_RUNS = (
    PresetRun("celery", "weblate"),
    PresetRun("celery", "pretix"),
    PresetRun("celery", "apache-superset"),
    PresetRun("rq", "netbox"),
    PresetRun("dramatiq", "apache-airflow-core", expect_silent=True),
    PresetRun("celery", "apache-airflow-core", expect_silent=True),
)


@dataclass(frozen=True)
class SitePattern:
    """A kind of call site that a preset checks, found in source text by regular expression.

    ``item`` must capture the task name in a group called ``name``. With ``block``, the
    item is searched only inside the braces that a match of ``block`` opens, up to the
    first closing brace at the indentation of the ``block`` line.
    """

    kind: str
    item: re.Pattern[str]
    block: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Injection:
    """A misspelled task name at one real call site of a temporary copy of a project."""

    preset: str
    project: str
    patterns: tuple[SitePattern, ...]


# Sites that name a task with a string. A misspelled function reference, as in
# "send_mial.s()", raises NameError and the preset does not report it, so ".s()" sites
# cannot be used.
_QUOTED_NAME = r"""(?P<quote>["'])(?P<name>[A-Za-z_][\w\-]*(?:\.[\w\-]+)*)(?P=quote)"""
CELERY_SITES = (
    SitePattern("send_task", re.compile(r"\.send_task\(\s*" + _QUOTED_NAME)),
    SitePattern(
        "beat schedule entry",
        re.compile(r"""["']task["']\s*:\s*""" + _QUOTED_NAME),
        re.compile(r"^(?P<indent>[ \t]*)(?:[\w.]+\.)?(?:beat_schedule|CELERY_BEAT_SCHEDULE|CELERYBEAT_SCHEDULE)"
                   r"\s*=\s*\{", re.MULTILINE),
    ),
    SitePattern(
        "task_routes key",
        # A dotted name, so the "queue" key of a route that spans lines is never taken.
        re.compile(r"""^[ \t]*(?P<quote>["'])(?P<name>[A-Za-z_]\w*(?:\.\w+)+)(?P=quote)[ \t]*:""", re.MULTILINE),
        re.compile(r"^(?P<indent>[ \t]*)(?:[\w.]+\.)?(?:task_routes|CELERY_TASK_ROUTES|CELERY_ROUTES)"
                   r"\s*=\s*\{", re.MULTILINE),
    ),
)
RQ_SITES = (
    SitePattern(
        "enqueue with a dotted path",
        re.compile(r"""\.enqueue(?:_call)?\(\s*(?P<quote>["'])(?P<name>[A-Za-z_]\w*(?:\.\w+)+)(?P=quote)"""),
    ),
)
INJECTIONS = (
    Injection("celery", "weblate", CELERY_SITES),
    Injection("celery", "apache-superset", CELERY_SITES),
    Injection("rq", "netbox", RQ_SITES),
)


class CorpusError(Exception):
    """A wheel that cannot be downloaded or unpacked."""


@dataclass
class ProjectSize:
    """The ``.py`` files unpacked from one wheel."""

    name: str
    version: str
    folder: str
    files: int
    lines: int


@dataclass
class Timing:
    """Seconds of each timed run: wall clock, and CPU time (user + system) of child processes.

    ``best`` (wall clock) is the figure the targets use. CPU time leaves out the time
    spent waiting for a core that other work holds, so it is reported beside it.
    """

    runs: list[float] = field(default_factory=list)
    cpu_runs: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu_runs)

    def as_dict(self) -> dict[str, Any]:
        return {"seconds": self.best, "runs": self.runs,
                "cpu_seconds": self.best_cpu, "cpu_runs": self.cpu_runs}


@dataclass
class Report:
    """Every figure of one run of this script, as written by ``--json``."""

    date: str
    machine: dict[str, Any]
    product: dict[str, Any]
    repeat: int
    corpus: list[ProjectSize]
    cli: dict[str, Any] = field(default_factory=dict)
    ruff: dict[str, Any] = field(default_factory=dict)
    ast_parse: dict[str, Any] = field(default_factory=dict)
    flake8: dict[str, Any] = field(default_factory=dict)
    presets: dict[str, Any] = field(default_factory=dict)


# Corpus ---------------------------------------------------------------------------------


def resolve_cache(option: str | None) -> Path:
    """Return the cache folder: ``--cache``, else TASKSPEC_CORPUS_CACHE, else the default."""
    chosen = option or os.environ.get(CACHE_ENV) or str(DEFAULT_CACHE)
    return Path(chosen).expanduser().resolve()


def find_wheel(wheels: Path, project: Project) -> Path | None:
    matches = sorted(wheels.glob(f"{project.wheel_prefix}*.whl"))
    return matches[0] if matches else None


def download_wheel(wheels: Path, project: Project) -> Path:
    """Download the pinned wheel into ``wheels`` with pip. Raise CorpusError if pip fails."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
        "--python-version", WHEEL_PYTHON_VERSION, "-d", str(wheels), project.requirement,
    ]
    print(f"downloading {project.requirement} into {wheels}", flush=True)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = find_wheel(wheels, project)
    if completed.returncode != 0 or wheel is None:
        detail = completed.stderr.strip().splitlines()[-1:] or ["no wheel was saved"]
        raise CorpusError(f"pip download {project.requirement} failed: {detail[0]}")
    return wheel


def unpack_python_files(wheel: Path, target: Path) -> None:
    """Extract the ``.py`` members of ``wheel`` into ``target``, once.

    The files go to a temporary folder that is renamed at the end, so an interrupted
    run leaves no half-filled ``target`` behind. ZipFile.extract drops absolute paths
    and ``..`` segments, so no member lands outside the folder.
    """
    if target.is_dir():
        return
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                if member.filename.endswith(".py") and not member.is_dir():
                    archive.extract(member, partial)
    except (OSError, zipfile.BadZipFile) as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise CorpusError(f"{wheel}: cannot unpack: {error}") from None
    partial.rename(target)


def python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if path.is_file())


def count_lines(data: bytes) -> int:
    """Count lines as editors do: a last line without a newline still counts."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def measure_project(folder: Path, project: Project) -> ProjectSize:
    files = python_files(folder)
    lines = sum(count_lines(path.read_bytes()) for path in files)
    return ProjectSize(project.name, project.version, folder.name, len(files), lines)


def prepare_corpus(cache: Path) -> list[ProjectSize]:
    """Download the missing wheels, unpack them, and count files and lines per project."""
    wheels = cache / "wheels"
    sources = cache / "src"
    wheels.mkdir(parents=True, exist_ok=True)
    sources.mkdir(parents=True, exist_ok=True)

    sizes = []
    for project in PROJECTS:
        wheel = find_wheel(wheels, project) or download_wheel(wheels, project)
        target = sources / project.folder_name
        unpack_python_files(wheel, target)
        sizes.append(measure_project(target, project))
    return sizes


# Timing ---------------------------------------------------------------------------------


def children_cpu_seconds() -> float:
    """Return the CPU time of every finished child process, and of the children they waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_of(repeat: int, run_once: Callable[[], Any], in_process: bool = False) -> tuple[Timing, Any]:
    """Call ``run_once`` ``repeat`` times; return the timings and the last call's result.

    CPU time is this process's own when ``in_process``, else that of the child processes.
    """
    timing = Timing()
    result = None
    for _ in range(repeat):
        cpu_start = time.process_time() if in_process else children_cpu_seconds()
        start = time.perf_counter()
        result = run_once()
        timing.runs.append(time.perf_counter() - start)
        cpu_end = time.process_time() if in_process else children_cpu_seconds()
        timing.cpu_runs.append(cpu_end - cpu_start)
    return timing, result


def run_command(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, check=False)


def time_command(command: Sequence[str], cwd: Path, repeat: int) -> tuple[Timing, subprocess.CompletedProcess[str]]:
    return best_of(repeat, lambda: run_command(command, cwd))


def measure_cli(sources: Path, folders: Sequence[str], repeat: int) -> dict[str, Any]:
    """Time the command line on every project at once; record its findings and counts.

    A crash is reported with ``crashed`` set (see read_cli_output), with the figures.
    """
    command = [sys.executable, "-m", "taskspec_lint.cli", "--format", "json", *folders]
    timing, completed = time_command(command, sources, repeat)
    return {"command": command, **timing.as_dict(), **read_cli_output(completed)}


def read_cli_output(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Return the exit code, summary and findings of a ``--format json`` run, and whether it crashed.

    A crash is an exit code other than 0 (clean) or 1 (findings), a traceback on stderr,
    or output that is not JSON.
    """
    result: dict[str, Any] = {
        "exit_code": completed.returncode,
        "crashed": completed.returncode not in (0, 1) or "Traceback" in completed.stderr,
        "stderr": completed.stderr[-4000:],
        "findings": [],
    }
    try:
        document = json.loads(completed.stdout)
    except json.JSONDecodeError:
        result["crashed"] = True
        return result
    result["summary"] = document["summary"]
    result["findings"] = [
        {key: finding[key] for key in ("path", "line", "column", "code", "message")}
        for finding in document["findings"]
    ]
    return result


def find_ruff() -> str | None:
    """Return the ruff beside this interpreter, else the one on PATH, else None."""
    beside = Path(sys.executable).parent / "ruff"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("ruff")


def measure_ruff(sources: Path, folders: Sequence[str], repeat: int) -> dict[str, Any]:
    """Time ruff with its default rules; ``--isolated`` keeps any ruff configuration out."""
    ruff = find_ruff()
    if ruff is None:
        return {"available": False}
    version = run_command([ruff, "--version"], sources).stdout.strip()
    command = [ruff, "check", "--no-cache", "--isolated", "--exit-zero", *folders]
    timing, completed = time_command(command, sources, repeat)
    return {
        "available": True,
        "version": version,
        "command": command,
        **timing.as_dict(),
        "exit_code": completed.returncode,
    }


def parse_all(sources: Sequence[bytes]) -> int:
    """Parse each source with ast.parse and return how many failed to parse."""
    failures = 0
    with warnings.catch_warnings():
        # Invalid escape sequences and similar warnings are not what is measured.
        warnings.simplefilter("ignore")
        for data in sources:
            try:
                ast.parse(data)
            except (SyntaxError, ValueError):
                failures += 1
    return failures


def measure_ast_parse(folders: Sequence[Path], repeat: int) -> dict[str, Any]:
    """Time ast.parse of every file, in this process; reading the files is not timed."""
    sources = [path.read_bytes() for folder in folders for path in python_files(folder)]
    timing, failures = best_of(repeat, lambda: parse_all(sources), in_process=True)
    return {
        "python": platform.python_version(),
        "files": len(sources),
        **timing.as_dict(),
        "syntax_errors": failures,
    }


# flake8 ---------------------------------------------------------------------------------


def flake8_versions() -> dict[str, str]:
    """Return the installed versions of flake8 and its bundled plugins, to pin the baseline."""
    return {name: importlib.metadata.version(name) for name in FLAKE8_DISTRIBUTIONS}


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def flake8_version_line(python: Path, cwd: Path) -> str:
    return run_command([str(python), "-m", "flake8", "--version"], cwd).stdout.strip()


def venv_matches(python: Path, versions: dict[str, str], with_plugin: bool, cwd: Path) -> bool:
    """Return whether ``python`` has exactly the pinned versions, and the plugin or not."""
    if not python.is_file():
        return False
    script = (
        "import importlib.metadata as m, json, sys\n"
        "names = json.loads(sys.argv[1])\n"
        "found = {}\n"
        "for name in names:\n"
        "    try:\n"
        "        found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        found[name] = None\n"
        "print(json.dumps(found))\n"
    )
    names = [*versions, PLUGIN_NAME]
    completed = run_command([str(python), "-c", script, json.dumps(names)], cwd)
    if completed.returncode != 0:
        return False
    found = json.loads(completed.stdout)
    has_plugin = found.pop(PLUGIN_NAME) is not None
    return found == versions and has_plugin == with_plugin


def prepare_flake8_venv(
    cache: Path, versions: dict[str, str], with_plugin: bool
) -> tuple[Path | None, str]:
    """Create (once) a virtualenv with the pinned versions, with or without taskspec-lint.

    The plugin is installed from this checkout (not in editable mode), so both virtualenvs
    hold the same packages but for taskspec-lint. Returns the interpreter and "reused" or
    "created", or None and the reason it failed.
    """
    venv = cache / ("flake8-plugin-venv" if with_plugin else "flake8-baseline-venv")
    python = venv_python(venv)
    if not with_plugin and venv_matches(python, versions, with_plugin, cache):
        return python, "reused"

    shutil.rmtree(venv, ignore_errors=True)
    print(f"creating the flake8 virtualenv {venv}", flush=True)
    created = run_command([sys.executable, "-m", "venv", str(venv)], cache)
    if created.returncode != 0:
        return None, f"python -m venv failed: {created.stderr.strip()}"
    pins = [f"{name}=={version}" for name, version in versions.items()]
    if with_plugin:
        pins.append(str(REPOSITORY))
    installed = run_command([str(python), "-m", "pip", "install", "--quiet", *pins], cache)
    if installed.returncode != 0:
        return None, f"pip install {' '.join(pins)} failed: {installed.stderr.strip()[-500:]}"
    if not venv_matches(python, versions, with_plugin, cache):
        return None, f"{venv} does not hold the pinned versions: {flake8_version_line(python, cache)!r}"
    return python, "created"


def run_plugin_on_files(sources: Sequence[tuple[str, list[str]]]) -> int:
    """Run the TSK plugin's checker on each (file name, lines) pair; return the findings count."""
    from taskspec_lint.flake8_plugin import TaskSpecChecker

    findings = 0
    for filename, lines in sources:
        findings += sum(1 for _ in TaskSpecChecker(ast.Module(body=[], type_ignores=[]), filename, lines).run())
    return findings


def measure_plugin_in_process(sources: Path, project: str, repeat: int) -> dict[str, Any]:
    """Time the plugin alone: its import in a fresh interpreter, and its run() on every file.

    flake8's own wall-clock time varies by more than the 3% target on a shared machine,
    so this isolates what the plugin adds. The tree argument is an empty module,
    because the plugin reads only the lines.
    """
    import_code = ("import time; start = time.perf_counter(); import taskspec_lint.flake8_plugin; "
                   "print(time.perf_counter() - start)")
    import_runs = [float(run_command([sys.executable, "-c", import_code], sources).stdout)
                   for _ in range(repeat)]

    files = [(path.relative_to(sources).as_posix(), read_lines(path))
             for path in python_files(sources / project)]
    timing, findings = best_of(repeat, lambda: run_plugin_on_files(files), in_process=True)
    return {
        "import_seconds": min(import_runs),
        "run_seconds": timing.best,
        "run_runs": timing.runs,
        "files": len(files),
        "microseconds_per_file": timing.best / len(files) * 1e6,
        "findings": findings,
    }


def read_lines(path: Path) -> list[str]:
    """Read source lines as flake8 does: decoded by the coding line, newlines kept."""
    with tokenize.open(path) as handle:
        return handle.readlines()


def flake8_command(python: Path, jobs: int, target: str) -> list[str]:
    return [str(python), "-m", "flake8", "--isolated", "--exit-zero", f"-j{jobs}",
            "--select", FLAKE8_SELECT, target]


def measure_flake8(cache: Path, sources: Path, project: str, repeat: int) -> dict[str, Any]:
    """Time flake8 on one project with the plugin installed and without it.

    Both run from ``sources``, never from the repository: ``python -m`` puts the working
    directory on sys.path, and a taskspec_lint.egg-info there would register the plugin
    in the baseline virtualenv too.
    """
    jobs = os.cpu_count() or 1
    versions = flake8_versions()
    result: dict[str, Any] = {"project": project, "jobs": jobs, "versions": versions}

    # The plugin's virtualenv is rebuilt every run, so it contains the checkout as it is now.
    plugin_python, state = prepare_flake8_venv(cache, versions, with_plugin=True)
    if plugin_python is None:
        result["error"] = state
        return result
    result["plugin_version_line"] = flake8_version_line(plugin_python, sources)
    if PLUGIN_NAME not in result["plugin_version_line"]:
        result["error"] = f"flake8 in {plugin_python} does not load the {PLUGIN_NAME} plugin"
        return result

    baseline_python, state = prepare_flake8_venv(cache, versions, with_plugin=False)
    if baseline_python is None:
        result["error"] = state
        return result
    result["baseline_venv"] = str(baseline_python.parent.parent)
    result["baseline_venv_state"] = state
    result["baseline_version_line"] = flake8_version_line(baseline_python, sources)

    with_command = flake8_command(plugin_python, jobs, project)
    without_command = flake8_command(baseline_python, jobs, project)
    # Alternate the two, so a slow phase of the machine hits both alike.
    with_timing, without_timing = Timing(), Timing()
    outputs: dict[str, str] = {}
    for _ in range(repeat):
        for timing, command, label in ((with_timing, with_command, "with"),
                                       (without_timing, without_command, "without")):
            single, completed = time_command(command, sources, 1)
            timing.runs.extend(single.runs)
            timing.cpu_runs.extend(single.cpu_runs)
            outputs[label] = completed.stdout
    result.update({
        "with_plugin": {"command": with_command, **with_timing.as_dict(),
                        "findings": len(outputs["with"].splitlines())},
        "without_plugin": {"command": without_command, **without_timing.as_dict(),
                           "findings": len(outputs["without"].splitlines())},
        "overhead_percent": (with_timing.best / without_timing.best - 1) * 100,
        "cpu_overhead_percent": (with_timing.best_cpu / without_timing.best_cpu - 1) * 100,
        "tsk_findings": [line for line in outputs["with"].splitlines() if ": TSK" in line],
        "plugin_in_process": measure_plugin_in_process(sources, project, repeat),
    })
    return result


# Presets --------------------------------------------------------------------------------


def preset_command(preset: str, folders: Sequence[str], cache_directory: Path | None) -> list[str]:
    """Return the command line of a preset run; without ``cache_directory`` it uses --no-cache."""
    cache = ["--cache-dir", str(cache_directory)] if cache_directory is not None else ["--no-cache"]
    return [sys.executable, "-m", "taskspec_lint.cli", "--preset", preset, "--format", "json",
            *cache, *folders]


def run_preset(preset: str, folders: Sequence[str], cwd: Path) -> dict[str, Any]:
    """Run a preset once with --no-cache and return its output (see read_cli_output)."""
    command = preset_command(preset, folders, None)
    timing, completed = time_command(command, cwd, 1)
    return {"command": command, "seconds": timing.best, **read_cli_output(completed)}


def measure_preset_table(sources: Path, corpus: Sequence[ProjectSize]) -> list[dict[str, Any]]:
    """Run each of PRESET_RUNS once and return one row per run: counts and findings."""
    folders = {size.name: size.folder for size in corpus}
    rows = []
    for run in PRESET_RUNS:
        output = run_preset(run.preset, [folders[run.project]], sources)
        rows.append({"preset": run.preset, "project": run.project,
                     "expect_silent": run.expect_silent, **output})
    return rows


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def measure_preset_speed(sources: Path, folders: Sequence[str], repeat: int) -> dict[str, Any]:
    """Time a cold run of TIMED_PRESET on every project, then a warm run on the same cache.

    Each repetition gets a new empty temporary cache folder, so every cold run parses
    the whole corpus and every warm run reads what the cold run before it wrote.
    """
    cold, warm = Timing(), Timing()
    outputs: dict[str, dict[str, Any]] = {}
    cache_bytes = 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="taskspec-preset-cache-") as temporary:
            cache = Path(temporary)
            for timing, label in ((cold, "cold"), (warm, "warm")):
                single, completed = time_command(preset_command(TIMED_PRESET, folders, cache), sources, 1)
                timing.runs.extend(single.runs)
                timing.cpu_runs.extend(single.cpu_runs)
                outputs[label] = read_cli_output(completed)
            cache_bytes = folder_bytes(cache)
    same = (outputs["cold"].get("summary") == outputs["warm"].get("summary")
            and outputs["cold"]["findings"] == outputs["warm"]["findings"])
    return {
        "preset": TIMED_PRESET,
        "command": preset_command(TIMED_PRESET, folders, Path("<empty temporary folder>")),
        "cold": {**cold.as_dict(), **outputs["cold"]},
        "warm": {**warm.as_dict(), **outputs["warm"]},
        "warm_matches_cold": same,
        "cache_bytes": cache_bytes,
    }


def find_block_end(text: str, start: int, indent: str) -> int:
    """Return the offset of the first line after ``start`` that closes a brace at ``indent``."""
    closing = re.compile(rf"^{re.escape(indent)}[}}\]]", re.MULTILINE)
    match = closing.search(text, start)
    return match.start() if match else len(text)


def find_site(folder: Path, patterns: Sequence[SitePattern]) -> dict[str, Any] | None:
    """Return the first site of ``folder`` that matches one of ``patterns``, tried in order.

    Files are searched in sorted path order. A match on a commented-out line is skipped.
    """
    files = python_files(folder)
    for pattern in patterns:
        for path in files:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            spans = [(0, len(text))]
            if pattern.block is not None:
                spans = [(block.end(), find_block_end(text, block.end(), block["indent"]))
                         for block in pattern.block.finditer(text)]
            for start, end in spans:
                for match in pattern.item.finditer(text, start, end):
                    line_start = text.rfind("\n", 0, match.start()) + 1
                    if text[line_start:match.start()].lstrip().startswith("#"):
                        continue
                    return {"kind": pattern.kind, "path": path, "name": match["name"],
                            "start": match.start("name"), "line": text.count("\n", 0, match.start("name")) + 1}
    return None


def misspell(name: str) -> str:
    """Swap the last two adjacent, different letters of the last dotted segment of ``name``."""
    head, dot, last = name.rpartition(".")
    for index in range(len(last) - 2, -1, -1):
        first, second = last[index], last[index + 1]
        if first != second and first.isalpha() and second.isalpha():
            last = last[:index] + second + first + last[index + 2:]
            return head + dot + last
    return name + "x"


def edit_file(path: Path, start: int, old: str, new: str) -> None:
    """Replace ``old`` at character offset ``start`` of ``path`` with ``new``."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    if text[start:start + len(old)] != old:
        raise ValueError(f"{path}: expected {old!r} at offset {start}")
    path.write_text(text[:start] + new + text[start + len(old):], encoding="utf-8", errors="surrogateescape")


def finding_key(finding: dict[str, Any]) -> tuple[str, int, str, str]:
    return finding["path"], finding["line"], finding["code"], finding["message"]


def run_injection(injection: Injection, sources: Path, folder: str) -> dict[str, Any]:
    """Misspell one task name in a temporary copy of a project; expect one new TSK101 there.

    The preset runs on the copy before and after the edit. The result is PASS when the
    edit adds exactly one finding, TSK101 at the edited line, and removes none.
    """
    result: dict[str, Any] = {"preset": injection.preset, "project": injection.project}
    with tempfile.TemporaryDirectory(prefix="taskspec-injection-") as temporary:
        root = Path(temporary)
        shutil.copytree(sources / folder, root / folder)
        site = find_site(root / folder, injection.patterns)
        if site is None:
            kinds = ", ".join(pattern.kind for pattern in injection.patterns)
            result.update(status="NO SITE", reason=f"no {kinds} found in {folder}")
            return result

        display = site["path"].relative_to(root).as_posix()
        misspelled = misspell(site["name"])
        result.update(kind=site["kind"], path=display, line=site["line"], name=site["name"],
                      misspelled=misspelled)
        before = run_preset(injection.preset, [folder], root)
        edit_file(site["path"], site["start"], site["name"], misspelled)
        after = run_preset(injection.preset, [folder], root)

    old_keys = {finding_key(finding) for finding in before["findings"]}
    new_keys = {finding_key(finding) for finding in after["findings"]}
    added = [finding for finding in after["findings"] if finding_key(finding) not in old_keys]
    removed = [finding for finding in before["findings"] if finding_key(finding) not in new_keys]
    result.update(added=added, removed=removed, crashed=before["crashed"] or after["crashed"])
    expected = [finding for finding in added
                if finding["code"] == "TSK101" and finding["path"] == display and finding["line"] == site["line"]]
    passed = not result["crashed"] and not removed and len(added) == 1 and len(expected) == 1
    result["status"] = "PASS" if passed else "FAIL"
    if not passed:
        result["reason"] = (f"expected one new TSK101 at {display}:{site['line']}; "
                            f"{len(added)} added, {len(removed)} removed, crashed={result['crashed']}")
    return result


def measure_presets(sources: Path, corpus: Sequence[ProjectSize], repeat: int) -> dict[str, Any]:
    folders = {size.name: size.folder for size in corpus}
    return {
        "table": measure_preset_table(sources, corpus),
        "speed": measure_preset_speed(sources, [size.folder for size in corpus], repeat),
        "injections": [run_injection(injection, sources, folders[injection.project])
                       for injection in INJECTIONS],
    }


# Report ---------------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def product_facts() -> dict[str, Any]:
    """Return the taskspec-lint version measured and, for a git checkout, its commit."""
    import taskspec_lint

    package_folder = Path(taskspec_lint.__file__).resolve().parent
    facts: dict[str, Any] = {"version": taskspec_lint.__version__, "commit": None, "modified": None}
    try:
        commit = run_command(["git", "rev-parse", "HEAD"], package_folder)
        status = run_command(["git", "status", "--porcelain", "--", "."], package_folder)
    except OSError:
        return facts
    if commit.returncode == 0:
        facts["commit"] = commit.stdout.strip()
        facts["modified"] = bool(status.stdout.strip())
    return facts


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def print_corpus(report: Report) -> None:
    print(f"{'project':<22}{'version':>10}{'files':>9}{'lines':>12}")
    for size in report.corpus:
        print(f"{size.name:<22}{size.version:>10}{size.files:>9,}{size.lines:>12,}")
    files = sum(size.files for size in report.corpus)
    lines = sum(size.lines for size in report.corpus)
    print(f"{'total':<22}{'':>10}{files:>9,}{lines:>12,}")
    print()


def timing_header(title: str) -> str:
    return f"{title:<40}{'wall s':>9}{'CPU s':>9}  wall clock of each run"


def timing_row(label: str, figures: dict[str, Any]) -> str:
    runs = " ".join(f"{run:.3f}" for run in figures["runs"])
    return f"{label:<40}{figures['seconds']:>9.3f}{figures['cpu_seconds']:>9.3f}  {runs}"


def print_timings(report: Report) -> None:
    cli, ruff, parse = report.cli, report.ruff, report.ast_parse
    print(timing_header("all five projects, best run"))
    print(timing_row("taskspec-lint CLI", cli))
    if ruff["available"]:
        print(timing_row(f"{ruff['version']} (default rules)", ruff))
    else:
        print(f"{'ruff':<40}missing: not beside {sys.executable} nor on PATH")
    print(timing_row(f"ast.parse, Python {parse['python']}", parse))
    print(f"ast.parse: {parse['syntax_errors']} of {parse['files']} files did not parse")
    summary = cli.get("summary", {})
    print(f"CLI summary: files_checked={summary.get('files_checked')} "
          f"files_parsed={summary.get('files_parsed')}, exit code {cli['exit_code']}")
    print()


def print_flake8(report: Report) -> None:
    flake8 = report.flake8
    if not flake8:
        print("flake8: skipped (--skip-flake8)")
        print()
        return
    if "error" in flake8:
        print(f"flake8: not measured: {flake8['error']}")
        print()
        return
    with_plugin, without_plugin = flake8["with_plugin"], flake8["without_plugin"]
    print(f"flake8 on {flake8['project']}, -j{flake8['jobs']}, --select {FLAKE8_SELECT}, "
          f"best of {len(with_plugin['runs'])}")
    print(timing_header(""))
    print(timing_row("with the TSK plugin", with_plugin))
    print(timing_row("without it (baseline virtualenv)", without_plugin))
    print(f"findings printed: {with_plugin['findings']} with the plugin, "
          f"{without_plugin['findings']} without")
    plugin = flake8["plugin_in_process"]
    share = (plugin["import_seconds"] + plugin["run_seconds"]) / without_plugin["cpu_seconds"] * 100
    print(f"plugin alone, in one process: import {plugin['import_seconds']:.3f} s, run() on "
          f"{plugin['files']} files {plugin['run_seconds']:.3f} s ({plugin['microseconds_per_file']:.0f} µs "
          f"a file), {share:.2f}% of the baseline's CPU time")
    print()


def print_presets(report: Report) -> None:
    presets = report.presets
    print("Presets, one run per project with --no-cache")
    print(f"{'preset':<10}{'project':<22}{'definitions':>12}{'call sites':>11}{'parsed':>8}"
          f"{'checked':>9}{'findings':>9}{'wall s':>8}")
    for row in presets["table"]:
        summary = row.get("summary", {})
        findings = "crashed" if row["crashed"] else str(len(row["findings"]))
        project = row["project"] + (" *" if row["expect_silent"] else "")
        print(f"{row['preset']:<10}{project:<22}{summary.get('task_definitions', '-'):>12}"
              f"{summary.get('call_sites', '-'):>11}{summary.get('files_parsed', '-'):>8}"
              f"{summary.get('files_checked', '-'):>9}{findings:>9}{row['seconds']:>8.2f}")
    print("* the project does not use the library, so every finding is a false positive")
    for row in presets["table"]:
        for finding in row["findings"]:
            print(f"  {row['preset']}: {finding['path']}:{finding['line']}: {finding['code']} {finding['message']}")
        if row["crashed"]:
            print(f"  {row['preset']} on {row['project']} crashed, exit code {row['exit_code']}:")
            print(row["stderr"])
    print()

    speed = presets["speed"]
    print(timing_header(f"--preset {speed['preset']}, all five projects"))
    print(timing_row("cold: empty --cache-dir", speed["cold"]))
    print(timing_row("warm: same cache, run again", speed["warm"]))
    summary = speed["cold"].get("summary", {})
    print(f"cold run: {summary.get('task_definitions')} task definitions, {summary.get('call_sites')} call sites, "
          f"{summary.get('files_parsed')} of {summary.get('files_checked')} files parsed, "
          f"{len(speed['cold']['findings'])} findings; cache {speed['cache_bytes'] / 1e6:.1f} MB; "
          f"warm run gives the same summary and findings: {'yes' if speed['warm_matches_cold'] else 'NO'}")
    print()

    print("Injected defects: one task name misspelled in a temporary copy of the project")
    for result in presets["injections"]:
        label = f"{result['status']:<8}{result['preset']} on {result['project']}"
        if result["status"] == "NO SITE":
            print(f"{label}: {result['reason']}")
            continue
        print(f"{label}: {result['kind']} {result['name']!r} -> {result['misspelled']!r} "
              f"at {result['path']}:{result['line']}")
        for finding in result["added"]:
            print(f"          added:   {finding['path']}:{finding['line']}: {finding['code']} {finding['message']}")
        for finding in result["removed"]:
            print(f"          removed: {finding['path']}:{finding['line']}: {finding['code']} {finding['message']}")
        if result["status"] != "PASS":
            print(f"          {result['reason']}")
    print()


def print_preset_targets(report: Report) -> None:
    presets = report.presets
    cold, warm = presets["speed"]["cold"], presets["speed"]["warm"]
    if report.ruff["available"]:
        ratio = cold["seconds"] / report.ruff["seconds"]
        label = f"preset cold / ruff time at most {PRESET_COLD_RUFF_RATIO_TARGET:g}"
        print(f"{label:<46}{ratio:>11.2f}x  {verdict(ratio <= PRESET_COLD_RUFF_RATIO_TARGET)}")
    else:
        print(f"{'preset cold / ruff time':<46}{'no ruff':>12}  SKIPPED")
    label = f"preset warm run at most {PRESET_WARM_TARGET_SECONDS:g} s"
    print(f"{label:<46}{warm['seconds']:>11.3f}s  {verdict(warm['seconds'] <= PRESET_WARM_TARGET_SECONDS)}")

    silent = sum(len(row["findings"]) for row in presets["table"] if row["expect_silent"])
    print(f"{'preset findings where the library is unused: 0':<46}{silent:>12}  {verdict(silent == 0)}")
    crashed = any(row["crashed"] for row in presets["table"]) or cold["crashed"] or warm["crashed"]
    print(f"{'preset runs without a crash':<46}{'crashed' if crashed else 'no crash':>12}  {verdict(not crashed)}")
    tried = [result for result in presets["injections"] if result["status"] != "NO SITE"]
    passed = sum(1 for result in tried if result["status"] == "PASS")
    print(f"{'injected defects reported':<46}{f'{passed} of {len(tried)}':>12}  {verdict(passed == len(tried))}")


def print_targets(report: Report) -> None:
    print(f"{'target':<46}{'measured':>12}  result")
    if report.ruff["available"]:
        ratio = report.cli["seconds"] / report.ruff["seconds"]
        print(f"{'CLI / ruff time at most ' + format(CLI_RUFF_RATIO_TARGET, 'g'):<46}{ratio:>11.2f}x  "
              f"{verdict(ratio <= CLI_RUFF_RATIO_TARGET)}")
    else:
        print(f"{'CLI / ruff time':<46}{'no ruff':>12}  SKIPPED")
    if "overhead_percent" in report.flake8:
        for kind, key in (("wall", "overhead_percent"), ("CPU", "cpu_overhead_percent")):
            overhead = report.flake8[key]
            label = f"flake8 plugin overhead ({kind}) within {FLAKE8_OVERHEAD_TARGET_PERCENT:g}%"
            print(f"{label:<46}{overhead:>11.1f}%  {verdict(overhead <= FLAKE8_OVERHEAD_TARGET_PERCENT)}")
    findings = len(report.cli["findings"])
    print(f"{'CLI findings on the corpus: ' + str(FINDINGS_TARGET):<46}{findings:>12}  "
          f"{verdict(findings == FINDINGS_TARGET)}")
    print(f"{'CLI runs without a crash':<46}{'crashed' if report.cli['crashed'] else 'no crash':>12}  "
          f"{verdict(not report.cli['crashed'])}")
    if report.presets:
        print_preset_targets(report)
    print()


def print_findings(report: Report) -> None:
    if report.cli["crashed"]:
        print("CLI stderr:")
        print(report.cli["stderr"])
    flake8_findings = report.flake8.get("tsk_findings", [])
    if not report.cli["findings"] and not flake8_findings:
        return
    print("Findings, each a false positive or a crash to investigate:")
    for finding in report.cli["findings"]:
        print(f"  {finding['path']}:{finding['line']}: {finding['code']} {finding['message']}")
    for line in flake8_findings:
        print(f"  flake8: {line}")
    print()


def print_report(report: Report) -> None:
    machine = report.machine
    print(f"{report.date}  Python {machine['python']}  {machine['platform']}  "
          f"{machine['cpu_count']} CPUs  best of {report.repeat} runs")
    product = report.product
    changes = " with uncommitted changes" if product["modified"] else ""
    print(f"taskspec-lint {product['version']}, commit {product['commit'] or 'unknown'}{changes}")
    print()
    print_corpus(report)
    print_timings(report)
    print_flake8(report)
    if report.presets:
        print_presets(report)
    print_targets(report)
    print_findings(report)


def write_json(path: Path, report: Report) -> None:
    document = asdict(report)
    document["totals"] = {
        "files": sum(size.files for size in report.corpus),
        "lines": sum(size.lines for size in report.corpus),
    }
    if report.ruff.get("available"):
        document["cli_ruff_ratio"] = report.cli["seconds"] / report.ruff["seconds"]
        if report.presets:
            document["preset_cold_ruff_ratio"] = report.presets["speed"]["cold"]["seconds"] / report.ruff["seconds"]
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# Command line ---------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cache", metavar="DIR",
                        help=f"folder for wheels, unpacked sources and the flake8 baseline "
                        f"virtualenv (default: ${CACHE_ENV}, else {DEFAULT_CACHE})")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure; the best is kept (default: 3)")
    parser.add_argument("--flake8-project", default="netbox", choices=[p.name for p in PROJECTS],
                        help="the project flake8 is timed on (default: netbox)")
    parser.add_argument("--skip-flake8", action="store_true", help="do not time flake8")
    parser.add_argument("--skip-presets", action="store_true",
                        help="do not run the presets (per-project table, cold and warm runs, injected defects)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    arguments = parser.parse_args(argv)
    if arguments.repeat < 1:
        parser.error(f"--repeat must be 1 or more, got {arguments.repeat}")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    cache = resolve_cache(arguments.cache)
    try:
        corpus = prepare_corpus(cache)
    except (CorpusError, OSError) as error:
        print(f"corpus.py: error: cannot prepare the corpus in {cache}: {error}", file=sys.stderr)
        return EXIT_CORPUS_UNAVAILABLE

    sources = cache / "src"
    folders = [size.folder for size in corpus]
    report = Report(
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        machine=machine_facts(),
        product=product_facts(),
        repeat=arguments.repeat,
        corpus=corpus,
    )
    report.cli = measure_cli(sources, folders, arguments.repeat)
    report.ruff = measure_ruff(sources, folders, arguments.repeat)
    report.ast_parse = measure_ast_parse([sources / folder for folder in folders], arguments.repeat)
    if not arguments.skip_flake8:
        project = next(p for p in PROJECTS if p.name == arguments.flake8_project)
        report.flake8 = measure_flake8(cache, sources, project.folder_name, arguments.repeat)
    if not arguments.skip_presets:
        report.presets = measure_presets(sources, corpus, arguments.repeat)

    print_report(report)
    if arguments.json:
        write_json(Path(arguments.json), report)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
