"""Noise folded, never lost: the TUI's container view folds routine events, `boxtrace show` on a terminal prints the
brief form, and the console and the TUI print an event with one renderer. On the shipped recordings (made by real
runs; no root needed)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from boxtrace.commands import milestone_seqs
from tracer.events import End, Exec, Exit, NamespaceChange, Syscall, ThreadStarted
from tracer.processes import ProcessTable
from tracer.recording import load_recording
from viz.console import brief_lines, event_text, noise_kind, print_recording, render_event
from viz.tui.app import BoxtraceApp
from viz.tui.model import EventFilter

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "scenarios" / "recordings"
#: The brief form's budget on an 80-column terminal, summary included (issue 15).
BRIEF_BUDGET = {"runc": 80, "docker": 120}


def events_of(name: str) -> list:
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    return [recording.header, *recording.events]


def printed(events: list, *, brief: bool, width: int = 80) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, highlight=False, soft_wrap=not brief)
    print_recording(console, events, brief=brief, milestones=milestone_seqs(events) if brief else frozenset())
    return out.getvalue().splitlines()


# The console -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BRIEF_BUDGET))
def test_brief_form_fits_its_budget_and_keeps_what_matters(name: str) -> None:
    events = events_of(name)
    lines = printed(events, brief=True)
    full = printed(events, brief=False)
    assert len(lines) <= BRIEF_BUDGET[name], f"{name}: the brief form has {len(lines)} lines"
    assert len(full) > 2 * len(lines), "the full form should be much longer than the brief one"
    text = "\n".join(lines)
    table = ProcessTable()
    must = []
    for event in events:
        table.add(event)
        if isinstance(event, (Exec, Exit, NamespaceChange)) or (
                isinstance(event, Syscall) and event.name in ("pivot_root", "unshare", "capset", "sethostname")):
            must.append(render_event(event, table).plain)
    must += [render_event(e, ProcessTable.from_events(events)).plain for e in events if e.seq in milestone_seqs(events)
             and not isinstance(e, (ThreadStarted, End))]
    for line in must:
        # Each is one line of the brief form (cut with … at the terminal's width).
        head = line[:60].rstrip()
        assert head.split()[-1] and any(head.strip()[:50] in kept for kept in lines), f"{name}: missing {line!r}"
    assert "boxtrace show --full" in text
    # Every line fits the width: the tree's indentation is never broken by a wrapped line.
    assert all(len(line) <= 80 for line in lines)


def test_full_form_prints_every_event() -> None:
    events = events_of("runc")
    brief = brief_lines(events, milestone_seqs(events))
    table = ProcessTable()
    rendered = 0
    for event in events:
        table.add(event)
        rendered += render_event(event, table) is not None
    full = printed(events, brief=False, width=400)
    assert sum(1 for line in full if line and not line.startswith(" " * 30)) >= rendered
    assert len(brief) < rendered // 3


def test_show_on_a_terminal_is_brief_and_full_on_request() -> None:
    """`boxtrace show` with a terminal on stdout prints the brief form; --full and a pipe print everything."""

    def show(*extra: str, tty: bool) -> list[str]:
        if not tty:
            done = subprocess.run([sys.executable, "-m", "boxtrace", "show", *extra, str(RECORDINGS / "runc.jsonl")],
                                  cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            return done.stdout.splitlines()
        leader, follower = os.openpty()
        env = {**os.environ, "COLUMNS": "80", "LINES": "24", "TERM": "xterm"}
        proc = subprocess.Popen([sys.executable, "-m", "boxtrace", "show", *extra, str(RECORDINGS / "runc.jsonl")],
                                cwd=ROOT, stdout=follower, stderr=subprocess.PIPE, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
        os.close(leader)
        return b"".join(chunks).decode(errors="replace").splitlines()

    brief = show(tty=True)
    assert len(brief) <= BRIEF_BUDGET["runc"]
    assert any("boxtrace show --full" in line for line in brief)
    assert len(show("--full", tty=True)) > 300
    assert len(show(tty=False)) > 300


def test_one_renderer_for_console_and_tui() -> None:
    """The console line of an event is its pid column plus exactly the TUI's text of it."""
    events = events_of("docker")
    app_model = BoxtraceApp(recording=load_recording(RECORDINGS / "docker.jsonl")).model
    table = ProcessTable()
    for event in events:
        table.add(event)
        line = render_event(event, table)
        if line is None or not isinstance(getattr(event, "pid", None), int):
            continue
        assert line.plain.endswith(" " + event_text(event, with_tid=False).plain), line.plain
        if event in app_model.events:
            assert app_model.line(event).plain == event_text(event).plain
    exec_line = next(render_event(e, ProcessTable.from_events(events)) for e in events if isinstance(e, Exec))
    assert '("' in exec_line.plain and exec_line.plain.endswith(") = 0"), "execs print strace-like, C-quoted"


# The TUI -----------------------------------------------------------------------------------------------------


def test_container_view_folds_routine_events_and_all_events_shows_them() -> None:
    recording = load_recording(RECORDINGS / "docker.jsonl")
    app = BoxtraceApp(recording=recording)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            screen = app.main_screen
            events = screen.event_list
            view = app.model.view(None, EventFilter())
            assert events.event_count == len(view)
            assert events.folds, "the docker recording's container view should fold Go runtime events"
            folded = [seq for run in events.folds.values() for seq in run]
            assert all(noise_kind(app.model.event(seq)) for seq in folded)
            assert all(len(run) >= 2 for run in events.folds.values())
            # Nothing lost: rows plus the folded events after each row's first are every event of the view.
            assert len(events.seqs) + len(folded) - len(events.folds) == len(view)
            assert f"{len(view)} shown ({len(folded)} folded" in str(events.border_subtitle)
            # The first screen says how to begin.
            intro = screen.narration_panel.query_one("#narration-title").render()
            assert "Press n to begin" in str(intro)
            # Enter on a folded row unfolds it in place.
            first_fold = next(i for i, seq in enumerate(events.seqs) if seq in events.folds)
            run = list(events.folds[events.seqs[first_fold]])
            events.focus()
            events.move_cursor(first_fold)
            await pilot.press("enter")
            await pilot.pause()
            assert events.seqs[first_fold:first_fold + len(run)] == run
            # The all-events view folds nothing.
            await pilot.press("a")
            await pilot.pause()
            assert not events.folds
            assert events.event_count == len(events.seqs) == len(app.model.view(None, EventFilter(everything=True)))
            await pilot.press("q")

    asyncio.run(main())


def test_long_console_lines_keep_the_tree_indentation() -> None:
    """On a terminal a long line continues under its event text, never at column 0, and loses no character."""
    from viz.console import hanging_lines

    events = events_of("docker")
    table = ProcessTable()
    checked = 0
    for event in events:
        table.add(event)
        line = render_event(event, table)
        if line is None or len(line.plain) <= 80 or not line.plain.startswith("  "):
            continue
        parts = hanging_lines(line, 80)
        assert len(parts) >= 2 and all(len(part.plain) <= 80 for part in parts)
        indent = len(line.plain) - len(line.plain.lstrip(" "))
        hang = line.plain.find(" ", indent) + 1  # under the event text, after the pid column
        assert hang > indent and all(p.plain.startswith(" " * hang) for p in parts[1:]), parts[1].plain
        assert "".join([parts[0].plain, *(p.plain[hang:] for p in parts[1:])]) == line.plain
        checked += 1
    assert checked > 10
