"""Handler registration in its three forms, and the compensation rule for non-idempotent types."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from taskspec_lint.errors import DuplicateHandler, MissingCompensation, UnknownTaskType
from taskspec_lint.handlers import (
    get_handler,
    handler,
    register_handler,
    registered_handlers,
    unregister_all,
)

pytestmark = pytest.mark.usefixtures("builtin_catalog", "no_handlers")

NON_IDEMPOTENT = [
    "media.variant.generate",
    "media.video.transcode",
    "migrate.batch.posts",
    "migrate.batch.media",
    "migrate.batch.users",
]


def handle_payload(payload):
    return payload


def undo_payload(payload):
    return None


def register_with_decorator(task_type):
    @handler(task_type)
    def handle(payload):
        return payload

    return handle


def register_with_class(task_type):
    @handler(task_type)
    class Handler:
        def handle(self, payload):
            return payload

    return Handler


def register_with_call(task_type):
    return register_handler(task_type, handle_payload)


REGISTER_FORMS = [register_with_decorator, register_with_class, register_with_call]
FORM_IDS = ["decorator", "class", "register_handler"]


def test_function_decorator_with_compensate():
    @handler("media.variant.generate", compensate=undo_payload)
    def generate(payload):
        return payload

    entry = get_handler("media.variant.generate")

    assert entry is not None
    assert entry.handle is generate
    assert entry.compensate is undo_payload
    assert generate({"a": 1}) == {"a": 1}
    assert entry.origin.endswith("test_function_decorator_with_compensate.<locals>.generate")


def test_function_decorator_idempotent_type():
    @handler("email.send")
    def send(payload):
        return payload

    entry = get_handler("email.send")

    assert entry is not None
    assert entry.handle is send
    assert entry.compensate is None


def test_class_decorator_with_compensate():
    created = []

    @handler("migrate.batch.posts")
    class ImportPosts:
        def __init__(self):
            created.append(self)

        def handle(self, payload):
            return ("handled", payload)

        def compensate(self, payload):
            return ("undone", payload)

    entry = get_handler("migrate.batch.posts")

    assert isinstance(ImportPosts, type)
    assert len(created) == 1
    assert entry is not None
    assert entry.handle({"offset": 0}) == ("handled", {"offset": 0})
    assert entry.compensate is not None
    assert entry.compensate({"offset": 0}) == ("undone", {"offset": 0})
    assert entry.handle.__self__ is created[0]


def test_class_decorator_compensate_argument():
    @handler("migrate.batch.users", compensate=undo_payload)
    class ImportUsers:
        def handle(self, payload):
            return payload

    entry = get_handler("migrate.batch.users")

    assert entry is not None
    assert entry.compensate is undo_payload


def test_class_both_compensations_rejected():
    with pytest.raises(TypeError, match="keep one"):

        @handler("migrate.batch.media", compensate=undo_payload)
        class ImportMedia:
            def handle(self, payload):
                return payload

            def compensate(self, payload):
                return None

    assert get_handler("migrate.batch.media") is None


def test_class_without_handle_rejected():
    with pytest.raises(TypeError, match="must define handle"):

        @handler("email.send")
        class Sender:
            def run(self, payload):
                return payload

    assert get_handler("email.send") is None


def test_register_handler_with_compensate():
    entry = register_handler("media.video.transcode", handle_payload, undo_payload)

    assert entry is get_handler("media.video.transcode")
    assert entry.handle is handle_payload
    assert entry.compensate is undo_payload
    assert entry.task_type == "media.video.transcode"


def test_register_handler_idempotent_type():
    entry = register_handler("webhook.deliver", handle_payload)

    assert entry.compensate is None
    assert registered_handlers() == {"webhook.deliver": entry}


def test_catalog_non_idempotent_types(builtin_catalog):
    found = sorted(name for name, spec in builtin_catalog.specs.items() if not spec.idempotent)

    assert found == sorted(NON_IDEMPOTENT)


@pytest.mark.parametrize("register", REGISTER_FORMS, ids=FORM_IDS)
@pytest.mark.parametrize("task_type", NON_IDEMPOTENT)
def test_missing_compensation_rejected(task_type, register):
    with pytest.raises(MissingCompensation) as caught:
        register(task_type)

    assert caught.value.task_type == task_type
    assert repr(task_type) in str(caught.value)
    assert "compensate=" in str(caught.value)
    assert get_handler(task_type) is None


def test_missing_compensation_at_import(tmp_path, monkeypatch):
    module_name = "handlers_without_compensation"
    (tmp_path / f"{module_name}.py").write_text(
        textwrap.dedent(
            """
            from taskspec_lint import handler

            @handler("migrate.batch.posts")
            def import_posts(payload):
                return payload
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module_name, raising=False)

    with pytest.raises(MissingCompensation) as caught:
        importlib.import_module(module_name)

    assert caught.value.task_type == "migrate.batch.posts"
    assert module_name not in sys.modules
    assert get_handler("migrate.batch.posts") is None


def test_module_with_compensation_imports(tmp_path, monkeypatch):
    module_name = "handlers_with_compensation"
    (tmp_path / f"{module_name}.py").write_text(
        textwrap.dedent(
            """
            from taskspec_lint import handler

            def delete_partial_import(payload):
                return None

            @handler("migrate.batch.posts", compensate=delete_partial_import)
            def import_posts(payload):
                return payload
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module_name, raising=False)

    module = importlib.import_module(module_name)
    entry = get_handler("migrate.batch.posts")

    assert entry is not None
    assert entry.handle is module.import_posts
    assert entry.compensate is module.delete_partial_import
    assert entry.origin == f"{module_name}.import_posts"
    monkeypatch.delitem(sys.modules, module_name)


@pytest.mark.parametrize("register", REGISTER_FORMS, ids=FORM_IDS)
def test_unknown_type_rejected(register):
    with pytest.raises(UnknownTaskType) as caught:
        register("email.sned")

    assert caught.value.suggestions[0] == "email.send"
    assert "did you mean 'email.send'" in str(caught.value)
    assert registered_handlers() == {}


@pytest.mark.parametrize("register", REGISTER_FORMS, ids=FORM_IDS)
def test_duplicate_handler_rejected(register):
    first = register_handler("email.send", handle_payload)

    with pytest.raises(DuplicateHandler) as caught:
        register("email.send")

    assert caught.value.task_type == "email.send"
    assert first.origin in str(caught.value)
    assert get_handler("email.send") is first


def test_non_callable_handler_rejected():
    with pytest.raises(TypeError, match="must be callable"):
        register_handler("email.send", "not a function")

    assert get_handler("email.send") is None


def test_non_callable_compensate_rejected():
    with pytest.raises(TypeError, match="compensation of 'media.variant.generate' must be callable"):
        register_handler("media.variant.generate", handle_payload, compensate="undo")

    assert get_handler("media.variant.generate") is None


def test_unregister_all_forgets_handlers():
    register_handler("email.send", handle_payload)

    unregister_all()

    assert get_handler("email.send") is None
    assert registered_handlers() == {}
    assert register_handler("email.send", handle_payload).handle is handle_payload
