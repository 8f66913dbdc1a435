"""enqueue(): spec defaults, every override bound at its edge, unique windows and payload checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from taskspec_lint.backoff import exp, schedule
from taskspec_lint.errors import InvalidOverride, UnknownTaskType
from taskspec_lint.producer import enqueue

pytestmark = pytest.mark.usefixtures("builtin_catalog")

MICROSECOND = timedelta(microseconds=1)
SEVEN_DAYS = timedelta(days=7)
DAY = timedelta(hours=24)

# Task types with different bounds, so an edge taken from one spec cannot pass by chance.
EDGE_TYPES = ["email.send", "media.video.transcode", "webhook.deliver", "audit.archive"]


def rejected(task_type, backend, **options):
    """Enqueue with ``options``, expect InvalidOverride and return it."""
    with pytest.raises(InvalidOverride) as caught:
        enqueue(task_type, {"id": 1}, backend=backend, **options)
    return caught.value


def test_defaults_come_from_spec(builtin_catalog, backend, clock):
    spec = builtin_catalog.specs["email.send"]

    result = enqueue("email.send", {"to": "a@example.com"}, backend=backend)

    assert result.task_type == "email.send"
    assert result.payload == {"to": "a@example.com"}
    assert result.queue == spec.queue
    assert result.max_retry == spec.max_retry
    assert result.timeout == spec.timeout
    assert result.retry_delay == spec.retry_delay
    assert result.unique_ttl == spec.unique_ttl
    assert result.process_at == clock()
    assert result.duplicate is False


def test_defaults_reach_backend(builtin_catalog, backend):
    spec = builtin_catalog.specs["webhook.deliver"]

    result = enqueue("webhook.deliver", {"event_id": 7}, backend=backend)

    assert len(backend.tasks) == 1
    task_id, message = backend.tasks[0]
    assert task_id == result.id
    assert message.queue == "default"
    assert message.max_retry == 7
    assert message.timeout == timedelta(seconds=30)
    assert message.retry_delay == spec.retry_delay
    assert message.payload == {"event_id": 7}


def test_queue_override_is_used(backend):
    result = enqueue("email.send", {}, queue="low", backend=backend)

    assert result.queue == "low"
    assert backend.tasks[0][1].queue == "low"


def test_max_retry_override_is_used(backend):
    result = enqueue("email.send", {}, max_retry=3, backend=backend)

    assert result.max_retry == 3


def test_timeout_override_is_used(backend):
    result = enqueue("email.send", {}, timeout=10, backend=backend)

    assert result.timeout == timedelta(seconds=10)


def test_retry_delay_override_is_used(backend):
    result = enqueue("email.send", {}, retry_delay=exp(1, 60), backend=backend)

    assert result.retry_delay == exp(1, 60)


def test_unique_ttl_override_is_used(backend):
    result = enqueue("email.send", {}, unique_ttl=60, backend=backend)

    assert result.unique_ttl == timedelta(seconds=60)


def test_delay_override_moves_process_at(backend, clock):
    result = enqueue("email.send", {}, delay=30, backend=backend)

    assert result.process_at == clock() + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("option", "seconds", "expected"),
    [
        ("timeout", 10, timedelta(seconds=10)),
        ("timeout", 10.5, timedelta(seconds=10.5)),
        ("unique_ttl", 90, timedelta(seconds=90)),
        ("delay", 0.25, timedelta(milliseconds=250)),
    ],
)
def test_duration_seconds_equals_timedelta(backend, option, seconds, expected):
    from_seconds = enqueue("email.send", {"n": 1}, backend=backend, **{option: seconds})
    from_timedelta = enqueue("email.send", {"n": 2}, backend=backend, **{option: expected})

    if option == "delay":
        assert from_seconds.process_at == from_timedelta.process_at
    else:
        assert getattr(from_seconds, option) == expected
        assert getattr(from_timedelta, option) == expected


@pytest.mark.parametrize("task_type", EDGE_TYPES)
def test_max_retry_edges_accepted(builtin_catalog, backend, task_type):
    ceiling = builtin_catalog.specs[task_type].max_retry

    assert enqueue(task_type, {"n": 0}, max_retry=0, backend=backend).max_retry == 0
    assert enqueue(task_type, {"n": 1}, max_retry=ceiling, backend=backend).max_retry == ceiling


@pytest.mark.parametrize("task_type", EDGE_TYPES)
def test_max_retry_above_spec_rejected(builtin_catalog, backend, task_type):
    ceiling = builtin_catalog.specs[task_type].max_retry

    error = rejected(task_type, backend, max_retry=ceiling + 1)

    assert str(error).startswith(f"{task_type}: ")
    assert f"max_retry={ceiling + 1}" in str(error)
    assert f"0..{ceiling}" in str(error)
    assert error.option == "max_retry"
    assert error.value == ceiling + 1
    assert error.bound == f"0..{ceiling}"
    assert backend.tasks == []


@pytest.mark.parametrize("task_type", EDGE_TYPES)
def test_max_retry_negative_rejected(builtin_catalog, backend, task_type):
    ceiling = builtin_catalog.specs[task_type].max_retry

    error = rejected(task_type, backend, max_retry=-1)

    assert str(error).startswith(f"{task_type}: ")
    assert "max_retry=-1" in str(error)
    assert f"0..{ceiling}" in str(error)
    assert backend.tasks == []


@pytest.mark.parametrize("value", [True, False])
def test_max_retry_bool_rejected(backend, value):
    error = rejected("email.send", backend, max_retry=value)

    assert f"max_retry={value}" in str(error)
    assert "must be an int" in str(error)
    assert backend.tasks == []


@pytest.mark.parametrize("value", [3.0, "3"])
def test_max_retry_non_int_rejected(backend, value):
    error = rejected("email.send", backend, max_retry=value)

    assert "must be an int" in str(error)
    assert backend.tasks == []


@pytest.mark.parametrize("task_type", EDGE_TYPES)
def test_timeout_at_spec_accepted(builtin_catalog, backend, task_type):
    ceiling = builtin_catalog.specs[task_type].timeout

    result = enqueue(task_type, {}, timeout=ceiling, backend=backend)

    assert result.timeout == ceiling


@pytest.mark.parametrize("task_type", EDGE_TYPES)
def test_timeout_one_microsecond_over_rejected(builtin_catalog, backend, task_type):
    ceiling = builtin_catalog.specs[task_type].timeout
    over = ceiling + MICROSECOND
    expected_text = f"{over.total_seconds()}s"

    error = rejected(task_type, backend, timeout=over)

    assert str(error).startswith(f"{task_type}: ")
    assert f"timeout={expected_text}" in str(error)
    assert error.bound is not None
    assert error.bound in str(error)
    assert error.value == over
    assert backend.tasks == []


def test_timeout_bound_names_ceiling(backend):
    error = rejected("email.send", backend, timeout=31)

    assert str(error) == "email.send: timeout=31s must be more than 0s and at most 30s"


def test_timeout_small_positive_accepted(backend):
    result = enqueue("email.send", {}, timeout=MICROSECOND, backend=backend)

    assert result.timeout == MICROSECOND


@pytest.mark.parametrize("value", [0, 0.0, timedelta(0), -1])
def test_timeout_not_positive_rejected(backend, value):
    error = rejected("email.send", backend, timeout=value)

    assert "timeout=" in str(error)
    assert "more than 0s" in str(error)
    assert backend.tasks == []


@pytest.mark.parametrize("value", [True, "30s", float("nan"), float("inf")])
def test_timeout_wrong_type_rejected(backend, value):
    error = rejected("email.send", backend, timeout=value)

    assert "must be a timedelta or a number of seconds" in str(error)
    assert backend.tasks == []


@pytest.mark.parametrize("value", [0, timedelta(0), SEVEN_DAYS, 7 * 86400])
def test_unique_ttl_edges_accepted(backend, value):
    result = enqueue("email.send", {}, unique_ttl=value, backend=backend)

    assert result.unique_ttl == (value if isinstance(value, timedelta) else timedelta(seconds=value))


def test_unique_ttl_zero_turns_off_window(backend):
    first = enqueue("search.reindex.post", {"post_id": 1}, unique_ttl=0, backend=backend)
    second = enqueue("search.reindex.post", {"post_id": 1}, unique_ttl=0, backend=backend)

    assert first.unique_ttl == timedelta(0)
    assert second.duplicate is False
    assert len(backend.tasks) == 2


def test_unique_ttl_over_seven_days_rejected(backend):
    error = rejected("email.send", backend, unique_ttl=SEVEN_DAYS + timedelta(seconds=1))

    assert str(error).startswith("email.send: ")
    assert "unique_ttl=7d1s" in str(error)
    assert "0s..7d" in str(error)
    assert error.bound == "0s..7d"
    assert backend.tasks == []


def test_unique_ttl_negative_rejected(backend):
    error = rejected("email.send", backend, unique_ttl=-1)

    assert "unique_ttl=-1s" in str(error)
    assert backend.tasks == []


def test_retry_delay_max_24h_accepted(backend):
    result = enqueue("email.send", {}, retry_delay=exp(1, DAY), backend=backend)

    assert result.retry_delay == exp(1, DAY)


def test_retry_delay_schedule_24h_accepted(backend):
    result = enqueue("email.send", {}, retry_delay=schedule(60, DAY), backend=backend)

    assert result.retry_delay == schedule(60, DAY)


def test_retry_delay_over_24h_rejected(backend):
    too_long = exp(1, DAY + timedelta(seconds=1))

    error = rejected("email.send", backend, retry_delay=too_long)

    assert str(error).startswith("email.send: ")
    assert "retry_delay=exp(1s, 1d1s)" in str(error)
    assert error.bound == "at most 1d"
    assert error.bound in str(error)
    assert backend.tasks == []


def test_retry_delay_schedule_over_rejected(backend):
    error = rejected("email.send", backend, retry_delay=schedule(1, DAY + timedelta(seconds=1)))

    assert "retry_delay=schedule(1s, 1d1s, jitter=0.1)" in str(error)
    assert backend.tasks == []


@pytest.mark.parametrize("value", [5, timedelta(seconds=5), "exp(5s, 1h)"])
def test_retry_delay_wrong_type_rejected(backend, value):
    error = rejected("email.send", backend, retry_delay=value)

    assert "must be a RetryDelay" in str(error)
    assert backend.tasks == []


@pytest.mark.parametrize("value", [0, timedelta(0)])
def test_delay_zero_accepted(backend, clock, value):
    result = enqueue("email.send", {}, delay=value, backend=backend)

    assert result.process_at == clock()


@pytest.mark.parametrize("value", [-1, timedelta(seconds=-1), -MICROSECOND])
def test_delay_negative_rejected(backend, value):
    error = rejected("email.send", backend, delay=value)

    assert str(error).startswith("email.send: delay=-")
    assert "must be 0s or more" in str(error)
    assert error.bound == "0s or more"
    assert backend.tasks == []


def test_delay_bool_rejected(backend):
    error = rejected("email.send", backend, delay=True)

    assert "delay=True" in str(error)
    assert backend.tasks == []


def test_unknown_queue_suggests_name(backend):
    error = rejected("email.send", backend, queue="defualt")

    assert str(error).startswith("email.send: queue='defualt' ")
    assert "did you mean 'default'?" in str(error)
    assert error.suggestions[0] == "default"
    assert backend.tasks == []


def test_unknown_queue_lists_queues(backend):
    error = rejected("email.send", backend, queue="bulk")

    for name in ("cache", "critical", "default", "low", "media", "migrate", "plugins"):
        assert name in str(error)
    assert backend.tasks == []


def test_queue_non_str_rejected(backend):
    error = rejected("email.send", backend, queue=4)

    assert "queue=4" in str(error)
    assert backend.tasks == []


def test_higher_weight_queue_allowed(backend):
    result = enqueue("email.send", {}, queue="critical", backend=backend)

    assert result.queue == "critical"
    assert len(backend.tasks) == 1


def test_lower_weight_queue_allowed(backend):
    result = enqueue("email.password_reset", {}, queue="low", backend=backend)

    assert result.queue == "low"


@pytest.mark.parametrize(
    "option, value",
    [
        ("queue", "default"),
        ("max_retry", 9),
        ("timeout", 30),
        ("retry_delay", exp(5, 3600)),
        ("unique_ttl", 0),
    ],
)
def test_value_equal_to_spec_accepted(backend, option, value):
    result = enqueue("email.send", {}, backend=backend, **{option: value})

    assert result.duplicate is False
    assert len(backend.tasks) == 1


def test_unknown_type_suggests_closest(backend):
    with pytest.raises(UnknownTaskType) as caught:
        enqueue("email.sned", {}, backend=backend)

    assert caught.value.suggestions[0] == "email.send"
    assert "unknown task type 'email.sned'" in str(caught.value)
    assert "did you mean 'email.send'" in str(caught.value)
    assert backend.tasks == []


def test_unknown_type_is_lookup_error(backend):
    with pytest.raises(LookupError):
        enqueue("media.video.transcod", {}, backend=backend)


def test_unknown_type_without_match(backend):
    with pytest.raises(UnknownTaskType) as caught:
        enqueue("zzzz", {}, backend=backend)

    assert caught.value.suggestions == []
    assert "did you mean" not in str(caught.value)


@pytest.mark.parametrize(
    "payload",
    [{1, 2}, {"ids": {1, 2}}, object(), {"when": timedelta(1)}, float("nan")],
    ids=["set", "nested-set", "object", "timedelta", "nan"],
)
def test_payload_not_json_rejected(backend, payload):
    with pytest.raises(TypeError) as caught:
        enqueue("email.send", payload, backend=backend)

    assert str(caught.value).startswith("email.send: the payload must be JSON-serialisable")
    assert backend.tasks == []


def test_payload_checked_after_overrides(backend):
    with pytest.raises(InvalidOverride):
        enqueue("email.send", {1, 2}, max_retry=-1, backend=backend)


def test_unique_window_deduplicates(backend, clock):
    first = enqueue("search.reindex.post", {"post_id": 1}, backend=backend)
    clock.advance(59)
    second = enqueue("search.reindex.post", {"post_id": 1}, backend=backend)

    assert first.duplicate is False
    assert second.duplicate is True
    assert second.id == first.id
    assert len(backend.tasks) == 1


def test_unique_window_expires(backend, clock):
    first = enqueue("search.reindex.post", {"post_id": 1}, backend=backend)
    clock.advance(60)
    second = enqueue("search.reindex.post", {"post_id": 1}, backend=backend)

    assert second.duplicate is False
    assert second.id != first.id
    assert len(backend.tasks) == 2


def test_unique_key_ignores_key_order(backend):
    first = enqueue("search.reindex.post", {"post_id": 1, "lang": "en"}, backend=backend)
    second = enqueue("search.reindex.post", {"lang": "en", "post_id": 1}, backend=backend)

    assert second.duplicate is True
    assert second.id == first.id


def test_different_payload_not_duplicate(backend):
    first = enqueue("search.reindex.post", {"post_id": 1}, backend=backend)
    second = enqueue("search.reindex.post", {"post_id": 2}, backend=backend)

    assert second.duplicate is False
    assert second.id != first.id
    assert len(backend.tasks) == 2


def test_same_payload_other_type_not_duplicate(backend):
    enqueue("search.reindex.post", {"id": 1}, backend=backend)
    second = enqueue("search.reindex.term", {"id": 1}, backend=backend)

    assert second.duplicate is False
    assert len(backend.tasks) == 2


def test_explicit_unique_key_deduplicates(backend):
    first = enqueue("search.reindex.post", {"post_id": 1}, unique_key="post-1", backend=backend)
    second = enqueue("search.reindex.post", {"post_id": 2}, unique_key="post-1", backend=backend)

    assert second.duplicate is True
    assert second.id == first.id
    assert len(backend.tasks) == 1


def test_explicit_unique_key_separates(backend):
    enqueue("search.reindex.post", {"post_id": 1}, unique_key="a", backend=backend)
    second = enqueue("search.reindex.post", {"post_id": 1}, unique_key="b", backend=backend)

    assert second.duplicate is False
    assert len(backend.tasks) == 2


def test_unique_key_non_str_rejected(backend):
    with pytest.raises(InvalidOverride):
        enqueue("search.reindex.post", {"post_id": 1}, unique_key=1, backend=backend)

    assert backend.tasks == []


def test_no_window_without_unique_ttl(backend):
    enqueue("email.send", {"to": "a"}, backend=backend)
    second = enqueue("email.send", {"to": "a"}, backend=backend)

    assert second.duplicate is False
    assert len(backend.tasks) == 2


def test_unique_ttl_override_opens_window(backend, clock):
    first = enqueue("email.send", {"to": "a"}, unique_ttl=10, backend=backend)
    second = enqueue("email.send", {"to": "a"}, unique_ttl=10, backend=backend)
    clock.advance(11)
    third = enqueue("email.send", {"to": "a"}, unique_ttl=10, backend=backend)

    assert second.duplicate is True
    assert second.id == first.id
    assert third.duplicate is False
    assert len(backend.tasks) == 2
