"""A live TUI trace ended by SIGTERM (or a closed terminal's SIGHUP) ends like `q`: launched tracees killed, the
recording closed with its end line, exit status 128+N. Run on a real pseudo-terminal, as a user runs it."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.prereqs import require
from tests.programs import system_state as state
from tracer.recording import load_recording

pytestmark = pytest.mark.root


def _drain(fd: int, until: float) -> None:
    """Read the terminal so the app never blocks on a full pty buffer."""
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                if not os.read(fd, 65536):
                    return
            except OSError:
                return


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_ends_a_live_tui_trace_cleanly(signum: int, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "tracing needs root")
    out = tmp_path / "t.jsonl"
    controller, terminal = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    proc = subprocess.Popen([sys.executable, "-m", "boxtrace", "run", "--tui", "-o", str(out), "--", "sleep", "30"],
                            stdin=terminal, stdout=terminal, stderr=terminal, env=env, start_new_session=True)
    os.close(terminal)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (out.exists() and b'"sleep"' in out.read_bytes()):
            _drain(controller, time.monotonic() + 0.1)
        assert out.exists() and b'"sleep"' in out.read_bytes(), "the live trace never started"
        # "sleep" is in the recording's header (the command) before the child has exec'd: wait for the exec.
        sleepers: list[int] = []
        while time.monotonic() < deadline and not sleepers:
            sleepers = [c for c in state.children_of(proc.pid) if state.cmdline(c) == b"sleep\x0030\x00"]
            _drain(controller, time.monotonic() + 0.05)
        assert sleepers, "the launched sleep never exec'd"
        sleeper = sleepers[0]
        proc.send_signal(signum)
        end = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < end:
            _drain(controller, time.monotonic() + 0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(controller)
    assert proc.returncode == 128 + signum
    recording = load_recording(out)
    assert recording.end is not None and recording.end.status == "interrupted"
    assert state.wait_until(lambda: not state.alive(sleeper), 5), "the launched sleep outlived the TUI"
