"""The checker's rules. Each rule is documentation: code, message template and a docstring
in four parts (what it finds, why it breaks in production, an example, the fix).

The README's rule table and ``taskspec-lint rules`` are generated from these classes.
"""

from __future__ import annotations

import inspect
from typing import ClassVar


class Rule:
    """Base class: subclasses set ``code``, ``name``, ``message`` and write the docstring."""

    code: ClassVar[str]
    name: ClassVar[str]
    message: ClassVar[str]
    default_enabled: ClassVar[bool] = True

    @classmethod
    def summary(cls) -> str:
        """Return the first paragraph of the docstring: what the rule finds."""
        return inspect.cleandoc(cls.__doc__ or "").split("\n\n", 1)[0].replace("\n", " ")

    @classmethod
    def documentation(cls) -> str:
        """Return the whole docstring, dedented."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def format(cls, **values: object) -> str:
        """Render the message template with ``values``."""
        return cls.message.format(**values)


class UnknownTaskType(Rule):
    """An enqueue call names a task type that is not in the catalog.

    Why: no worker has a handler for a type the catalog lacks, so the message is
    dropped or dead-lettered ("received unregistered task") and the work never happens.

    Example: ``enqueue("email.sned", {"to": user.email})``

    Fix: use the catalog's spelling (``"email.send"``), or add the task type to the
    catalog together with its handler.
    """

    code = "TSK101"
    name = "unknown-task-type"
    message = "unknown task type {task_type!r}{hint}"


class UnresolvedTaskType(Rule):
    """An enqueue call's task type is not a literal the checker can resolve.

    Why: a task type built at run time (an f-string, a variable, a function result)
    escapes every static check, so a typo in it shows up only when a worker drops the task.

    Example: ``enqueue(f"search.reindex.{kind}", payload)``

    Fix: spell out the task types, for example with a dict from ``kind`` to the literal
    type, or bind the type to a module-level constant. Off unless selected.
    """

    code = "TSK102"
    name = "unresolved-task-type"
    message = "task type is not a literal the checker can resolve: {expression}"
    default_enabled = False


class MissingTaskType(Rule):
    """An enqueue call passes no task type.

    Why: the call raises TypeError at run time, on a path tests may not cover.

    Example: ``enqueue(payload={"post_id": 7})``

    Fix: pass the task type first: ``enqueue("search.reindex.post", {"post_id": 7})``.
    """

    code = "TSK103"
    name = "missing-task-type"
    message = "{callee}() is called without a task type"


class UnknownOption(Rule):
    """An enqueue call passes a keyword that is not an override option.

    Why: a misspelt option such as ``max_retries=`` either raises at run time or, in
    queue libraries that forward unknown keywords, is silently ignored, so the setting
    the author meant never applies.

    Example: ``enqueue("email.send", payload, max_retries=3)``

    Fix: use the option's name (``max_retry=3``), or drop it to keep the catalog value.
    """

    code = "TSK201"
    name = "unknown-option"
    message = "{task_type}: unknown option {option!r}{hint}"


class WrongOverrideType(Rule):
    """An override has the wrong type, such as ``max_retry=True`` or ``timeout="30s"``.

    Why: enqueue rejects it with InvalidOverride at run time, and a queue library that
    does not check types may misread it (``True`` as one retry, a string as no timeout).

    Example: ``enqueue("email.send", payload, timeout="30s")``

    Fix: pass the type the option takes: an int for ``max_retry``; a ``timedelta`` or a
    number of seconds for durations; ``exp(...)`` or ``schedule(...)`` for ``retry_delay``.
    """

    code = "TSK202"
    name = "wrong-override-type"
    message = "{task_type}: {option}={value} {reason}"


class OverrideOutOfBound(Rule):
    """An override is outside its bound: more retries or more time than the catalog allows.

    Why: the task's owners sized its retries and timeout for the worker pool. A call site
    that raises them can hold workers far longer than planned, and enqueue rejects the call
    with InvalidOverride at run time.

    Example: ``enqueue("email.send", payload, max_retry=20)`` where the catalog allows 9.

    Fix: stay within the bound the message names, or raise the ceiling in the catalog,
    where the change is reviewed like any other.
    """

    code = "TSK203"
    name = "override-out-of-bound"
    message = "{task_type}: {option}={value} {reason}"


class UnknownQueue(Rule):
    """A queue override names a queue the catalog does not declare.

    Why: no worker consumes an undeclared queue, so the task waits there forever.

    Example: ``enqueue("email.send", payload, queue="critcal")``

    Fix: use a queue of the catalog, or declare the new queue (and give it workers).
    """

    code = "TSK204"
    name = "unknown-queue"
    message = "{task_type}: unknown queue {value}{hint}"


class QueueEscalation(Rule):
    """A queue override moves the task to a queue of higher weight than its catalog queue.

    Why: higher-weight queues are served more often. Escalating bulk work starves the
    tasks that were put there to be fast, such as password reset emails.

    Example: ``enqueue("search.reindex.full", {}, queue="critical")``

    Fix: keep the catalog queue, or change the task's queue in the catalog if the task
    really is more urgent. Add ``# noqa: TSK205`` for a deliberate one-off.
    """

    code = "TSK205"
    name = "queue-escalation"
    message = "{task_type}: queue={value} {reason}"


class RedundantOverride(Rule):
    """An override repeats the catalog's own value.

    Why: the call keeps working, but it pins today's value, so when the catalog changes
    this call site silently keeps the old one.

    Example: ``enqueue("email.send", payload, max_retry=9)`` where the catalog sets 9.

    Fix: drop the override. Off unless selected.
    """

    code = "TSK206"
    name = "redundant-override"
    message = "{task_type}: {option}={value} {reason}; drop it"
    default_enabled = False


class DeduplicationDisabled(Rule):
    """``unique_ttl=0`` turns off the deduplication window the catalog sets.

    Why: the window stops bursts of identical tasks (a reindex per keystroke, a
    revalidation per save) from flooding the queue. Without it every duplicate runs.

    Example: ``enqueue("search.reindex.post", {"post_id": 7}, unique_ttl=0)``

    Fix: drop the override, or pass a shorter window if the default is too long.
    """

    code = "TSK207"
    name = "deduplication-disabled"
    message = "{task_type}: unique_ttl={value} {reason}"


class MissingCompensation(Rule):
    """A handler of a non-idempotent task type is registered without compensation.

    Why: a retry of a non-idempotent task runs on top of its own partial output
    (half-written files, half-imported rows). Registration raises MissingCompensation at
    import, so the worker does not start.

    Example: ``@handler("media.video.transcode")`` on a function with no ``compensate=``.

    Fix: pass ``compensate=<function that undoes a partial run>``, or define a
    ``compensate`` method on a handler class.
    """

    code = "TSK301"
    name = "missing-compensation"
    message = "handler of non-idempotent task type {task_type!r} has no compensation{detail}"


class UnknownHandlerType(Rule):
    """A handler is registered for a task type that is not in the catalog.

    Why: registration raises UnknownTaskType at import, and a handler for a misspelt type
    would never receive a task.

    Example: ``@handler("media.video.transcod", compensate=cleanup)``

    Fix: use the catalog's spelling, or add the task type to the catalog.
    """

    code = "TSK302"
    name = "unknown-handler-type"
    message = "handler registered for unknown task type {task_type!r}{hint}"


class DuplicateRegistration(Rule):
    """The same task type has two handler registrations in one file.

    Why: registration raises DuplicateHandler at import. With a queue library that keeps
    the last registration, one handler silently replaces the other.

    Example: two ``@handler("email.send")`` decorators in one module.

    Fix: keep one handler per task type.
    """

    code = "TSK304"
    name = "duplicate-registration"
    message = "task type {task_type!r} already has a handler registered on line {first_line}"


class UncheckableFile(Rule):
    """A file could not be checked: it does not parse, cannot be decoded or cannot be read.

    Why: every other rule is silent on a file the checker cannot read, so its enqueue
    calls go unchecked. The run goes on with the other files.

    Example: a module with a syntax error, or bytes that are not valid in its encoding.

    Fix: make the file valid Python in its declared encoding (UTF-8 by default), or
    exclude it. Only the command line reports this; flake8 has E902 and E999.
    """

    code = "TSK001"
    name = "uncheckable-file"
    message = "file could not be checked: {reason}"


RULES: tuple[type[Rule], ...] = (
    UncheckableFile,
    UnknownTaskType,
    UnresolvedTaskType,
    MissingTaskType,
    UnknownOption,
    WrongOverrideType,
    OverrideOutOfBound,
    UnknownQueue,
    QueueEscalation,
    RedundantOverride,
    DeduplicationDisabled,
    MissingCompensation,
    UnknownHandlerType,
    DuplicateRegistration,
)
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in RULES}
DEFAULT_ENABLED: frozenset[str] = frozenset(rule.code for rule in RULES if rule.default_enabled)
