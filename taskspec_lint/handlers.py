"""Register task handlers, refusing a non-idempotent task type without compensation.

Compensation contract: a worker runs the compensation of a non-idempotent task before
every retry of that task and once more after its final failure, with the same payload,
so a retry never starts on top of a partial run's output. Idempotent task types need no
compensation; one given anyway is kept and follows the same contract.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from taskspec_lint import tasktypes
from taskspec_lint.errors import DuplicateHandler, MissingCompensation, UnknownTaskType

__all__ = ["RegisteredHandler", "get_handler", "handler", "register_handler", "registered_handlers"]

HandlerFunction = Callable[..., Any]
T = TypeVar("T")


@dataclass(frozen=True)
class RegisteredHandler:
    """A handler and its compensation, as a worker looks them up."""

    task_type: str
    handle: HandlerFunction
    compensate: HandlerFunction | None
    origin: str


_handlers: dict[str, RegisteredHandler] = {}
_lock = threading.Lock()


def register_handler(
    task_type: str, fn: HandlerFunction, compensate: HandlerFunction | None = None
) -> RegisteredHandler:
    """Register ``fn`` as the handler of ``task_type``.

    Raises UnknownTaskType for a type the active catalog lacks, MissingCompensation for
    a non-idempotent type without ``compensate``, and DuplicateHandler for a second
    handler of the same type.
    """
    return _register(task_type, fn, compensate, _describe(fn))


def _register(
    task_type: str, fn: HandlerFunction, compensate: HandlerFunction | None, origin: str
) -> RegisteredHandler:
    catalog = tasktypes.active_catalog()
    spec = catalog.specs.get(task_type)
    if spec is None:
        raise UnknownTaskType(task_type, catalog.specs)
    if not callable(fn):
        raise TypeError(f"the handler of {task_type!r} must be callable, got {fn!r}")
    if compensate is not None and not callable(compensate):
        raise TypeError(f"the compensation of {task_type!r} must be callable, got {compensate!r}")
    if not spec.idempotent and compensate is None:
        raise MissingCompensation(task_type)

    entry = RegisteredHandler(task_type, fn, compensate, origin)
    with _lock:
        existing = _handlers.get(task_type)
        if existing is not None:
            raise DuplicateHandler(task_type, existing.origin)
        _handlers[task_type] = entry
    return entry


def handler(task_type: str, *, compensate: HandlerFunction | None = None) -> Callable[[T], T]:
    """Register the decorated function or class as the handler of ``task_type``.

    On a function, ``compensate=`` names the compensation. On a class, the class is
    instantiated once with no arguments, and its ``handle`` method is the handler. Its
    ``compensate`` method, if defined, is the compensation. The decorated object is
    returned unchanged.
    """

    def register(target: T) -> T:
        if inspect.isclass(target):
            _register_class(task_type, target, compensate)
        elif callable(target):
            register_handler(task_type, target, compensate)
        else:
            raise TypeError(f"@handler({task_type!r}) decorates a function or a class, got {target!r}")
        return target

    return register


def _register_class(task_type: str, cls: type, compensate: HandlerFunction | None) -> None:
    if not callable(getattr(cls, "handle", None)):
        raise TypeError(f"handler class {cls.__qualname__} for {task_type!r} must define handle()")
    instance = cls()
    class_compensate = getattr(instance, "compensate", None)
    if class_compensate is not None and compensate is not None:
        raise TypeError(
            f"handler class {cls.__qualname__} for {task_type!r} defines compensate() "
            f"and is also given compensate=; keep one"
        )
    _register(task_type, instance.handle, class_compensate or compensate, _describe(cls))


def get_handler(task_type: str) -> RegisteredHandler | None:
    """Return the handler registered for ``task_type``, or None."""
    return _handlers.get(task_type)


def registered_handlers() -> dict[str, RegisteredHandler]:
    """Return a copy of every registered handler by task type."""
    with _lock:
        return dict(_handlers)


def unregister_all() -> None:
    """Forget every registered handler, for tests and for ``use_catalog()`` switches."""
    with _lock:
        _handlers.clear()


def _describe(target: Any) -> str:
    module = getattr(target, "__module__", None) or "?"
    name = getattr(target, "__qualname__", None) or repr(target)
    return f"{module}.{name}"
