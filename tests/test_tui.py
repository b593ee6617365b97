"""The TUI, driven with Textual's Pilot on real recordings that boxtrace made in this session.

Every trace here is real: the scenarios come from the session fixture `scenario_recording` (conftest.py), the others
are made by running the `boxtrace` CLI or the live TUI on this kernel. Nothing reads a hand-written trace.

Snapshots (tests/snapshots/test_tui/*.svg) are taken of views whose text does not depend on pids, inodes, times
or host paths: the help screen, and the main screen with the walkthrough panel zoomed (`z`) on the teach
scenario's pivot_root chapter, whose lines are the scenario's own text plus `pivot_root(".", ".") = 0`. The three
panes (tree, events, details) change with every run of a session's recording, so there they are checked by
assertions; their layout is snapshotted on the shipped recording scenarios/recordings/runc.jsonl, whose pids and
times never change.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_textual_snapshot
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input

from scenarios import lesson_for
from tests.prereqs import require
from tracer.engine import TraceOptions
from tracer.events import CATEGORIES, End, Exec, Header, Syscall
from tracer.processes import Process
from tracer.recording import load_recording
from tracer.session import SessionSource
from viz.tui.app import BoxtraceApp
from viz.tui.live import EventPump, LiveTrace
from viz.tui.messages import EventsArrived
from viz.tui.model import event_category
from viz.tui.walkthrough import build_walkthrough

pytestmark = pytest.mark.root

SIZE = (160, 48)
SNAPSHOT_SIZE = (120, 40)
SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
ROOT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    require(os.geteuid() == 0, "tracing container launches needs root")


@pytest.fixture(scope="module")
def unshare_command() -> list[str]:
    """A small container made by util-linux: new namespaces, chroot into boxtrace's rootfs, set the hostname."""
    require(shutil.which("unshare") and shutil.which("chroot"), "util-linux unshare and chroot are needed")
    from scenarios.rootfs import build_rootfs

    rootfs = build_rootfs()
    return ["unshare", "--fork", "--pid", "--mount-proc", "--uts", "--ipc", "--net", "--mount",
            "chroot", str(rootfs), "/bin/sh", "-c", "hostname box; echo ok"]


@pytest.fixture(scope="module")
def cli_recording(tmp_path_factory: pytest.TempPathFactory, unshare_command: list[str]) -> Path:
    """`boxtrace run --filter all` of the unshare container: no scenario name, so generic chapters."""
    path = tmp_path_factory.mktemp("tui") / "unshare-all.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "boxtrace", "run", "--filter", "all", "-o", str(path), "--", *unshare_command],
        cwd=ROOT_DIR, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return path


def run_app(app: BoxtraceApp, script: Callable[[Pilot], Awaitable[object]], size: tuple[int, int] = SIZE) -> None:
    """Run `script(pilot)` (a coroutine function) against the app in a headless terminal."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


def open_recording(path: Path, **kwargs) -> BoxtraceApp:
    recording = load_recording(path)
    return BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario), **kwargs)


def comparable(event) -> dict:
    data = event.to_json()
    data.pop("t", None)
    data.pop("seq", None)
    return data


# Walkthroughs -----------------------------------------------------------------------------------------------


def step_through(path: Path) -> tuple[BoxtraceApp, list[dict]]:
    """Press `n` through every chapter and record what each one selected and marked."""
    app = open_recording(path)
    seen: list[dict] = []

    async def script(pilot: Pilot) -> None:
        screen = app.main_screen
        chapters = screen.walkthrough().chapters
        assert chapters, "the walkthrough has no chapters"
        for index in range(len(chapters)):
            await pilot.press("n")
            await pilot.pause()
            chapter = screen.current_chapter
            assert chapter is chapters[index]
            seq = screen.event_list.selected_seq
            seen.append({
                "chapter": chapter,
                "selected": app.model.event(seq) if seq is not None else None,
                "selected_role": app.model.name_at(app.model.owner(seq), seq) if seq is not None else None,
                "subject": screen.subject,
                "marked_processes": list(screen.process_tree.marked),
                "marked_events": set(screen.event_list.marked),
                "tree_cursor": screen.process_tree.cursor_node.data if screen.process_tree.cursor_node else None,
                "narration": str(screen.narration_panel.query_one("#narration-title").render()),
                "compare_shown": screen.narration_panel.query_one("#narration-compare").has_class("-shown"),
            })
        # One more `n` stays on the last chapter; `p` goes back one.
        await pilot.press("n")
        assert screen.chapter == len(chapters) - 1
        await pilot.press("p")
        assert screen.chapter == len(chapters) - 2
        await pilot.press("q")

    run_app(app, script)
    return app, seen


def check_every_chapter(app: BoxtraceApp, seen: list[dict]) -> dict[str, dict]:
    """What every chapter must do, whatever the scenario: select its first event, mark its events and processes,
    show the process of its first event and tell its story."""
    by_id: dict[str, dict] = {}
    for state in seen:
        chapter = state["chapter"]
        owners: list[Process] = []
        for seq in chapter.seqs:
            owner = app.model.owner(seq)
            if owner is not None and all(owner is not o for o in owners):
                owners.append(owner)
        assert state["selected"] is not None and state["selected"].seq == chapter.first_seq, chapter.id
        assert state["marked_events"] == set(chapter.seqs), chapter.id
        assert {id(p) for p in state["marked_processes"]} == {id(p) for p in owners}, chapter.id
        # The list and the tree show the process of the chapter's key event (its first), even when the chapter's
        # events span several processes (the others are marked in the tree).
        expected_subject = app.model.owner(chapter.first_seq)
        assert state["subject"] is expected_subject, chapter.id
        assert state["tree_cursor"] is expected_subject, chapter.id
        assert chapter.title in state["narration"], chapter.id
        assert state["compare_shown"] == bool(chapter.claim and chapter.reality), chapter.id
        by_id[chapter.id] = state
    return by_id


def require_chapters(app: BoxtraceApp, chapters: dict[str, dict], *ids: str) -> None:
    walk = app.main_screen.walkthrough()
    absent = [i for i in ids if i not in chapters]
    assert not absent, f"this trace shows no {absent} chapter; chapters {list(chapters)}, missing {walk.missing}"


def check_chapters_follow_milestones(app: BoxtraceApp, name: str) -> None:
    from scenarios import get_scenario

    scenario = get_scenario(name)
    found = [r.milestone.id for r in scenario.evaluate([app.recording.header, *app.recording.events]) if r.found]
    assert [c.id for c in app.main_screen.walkthrough().chapters] == found


def assert_syscall(state: dict, name: str, role: str | None = None) -> None:
    event = state["selected"]
    assert isinstance(event, Syscall) and event.name == name, (state["chapter"].id, event)
    if role is not None:
        assert state["selected_role"] == role, (state["chapter"].id, state["selected_role"])


def test_runc_walkthrough_highlights_each_milestone(scenario_recording) -> None:
    path = scenario_recording("runc")
    app, seen = step_through(path)
    check_chapters_follow_milestones(app, "runc")
    chapters = check_every_chapter(app, seen)
    require_chapters(app, chapters, "pivot_root", "unshare", "entrypoint")
    assert_syscall(chapters["pivot_root"], "pivot_root", role="runc:[2:INIT]")
    assert_syscall(chapters["unshare"], "unshare", role="runc:[1:CHILD]")
    assert isinstance(chapters["entrypoint"]["selected"], Exec)
    if "runc-init" in chapters:
        assert chapters["runc-init"]["selected_role"].startswith("runc")


def test_docker_walkthrough_highlights_each_milestone(scenario_recording) -> None:
    path = scenario_recording("docker")
    app, seen = step_through(path)
    check_chapters_follow_milestones(app, "docker")
    chapters = check_every_chapter(app, seen)
    require_chapters(app, chapters, "pivot_root", "unshare", "entrypoint")
    assert_syscall(chapters["pivot_root"], "pivot_root", role="runc:[2:INIT]")
    assert_syscall(chapters["unshare"], "unshare", role="runc:[1:CHILD]")
    assert isinstance(chapters["entrypoint"]["selected"], Exec)
    if "runc-create" in chapters:
        assert chapters["runc-create"]["selected_role"].startswith("runc create")
    if "cli-connects" in chapters:
        assert chapters["cli-connects"]["selected_role"] == "Docker CLI"


def test_generic_walkthrough_without_a_scenario(cli_recording: Path) -> None:
    """A recording of no known scenario gets chapters found in the trace itself."""
    app, seen = step_through(cli_recording)
    assert app.main_screen.walkthrough().source == "generic"
    chapters = check_every_chapter(app, seen)
    assert isinstance(chapters["first-exec"]["selected"], Exec)
    assert chapters["first-exec"]["selected"].path.endswith("unshare")
    namespace = next(s for cid, s in chapters.items() if cid.startswith("namespaces-"))
    assert_syscall(namespace, "unshare")
    root = next(s for cid, s in chapters.items() if cid.startswith("root-"))
    assert_syscall(root, "chroot")
    assert chapters["entrypoint"]["selected"].path == "/bin/sh"
    assert len(chapters["exits"]["marked_processes"]) >= 3


def test_walkthrough_is_computed_from_the_trace_not_positions(scenario_recording) -> None:
    """The same chapters from the recording's events, whatever their seq numbers (a prefix shows fewer)."""
    recording = load_recording(scenario_recording("runc"))
    events = [recording.header, *recording.events]
    full = build_walkthrough(events, lesson_for("runc"))
    pivot = next(c for c in full.chapters if c.id == "pivot_root")
    before_pivot = [e for e in events if e.seq < pivot.first_seq]
    partial = build_walkthrough(before_pivot, lesson_for("runc"))
    assert "pivot_root" not in [c.id for c in partial.chapters]
    assert any(title == pivot.title for title in partial.missing)


# Filter, search, toggle --------------------------------------------------------------------------------------


def test_toggle_filter_and_search(cli_recording: Path) -> None:
    app = open_recording(cli_recording)

    async def script(pilot: Pilot) -> None:
        screen = app.main_screen
        model = app.model
        shown = lambda: [model.event(s) for s in screen.event_list.seqs]  # noqa: E731

        # Container events by default: nothing of category "other".
        container = shown()
        assert container and all(event_category(e) != "other" for e in container)
        await pilot.press("a")
        everything = shown()
        assert len(everything) > len(container)
        assert any(event_category(e) == "other" for e in everything)
        await pilot.press("a")
        assert len(shown()) == len(container)

        # `f` cycles through the categories and back to all of them.
        for category in CATEGORIES:
            await pilot.press("f")
            assert screen.flt.category == category
            assert all(event_category(e) == category for e in shown())
        await pilot.press("f")
        assert screen.flt.category is None
        await pilot.press("f")
        assert {event_category(e) for e in shown()} == {"namespaces"}
        await pilot.press(*["f"] * len(CATEGORIES))
        assert screen.flt.category is None

        # `/` searches the event text across processes and selects the match in its process.
        await pilot.press("slash")
        assert screen.search_bar.has_focus
        await pilot.press(*"sethostname", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        event = model.event(screen.event_list.selected_seq)
        assert isinstance(event, Syscall) and event.name == "sethostname"
        assert screen.subject is None or screen.subject is model.owner(event.seq)
        await pilot.press("escape")
        assert not screen.search_bar.has_class("-active")
        # `]` finds the next match, wrapping around: sethostname happens once, so it comes back to it.
        await pilot.press("right_square_bracket")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.event_list.selected_seq == event.seq
        # A search for an "other" syscall while only container events show widens the filter to show it.
        await pilot.press("slash")
        screen.search_bar.value = ""
        await pilot.press(*"brk", "enter")
        assert screen.search_query == "brk", screen.search_query
        await app.workers.wait_for_complete()
        await pilot.pause()
        found = model.event(screen.event_list.selected_seq)
        assert isinstance(found, Syscall) and found.name == "brk"
        assert screen.flt.everything
        # No match: the selection stays where it was.
        before = screen.event_list.selected_seq
        screen.search_bar.value = ""
        await pilot.press(*"no such text anywhere", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.event_list.selected_seq == before
        await pilot.press("escape", "q")

    run_app(app, script)


def test_tree_selection_lists_that_process(scenario_recording) -> None:
    app = open_recording(scenario_recording("runc"))

    async def script(pilot: Pilot) -> None:
        screen = app.main_screen
        tree = screen.process_tree
        assert screen.subject is None
        tree.focus()
        await pilot.press("down")
        await pilot.pause()
        proc = tree.cursor_node.data
        assert proc is not None and screen.subject is proc
        assert {app.model.owner(s) is proc for s in screen.event_list.seqs} == {True}
        # Each process is named by its role and carries its pid inside its pid namespace when that differs.
        for node_proc in app.model.table.history:
            label = str(tree.node_for(node_proc).label)
            assert str(node_proc.pid) in label
            if node_proc.pid_in_namespace != node_proc.pid:
                assert f"·{node_proc.pid_in_namespace}" in label
                assert "◆" in label  # it lives in namespaces the host does not
        await pilot.press("q")

    run_app(app, script)


# Export ------------------------------------------------------------------------------------------------------


def test_export_writes_svg_and_png(scenario_recording, tmp_path: Path) -> None:
    app = open_recording(scenario_recording("runc"), export_dir=tmp_path)

    async def script(pilot: Pilot) -> None:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("q")

    run_app(app, script)
    svg = sorted(tmp_path.glob("*-architecture.svg"))
    png = sorted(tmp_path.glob("*-architecture.png"))
    assert len(svg) == 1 and len(png) == 1, list(tmp_path.iterdir())
    assert (tmp_path / "runc-slide.svg").is_file(), list(tmp_path.iterdir())
    assert ET.parse(svg[0]).getroot().tag.endswith("svg")
    assert png[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# Live --------------------------------------------------------------------------------------------------------


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def test_live_trace_shows_what_a_recording_holds(tmp_path: Path, unshare_command: list[str]) -> None:
    """The TUI's live pipeline (tracer thread -> batches -> messages -> model) loses and reorders nothing: at the
    end the app holds exactly the events of the recording that same run wrote."""
    output = tmp_path / "live.jsonl"
    live = LiveTrace(SessionSource(unshare_command, None, TraceOptions(), str(output)))
    app = BoxtraceApp(live=live)

    async def script(pilot: Pilot) -> None:
        await wait_until(pilot, lambda: app.model.finished)
        await pilot.pause()
        assert app.state == "finished (exit 0)"
        screen = app.main_screen
        # The tree and the list grew in place, batch by batch, to the whole trace.
        assert all(screen.process_tree.node_for(p) is not None for p in app.model.table.history)
        assert screen.event_list.all_seqs() == app.model.view(None, screen.flt)
        # Rows folded batch by batch as the events arrived are the rows of the same list folded at once.
        grown = (list(screen.event_list.seqs), dict(screen.event_list.folds))
        screen.reload_events()
        assert (screen.event_list.seqs, screen.event_list.folds) == grown
        await pilot.press("n")  # the walkthrough works on a live trace too
        assert screen.current_chapter is not None
        await pilot.press("q")

    run_app(app, script)
    assert app.return_code == 0
    recording = load_recording(output)
    assert isinstance(app.model.header, Header)
    assert comparable(app.model.header) == comparable(recording.header)
    assert [comparable(e) for e in app.model.events] == [comparable(e) for e in recording.events]
    assert [e.seq for e in app.model.events] == sorted(e.seq for e in app.model.events)
    assert isinstance(app.model.events[-1], End)
    # The program's output went to a file, not over the screen.
    assert Path(live.program_output).read_text().strip() == "ok"


def test_live_teach_scenario_walks_through_its_milestones(tmp_path: Path) -> None:
    """`boxtrace demo teach` on a terminal, headless: the teach scenario traced live into the TUI. Its walkthrough
    is the scenario's (one chapter per milestone, in order, none missing), not the generic one, and the recording
    the same run wrote holds exactly what the TUI shows and gives the same chapters."""
    from scenarios import get_scenario
    from viz.tui.walkthrough import generic_walkthrough

    scenario = get_scenario("teach")
    readiness = scenario.check()
    require(readiness.ready, f"scenario teach is not ready here: {readiness.reason} {readiness.fix}")
    # As boxtrace.demo._live_tui starts it.
    scenario.prepare()
    launch = scenario.launch()
    options = replace(TraceOptions(), scenario=scenario.name, run_as=launch.user, env=launch.env, cwd=launch.cwd)
    output = tmp_path / "teach-live.jsonl"
    live = LiveTrace(SessionSource(launch.command, launch.attach_pids, options, str(output)))
    app = BoxtraceApp(live=live, lesson=lesson_for(options.scenario))
    shown: dict[str, list] = {"chapters": [], "narrations": []}

    async def script(pilot: Pilot) -> None:
        await wait_until(pilot, lambda: app.model.finished)
        await pilot.pause()
        assert app.state == "finished (exit 0)"
        screen = app.main_screen
        walk = screen.walkthrough()
        assert walk.source == "teach"
        assert walk.missing == []
        assert [c.id for c in walk.chapters] == [m.id for m in scenario.milestones]
        shown["chapters"] = list(walk.chapters)
        for chapter in walk.chapters:
            await pilot.press("n")
            await pilot.pause()
            assert screen.current_chapter is chapter
            assert screen.event_list.selected_seq == chapter.first_seq, chapter.id
            assert set(screen.event_list.marked) == set(chapter.seqs), chapter.id
            # The key event of a live trace's chapter lands in view too (tests/test_tui_layout.py has the sizes).
            events = screen.event_list
            top, rows = int(events.scroll_offset.y), events.scrollable_content_region.height
            assert top <= events.index_of(chapter.first_seq) < top + rows, chapter.id
            shown["narrations"].append(str(screen.narration_panel.query_one("#narration-title").render()))
        await pilot.press("q")

    try:
        run_app(app, script)
    finally:
        scenario.cleanup()
    assert app.return_code == 0
    assert [c.title for c in shown["chapters"]] == [m.title for m in scenario.milestones]
    assert all(c.title in text for c, text in zip(shown["chapters"], shown["narrations"], strict=True))
    recording = load_recording(output)
    assert recording.header.scenario == "teach"
    assert comparable(app.model.header) == comparable(recording.header)
    assert [comparable(e) for e in app.model.events] == [comparable(e) for e in recording.events]
    events = [recording.header, *recording.events]
    assert build_walkthrough(events, lesson_for(recording.header.scenario)).chapters == shown["chapters"]
    generic = [c.id for c in generic_walkthrough(events).chapters]
    assert generic != [c.id for c in shown["chapters"]]
    # The container's shell ran as pid 1 under the hostname the runtime set.
    assert Path(live.program_output).read_text().strip() == "hello from pid 1 on teach"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_quit_stops_a_launched_trace_and_kills_its_processes(tmp_path: Path) -> None:
    live = LiveTrace(SessionSource(["sh", "-c", "sleep 300; echo never"], None, TraceOptions(), str(tmp_path / "stop.jsonl")))
    app = BoxtraceApp(live=live)
    pids: list[int] = []

    async def script(pilot: Pilot) -> None:
        await wait_until(pilot, lambda: any(isinstance(e, Exec) and e.path.endswith("sleep")
                                            for e in app.model.events))
        pids.extend(app.model.table.processes)
        await pilot.press("q")

    started = time.monotonic()
    run_app(app, script)
    assert time.monotonic() - started < 60
    assert live.done.is_set()
    assert live.result is not None and live.result.status == "interrupted"
    assert len(pids) >= 2
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)], "quitting the TUI left traced processes running"


def test_quit_detaches_from_an_attached_process(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        live = LiveTrace(SessionSource(None, [sleeper.pid], TraceOptions(), str(tmp_path / "attach.jsonl")))
        app = BoxtraceApp(live=live)

        async def script(pilot: Pilot) -> None:
            await wait_until(pilot, lambda: sleeper.pid in app.model.table.processes)
            await pilot.press("q")

        run_app(app, script)
        assert live.done.is_set()
        assert sleeper.poll() is None, "the attached process must keep running"
        with open(f"/proc/{sleeper.pid}/status") as status:
            tracer = next(line for line in status if line.startswith("TracerPid:"))
        assert tracer.split()[1] == "0", "the attached process must be detached"
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()


def test_event_pump_batches_in_order(scenario_recording) -> None:
    """The tracer's sink posts every event once, in order, in batches no bigger than asked."""
    recording = load_recording(scenario_recording("runc"))
    events = [recording.header, *recording.events]
    posted: list[EventsArrived] = []

    def post(message: Message) -> None:
        assert isinstance(message, EventsArrived)
        posted.append(message)

    def trace() -> None:
        for event in events:
            pump(event)

    pump = EventPump(post, interval=0.01, batch_size=64)
    tracer_thread = threading.Thread(target=trace)
    tracer_thread.start()
    tracer_thread.join()
    pump.close()
    assert [e for batch in posted for e in batch.events] == events
    assert all(0 < len(batch.events) <= 64 for batch in posted)


# Snapshots ---------------------------------------------------------------------------------------------------


class TuiSnapshots(pytest_textual_snapshot.SVGImageExtension):
    """Keep this module's snapshots in tests/snapshots/test_tui/ (syrupy's default is __snapshots__)."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOT_DIR / test_location.basename)


@pytest.fixture
def _snapshots_in_tests_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", TuiSnapshots)


@pytest.fixture
def snap_compare(_snapshots_in_tests_dir, snap_compare):
    return snap_compare


def no_cursor_blink(pilot: Pilot) -> None:
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False


def test_snapshot_help_screen(snap_compare, scenario_recording) -> None:
    app = open_recording(scenario_recording("teach"))

    async def run_before(pilot: Pilot) -> None:
        no_cursor_blink(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_snapshot_main_screen_walkthrough(snap_compare, scenario_recording) -> None:
    """The main screen on the teach scenario's pivot_root chapter, walkthrough zoomed (`z`)."""
    app = open_recording(scenario_recording("teach"))

    async def run_before(pilot: Pilot) -> None:
        no_cursor_blink(pilot)
        chapters = [c.id for c in app.main_screen.walkthrough().chapters]
        await pilot.press(*["n"] * (chapters.index("pivot_root") + 1), "z")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=run_before)


RUNC_RECORDING = ROOT_DIR / "scenarios" / "recordings" / "runc.jsonl"
RUNC_INIT_PID = 16954  # the shipped runc recording's `runc init`, re-executed with execveat at seq 51
RUNC_INIT_REEXEC_SEQ = 51


async def press_until(pilot: Pilot, key: str, reached: Callable[[], bool], limit: int = 200) -> None:
    """Press `key` until `reached()` holds, as a learner would move a cursor."""
    for _ in range(limit):
        if reached():
            return
        await pilot.press(key)
    assert reached(), f"pressing {key!r} {limit} times never got there"


def test_snapshot_main_screen_three_panes(snap_compare) -> None:
    """The three panes on the shipped runc recording (fixed pids and times): `runc init` chosen in the process
    tree, its execveat re-exec chosen in its events, and that exec's details (path "/", what execveat does)."""
    recording = load_recording(RUNC_RECORDING)
    app = BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario))

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()  # run_before starts before the main screen is composed
        no_cursor_blink(pilot)
        screen = app.main_screen
        tree = screen.process_tree
        tree.focus()
        await press_until(pilot, "down", lambda: getattr(tree.cursor_node.data, "pid", None) == RUNC_INIT_PID)
        screen.event_list.focus()
        await press_until(pilot, "down", lambda: screen.event_list.selected_seq == RUNC_INIT_REEXEC_SEQ)
        await pilot.pause()
        assert screen.subject is not None and screen.subject.pid == RUNC_INIT_PID
        event = app.model.event(RUNC_INIT_REEXEC_SEQ)
        assert isinstance(event, Exec) and event.syscall == "execveat" and event.path == "/"

    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=run_before)


# Size --------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_open_a_100k_event_recording(tmp_path: Path) -> None:
    """Measure (print, not assert) how long a real 100k-event recording takes to open and to page through."""
    path = tmp_path / "big.jsonl"
    script = ("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
              "for i in $(seq 3000); do /bin/true; done")
    done = subprocess.run([sys.executable, "-m", "boxtrace", "run", "--filter", "all", "-o", str(path), "--",
                           "sh", "-c", script], cwd=ROOT_DIR, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    started = time.perf_counter()
    recording = load_recording(path)
    loaded = time.perf_counter()
    app = BoxtraceApp(recording=recording)
    built = time.perf_counter()
    timings: dict[str, float] = {}

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            timings["shown"] = time.perf_counter()
            screen = app.main_screen
            screen.event_list.focus()
            begin = time.perf_counter()
            for _ in range(20):
                screen.event_list.action_page(1)
                await pilot.pause(0)
            timings["page"] = (time.perf_counter() - begin) / 20
            begin = time.perf_counter()
            await pilot.press("end")
            await pilot.pause()
            timings["end"] = time.perf_counter() - begin
            assert screen.event_list.selected_seq == screen.event_list.seqs[-1]
            await pilot.press("q")

    asyncio.run(main())
    events = len(recording.events)
    assert events > 50_000
    print(
        f"\n100k-event recording: {events} events, {len(app.model.table.history)} processes; "
        f"load_recording {loaded - started:.2f} s, model {built - loaded:.2f} s, "
        f"first screen {timings['shown'] - built:.2f} s, total {timings['shown'] - started:.2f} s; "
        f"a page down {timings['page'] * 1000:.0f} ms, jump to the end {timings['end'] * 1000:.0f} ms"
    )
