"""Errors the TUI tells its user about, each as the end of one sentence."""

from __future__ import annotations

import errno
import os
from pathlib import Path


def describe_os_error(error: OSError, directory: Path) -> str:
    """An OSError as the end of one sentence, without Python's names for it."""
    where = error.filename or directory
    reason = error.strerror or os.strerror(error.errno or errno.EIO)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{where} is not writable here ({reason.lower()}); start boxtrace with --export-dir DIR"
    return f"{where}: {reason.lower()}"
