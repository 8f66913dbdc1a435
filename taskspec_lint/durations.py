"""Parse, coerce and format durations.

The catalog writes durations as ``30s``, ``5m``, ``2h``, ``7d`` or compounds such as
``1h30m``; a bare number is seconds. At run time a duration is a ``timedelta`` or a
number of seconds.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")


def parse_duration(text: str) -> timedelta:
    """Parse a catalog duration such as ``30s`` or ``1h30m``.

    Raises ValueError with the accepted forms when the text is malformed or negative.
    """
    stripped = text.strip()
    if stripped.startswith("-"):
        raise ValueError(f"negative duration {text!r}; durations must be 0 or more")
    if stripped == "0":
        return timedelta(0)
    if not _WHOLE.fullmatch(stripped):
        raise ValueError(
            f"malformed duration {text!r}; expected a number with a unit, "
            f"such as 500ms, 30s, 5m, 2h, 7d or 1h30m"
        )
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(stripped))
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(
            f"duration {text!r} is too long; the maximum is {timedelta.max.days} days"
        ) from None


def coerce_duration(value: object) -> timedelta | None:
    """Return ``value`` as a timedelta if it is one or a number of seconds, else None.

    ``bool`` is rejected although it is an ``int``: ``timeout=True`` is a mistake, not one second.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return timedelta(seconds=value)
    except OverflowError:
        return None


# A timeout of "none": the task has no per-run time limit. Catalog files write it ``none``.
UNLIMITED = timedelta.max


def format_duration(value: timedelta) -> str:
    """Format a duration in the catalog's notation: ``30s``, ``5m``, ``1h30m``, ``7d``."""
    if value == UNLIMITED:
        return "none"
    if value < timedelta(0):
        return "-" + format_duration(-value)
    # Whole microseconds, not rounded milliseconds: a bound broken by 1µs must not print
    # as the bound itself, and "%g" would cut 7200.001 to 7200.
    total_us = value // timedelta(microseconds=1)
    if total_us == 0:
        return "0s"
    seconds, fraction_us = divmod(total_us, 1_000_000)
    if fraction_us:
        if seconds == 0 and fraction_us % 1000 == 0:
            return f"{fraction_us // 1000}ms"
        return f"{seconds}.{fraction_us:06d}".rstrip("0") + "s"

    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
