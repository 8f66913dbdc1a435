"""Generate Markdown documentation from the registry and the rules, so it is never typed twice."""

from __future__ import annotations

from collections.abc import Callable

from taskspec_lint.backoff import ExpBackoff, ScheduleBackoff
from taskspec_lint.checker.rules import RULES
from taskspec_lint.durations import format_duration
from taskspec_lint.model import Catalog


def catalog_markdown(catalog: Catalog) -> str:
    """Render the queues and task types of ``catalog`` as two Markdown tables."""
    lines = [
        "| queue | weight | concurrency | shed above |",
        "|---|---:|---:|---:|",
    ]
    for queue in sorted(catalog.queues.values(), key=lambda q: (-q.weight, q.name)):
        shed = "never" if queue.shed_above is None else f"{queue.shed_above:,}"
        lines.append(f"| `{queue.name}` | {queue.weight} | {queue.concurrency} | {shed} |")

    lines += [
        "",
        "| task type | name | queue | max_retry | backoff | timeout | unique_ttl | idempotent |",
        "|---|---|---|---:|---|---|---|---|",
    ]
    for spec in catalog.specs.values():
        chosen = set(catalog.facts[spec.type].chosen) if spec.type in catalog.facts else set()
        lines.append(
            "| `{type}` | {name} | {queue} | {retries} | {backoff} | {timeout} | {ttl} | {idem} |".format(
                type=spec.type,
                name=spec.human_name,
                queue=spec.queue,
                retries=spec.max_retry,
                backoff=_mark(_backoff_text(spec.retry_delay), "backoff" in chosen),
                timeout=_mark(format_duration(spec.timeout), "timeout" in chosen),
                ttl=_mark(format_duration(spec.unique_ttl) if spec.unique_ttl else "0", "unique_ttl" in chosen),
                idem="yes" if spec.idempotent else "**no**",
            )
        )
    return "\n".join(lines) + "\n"


def _backoff_text(delay: object) -> str:
    if isinstance(delay, ExpBackoff | ScheduleBackoff):
        return str(delay)
    return repr(delay)


def _mark(text: str, chosen: bool) -> str:
    return f"{text} *" if chosen else text


def rules_markdown() -> str:
    """Render the rule table: code, name, default, what it finds."""
    lines = ["| code | name | default | finds |", "|---|---|---|---|"]
    for rule in RULES:
        default = "on" if rule.default_enabled else "off"
        lines.append(f"| {rule.code} | `{rule.name}` | {default} | {rule.summary()} |")
    return "\n".join(lines) + "\n"


def rules_text() -> str:
    """Render every rule's full documentation as plain text."""
    blocks = []
    for rule in RULES:
        default = "" if rule.default_enabled else " (off unless selected)"
        blocks.append(f"{rule.code} {rule.name}{default}\n\n{rule.documentation()}\n")
    return "\n".join(blocks)


SECTIONS: dict[str, Callable[[], str]] = {"rules": rules_markdown, "catalog": lambda: catalog_markdown(_builtin())}


def _builtin() -> Catalog:
    from taskspec_lint.catalog import load_builtin_catalog

    return load_builtin_catalog()


def update_readme(text: str) -> str:
    """Replace every generated section of a README text with fresh output.

    A section sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``.
    """
    for name, render in SECTIONS.items():
        start, end = f"<!-- generated: {name} -->\n", f"<!-- end: {name} -->"
        head, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"the README has no '{start.strip()}' marker")
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"the README has no '{end}' marker")
        text = head + start + render() + end + tail
    return text


if __name__ == "__main__":
    import sys
    from pathlib import Path

    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    readme.write_text(update_readme(readme.read_text(encoding="utf-8")), encoding="utf-8")
