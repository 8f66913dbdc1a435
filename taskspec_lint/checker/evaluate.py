"""Evaluate the literal expressions the checker understands, without running any code.

Understood: int and float literals, unary minus and plus, ``+ - *`` between numbers or
durations, ``True``/``False``/``None``, string literals (also implicitly concatenated),
``datetime.timedelta(...)`` and the package's ``exp(...)``/``schedule(...)`` with literal
arguments, under any import form. Anything else evaluates to ``UNKNOWN`` and produces no
finding.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import libcst as cst

from taskspec_lint.backoff import exp, schedule

TIMEDELTA_NAMES = frozenset({"datetime.timedelta"})
EXP_NAMES = frozenset({"taskspec_lint.exp", "taskspec_lint.backoff.exp", "taskspec_lint.tasktypes.exp"})
SCHEDULE_NAMES = frozenset(
    {"taskspec_lint.schedule", "taskspec_lint.backoff.schedule", "taskspec_lint.tasktypes.schedule"}
)
_TIMEDELTA_KEYWORDS = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")
_OPERATORS: dict[type[cst.BaseBinaryOp], Callable[[Any, Any], Any]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
}


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""The value of an expression the checker cannot evaluate."""


@dataclass(frozen=True)
class InvalidLiteral:
    """A call the runtime would reject while building the value, e.g. ``exp(10, 5)``."""

    source: str
    reason: str


QualifiedNames = Callable[[cst.CSTNode], Collection[str]]


def evaluate(node: cst.BaseExpression, names_of: QualifiedNames) -> Any:
    """Return the Python value of ``node``, an ``InvalidLiteral``, or ``UNKNOWN``.

    ``names_of`` returns the qualified names of a callee, so ``td(hours=1)`` after
    ``from datetime import timedelta as td`` is recognised.
    """
    if isinstance(node, cst.Integer | cst.Float):
        try:
            return node.evaluated_value
        except (ValueError, SyntaxError):
            return UNKNOWN  # e.g. an integer longer than Python's 4,300-digit conversion limit
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else UNKNOWN
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation):
        return _evaluate_unary(node, names_of)
    if isinstance(node, cst.BinaryOperation):
        return _evaluate_binary(node, names_of)
    if isinstance(node, cst.Call):
        return _evaluate_call(node, names_of)
    return UNKNOWN


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | timedelta) and not isinstance(value, bool)


def _evaluate_unary(node: cst.UnaryOperation, names_of: QualifiedNames) -> Any:
    operand = evaluate(node.expression, names_of)
    if not _is_number(operand):
        return UNKNOWN
    if isinstance(node.operator, cst.Minus):
        return -operand
    if isinstance(node.operator, cst.Plus):
        return operand
    return UNKNOWN


def _evaluate_binary(node: cst.BinaryOperation, names_of: QualifiedNames) -> Any:
    apply = _OPERATORS.get(type(node.operator))
    if apply is None:
        return UNKNOWN
    left = evaluate(node.left, names_of)
    right = evaluate(node.right, names_of)
    if not (_is_number(left) and _is_number(right)):
        return UNKNOWN
    try:
        return apply(left, right)
    except (TypeError, OverflowError):
        return UNKNOWN


def _evaluate_call(node: cst.Call, names_of: QualifiedNames) -> Any:
    names = set(names_of(node.func))
    if names & TIMEDELTA_NAMES:
        return _build(node, names_of, _make_timedelta)
    if names & EXP_NAMES:
        return _build(node, names_of, exp)
    if names & SCHEDULE_NAMES:
        return _build(node, names_of, schedule)
    return UNKNOWN


def _make_timedelta(*args: Any, **kwargs: Any) -> timedelta:
    unknown = [key for key in kwargs if key not in _TIMEDELTA_KEYWORDS]
    if unknown:
        raise TypeError(f"timedelta() got an unexpected keyword {unknown[0]!r}")
    return timedelta(*args, **kwargs)


def _build(node: cst.Call, names_of: QualifiedNames, factory: Callable[..., Any]) -> Any:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for arg in node.args:
        if arg.star:
            return UNKNOWN
        value = evaluate(arg.value, names_of)
        if value is UNKNOWN or isinstance(value, InvalidLiteral) or value is None:
            return UNKNOWN
        if arg.keyword is None:
            args.append(value)
        else:
            kwargs[arg.keyword.value] = value
    try:
        return factory(*args, **kwargs)
    except (ValueError, TypeError, OverflowError) as error:
        return InvalidLiteral(cst.Module([]).code_for_node(node), str(error))
