"""Decide from raw bytes, without parsing, whether a file could hold a recognised call.

libcst parses about ten times slower than ``ast``, so the checker parses only files
that mention a token every recognised call needs (see ``Config.prefilter_tokens``).
"""

from __future__ import annotations

from collections.abc import Collection


def could_contain_call(data: bytes, tokens: Collection[bytes] | None) -> bool:
    """Return False only when ``data`` contains none of ``tokens``; None means "always parse"."""
    if tokens is None:
        return True
    return any(token in data for token in tokens)
