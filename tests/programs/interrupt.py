"""Stop a running boxtrace with a signal at a chosen moment, and tidy up what that may leave (its waker).

Shared by the reliability trials in launch and docker mode; unlike system_state, this module does kill, but only
processes the trial started, by pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.programs.system_state import WAKER_CMDLINE, alive, cmdline, wait_until, waker_of


def reap_waker(waker: int | None) -> bool:
    """True when boxtrace's waker outlived it; it is then killed, by pid (it is the caller's trial's)."""
    if waker is None or not wait_until(lambda: not alive(waker), 1):
        if waker is not None and cmdline(waker) == WAKER_CMDLINE:
            os.kill(waker, signal.SIGKILL)
            return True
    return False


@dataclass
class Interrupted:
    """How a boxtrace run ended after it was sent a signal mid-run (see signal_mid_run)."""

    pid: int
    exit_code: int
    stderr: str
    waker_leaked: bool
    problems: list[str]


def signal_mid_run(command: list[str], delay: float, signum: int, workdir: Path, timeout: float,
                   cwd: Path | None = None) -> Interrupted:
    """Start boxtrace, send it `signum` after `delay` seconds and wait (up to `timeout`) for it to end."""
    problems: list[str] = []
    with open(workdir / "stdout", "wb") as stdout, open(workdir / "stderr", "wb") as stderr:
        proc = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                cwd=str(cwd) if cwd else None)
        time.sleep(delay)
        waker = waker_of(proc.pid)
        proc.send_signal(signum)
        try:
            exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"boxtrace did not end within {timeout:g} s of the signal")
            proc.kill()
            exit_code = proc.wait()
    err = (workdir / "stderr").read_text(errors="replace")
    leaked = reap_waker(waker)
    if leaked:  # PR_SET_PDEATHSIG ties the waker to boxtrace (tracer/engine.py _start_waker)
        problems.append(f"boxtrace's waker {waker} outlived it")
    if "Traceback" in err:
        problems.append("traceback: " + err.strip().splitlines()[-1])
    return Interrupted(proc.pid, exit_code, err, leaked, problems)


def report_summary(summary: dict) -> dict:
    """Print a trial summary (pytest -s shows it) and append it to $BOXTRACE_FAULT_REPORT when set."""
    print("\nfault summary: " + json.dumps(summary))
    report = os.environ.get("BOXTRACE_FAULT_REPORT")
    if report:
        with open(report, "a") as out:
            out.write(json.dumps(summary) + "\n")
    return summary
