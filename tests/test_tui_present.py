"""Presenter mode (`--present`, `P`): one chapter at a time for a class. Snapshots at 100x30 and 160x45 on the
shipped runc recording (its pids and times never change), the keys on the shipped docker recording, and a live
`demo runc --present` stepped to its last chapter (needs root, runc and the rootfs)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_textual_snapshot
from textual.pilot import Pilot

from scenarios import lesson_for
from tests.prereqs import require
from tracer.engine import TraceOptions
from tracer.recording import load_recording
from tracer.session import SessionSource
from viz.tui.app import BoxtraceApp
from viz.tui.live import LiveTrace
from viz.tui.screens.main import MainScreen
from viz.tui.screens.presenter import PresenterScreen

RECORDINGS = Path(__file__).resolve().parent.parent / "scenarios" / "recordings"
SNAPSHOT_DIR = Path(__file__).parent / "snapshots"


class PresentSnapshots(pytest_textual_snapshot.SVGImageExtension):
    """This module's snapshots live in tests/snapshots/test_tui_present/."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOT_DIR / test_location.basename)


@pytest.fixture
def _snapshots_in_tests_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", PresentSnapshots)


@pytest.fixture
def snap_compare(_snapshots_in_tests_dir, snap_compare):
    return snap_compare


def presenter_app(name: str) -> BoxtraceApp:
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    return BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario), present=True)


def presenter_of(app: BoxtraceApp) -> PresenterScreen:
    """The screen on top, which must be the presenter (checked: Screen is invariant in its result type, so an
    isinstance on `app.screen` itself does not narrow for mypy)."""
    screen: object = app.screen
    assert isinstance(screen, PresenterScreen), f"expected the presenter on top, not {screen!r}"
    return screen


def first_chapter_with_claim(app: BoxtraceApp) -> int:
    chapters = app.main_screen.walkthrough().chapters
    return next(i for i, c in enumerate(chapters) if c.claim and c.reality)


@pytest.mark.parametrize("size", [(100, 30), (160, 45)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_presenter(snap_compare, size: tuple[int, int]) -> None:
    app = presenter_app("runc")

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()
        presenter_of(app)
        await pilot.press(*["n"] * first_chapter_with_claim(app))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_presenter_keys_and_enter_opens_the_panes_at_the_event() -> None:
    app = presenter_app("docker")

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.pause()
            presenter = presenter_of(app)  # --present opens in presenter mode
            chapters = app.main_screen.walkthrough().chapters
            assert presenter.index == 0
            progress = str(presenter.query_one("#present-progress").render())
            assert f"Chapter 1 of {len(chapters)}" in progress
            assert chapters[0].title in str(presenter.query_one("#present-title").render())
            for key, expected in (("n", 1), ("right", 2), ("space", 3), ("p", 2), ("left", 1)):
                await pilot.press(key)
                assert presenter.index == expected, key
            chapter = chapters[1]
            assert chapter.title in str(presenter.query_one("#present-title").render())
            assert chapter.narration in str(presenter.query_one("#present-text").render())
            proof = str(presenter.query_one("#present-proof").render())
            first = app.model.event(chapter.first_seq)
            assert app.model.line(first).plain in proof.replace("\n", "")
            # The chain ends at the key event's process, highlighted.
            owner = app.model.owner(chapter.first_seq)
            assert app.model.name_at(owner, chapter.first_seq) in str(presenter.query_one("#present-chain").render())
            # Enter: the three panes at that chapter's key event.
            await pilot.press("enter")
            await pilot.pause()
            await pilot.pause()
            screen = app.main_screen
            assert isinstance(app.screen, MainScreen)
            assert screen.current_chapter is chapter
            assert screen.event_list.selected_seq == chapter.first_seq
            # P from the panes presents the current chapter; P again leaves, where the panes were.
            await pilot.press("P")
            await pilot.pause()
            assert presenter_of(app).index == 1
            await pilot.press("P")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen) and screen.current_chapter is chapter
            await pilot.press("q")

    asyncio.run(main())


async def wait_until(pilot: Pilot, condition, timeout: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.05)


@pytest.mark.root
def test_live_demo_runc_present_reaches_the_last_chapter(tmp_path: Path) -> None:
    """`boxtrace demo runc --present` headless: presenter mode from the start of a live trace, stepped with n to
    the last chapter of the scenario's walkthrough."""
    require(os.geteuid() == 0, "tracing runc needs root")
    from scenarios import get_scenario

    scenario = get_scenario("runc")
    readiness = scenario.check()
    require(readiness.ready, f"scenario runc is not ready here: {readiness.reason} {readiness.fix}")
    scenario.prepare()
    launch = scenario.launch()
    options = replace(TraceOptions(), scenario=scenario.name, run_as=launch.user, env=launch.env, cwd=launch.cwd)
    live = LiveTrace(SessionSource(launch.command, launch.attach_pids, options, str(tmp_path / "runc-live.jsonl")))
    app = BoxtraceApp(live=live, lesson=lesson_for(options.scenario), present=True)
    reached: dict[str, str] = {}
    counted: dict[str, int] = {}

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await wait_until(pilot, lambda: isinstance(app.screen, PresenterScreen))
            await wait_until(pilot, lambda: app.model.finished)
            await pilot.pause()
            presenter = presenter_of(app)
            chapters = app.main_screen.walkthrough().chapters
            assert [c.id for c in chapters] == [r.milestone.id for r in scenario.evaluate(
                [app.model.header, *app.model.events]) if r.found]
            assert presenter.index == 0
            for _ in range(len(chapters) + 2):
                await pilot.press("n")
            await pilot.pause()
            counted["index"] = presenter.index
            reached["title"] = str(presenter.query_one("#present-title").render())
            reached["progress"] = str(presenter.query_one("#present-progress").render())
            reached["last"] = chapters[-1].title
            counted["count"] = len(chapters)
            await pilot.press("q")

    try:
        asyncio.run(main())
    finally:
        scenario.cleanup()
    assert app.return_code == 0
    assert counted["index"] == counted["count"] - 1
    assert reached["last"] in reached["title"]
    assert f"Chapter {counted['count']} of {counted['count']}" in reached["progress"]
