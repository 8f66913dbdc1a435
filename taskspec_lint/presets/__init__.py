"""Presets: describe a queue library (Celery, RQ, Dramatiq) so the checker reads its code.

``preset = "taskspec"`` (the default) checks this package's own API against a catalog
file. The other presets read the library's task definitions across the whole checked
tree, build a catalog from them unless a catalog file is configured, and check every
call site against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskspec_lint.presets.base import Preset

PRESET_NAMES = ("taskspec", "celery", "rq", "dramatiq")


def get_preset(name: str) -> Preset | None:
    """Return the preset called ``name``; None for ``taskspec``, which needs none."""
    if name == "celery":
        from taskspec_lint.presets.celery import CeleryPreset

        return CeleryPreset()
    if name == "rq":
        from taskspec_lint.presets.rq import RQPreset

        return RQPreset()
    if name == "dramatiq":
        from taskspec_lint.presets.dramatiq import DramatiqPreset

        return DramatiqPreset()
    if name == "taskspec":
        return None
    raise ValueError(f"unknown preset {name!r}; expected one of {', '.join(PRESET_NAMES)}")
