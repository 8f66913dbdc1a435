"""taskspec-lint: one task catalog, enforced when tasks are enqueued and before code runs.

The runtime API is re-exported here::

    from taskspec_lint import enqueue, handler, spec, exp
"""

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

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "Backend",
    "CatalogError",
    "DuplicateHandler",
    "EnqueueResult",
    "InMemoryBackend",
    "InvalidOverride",
    "MissingCompensation",
    "RetryDelay",
    "TaskSpec",
    "UnknownTaskType",
    "enqueue",
    "exp",
    "handler",
    "register_handler",
    "schedule",
    "spec",
    "use_catalog",
]
