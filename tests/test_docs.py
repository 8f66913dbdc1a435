"""The README's generated tables match the rules and the built-in catalog."""

from __future__ import annotations

from pathlib import Path

from taskspec_lint.docs import update_readme

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tables_are_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert update_readme(text) == text, "run: python -m taskspec_lint.docs README.md"


def test_readme_lists_every_task_type() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count("| `") >= 33 + 7 + 14
    assert "| `webhook.deliver` | Webhook delivery | default | 7 | schedule(" in text
