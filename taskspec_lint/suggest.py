"""Suggest the closest known names for a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Return up to ``limit`` names from ``known`` that look most like ``name``, best first."""
    candidates = sorted(set(known))
    matches = difflib.get_close_matches(name, candidates, n=limit, cutoff=0.6)
    if matches:
        return matches

    # Dotted task types often differ in one segment only ("media.video.transcod"), which
    # difflib scores low when the strings are long. Fall back to sharing the last segment.
    tail = name.rsplit(".", 1)[-1]
    return [candidate for candidate in candidates if candidate.rsplit(".", 1)[-1] == tail][:limit]
