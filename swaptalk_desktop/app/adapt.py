"""Per-actor adaptation as the editor offers it: what can be adapted and for how long
(engine/adapt_plan.py), and where a set's work folder is (engine/adapt_job.py), so that a
retry resumes."""

from __future__ import annotations

from ..engine.adapt_job import work_folder
from ..engine.adapt_plan import (
    DEFAULT_STEPS,
    MEASURED_ON,
    PHASES,
    adaptable_sets,
    clock,
    estimate,
    footage_clock,
    plan_footage,
)

__all__ = ["DEFAULT_STEPS", "MEASURED_ON", "PHASES", "adaptable_sets", "clock", "estimate",
           "footage_clock", "plan_footage", "work_folder"]
