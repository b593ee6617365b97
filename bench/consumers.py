"""Consumers of recordings: `boxtrace show`, the TUI and the architecture export, on real traces.

The 100k-event recording is a real `boxtrace run --filter all` trace of a shell loop running /bin/true 1000
times followed by a dd; the dd's count is calibrated so the recording lands near 100k lines. The 1M-event
recording is a real trace of the same loop ten times bigger, or (with `big="concat"`) ten renumbered copies of
the 100k one.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import BenchError, Sample, run_timed
from bench.workloads import boxtrace_argv, count_lines, last_event

TARGET_EVENTS = 100_000
LOOP_RUNS = 1000
#: Lines the /bin/true loop itself yields per run, and per dd block (read + write): a first guess, calibrated.
LINES_PER_LOOP_RUN = 39
LINES_PER_DD_BLOCK = 2
PID_FIELDS = ("pid", "tid", "ppid", "creator", "peer_pid", "old_tid")
PID_OFFSET = 4_194_304  # pid_max on 64-bit: copies never share a pid


def workload_script(loop_runs: int, dd_count: int) -> str:
    return (
        f"i=0; while [ $i -lt {loop_runs} ]; do /bin/true; i=$((i+1)); done; "
        f"dd if=/dev/zero of=/dev/null bs=1 count={dd_count} 2>/dev/null"
    )


def trace_workload(path: Path, loop_runs: int, dd_count: int, timeout: float) -> Sample:
    argv = [
        *boxtrace_argv(),
        "run",
        "--filter",
        "all",
        "-o",
        str(path),
        "--",
        "/bin/sh",
        "-c",
        workload_script(loop_runs, dd_count),
    ]
    sample = run_timed(argv, timeout=timeout)
    if sample.rc != 0 or sample.timed_out or not path.exists():
        raise BenchError(
            f"tracing the recording workload failed (rc {sample.rc}, timed out {sample.timed_out})"
        )
    sample.extra["events"] = count_lines(path)
    return sample


def make_100k(path: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Trace the loop + dd, re-tracing once with a corrected dd count if it missed 100k lines by over 3%."""
    dd_count = (TARGET_EVENTS - LOOP_RUNS * LINES_PER_LOOP_RUN) // LINES_PER_DD_BLOCK
    sample = trace_workload(path, LOOP_RUNS, dd_count, timeout=900)
    events = sample.extra["events"]
    if abs(events - TARGET_EVENTS) > TARGET_EVENTS * 0.03:
        dd_count = max(1000, dd_count + (TARGET_EVENTS - events) // LINES_PER_DD_BLOCK)
        log(f"  {events} events; re-tracing with dd count={dd_count}")
        sample = trace_workload(path, LOOP_RUNS, dd_count, timeout=900)
        events = sample.extra["events"]
    log(
        f"  100k recording: {events} events, {path.stat().st_size / 1e6:.1f} MB, "
        f"traced in {sample.wall:.1f} s"
    )
    return {
        "events": events,
        "bytes": path.stat().st_size,
        "loop_runs": LOOP_RUNS,
        "dd_count": dd_count,
        "trace_wall": round(sample.wall, 3),
        "how": "traced",
        "trace_maxrss_kb": sample.maxrss_kb,
    }


def make_1m(
    path: Path, small: Path, small_info: dict[str, Any], big: str, log: Callable[[str], None]
) -> dict:
    if big == "trace":
        loop_runs, dd_count = small_info["loop_runs"] * 10, small_info["dd_count"] * 10
        sample = trace_workload(path, loop_runs, dd_count, timeout=3600)
        info = {
            "events": sample.extra["events"],
            "bytes": path.stat().st_size,
            "loop_runs": loop_runs,
            "dd_count": dd_count,
            "trace_wall": round(sample.wall, 3),
            "how": "traced",
            "trace_maxrss_kb": sample.maxrss_kb,
        }
    else:
        concatenate(small, path, copies=10)
        info = {
            "events": count_lines(path),
            "bytes": path.stat().st_size,
            "how": "10 renumbered copies of 100k",
        }
    log(f"  1M recording ({info['how']}): {info['events']} events, {info['bytes'] / 1e6:.1f} MB")
    return info


def concatenate(source: Path, target: Path, copies: int) -> None:
    """One header, `copies` copies of the events with seq, t and pids shifted to read as one trace, one end.

    Streams line by line: the harness stays small (its size would otherwise leak into the children it forks).
    """
    end = last_event(source)
    if end is not None and end.get("type") != "end":
        end = None
    span = float(end["t"]) if end else float((last_event(source) or {}).get("t", 0.0))
    seq = 1
    with open(target, "w", encoding="utf-8") as out:
        for copy in range(copies):
            shift = copy * PID_OFFSET
            with open(source, "rb") as handle:
                header = handle.readline()
                if copy == 0:
                    out.write(header.decode())
                for raw in handle:
                    event = json.loads(raw)
                    if event.get("type") == "end":
                        continue
                    event["seq"] = seq
                    seq += 1
                    event["t"] = round(event["t"] + copy * span, 6)
                    for key in PID_FIELDS:
                        if isinstance(event.get(key), int) and event[key] > 0:
                            event[key] += shift
                    if isinstance(event.get("threads"), list):
                        event["threads"] = [t + shift for t in event["threads"]]
                    out.write(json.dumps(event, separators=(",", ":")) + "\n")
        if end is not None:
            end = dict(end, seq=seq, t=round(copies * span, 6), events=seq + 1)
            out.write(json.dumps(end, separators=(",", ":")) + "\n")


# The consumers ---------------------------------------------------------------------------------------------


REPO = Path(__file__).resolve().parent.parent


def tui_available() -> str | None:
    """None when viz/tui/app.py with BoxtraceApp is there, else why not."""
    if not (REPO / "viz" / "tui" / "app.py").exists():
        return "viz/tui/app.py does not exist yet"
    probe = subprocess.run(
        [sys.executable, "-c", "from viz.tui.app import BoxtraceApp"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines()
        return "viz.tui.app does not import: " + (lines[-1] if lines else "unknown error")
    return None


def export_available() -> str | None:
    if importlib.util.find_spec("viz.export") is None:
        return "viz/export (the `boxtrace export` backend) does not exist yet"
    return None


@dataclass
class Consumer:
    key: str
    label: str
    recording: str  # "100k" | "1m"
    run: Callable[[Path, Path], Sample]


def show_run(recording: Path, tmp: Path) -> Sample:
    return run_timed(
        [*boxtrace_argv(), "show", "--no-summary", str(recording)], timeout=1800, measure_rss=True
    )


def export_run(recording: Path, tmp: Path) -> Sample:
    out = tmp / "architecture.svg"
    out.unlink(missing_ok=True)
    errors = tmp / "export.stderr"
    with open(errors, "wb") as stderr:
        sample = run_timed(
            [*boxtrace_argv(), "export", str(recording), "--view", "architecture", "-o", str(out)],
            timeout=600,
            stderr=stderr,
            measure_rss=True,
        )
    if sample.rc != 0:
        lines = errors.read_text(errors="replace").strip().splitlines()
        sample.extra["error"] = lines[-1][:300] if lines else f"exit {sample.rc}"
    elif not out.exists():
        sample.extra["error"] = "exit 0 but no file written"
    return sample


def tui_run(recording: Path, tmp: Path) -> Sample:
    result_file = tmp / "tui-probe.json"
    result_file.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "bench.tui_probe", str(recording), str(result_file), repr(time.time())]
    sample = run_timed(argv, timeout=600, cwd=REPO, stderr=subprocess.DEVNULL, measure_rss=True)
    if result_file.exists():
        sample.extra.update(json.loads(result_file.read_text()))
    else:
        sample.rc = sample.rc or 1
    return sample


def consumers(tui_missing: str | None, export_missing: str | None) -> tuple[list[Consumer], dict[str, str]]:
    chosen = [
        Consumer("show-100k", "boxtrace show --no-summary (100k)", "100k", show_run),
        Consumer("show-1m", "boxtrace show --no-summary (1M)", "1m", show_run),
    ]
    skipped: dict[str, str] = {}
    if tui_missing is None:
        chosen.append(
            Consumer("tui-100k", "TUI: BoxtraceApp.run_test() until loaded (100k)", "100k", tui_run)
        )
    else:
        skipped["tui-100k"] = tui_missing
    if export_missing is None:
        chosen.append(
            Consumer("export-100k", "boxtrace export --view architecture (100k)", "100k", export_run)
        )
    else:
        skipped["export-100k"] = export_missing
    return chosen, skipped
