"""Apply the rules to one parsed module: recognise calls, evaluate literals, report findings."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    CodeRange,
    GlobalScope,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from taskspec_lint.bounds import ProblemKind, check_override, check_override_without_spec
from taskspec_lint.checker import rules
from taskspec_lint.checker.config import Config, EnqueueCallable, HandlerCallable
from taskspec_lint.checker.evaluate import UNKNOWN, InvalidLiteral, evaluate
from taskspec_lint.checker.findings import Finding
from taskspec_lint.model import Catalog, TaskSpec
from taskspec_lint.suggest import closest

_RULE_OF_PROBLEM: dict[ProblemKind, type[rules.Rule]] = {
    ProblemKind.WRONG_TYPE: rules.WrongOverrideType,
    ProblemKind.OUT_OF_BOUND: rules.OverrideOutOfBound,
    ProblemKind.UNKNOWN_QUEUE: rules.UnknownQueue,
    ProblemKind.ESCALATION: rules.QueueEscalation,
    ProblemKind.REDUNDANT: rules.RedundantOverride,
    ProblemKind.DISABLES_DEDUPLICATION: rules.DeduplicationDisabled,
}


class _Unresolved:
    """Marker for a task type expression that is not a literal the checker can resolve."""


UNRESOLVED = _Unresolved()


def analyze_module(module: cst.Module, path: str, catalog: Catalog, config: Config) -> list[Finding]:
    """Return the findings of ``module`` (parsed from ``path``), sorted by position."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    visitor = _Checker(path, catalog, config)
    wrapper.visit(visitor)
    return sorted(visitor.findings)


class _Checker(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider)

    def __init__(self, path: str, catalog: Catalog, config: Config) -> None:
        super().__init__()
        self.path = path
        self.catalog = catalog
        self.config = config
        self.findings: list[Finding] = []
        self._constants: dict[int, str] = {}
        self._decorator_calls: set[int] = set()
        self._registered: dict[str, int] = {}

    # Recognition -----------------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self._constants = _module_string_constants(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._visit_decorated(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._visit_decorated(node)

    def _visit_decorated(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        for decorator in node.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call):
                continue
            pattern = self._handler_pattern(call)
            if pattern is not None:
                self._decorator_calls.add(id(call))
                self._check_registration(call, pattern, node, decorator)

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self._decorator_calls:
            return
        names = self._names_of(node.func)
        if not names:
            return
        for enqueue in self.config.enqueue:
            if enqueue.matches(names):
                self._check_enqueue(node, enqueue)
                return
        pattern = self._handler_pattern(node)
        if pattern is not None:
            self._check_registration(node, pattern, None, node)

    def _handler_pattern(self, call: cst.Call) -> HandlerCallable | None:
        names = self._names_of(call.func)
        for pattern in self.config.handlers:
            if names and pattern.matches(names):
                return pattern
        return None

    def _names_of(self, node: cst.CSTNode) -> Collection[str]:
        qualified = self.get_metadata(QualifiedNameProvider, node, set())
        if qualified:
            return {name.name for name in qualified}
        # Names the scope analysis cannot resolve (an attribute of an undefined or
        # unassigned name) are matched by their dotted spelling.
        spelled = get_full_name_for_node(node)
        return {spelled} if spelled else set()

    # Enqueue calls ---------------------------------------------------------------------

    def _check_enqueue(self, call: cst.Call, pattern: EnqueueCallable) -> None:
        callee = get_full_name_for_node(call.func) or "enqueue"
        task_arg = _find_argument(call.args, pattern.task_type_position, pattern.task_type_keyword)
        if task_arg is None:
            if not any(arg.star for arg in call.args):
                self._report(rules.MissingTaskType, call, None, callee=callee)
            return

        task_type = self._resolve_task_type(task_arg.value)
        spec: TaskSpec | None = None
        if isinstance(task_type, _Unresolved):
            expression = _source(task_arg.value)
            self._report(rules.UnresolvedTaskType, task_arg.value, None, expression=expression)
            label = f"{callee}({expression})"
        else:
            label = task_type
            spec = self.catalog.specs.get(task_type)
            if spec is None:
                hint = _suggestion_hint(task_type, self.catalog.specs)
                self._report(rules.UnknownTaskType, task_arg.value, None, task_type=task_type, hint=hint)
                label = task_type

        for arg in call.args:
            if arg is task_arg or arg.keyword is None:
                continue
            self._check_keyword(arg, pattern, spec, label)

    def _check_keyword(
        self, arg: cst.Arg, pattern: EnqueueCallable, spec: TaskSpec | None, label: str
    ) -> None:
        assert arg.keyword is not None
        keyword = arg.keyword.value
        option = pattern.options.get(keyword)
        if option is None:
            if keyword in pattern.passthrough or not pattern.report_unknown_keywords:
                return
            known = [*pattern.options, *pattern.passthrough]
            hint = _suggestion_hint(keyword, known, quote=True)
            self._report(rules.UnknownOption, arg, spec.type if spec else None,
                         task_type=label, option=keyword, hint=hint)
            return

        value = evaluate(arg.value, self._names_of)
        if value is UNKNOWN or value is None:
            return
        task_type = spec.type if spec else None
        if isinstance(value, InvalidLiteral):
            self._report(rules.OverrideOutOfBound, arg, task_type, task_type=label, option=keyword,
                         value=value.source, reason=f"is invalid: {value.reason}")
            return

        problems = (
            check_override(self.catalog, spec, option, value)
            if spec is not None
            else check_override_without_spec(self.catalog, option, value)
        )
        for problem in problems:
            rule = _RULE_OF_PROBLEM[problem.kind]
            hint = f"; did you mean {problem.suggestions[0]!r}?" if problem.suggestions else ""
            self._report(
                rule, arg, task_type, task_type=label, option=keyword, value=problem.value,
                reason=problem.reason, hint=hint, bound=problem.bound or "",
            )

    # Handler registrations -------------------------------------------------------------

    def _check_registration(
        self,
        call: cst.Call,
        pattern: HandlerCallable,
        decorated: cst.FunctionDef | cst.ClassDef | None,
        fault: cst.CSTNode,
    ) -> None:
        task_arg = _find_argument(call.args, pattern.task_type_position, pattern.task_type_keyword)
        if task_arg is None:
            return
        task_type = self._resolve_task_type(task_arg.value)
        if isinstance(task_type, _Unresolved):
            return

        first_line = self._registered.get(task_type)
        line = self._position(task_arg.value).start.line
        if first_line is not None:
            self._report(rules.DuplicateRegistration, task_arg.value, task_type,
                         task_type=task_type, first_line=first_line)
        else:
            self._registered[task_type] = line

        spec = self.catalog.specs.get(task_type)
        if spec is None:
            hint = _suggestion_hint(task_type, self.catalog.specs)
            self._report(rules.UnknownHandlerType, task_arg.value, None,
                         task_type=task_type, hint=hint)
            return
        if spec.idempotent:
            return

        compensate = _find_argument(call.args, pattern.compensate_position, pattern.compensate_keyword)
        if isinstance(decorated, cst.ClassDef) and _class_defines(decorated, "compensate"):
            return  # the class's own compensate() applies, as handler() does at run time
        if compensate is not None:
            if isinstance(compensate.value, cst.Name) and compensate.value.value == "None":
                self._report(rules.MissingCompensation, fault, task_type, task_type=task_type,
                             detail=" (compensate is None)")
            return
        if isinstance(decorated, cst.ClassDef):
            if _class_defines(decorated, "compensate"):
                return
            if any(_source(base.value) != "object" for base in decorated.bases):
                # NOTE: a base class may define compensate(); the checker does not follow
                # bases, so it stays silent rather than guess.
                return
            detail = ": define a compensate() method"
        else:
            detail = ": pass compensate=<function that undoes a partial run>"
        self._report(rules.MissingCompensation, fault, task_type, task_type=task_type, detail=detail)

    # Task types ------------------------------------------------------------------------

    def _resolve_task_type(self, node: cst.BaseExpression) -> str | _Unresolved:
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            return value if isinstance(value, str) else UNRESOLVED
        if isinstance(node, cst.Name):
            scope = self.get_metadata(ScopeProvider, node, None)
            if scope is None:
                return UNRESOLVED
            assignments = list(scope[node.value])
            if len(assignments) == 1 and isinstance(assignments[0].scope, GlobalScope):
                target = getattr(assignments[0], "node", None)
                value = self._constants.get(id(target))
                if value is not None:
                    return value
        return UNRESOLVED

    # Reporting -------------------------------------------------------------------------

    def _position(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def _report(
        self, rule: type[rules.Rule], node: cst.CSTNode, catalog_type: str | None, **values: Any
    ) -> None:
        """Record a finding of ``rule`` at ``node``; ``catalog_type`` is None when unknown."""
        if not self.config.enabled(rule.code):
            return
        if "task_type" not in values and catalog_type is not None:
            values["task_type"] = catalog_type
        position = self._position(node)
        fact_values = tuple((key, str(value)) for key, value in values.items() if key not in ("hint", "detail"))
        self.findings.append(
            Finding(
                path=self.path,
                line=position.start.line,
                column=position.start.column + 1,
                code=rule.code,
                message=rule.format(**values),
                task_type=catalog_type,
                values=fact_values,
                end_line=position.end.line,
                end_column=position.end.column + 1,
            )
        )


def _find_argument(
    args: Sequence[cst.Arg], position: int | None, keyword: str | None
) -> cst.Arg | None:
    if keyword is not None:
        for arg in args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg
    if position is not None:
        positional = []
        for arg in args:
            if arg.keyword is not None or arg.star == "**":
                break
            if arg.star == "*":
                return None
            positional.append(arg)
        if position < len(positional):
            return positional[position]
    return None


def _module_string_constants(module: cst.Module) -> dict[int, str]:
    """Map the target node of each top-level ``NAME = "literal"`` to its string."""
    constants: dict[int, str] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            target: cst.BaseExpression | None = None
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            if isinstance(target, cst.Name) and isinstance(value, cst.SimpleString | cst.ConcatenatedString):
                text = value.evaluated_value
                if isinstance(text, str):
                    constants[id(target)] = text
    return constants


def _class_defines(node: cst.ClassDef, name: str) -> bool:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return True
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign | cst.AnnAssign):
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                        return True
    return False


def _suggestion_hint(name: str, known: Collection[str], quote: bool = True) -> str:
    suggestions = closest(name, known)
    if not suggestions:
        return ""
    return "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"


def _source(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)
