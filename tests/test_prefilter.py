"""The byte prefilter never skips a file that contains a recognised call."""

from __future__ import annotations

import keyword
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from taskspec_lint.catalog import load_builtin_catalog
from taskspec_lint.checker import SourceError, check_text, decode_source
from taskspec_lint.checker.config import Config, EnqueueCallable, HandlerCallable, select_codes
from taskspec_lint.checker.prefilter import could_contain_call

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_builtin_catalog()
ALL_RULES = Config(select=select_codes(["ALL"]))

IMPORT_FORMS = [
    ("import taskspec_lint", "taskspec_lint.enqueue"),
    ("import taskspec_lint as {alias}", "{alias}.enqueue"),
    ("import taskspec_lint.producer", "taskspec_lint.producer.enqueue"),
    ("import taskspec_lint.producer as {alias}", "{alias}.enqueue"),
    ("from taskspec_lint import enqueue", "enqueue"),
    ("from taskspec_lint import enqueue as {alias}", "{alias}"),
    ("from taskspec_lint.producer import enqueue as {alias}", "{alias}"),
    ("from taskspec_lint import producer as {alias}", "{alias}.enqueue"),
]
identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
)


@settings(max_examples=200, deadline=None)
@given(form=st.sampled_from(IMPORT_FORMS), alias=identifiers, task_type=st.text(min_size=1, max_size=20))
def test_every_import_form_passes_prefilter(form: tuple[str, str], alias: str, task_type: str) -> None:
    import_line, callee = (part.format(alias=alias) for part in form)
    source = f"{import_line}\n\n{callee}({task_type!r}, max_retry=-1)\n"
    findings = check_text(source, "generated.py", CATALOG, ALL_RULES)
    assert findings, source
    assert could_contain_call(source.encode(), ALL_RULES.prefilter_tokens)


def test_no_finding_in_skipped_files() -> None:
    """Every Python file of this repository: a file with findings always passes the prefilter."""
    tokens = ALL_RULES.prefilter_tokens
    checked = 0
    for path in sorted(ROOT.rglob("*.py")):
        if ".venv" in path.parts:
            continue
        data = path.read_bytes()
        try:
            text = decode_source(data)
            findings = check_text(text, str(path), CATALOG, ALL_RULES)
        except SourceError:  # broken fixtures are covered by the fixture runner
            continue
        checked += 1
        if findings:
            assert could_contain_call(data, tokens), path
    assert checked > 20


def test_tokens_of_configured_patterns() -> None:
    config = Config(
        enqueue=(EnqueueCallable(names=("*.send_task", "rq.Queue.enqueue")),),
        handlers=(HandlerCallable(names=("celery.shared_task",)),),
    )
    assert config.prefilter_tokens == frozenset({b"send_task", b"rq", b"celery"})


def test_glob_only_pattern_parses_everything() -> None:
    config = Config(enqueue=(EnqueueCallable(names=("*",)),))
    assert config.prefilter_tokens is None
    assert could_contain_call(b"print('hello')\n", None)


def test_unrelated_file_is_skipped() -> None:
    assert not could_contain_call(b"import celery\nenqueue('x')\n", Config().prefilter_tokens)
