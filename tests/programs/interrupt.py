"""Stop a running boxtrace with a signal at a random moment of a live trace, and tidy up what that may leave (its
waker).

Shared by the reliability trials in launch and docker mode; unlike system_state, this module does kill, but only
processes the trial started, by pid.

A trial only counts when the signal hit a live trace. Sent at a fixed delay after start, many signals used to land
before boxtrace had begun tracing or after it had finished, and such trials passed as "intact" without having
interrupted anything. So signal_mid_run first waits until the trace is live, then waits the trial's random moment,
and sends the signal only if the trace is still live then; otherwise the trial is a miss, which the tests retry.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.programs.system_state import (
    WAKER_CMDLINE,
    alive,
    children_of,
    cmdline,
    status_of,
    tracer_of,
    wait_until,
    waker_of,
)

#: How long boxtrace may take to begin tracing (Python's start-up on a loaded CI machine).
LIVE_TIMEOUT = 30.0


def reap_waker(waker: int | None) -> bool:
    """True when boxtrace's waker outlived it; it is then killed, by pid (it is the caller's trial's)."""
    if waker is None or not wait_until(lambda: not alive(waker), 1):
        if waker is not None and cmdline(waker) == WAKER_CMDLINE:
            os.kill(waker, signal.SIGKILL)
            return True
    return False


def traced_launch(boxtrace: int) -> list[int]:
    """The live children of `boxtrace` that it traces: the command it launched (in docker mode the docker CLI,
    launched once dockerd and containerd are attached). Its waker is a child too, never traced. The CLI traces
    from a child process of its own (see system_state.tracer_of), whose children these are then."""
    tracer = tracer_of(boxtrace)
    return [child for child in children_of(tracer)
            if cmdline(child) != WAKER_CMDLINE and alive(child) and status_of(child, "TracerPid") == tracer]


def recording_begun(path: Path) -> bool:
    """The recording holds its header and at least one more line. The recorder flushes within 50 ms even when
    the trace is quiet (tracer/recording.py Recorder), so a boxtrace SIGKILLed from now on leaves a prefix."""
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 20).count(b"\n") >= 2
    except OSError:
        return False


def trace_is_live(boxtrace: int, recording: Path) -> bool:
    return bool(traced_launch(boxtrace)) and recording_begun(recording)


@dataclass
class Interrupted:
    """How one trial's boxtrace run ended (see signal_mid_run)."""

    pid: int
    exit_code: int
    stderr: str
    waker_leaked: bool
    problems: list[str]
    #: The signal was sent while boxtrace was tracing: its launched command alive and traced by it, and the
    #: recording begun. False: the trace was over by the trial's moment (or never began) and no signal was sent.
    hit: bool
    #: Seconds from the moment the trace was seen live to the moment of the signal (or of the miss).
    moment: float
    #: Seconds from starting boxtrace to the trace being seen live (None: never).
    live_after: float | None


def signal_mid_run(command: list[str], moment: float, signum: int, recording: Path, workdir: Path, timeout: float,
                   cwd: Path | None = None) -> Interrupted:
    """Start boxtrace (`command`, writing `recording`), wait until its trace is live, wait `moment` seconds more,
    and send it `signum` if the trace is still live then; wait (up to `timeout`) for boxtrace to end."""
    problems: list[str] = []
    hit = False
    live_after: float | None = None
    waker: int | None = None
    with open(workdir / "stdout", "wb") as stdout, open(workdir / "stderr", "wb") as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                cwd=str(cwd) if cwd else None)
        live = wait_until(lambda: proc.poll() is not None or trace_is_live(proc.pid, recording), LIVE_TIMEOUT,
                          interval=0.01) and proc.poll() is None
        if live:
            live_after = time.monotonic() - started
            waker = waker_of(proc.pid)
            time.sleep(moment)
            # Checked just before the kill: a trace that ended in between is a miss, not an interruption.
            if proc.poll() is None and traced_launch(proc.pid):
                proc.send_signal(signum)
                hit = True
        elif proc.poll() is None:
            problems.append(f"boxtrace did not begin tracing within {LIVE_TIMEOUT:g} s")
            proc.kill()
        try:
            exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            problems.append(f"boxtrace did not end within {timeout:g} s" + (" of the signal" if hit else ""))
            proc.kill()
            exit_code = proc.wait()
    err = (workdir / "stderr").read_text(errors="replace")
    leaked = reap_waker(waker)
    if leaked:  # PR_SET_PDEATHSIG ties the waker to boxtrace (tracer/launch.py start_waker)
        problems.append(f"boxtrace's waker {waker} outlived it")
    if "Traceback" in err:
        problems.append("traceback: " + err.strip().splitlines()[-1])
    return Interrupted(proc.pid, exit_code, err, leaked, problems, hit, moment, live_after)


def interruption_problems(signum: int, exit_code: int | None, recording_status: str) -> list[str]:
    """What is wrong with how a trace hit by `signum` ended. `recording_status` is the recording's end status,
    or "prefix" when it has no end line.

    SIGKILL: boxtrace dies at once (-9) and leaves a prefix without an end line. SIGTERM/SIGINT: boxtrace ends
    the trace and exits 128+N as a shell would, with the end status "interrupted", also when a launched command
    it passed the signal on to finished cleanly within the grace (Tracer.request_stop)."""
    if signum == signal.SIGKILL:
        expected_code, expected_status = -signal.SIGKILL, "prefix"
    else:
        expected_code, expected_status = 128 + signum, "interrupted"
    problems = []
    if exit_code != expected_code:
        problems.append(f"boxtrace exited {exit_code} after {signal.Signals(signum).name}, not {expected_code}")
    if recording_status != expected_status:
        problems.append(f"recording ends {recording_status!r} after {signal.Signals(signum).name}, "
                        f"not {expected_status!r}")
    return problems


def report_summary(summary: dict) -> dict:
    """Print a trial summary (pytest -s shows it) and append it to $BOXTRACE_FAULT_REPORT when set."""
    print("\nfault summary: " + json.dumps(summary))
    report = os.environ.get("BOXTRACE_FAULT_REPORT")
    if report:
        with open(report, "a") as out:
            out.write(json.dumps(summary) + "\n")
    return summary
