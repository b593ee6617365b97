"""Where a command may write: refuse an output path that cannot be written before anything starts."""

from __future__ import annotations

import os
from pathlib import Path

from boxtrace.errors import UserError


def check_output(path: str | None) -> None:
    """Refuse an -o FILE that cannot be written before anything is launched, attached or printed."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{path}: is a directory; give a file name for the recording")
    if not target.parent.is_dir():
        raise UserError(f"{path}: the directory {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UserError(f"{path}: permission denied")
