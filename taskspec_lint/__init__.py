"""taskspec-lint: one task catalog, enforced when tasks are enqueued and before code runs.

The runtime API is re-exported here::

    from taskspec_lint import enqueue, handler, spec, exp

The names are imported on first use, so the linter (command line and flake8 plugin),
which imports this package too, never loads the runtime registry or its catalog.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "REGISTRY": "taskspec_lint.tasktypes",
    "spec": "taskspec_lint.tasktypes",
    "use_catalog": "taskspec_lint.tasktypes",
    "TaskSpec": "taskspec_lint.model",
    "RetryDelay": "taskspec_lint.backoff",
    "exp": "taskspec_lint.backoff",
    "schedule": "taskspec_lint.backoff",
    "enqueue": "taskspec_lint.producer",
    "EnqueueResult": "taskspec_lint.producer",
    "InMemoryBackend": "taskspec_lint.producer",
    "Backend": "taskspec_lint.producer",
    "handler": "taskspec_lint.handlers",
    "register_handler": "taskspec_lint.handlers",
    "CatalogError": "taskspec_lint.errors",
    "DuplicateHandler": "taskspec_lint.errors",
    "InvalidOverride": "taskspec_lint.errors",
    "MissingCompensation": "taskspec_lint.errors",
    "UnknownTaskType": "taskspec_lint.errors",
}

__all__ = [
    "REGISTRY", "Backend", "CatalogError", "DuplicateHandler", "EnqueueResult", "InMemoryBackend",
    "InvalidOverride", "MissingCompensation", "RetryDelay", "TaskSpec", "UnknownTaskType",
    "enqueue", "exp", "handler", "register_handler", "schedule", "spec", "use_catalog",
]

if TYPE_CHECKING:
    from taskspec_lint.backoff import RetryDelay, exp, schedule
    from taskspec_lint.errors import (
        CatalogError,
        DuplicateHandler,
        InvalidOverride,
        MissingCompensation,
        UnknownTaskType,
    )
    from taskspec_lint.handlers import handler, register_handler
    from taskspec_lint.model import TaskSpec
    from taskspec_lint.producer import Backend, EnqueueResult, InMemoryBackend, enqueue
    from taskspec_lint.tasktypes import REGISTRY, spec, use_catalog


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'taskspec_lint' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
