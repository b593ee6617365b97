"""Prerequisites of real tests: skip on a machine that lacks them, fail under CI where they must be present.

    require(os.geteuid() == 0, "tracing namespaces needs root")

On a user's laptop a missing prerequisite skips the test with the reason. With CI=true in the environment the same
condition fails the test instead: CI is set up to have everything, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require(condition: object, reason: str) -> None:
    """Skip (or, under CI=true, fail) the calling test unless `condition` holds."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"prerequisite missing under CI: {reason}", pytrace=False)
    pytest.skip(reason)
