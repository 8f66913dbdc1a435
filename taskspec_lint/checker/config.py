"""The checker's configuration: ``[tool.taskspec-lint]`` in the nearest pyproject.toml.

Example::

    [tool.taskspec-lint]
    catalog = "tasks/catalog.yaml"      # relative to this pyproject.toml
    extend-select = ["TSK206"]          # also report redundant overrides
    ignore = ["TSK205"]

    [[tool.taskspec-lint.enqueue]]      # describe another library's enqueue call
    name = "*.send_task"
    task-type-position = 0
    options = { queue = "queue", countdown = "delay" }

The package's own ``enqueue``, ``handler`` and ``register_handler`` are always recognised.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from taskspec_lint.bounds import OVERRIDE_OPTIONS
from taskspec_lint.checker.rules import DEFAULT_ENABLED, RULES_BY_CODE
from taskspec_lint.presets import PRESET_NAMES
from taskspec_lint.suggest import closest

SECTION = "tool.taskspec-lint"


class ConfigError(Exception):
    """Invalid configuration; the message names the file and the key."""


@dataclass(frozen=True)
class CallablePattern:
    """Qualified-name patterns (``fnmatch`` globs) of one kind of recognised call."""

    names: tuple[str, ...]
    task_type_position: int | None = 0
    task_type_keyword: str | None = "task_type"

    def matches(self, qualified_names: Iterable[str]) -> bool:
        """Return whether any of ``qualified_names`` matches one of the patterns."""
        return any(fnmatch.fnmatchcase(name, pattern) for name in qualified_names for pattern in self.names)


@dataclass(frozen=True)
class EnqueueCallable(CallablePattern):
    """An enqueue call: where its task type is and what its keywords mean.

    ``options`` maps a call keyword to the override option it sets. ``passthrough``
    keywords are accepted without a check; any other keyword is TSK201 unless
    ``report_unknown_keywords`` is false (for libraries that forward keywords to the task).
    """

    options: Mapping[str, str] = field(default_factory=dict, hash=False)
    passthrough: tuple[str, ...] = ()
    report_unknown_keywords: bool = True


@dataclass(frozen=True)
class HandlerCallable(CallablePattern):
    """A handler registration, as a decorator factory or a plain call."""

    compensate_position: int | None = None
    compensate_keyword: str | None = "compensate"


BUILTIN_ENQUEUE = EnqueueCallable(
    names=("taskspec_lint.enqueue", "taskspec_lint.producer.enqueue"),
    options={option: option for option in OVERRIDE_OPTIONS},
    passthrough=("payload", "unique_key", "backend"),
)
BUILTIN_HANDLERS = (
    HandlerCallable(names=("taskspec_lint.handler", "taskspec_lint.handlers.handler")),
    HandlerCallable(
        names=("taskspec_lint.register_handler", "taskspec_lint.handlers.register_handler"),
        compensate_position=2,
    ),
)


@dataclass(frozen=True)
class Config:
    """Everything the checker needs besides the catalog."""

    root: Path | None = None
    catalog: Path | None = None
    preset: str = "taskspec"
    select: frozenset[str] = DEFAULT_ENABLED
    exclude: tuple[str, ...] = ()
    enqueue: tuple[EnqueueCallable, ...] = (BUILTIN_ENQUEUE,)
    handlers: tuple[HandlerCallable, ...] = BUILTIN_HANDLERS

    def enabled(self, code: str) -> bool:
        """Return whether findings of ``code`` are reported."""
        return code in self.select

    @cached_property
    def prefilter_tokens(self) -> frozenset[bytes] | None:
        """Return byte strings of which a file must contain one to hold a recognised call.

        Every recognised call goes through an import of its root module or, for a
        pattern that starts with a glob, names its last segment. None means a pattern
        gives no such token, so every file must be parsed.
        """
        tokens: set[bytes] = set()
        for pattern in (*self.enqueue, *self.handlers):
            for name in pattern.names:
                token = _literal_token(name)
                if token is None:
                    return None
                tokens.add(token.encode("utf-8"))
        return frozenset(tokens)


def _literal_token(pattern: str) -> str | None:
    segments = pattern.split(".")
    for segment in (segments[0], segments[-1]):
        if segment and not any(char in segment for char in "*?["):
            return segment
    return None


def select_codes(
    select: Iterable[str] | None = None,
    extend_select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    where: str = "",
) -> frozenset[str]:
    """Resolve code prefixes into the set of enabled codes, as flake8 and ruff do."""
    chosen = set(DEFAULT_ENABLED) if select is None else _expand(select, where, "select")
    chosen |= _expand(extend_select, where, "extend-select")
    chosen -= _expand(ignore, where, "ignore")
    return frozenset(chosen)


def _expand(prefixes: Iterable[str], where: str, key: str) -> set[str]:
    codes: set[str] = set()
    for prefix in prefixes:
        prefix = prefix.strip().upper()
        if not prefix:
            continue
        matched = {code for code in RULES_BY_CODE if code.startswith(prefix)}
        if prefix == "ALL":
            matched = set(RULES_BY_CODE)
        if not matched:
            hint = closest(prefix, RULES_BY_CODE)
            suggestion = f"; did you mean {hint[0]}?" if hint else ""
            raise ConfigError(f"{where}{key}: {prefix!r} matches no rule code{suggestion}")
        codes |= matched
    return codes


RUNTIME_CATALOG_ENV = "TASKSPEC_CATALOG"


def runtime_catalog_path() -> Path | None:
    """Return the catalog file the runtime registry uses ($TASKSPEC_CATALOG), or None."""
    value = os.environ.get(RUNTIME_CATALOG_ENV)
    return Path(value) if value else None


def find_pyproject(start: Path) -> Path | None:
    """Return the nearest pyproject.toml with a [tool.taskspec-lint] table at or above ``start``."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if path.is_file() and _has_section(path):
            return path
    return None


def _has_section(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return True  # read_config_file reports the unreadable file
    if b"taskspec-lint" not in data:
        return False
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # read_config_file reports the broken file
    tool = document.get("tool", {})
    return not isinstance(tool, dict) or "taskspec-lint" in tool


@lru_cache(maxsize=64)
def load_config(start: Path) -> Config:
    """Load the configuration that applies to ``start`` (a file or a directory)."""
    path = find_pyproject(start.resolve())
    if path is None:
        return Config()
    return read_config_file(path)


def read_config_file(path: Path) -> Config:
    """Read ``[tool.taskspec-lint]`` from ``path``; raise ConfigError naming the bad key."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: 'tool' must be a table, got {tool!r}")
    table = tool.get("taskspec-lint")
    if table is None:
        return Config(root=path.parent)
    return parse_config(table, path)


_TOP_KEYS = ("preset", "catalog", "select", "extend-select", "ignore", "exclude", "enqueue", "handler")
_ENQUEUE_KEYS = ("name", "task-type-position", "task-type-keyword", "options", "passthrough",
                 "report-unknown-keywords")
_HANDLER_KEYS = ("name", "task-type-position", "task-type-keyword", "compensate-position",
                 "compensate-keyword")


def parse_config(table: Mapping[str, Any], path: Path) -> Config:
    """Validate the ``[tool.taskspec-lint]`` table read from ``path``."""
    where = f"{path}: [{SECTION}] "
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: [{SECTION}] must be a table")
    _reject_unknown_keys(table, _TOP_KEYS, where)

    preset = _string(table.get("preset", "taskspec"), where + "preset")
    if preset not in PRESET_NAMES:
        raise ConfigError(f"{where}preset: unknown preset {preset!r}; expected one of {', '.join(PRESET_NAMES)}")

    catalog = None
    if "catalog" in table:
        value = _string(table["catalog"], where + "catalog")
        catalog = (path.parent / value).resolve()

    select = table.get("select")
    codes = select_codes(
        None if select is None else _strings(select, where + "select"),
        _strings(table.get("extend-select", []), where + "extend-select"),
        _strings(table.get("ignore", []), where + "ignore"),
        where,
    )
    enqueue = [BUILTIN_ENQUEUE]
    for index, entry in enumerate(_tables(table.get("enqueue", []), where + "enqueue")):
        enqueue.append(_parse_enqueue(entry, f"{where}enqueue[{index}]."))
    handlers = list(BUILTIN_HANDLERS)
    for index, entry in enumerate(_tables(table.get("handler", []), where + "handler")):
        handlers.append(_parse_handler(entry, f"{where}handler[{index}]."))

    return Config(
        root=path.parent,
        catalog=catalog,
        preset=preset,
        select=codes,
        exclude=tuple(_strings(table.get("exclude", []), where + "exclude")),
        enqueue=tuple(enqueue),
        handlers=tuple(handlers),
    )


def _parse_enqueue(entry: Mapping[str, Any], where: str) -> EnqueueCallable:
    _reject_unknown_keys(entry, _ENQUEUE_KEYS, where)
    options_table = entry.get("options", {})
    if not isinstance(options_table, Mapping):
        raise ConfigError(f"{where}options must be a table of keyword = option")
    options: dict[str, str] = {}
    for keyword, option in options_table.items():
        if option not in OVERRIDE_OPTIONS:
            hint = closest(str(option), OVERRIDE_OPTIONS)
            suggestion = f"did you mean {hint[0]!r}? " if hint else ""
            raise ConfigError(
                f"{where}options.{keyword}: {option!r} is not an override option; "
                f"{suggestion}expected one of {', '.join(OVERRIDE_OPTIONS)}"
            )
        options[keyword] = option
    report = entry.get("report-unknown-keywords", True)
    if not isinstance(report, bool):
        raise ConfigError(f"{where}report-unknown-keywords must be true or false")
    return EnqueueCallable(
        names=_names(entry, where),
        task_type_position=_position(entry, "task-type-position", 0, where),
        task_type_keyword=_optional_string(entry, "task-type-keyword", "task_type", where),
        options=options,
        passthrough=tuple(_strings(entry.get("passthrough", []), where + "passthrough")),
        report_unknown_keywords=report,
    )


def _parse_handler(entry: Mapping[str, Any], where: str) -> HandlerCallable:
    _reject_unknown_keys(entry, _HANDLER_KEYS, where)
    return HandlerCallable(
        names=_names(entry, where),
        task_type_position=_position(entry, "task-type-position", 0, where),
        task_type_keyword=_optional_string(entry, "task-type-keyword", "task_type", where),
        compensate_position=_position(entry, "compensate-position", None, where),
        compensate_keyword=_optional_string(entry, "compensate-keyword", "compensate", where),
    )


def _names(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    if "name" not in entry:
        raise ConfigError(f"{where}name is missing: give the qualified name of the callable")
    value = entry["name"]
    names = [value] if isinstance(value, str) else _strings(value, where + "name")
    if not names or any(not name.strip() for name in names):
        raise ConfigError(f"{where}name must be a non-empty qualified name or list of them")
    return tuple(names)


def _position(entry: Mapping[str, Any], key: str, default: int | None, where: str) -> int | None:
    value = entry.get(key, default)
    if value is False or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}{key} must be a position of 0 or more, or false, got {value!r}")
    return value


def _optional_string(entry: Mapping[str, Any], key: str, default: str, where: str) -> str | None:
    value = entry.get(key, default)
    if value is False or value == "":
        return None
    return _string(value, where + key)


def _reject_unknown_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            hint = closest(key, allowed)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of {', '.join(allowed)}"
            raise ConfigError(f"{where}{key}: unknown key{suggestion}")


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    return value


def _tables(value: object, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigError(f"{where} must be an array of tables ([[{SECTION}.…]])")
    return value
