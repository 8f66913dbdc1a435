"""Duration parsing and formatting in the catalog's notation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from taskspec_lint.durations import coerce_duration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(seconds=1.5), "1.5s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=7, seconds=1), "7d1s"),
        (timedelta(seconds=-1), "-1s"),
    ],
)
def test_format_duration_notation(value, text):
    assert format_duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=30, microseconds=1), "30.000001s"),
        (timedelta(hours=2, milliseconds=1), "7200.001s"),
        (timedelta(microseconds=500), "0.0005s"),
    ],
)
def test_format_duration_keeps_fraction(value, text):
    assert format_duration(value) == text


@pytest.mark.parametrize(
    "value",
    [timedelta(seconds=30, microseconds=1), timedelta(hours=2, milliseconds=1), timedelta(minutes=90)],
)
def test_format_then_parse_round_trip(value):
    assert parse_duration(format_duration(value)) == value


def test_parse_duration_too_long():
    with pytest.raises(ValueError, match="is too long"):
        parse_duration("99999999999999999999d")


@pytest.mark.parametrize("text", ["30 secs", "5", "1x", ""])
def test_parse_duration_malformed(text):
    with pytest.raises(ValueError, match="malformed duration"):
        parse_duration(text)


@pytest.mark.parametrize("value", [True, "30", None, float("inf"), float("nan"), 10**30])
def test_coerce_duration_rejects(value):
    assert coerce_duration(value) is None
