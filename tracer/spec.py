"""The spec fold's old address, kept so callers written against `tracer.spec` keep working.

The fold lives in tracer/insights/spec.py (it is an insight: it folds the other insights, and Insights.overlay is
built through it, so keeping it outside the package made an import cycle). New code imports it from there.
"""

from __future__ import annotations

from tracer.insights.spec import (
    CAP_SETS,
    DIFFERS,
    KEPT,
    NOT_VISIBLE,
    OCI_NAMESPACES,
    VERDICTS,
    SpecReport,
    SpecRow,
    find_overlay_root,
    spec_report,
    spec_rows,
)

__all__ = ["CAP_SETS", "DIFFERS", "KEPT", "NOT_VISIBLE", "OCI_NAMESPACES", "VERDICTS", "SpecReport", "SpecRow",
           "find_overlay_root", "spec_report", "spec_rows"]
