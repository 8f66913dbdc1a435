"""The built-in catalog, checked against a table written by hand.

The table is kept apart from data/catalog.yaml on purpose: a change to the YAML must
also change this table, so a silent edit of a queue, a retry count or a timeout fails.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from taskspec_lint.backoff import ExpBackoff, ScheduleBackoff
from taskspec_lint.catalog import load_builtin_catalog

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> timedelta:
    """Convert one short duration of this table ("30s", "5m", "2h", "7d", "0") to a timedelta."""
    if text == "0":
        return timedelta(0)
    return timedelta(seconds=int(text[:-1]) * _UNIT_SECONDS[text[-1]])


WEBHOOK_STEPS = ("1s", "5s", "30s", "2m", "10m", "1h", "6h")

# type | human name | queue | attempts | backoff | timeout | unique TTL | idempotent.
# An exp backoff is written (base, max). The only schedule is webhook.deliver's.
TASKS = [
    ("email.send", "Send email", "default", 10, ("5s", "1h"), "30s", "0", True),
    ("email.password_reset", "Password reset email", "critical", 5, ("2s", "5m"), "30s", "0", True),
    ("email.verify", "Email address verification", "critical", 5, ("2s", "5m"), "30s", "0", True),
    ("email.comment_notify", "Comment notification email", "default", 8, ("30s", "6h"), "30s", "0", True),
    ("webhook.deliver", "Webhook delivery", "default", 8, WEBHOOK_STEPS, "30s", "0", True),
    ("cache.invalidate.tag_fanout", "Cache tag invalidation", "cache", 5, ("1s", "5m"), "30s", "30s", True),
    ("cache.warmup", "Cache warm-up", "cache", 3, ("5s", "30m"), "5m", "5m", True),
    ("media.variant.generate", "Image variant generation", "media", 5, ("10s", "1h"), "30s", "0", False),
    ("media.video.transcode", "Video transcode", "media", 3, ("30s", "2h"), "10m", "0", False),
    ("media.thumbnail.extract", "Thumbnail extraction", "media", 5, ("10s", "30m"), "30s", "0", True),
    ("media.cleanup.orphans", "Orphaned media cleanup", "low", 3, ("5m", "6h"), "30m", "24h", True),
    ("media.cleanup.cold_variants", "Cold variant cleanup", "low", 3, ("5m", "6h"), "30m", "24h", True),
    ("revalidate.next", "Next.js revalidation", "default", 8, ("1s", "10m"), "30s", "10s", True),
    ("migrate.batch.posts", "Import batch: posts", "migrate", 5, ("30s", "2h"), "10m", "0", False),
    ("migrate.batch.media", "Import batch: media", "migrate", 5, ("30s", "2h"), "10m", "0", False),
    ("migrate.batch.users", "Import batch: users", "migrate", 5, ("30s", "2h"), "10m", "0", False),
    ("migrate.verify", "Import verification", "migrate", 3, ("60s", "2h"), "30m", "0", True),
    ("audit.archive", "Audit log archive", "low", 3, ("5m", "6h"), "2h", "7d", True),
    ("auth.session.cleanup", "Expired session cleanup", "low", 3, ("1m", "1h"), "30s", "1h", True),
    ("auth.token.cleanup", "Expired token cleanup", "low", 3, ("1m", "1h"), "30s", "1h", True),
    ("auth.brute_force.unlock", "Brute-force lockout release", "default", 3, ("30s", "1h"), "30s", "0", True),
    ("search.reindex.post", "Reindex post", "default", 5, ("5s", "30m"), "30s", "60s", True),
    ("search.reindex.term", "Reindex term", "default", 5, ("5s", "30m"), "30s", "60s", True),
    ("search.reindex.comment", "Reindex comment", "default", 5, ("5s", "30m"), "30s", "60s", True),
    ("search.reindex.full", "Full search reindex", "low", 3, ("5m", "6h"), "2h", "2h", True),
    ("revisions.purge", "Revision purge", "low", 3, ("5m", "6h"), "30m", "24h", True),
    ("autosave.purge", "Autosave purge", "low", 3, ("5m", "6h"), "5m", "1h", True),
    ("rum.aggregate", "Real-user metrics aggregation", "low", 3, ("1m", "1h"), "5m", "0", True),
    ("plugin.activate", "Plugin activation", "plugins", 3, ("5s", "5m"), "30s", "0", True),
    ("plugin.deactivate", "Plugin deactivation", "plugins", 3, ("5s", "5m"), "30s", "0", True),
    ("plugin.uninstall.cleanup", "Plugin uninstall cleanup", "plugins", 5, ("30s", "1h"), "5m", "0", True),
    ("plugin.cron.tick", "Plugin scheduled tick", "plugins", 3, ("30s", "1h"), "30s", "1m", True),
    ("webhook.retry.dlq.scan", "Dead-letter retention scan", "low", 3, ("5m", "1h"), "30s", "10m", True),
]

# name | weight | concurrency | shed above (None: never shed).
QUEUES = [
    ("critical", 6, 4, None),
    ("default", 4, 16, 5000),
    ("media", 3, 8, 1000),
    ("cache", 3, 8, 10000),
    ("migrate", 2, 4, 2000),
    ("plugins", 2, 8, 2000),
    ("low", 1, 4, 5000),
]

TASK_IDS = [row[0] for row in TASKS]


@pytest.fixture(scope="module")
def catalog():
    return load_builtin_catalog()


def test_table_has_33_types():
    assert len(TASKS) == 33
    assert len(set(TASK_IDS)) == 33


def test_catalog_has_exactly_33_types(catalog):
    assert len(catalog.specs) == 33


def test_catalog_types_match_table(catalog):
    assert set(catalog.specs) == set(TASK_IDS)


@pytest.mark.parametrize(
    ("task_type", "human_name", "queue", "attempts", "backoff", "timeout", "unique_ttl", "idempotent"),
    TASKS,
    ids=TASK_IDS,
)
def test_task_spec_matches_table(
    catalog, task_type, human_name, queue, attempts, backoff, timeout, unique_ttl, idempotent
):
    spec = catalog.specs[task_type]

    assert spec.type == task_type
    assert spec.human_name == human_name
    assert spec.queue == queue
    assert spec.max_retry == attempts - 1
    assert spec.timeout == duration(timeout)
    assert spec.unique_ttl == duration(unique_ttl)
    assert spec.idempotent is idempotent


@pytest.mark.parametrize(
    ("task_type", "backoff"),
    [(row[0], row[4]) for row in TASKS],
    ids=TASK_IDS,
)
def test_task_backoff_matches_table(catalog, task_type, backoff):
    delay = catalog.specs[task_type].retry_delay

    if backoff is WEBHOOK_STEPS:
        assert isinstance(delay, ScheduleBackoff)
        assert delay.steps == tuple(duration(step) for step in WEBHOOK_STEPS)
        assert delay.jitter == pytest.approx(0.1)
    else:
        base, ceiling = backoff
        assert isinstance(delay, ExpBackoff)
        assert delay.base == duration(base)
        assert delay.max == duration(ceiling)


def test_only_webhook_uses_schedule(catalog):
    scheduled = [name for name, spec in catalog.specs.items()
                 if isinstance(spec.retry_delay, ScheduleBackoff)]
    assert scheduled == ["webhook.deliver"]


def test_catalog_queues_match_table(catalog):
    assert set(catalog.queues) == {row[0] for row in QUEUES}


@pytest.mark.parametrize(
    ("name", "weight", "concurrency", "shed_above"), QUEUES, ids=[row[0] for row in QUEUES]
)
def test_queue_matches_table(catalog, name, weight, concurrency, shed_above):
    queue = catalog.queues[name]

    assert queue.name == name
    assert queue.weight == weight
    assert queue.concurrency == concurrency
    assert queue.shed_above == shed_above


@pytest.mark.parametrize(
    ("task_type", "field"),
    [
        ("email.password_reset", "token_ref"),
        ("email.verify", "token_ref"),
        ("webhook.deliver", "body_ref"),
    ],
)
def test_sensitive_field_is_loaded(catalog, task_type, field):
    assert field in catalog.facts[task_type].sensitive


def test_send_email_has_no_sensitive_fields(catalog):
    assert catalog.facts["email.send"].sensitive == ()


def test_revision_purge_cron_is_loaded(catalog):
    assert catalog.facts["revisions.purge"].cron == "0 3 * * *"


def test_email_send_has_no_cron(catalog):
    assert catalog.facts["email.send"].cron is None


@pytest.mark.parametrize(("task_type", "attempts"), [(row[0], row[3]) for row in TASKS], ids=TASK_IDS)
def test_default_bounds_follow_spec(catalog, task_type, attempts):
    bounds = catalog.bounds[task_type]
    spec = catalog.specs[task_type]

    assert bounds.max_retry == attempts - 1
    assert bounds.timeout == spec.timeout
    assert bounds.unique_ttl == timedelta(days=7)
    assert bounds.retry_delay == timedelta(hours=24)
