"""Start-up: nothing that draws or analyses is imported before a traced command's first PTRACE_SEIZE (issue 21).

`python -m bench.first_ptrace` runs the real CLI in-process with `tracer.ptrace_api.seize` wrapped and writes down
`sys.modules` at the first seize. No time is asserted: `make bench` measures it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.first_ptrace import HEAVY_PREFIXES, heavy
from tests.prereqs import require

REPO = Path(__file__).resolve().parent.parent


def modules_at_first_seize(tmp_path: Path, *boxtrace_args: str) -> dict:
    result = tmp_path / "first.json"
    run = subprocess.run([sys.executable, "-m", "bench.first_ptrace", "--result", str(result), "--", *boxtrace_args],
                         cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(result.read_text())
    assert found.get("request") == "PTRACE_SEIZE", f"no PTRACE_SEIZE seen: {found} {run.stderr[-2000:]}"
    return found


def test_heavy_is_by_package() -> None:
    assert heavy(["rich", "rich.console", "richer", "viz.console", "viz.consoles", "tracer.insights.network",
                  "tracer.events"]) == ["rich", "rich.console", "tracer.insights.network", "viz.console"]
    assert {"rich", "textual", "networkx"} <= set(HEAVY_PREFIXES)


def test_run_seizes_before_loading_display_modules(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "tracing needs root here")
    found = modules_at_first_seize(tmp_path, "run", "-o", str(tmp_path / "t.jsonl"), "--", "true")
    assert found["heavy"] == []
    # ...and the run still printed and summarised everything, loading them after.
    assert (tmp_path / "t.jsonl").read_text().count("\n") >= 3


def test_run_prints_every_event_in_order_and_the_summary(tmp_path: Path) -> None:
    """The console view built on a helper thread still prints every line, in the trace's order (the program's
    own output may come before them here: stdout is a pipe, see boxtrace.console_sink)."""
    require(os.geteuid() == 0, "tracing needs root here")
    recording = tmp_path / "t.jsonl"
    run = subprocess.run([sys.executable, "-m", "boxtrace", "run", "-o", str(recording), "--", "sh", "-c",
                          "/bin/true; /bin/true; echo done"], cwd=REPO, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    execs = [line for line in lines if "execve(" in line]
    assert [e.split('execve("')[1].split('"')[0] for e in execs] == ["/usr/bin/dash", "/bin/true", "/bin/true"]
    assert lines.index(execs[0]) < lines.index(execs[1]) < lines.index(execs[2])
    assert "done" in lines
    assert any(line.startswith("boxtrace summary") for line in lines)
    ours = [line for line in lines if line != "done"]
    assert ours[0].startswith("boxtrace launch:")


@pytest.mark.slow
def test_demo_runc_seizes_before_loading_display_modules(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "runc needs root")
    require(shutil.which("runc"), "runc is not installed")
    found = modules_at_first_seize(tmp_path, "demo", "runc", "--no-tui", "-o", str(tmp_path / "runc.jsonl"))
    assert found["heavy"] == []
    # demo imports only the scenario it runs (not teach-net's, which pulls in the insights).
    assert "scenarios.teach_net" not in found["module_names"]


# The deferred console view, with a stand-in view that records what it is handed ------------------------------


class SlowView:
    """Stands in for viz.console.ConsoleView: takes a while to make (as importing rich does) and keeps events."""


    def __init__(self, delay: float = 0.0) -> None:
        time.sleep(delay)
        self.events: list = []
        self.closed: bool | None = None
        self.thread = threading.current_thread().name

    def __call__(self, event) -> None:  # noqa: ANN001
        self.events.append(event)

    def close(self, *, summary: bool = True) -> None:
        self.closed = summary


def recorded_events() -> list:
    from tracer.recording import load_recording

    recording = load_recording(REPO / "scenarios" / "recordings" / "teach.jsonl")
    return [recording.header, *recording.events]


def test_deferred_view_waits_for_the_first_process_then_builds_off_the_tracer_thread() -> None:
    from boxtrace.console_sink import DeferredConsoleView
    from tracer.events import ProcessStarted

    events = recorded_events()
    first = next(i for i, e in enumerate(events) if isinstance(e, ProcessStarted))
    views: list[SlowView] = []

    def make() -> SlowView:
        views.append(SlowView(delay=0.05))
        return views[-1]

    sink = DeferredConsoleView(make)
    for event in events[:first]:
        sink(event)
    assert views == []  # nothing built before a process is traced
    for event in events[first:]:
        sink(event)
    sink.close()
    (view,) = views
    assert view.thread == "boxtrace-console"
    assert view.events == events
    assert view.closed is True


def test_deferred_view_keeps_order_by_holding_the_first_stop_after_the_launch() -> None:
    from boxtrace.console_sink import DeferredConsoleView
    from tracer.events import ProcessStarted

    events = recorded_events()
    first = next(i for i, e in enumerate(events) if isinstance(e, ProcessStarted))
    views: list[SlowView] = []
    sink = DeferredConsoleView(lambda: views.append(SlowView(delay=0.2)) or views[-1], keep_order=True)
    for event in events[: first + 2]:
        sink(event)
    # The event after the launch returned only once the view had printed it and everything before it.
    assert views and views[0].events == events[: first + 2]
    sink.close(summary=False)
    assert views[0].closed is False


def test_deferred_view_without_a_process_builds_at_close_and_reports_a_failed_build() -> None:
    from boxtrace.console_sink import DeferredConsoleView
    from tracer.events import ProcessStarted

    events = recorded_events()
    header = events[0]
    views: list[SlowView] = []
    sink = DeferredConsoleView(lambda: views.append(SlowView()) or views[-1])
    sink(header)
    sink.close(summary=False)
    assert views[0].events == [header] and views[0].thread == threading.current_thread().name

    def broken() -> SlowView:
        raise ImportError("no rich here")

    failing = DeferredConsoleView(broken)
    started = next(e for e in events if isinstance(e, ProcessStarted))
    failing(header)
    failing(started)
    with pytest.raises(ImportError, match="no rich here"):
        failing.close()
