"""Shared fixtures: an injectable clock, a fresh backend, and isolation of global state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from taskspec_lint.catalog import load_builtin_catalog
from taskspec_lint.handlers import unregister_all
from taskspec_lint.producer import InMemoryBackend
from taskspec_lint.tasktypes import use_catalog


class FakeClock:
    """A clock that returns a fixed time until a test advances it."""

    def __init__(self) -> None:
        self.current = datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(clock: FakeClock) -> InMemoryBackend:
    return InMemoryBackend(clock=clock)


@pytest.fixture
def builtin_catalog():
    """Make the built-in catalog active for the test, and again afterwards."""
    catalog = load_builtin_catalog()
    use_catalog(catalog)
    yield catalog
    use_catalog(load_builtin_catalog())


@pytest.fixture
def no_handlers():
    """Start and end the test with no registered handlers."""
    unregister_all()
    yield
    unregister_all()
