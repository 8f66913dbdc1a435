"""The runtime registry: every task type of the active catalog as a ``TaskSpec``.

The active catalog is the one shipped with the package unless the environment variable
``TASKSPEC_CATALOG`` names a catalog file, or the application calls ``use_catalog()``
at start-up, before it enqueues or registers anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from taskspec_lint.backoff import ExpBackoff, RetryDelay, ScheduleBackoff, exp, schedule
from taskspec_lint.catalog import load_builtin_catalog, load_catalog
from taskspec_lint.model import Catalog, TaskSpec

__all__ = [
    "REGISTRY",
    "ExpBackoff",
    "RetryDelay",
    "ScheduleBackoff",
    "TaskSpec",
    "active_catalog",
    "exp",
    "schedule",
    "spec",
    "use_catalog",
]

CATALOG_ENV = "TASKSPEC_CATALOG"


def _load_initial_catalog() -> Catalog:
    path = os.environ.get(CATALOG_ENV)
    return load_catalog(path) if path else load_builtin_catalog()


_catalog: Catalog = _load_initial_catalog()
_specs: dict[str, TaskSpec] = dict(_catalog.specs)

REGISTRY: Mapping[str, TaskSpec] = MappingProxyType(_specs)
"""A read-only view of every task type of the active catalog, mapped to its spec."""


# spec(task_type) returns the spec of task_type, or None when the active catalog has no
# such type: the comma-ok lookup. It is the registry dict's own get method, so a lookup
# costs what a dict lookup costs. use_catalog() updates that dict in place to keep it valid.
spec: Callable[[str], TaskSpec | None] = _specs.get


def active_catalog() -> Catalog:
    """Return the catalog that ``spec()``, ``REGISTRY``, enqueue and handlers use."""
    return _catalog


def use_catalog(catalog: Catalog | str | Path) -> Catalog:
    """Make ``catalog`` (a ``Catalog`` or the path of a catalog file) the active catalog.

    ``REGISTRY`` keeps its identity and shows the new task types. Handlers already
    registered stay registered; call this before registering any.
    """
    global _catalog
    loaded = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    _catalog = loaded
    _specs.clear()
    _specs.update(loaded.specs)
    return loaded
