"""Find the Python files to check under the paths a user names."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from taskspec_lint.checker.config import Config

# Folders a walk never enters: version control, caches, build output and virtual
# environments (also recognised by their pyvenv.cfg, whatever their name).
SKIPPED_DIRECTORIES = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "__pycache__", "build", "dist",
    "node_modules", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages",
    "__pypackages__", ".taskspec_lint_cache",
})


def iter_python_files(paths: Sequence[Path], config: Config) -> Iterator[Path]:
    """Yield the files to check: each file given, and every ``*.py`` below each directory.

    Folders in SKIPPED_DIRECTORIES, virtual environments and paths matching the
    configuration's ``exclude`` globs are skipped. Each file is yielded once, in a
    stable (sorted) order.
    """
    seen: set[str] = set()
    for path in paths:
        if path.is_file():
            absolute = os.path.abspath(path)
            if absolute not in seen:
                seen.add(absolute)
                yield path
            continue
        for root, directories, files in os.walk(path):
            directories[:] = sorted(
                name for name in directories
                if not _skip_directory(Path(root) / name, config)
            )
            for name in sorted(files):
                candidate = Path(root) / name
                if name.endswith(".py") and not is_excluded(candidate, config):
                    absolute = os.path.abspath(candidate)
                    if absolute not in seen:
                        seen.add(absolute)
                        yield candidate


def _skip_directory(path: Path, config: Config) -> bool:
    name = path.name
    if name in SKIPPED_DIRECTORIES or name.endswith(".egg-info"):
        return True
    if (path / "pyvenv.cfg").is_file():
        return True
    return is_excluded(path, config)


def is_excluded(path: Path, config: Config) -> bool:
    """Return whether the configuration's ``exclude`` globs match ``path``."""
    if not config.exclude:
        return False
    relative = Path(os.path.abspath(path))
    if config.root is not None:
        try:
            relative = relative.relative_to(config.root)
        except ValueError:
            pass
    text = relative.as_posix()
    return any(fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern)
               for pattern in config.exclude)


def display_path(path: Path) -> str:
    """Return ``path`` as findings show it: relative to the working directory when inside it."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()
