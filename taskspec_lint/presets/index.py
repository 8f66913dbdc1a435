"""The project index: the facts of every checked file, built once per run and cached on disk.

The cache is one JSON file per preset in the cache folder. An entry is reused when the
file's size and modification time are unchanged, or else when its content digest is, so
a warm run reads the cache, stats the files and parses nothing.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from taskspec_lint import __version__
from taskspec_lint.checker import SourceError, decode_source
from taskspec_lint.checker.noqa import file_is_skipped, source_lines
from taskspec_lint.presets.base import Preset
from taskspec_lint.presets.facts import CallSite, FileFacts, TaskDefinition

CACHE_FORMAT = 4
# A noqa entry on this nonexistent line silences a whole file, as a file-level flake8

SKIPPED_FILE_LINE = 0
_ENTRY_KEYS = frozenset({"display", "module", "digest", "mtime_ns", "size", "facts", "error",
                         "parsed", "receivers"})
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


@dataclass
class ProjectIndex:
    """Facts of the whole checked tree, with lookups across files."""

    files: dict[str, FileFacts] = field(default_factory=dict)
    errors: dict[str, SourceError] = field(default_factory=dict)
    files_checked: int = 0
    files_parsed: int = 0

    def __post_init__(self) -> None:
        self.tasks_by_name: dict[str, list[TaskDefinition]] = {}
        self.tasks_by_function: dict[str, TaskDefinition] = {}
        self.constants: dict[str, str] = {}
        self.functions: set[str] = set()
        self.queues: set[str] = set()
        self._named_by_constant: list[TaskDefinition] = []

    def add(self, path: str, facts: FileFacts) -> None:
        """Add one file's facts to the lookups."""
        self.files[path] = facts
        for definition in facts.definitions:
            if definition.name_constant is not None:
                self._named_by_constant.append(definition)
                continue
            self._add_definition(definition)
        for name, value in facts.constants.items():
            self.constants[f"{facts.module}.{name}"] = value
        self.functions.update(facts.functions)
        self.queues.update(facts.queues)

    def resolve_constant_names(self) -> None:
        """Name the definitions whose name is a constant of another module, once all are read.

        A definition whose constant no checked file defines stays out of the index.
        """
        for definition in self._named_by_constant:
            assert definition.name_constant is not None
            name = self.constants.get(definition.name_constant)
            if name is not None:
                self._add_definition(replace(definition, name=name, name_constant=None))
        self._named_by_constant.clear()

    def _add_definition(self, definition: TaskDefinition) -> None:
        self.tasks_by_name.setdefault(definition.name, []).append(definition)
        self.tasks_by_function.setdefault(definition.function, definition)

    def call_sites(self) -> list[CallSite]:
        """Return every call site of the project, in path order."""
        return [site for path in sorted(self.files) for site in self.files[path].call_sites]


def module_name_for(path: Path) -> str:
    """Return the dotted module name of ``path`` from the package layout (``__init__.py`` files)."""
    absolute = os.path.abspath(path)
    directory, filename = os.path.split(absolute)
    stem = filename.removesuffix(".py")
    package = _package_of(directory)
    if stem == "__init__":
        return package or os.path.basename(directory)
    return f"{package}.{stem}" if package else stem


@functools.lru_cache(maxsize=4096)
def _package_of(directory: str) -> str:
    """Return the dotted package that ``directory`` is, or "" when it has no ``__init__.py``."""
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        return ""
    parent, name = os.path.split(directory)
    above = _package_of(parent) if parent != directory else ""
    return f"{above}.{name}" if above else name


class FactsCache:
    """Cached facts by absolute path, validated by stat and content digest."""

    def __init__(self, directory: Path | None, preset: str) -> None:
        self.file = directory / f"{preset}-index.json" if directory is not None else None
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if self.file is not None and self.file.is_file():
            try:
                document = json.loads(self.file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                document = {}
            if (
                isinstance(document, dict)
                and document.get("format") == CACHE_FORMAT
                and document.get("version") == __version__
                and isinstance(document.get("entries"), dict)
            ):
                self.entries = {
                    key: entry for key, entry in document["entries"].items()
                    if isinstance(entry, dict) and _ENTRY_KEYS <= entry.keys()
                }

    def lookup(self, key: str, stat: os.stat_result, display: str, module: str) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        if entry is None or entry["display"] != display or entry["module"] != module:
            return None
        if entry["mtime_ns"] == stat.st_mtime_ns and entry["size"] == stat.st_size:
            return entry
        return None

    def lookup_digest(
        self, key: str, digest: str, stat: os.stat_result, display: str, module: str
    ) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        if entry is None or entry["digest"] != digest:
            return None
        if entry["display"] != display or entry["module"] != module:
            return None
        entry["mtime_ns"], entry["size"] = stat.st_mtime_ns, stat.st_size
        self.dirty = True
        return entry

    def store(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry
        self.dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the cache, keeping only the entries of files seen in this run."""
        if self.file is None:
            return
        stale = set(self.entries) - keep
        if not self.dirty and not stale:
            return
        for key in stale:
            del self.entries[key]
        document = {"format": CACHE_FORMAT, "version": __version__, "entries": self.entries}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.file.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by taskspec-lint: the whole folder is a cache.\n*\n")
            temporary = self.file.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
            temporary.replace(self.file)
        except OSError:
            pass  # A read-only tree still gets its findings; only the next run is slower.


def build_index(
    files: Sequence[tuple[Path, str]], preset: Preset, cache_directory: Path | None
) -> ProjectIndex:
    """Return the index of ``files`` (path, display path), parsing only what the cache lacks.

    Files that match the preset's pattern are parsed first. A file whose only hint is a
    method call such as ``name.delay(`` is parsed afterwards, and only when ``name`` is
    the name of a task function the first pass found.
    """
    cache = FactsCache(cache_directory, preset.name)
    index = ProjectIndex(files_checked=len(files))
    pending: list[_Pending] = []
    deferred: list[tuple[str, str, str, dict[str, Any]]] = []
    unskimmed: dict[str, tuple[str, str, dict[str, Any]]] = {}
    keep: set[str] = set()

    for path, display in files:
        key = os.path.abspath(path)
        keep.add(key)
        module = module_name_for(path)
        try:
            stat = path.stat()
            entry = cache.lookup(key, stat, display, module)
            if entry is None:
                data = path.read_bytes()
                digest = hashlib.blake2b(data, digest_size=16).hexdigest()
                entry = cache.lookup_digest(key, digest, stat, display, module)
                if entry is None and preset.could_matter(data):
                    pending.append(_Pending(key, display, module, data, stat, digest))
                    continue
                if entry is None:
                    skimmed = preset.skim(data, module) if preset.skim_everything else None
                    entry = _entry(display, module, digest, stat, skimmed, None, parsed=False,
                                   receivers=preset.receivers(data))
                    cache.store(key, entry)
        except OSError as error:
            index.errors[display] = SourceError(f"cannot read: {error.strerror}")
            continue
        if not entry["parsed"] and entry["receivers"]:
            deferred.append((key, display, module, entry))
        if not entry["parsed"] and entry["facts"] is None and entry["error"] is None:
            unskimmed[module] = (key, display, entry)
        _record(index, display, entry)

    _extract_pending(preset, pending, cache, index)

    task_functions = {function.rpartition(".")[2] for function in index.tasks_by_function}
    second: list[_Pending] = []
    for key, display, module, entry in deferred:
        if task_functions.intersection(entry["receivers"]):
            try:
                data = Path(key).read_bytes()
            except OSError as error:
                index.errors[display] = SourceError(f"cannot read: {error.strerror}")
                continue
            second.append(_Pending(key, display, module, data, os.stat(key), entry["digest"]))
            unskimmed.pop(module, None)
    _extract_pending(preset, second, cache, index)
    _skim_referenced(preset, index, unskimmed, cache)

    cache.save(keep)
    index.resolve_constant_names()
    return index


def _skim_referenced(
    preset: Preset, index: ProjectIndex, unskimmed: dict[str, tuple[str, str, dict[str, Any]]],
    cache: FactsCache,
) -> None:
    """Read the constants and functions of the unparsed modules that call sites refer to."""
    referenced: set[str] = set()
    for facts in list(index.files.values()):
        for definition in facts.definitions:
            if definition.name_constant:
                referenced.add(definition.name_constant.rpartition(".")[0])
        for site in facts.call_sites:
            for name in (site.task.constant, site.task.function, site.task.name):
                if name:
                    referenced.add(name.rpartition(".")[0])
    for module in sorted(referenced & unskimmed.keys()):
        key, display, entry = unskimmed[module]
        if display in index.files and index.files[display].call_sites:
            continue  # parsed after all; its full facts are already indexed
        try:
            data = Path(key).read_bytes()
        except OSError:
            continue
        skimmed = preset.skim(data, module)
        if skimmed is not None:
            entry["facts"] = skimmed.to_json()
            cache.store(key, entry)
            index.add(display, skimmed)


@dataclass(frozen=True)
class _Pending:
    """A file to parse: its cache key, display path, module name, bytes, stat and digest."""

    key: str
    display: str
    module: str
    data: bytes
    stat: os.stat_result
    digest: str


def _extract_pending(preset: Preset, pending: list[_Pending], cache: FactsCache, index: ProjectIndex) -> None:
    results = _extract_all(preset, [(item.display, item.module, item.data) for item in pending])
    for item, (facts, source_error) in zip(pending, results):
        entry = _entry(item.display, item.module, item.digest, item.stat, facts, source_error,
                       receivers=preset.receivers(item.data))
        cache.store(item.key, entry)
        _record(index, item.display, entry)


def _entry(display: str, module: str, digest: str, stat: os.stat_result,
           facts: FileFacts | None, error: SourceError | None, parsed: bool = True,
           receivers: list[str] | None = None) -> dict[str, Any]:
    return {
        "receivers": receivers or [],
        "display": display, "module": module, "digest": digest,
        "mtime_ns": stat.st_mtime_ns, "size": stat.st_size,
        "facts": facts.to_json() if facts is not None else None,
        "error": [error.reason, error.line, error.column] if error is not None else None,
        "parsed": parsed and (facts is not None or error is not None),
    }


def _record(index: ProjectIndex, display: str, entry: dict[str, Any]) -> None:
    if entry["parsed"]:
        index.files_parsed += 1
    if entry["error"] is not None:
        reason, line, column = entry["error"]
        index.errors[display] = SourceError(reason, line, column)
    elif entry["facts"] is not None:
        index.add(display, FileFacts.from_json(entry["facts"]))


def _extract_all(
    preset: Preset, jobs: list[tuple[str, str, bytes]]
) -> list[tuple[FileFacts | None, SourceError | None]]:
    """Extract every job, on all cores when there are enough jobs to pay for the processes.

    A daemon process, such as a flake8 worker, may not start children, so it works alone.
    """
    workers = os.cpu_count() or 1
    if len(jobs) < PARALLEL_THRESHOLD or workers < 2 or multiprocessing.current_process().daemon:
        return [extract_file(preset, *job) for job in jobs]
    # Largest files first, one job at a time, so no worker is left with the last big file.
    order = sorted(range(len(jobs)), key=lambda number: -len(jobs[number][2]))
    results: list[tuple[FileFacts | None, SourceError | None]] = [(None, None)] * len(jobs)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(extract_file, preset, *jobs[number]): number for number in order}
        for future, number in futures.items():
            results[number] = future.result()
    return results


def extract_file(preset: Preset, display: str, module_name: str, data: bytes
                 ) -> tuple[FileFacts | None, SourceError | None]:
    """Decode, parse and extract one file; a broken file returns its SourceError instead."""
    try:
        text = decode_source(data)
        facts = preset.extract(_parse(text, display), module_name, display, text)
        if file_is_skipped(source_lines(text)):
            # Other files may name this file's tasks, so its facts stay; the 0 line marks
            # every finding in the file as silenced.
            facts = replace(facts, noqa={**facts.noqa, SKIPPED_FILE_LINE: "# noqa"})
        return facts, None
    except SourceError as error:
        return None, error


def _parse(text: str, display: str) -> ast.Module:
    """Parse with ``ast``; raise SourceError, with CPython's message and position, on failure."""
    try:
        return ast.parse(text, filename=display)
    except SyntaxError as error:
        raise SourceError(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise SourceError(f"cannot parse: {error}") from None
