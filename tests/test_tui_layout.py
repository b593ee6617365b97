"""The TUI at the sizes a projector or a laptop terminal gives, on the shipped recordings (scenarios/recordings).

For every chapter of every shipped recording, at 80x24, 100x30, 120x40 and 200x50: the chapter's key event is
selected, inside the visible rows of the event list (not on its first or last row, unless the list itself starts
or ends there), shown in the details pane, and its process is the tree's cursor; the narration can be scrolled
to its last line; the footer shows n, p, q and ?. The shipped recordings were made by real runs (their commands
are in docs/recordings), so these tests need neither root nor daemons.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from scenarios import lesson_for
from tracer.recording import load_recording
from viz.tui.app import BoxtraceApp

RECORDINGS = sorted((Path(__file__).resolve().parent.parent / "scenarios" / "recordings").glob("*.jsonl"))
#: The long recordings take tens of seconds at four sizes: in the full suite, not the quick one.
LONG_RECORDINGS = frozenset({"docker", "containerd"})


def recording_params() -> list:
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in LONG_RECORDINGS else [])
            for p in RECORDINGS]
SIZES = [(80, 24), (100, 30), (120, 40), (200, 50)]
#: The keys a newcomer needs: the footer keeps them at every width.
ESSENTIAL_KEYS = ("n", "p", "q", "question_mark")


def open_shipped(path: Path) -> BoxtraceApp:
    recording = load_recording(path)
    return BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario))


def run_at(app: BoxtraceApp, size: tuple[int, int], script: Callable[[Pilot], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


def visible_footer_keys(app: BoxtraceApp) -> set[str]:
    """Keys whose footer entry is wholly on screen."""
    width = app.size.width
    shown = set()
    for key in app.screen.query(FooterKey):
        region = key.region
        if region.width and region.right <= width:
            shown.add(key.key)
    return shown


def check_key_event_in_view(app: BoxtraceApp, chapter, where: str) -> None:
    screen = app.main_screen
    events = screen.event_list
    key = chapter.first_seq
    assert events.selected_seq == key, where
    index = events.index_of(key)
    assert index is not None, where
    top = int(events.scroll_offset.y)
    height = events.scrollable_content_region.height
    assert height >= 3, f"{where}: the event list has {height} rows"
    last_row = top + height - 1
    assert top <= index <= last_row, f"{where}: row {index} is outside the rows {top}-{last_row} on screen"
    # Not on the edge: a line of context above and below, unless the list starts or ends there.
    assert index > top or top == 0, f"{where}: on the first visible row"
    assert index < last_row or index == len(events.seqs) - 1, f"{where}: on the last visible row"
    assert screen.details_pane.shown_seq == key, where
    assert screen.process_tree.cursor_node is not None
    assert screen.process_tree.cursor_node.data is app.model.owner(key), where


async def check_narration_reachable(pilot: Pilot, app: BoxtraceApp, where: str) -> None:
    """The whole narration can be read: from the title at the top to the foot line at the end of the panel."""
    panel = app.main_screen.narration_panel
    text = panel.query_one("#narration-text", Static)
    assert text.size.width >= 30, f"{where}: the narration is {text.size.width} columns wide"
    # Scroll until the narration's last line is at the bottom of the panel: it must then be on screen.
    bottom = text.virtual_region.bottom
    panel.scroll_to(y=max(0, bottom - panel.scrollable_content_region.height), animate=False, immediate=True)
    await pilot.pause()
    content = panel.scrollable_content_region
    last_line = text.region.bottom - 1
    assert content.y <= last_line < content.bottom, f"{where}: the narration's last line is out of reach"
    panel.scroll_end(animate=False, immediate=True)
    await pilot.pause()
    foot = panel.query_one("#narration-foot", Static)
    assert foot.region.height and content.contains_region(foot.region), f"{where}: the foot is out of reach"
    panel.scroll_home(animate=False, immediate=True)
    await pilot.pause()
    title = panel.query_one("#narration-title", Static)
    assert panel.region.contains_region(title.region), f"{where}: the title is out of reach"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("path", recording_params())
def test_every_chapter_lands_on_its_key_event(path: Path, size: tuple[int, int]) -> None:
    app = open_shipped(path)

    async def script(pilot: Pilot) -> None:
        screen = app.main_screen
        chapters = screen.walkthrough().chapters
        assert chapters, f"{path.name} has no walkthrough chapters"
        keys = visible_footer_keys(app)
        assert set(ESSENTIAL_KEYS) <= keys, f"footer at {size} shows only {sorted(keys)}"
        for index, chapter in enumerate(chapters):
            await pilot.press("n")
            await pilot.pause()
            where = f"{path.name} {size[0]}x{size[1]} chapter {index + 1} ({chapter.id})"
            assert screen.current_chapter is chapter, where
            check_key_event_in_view(app, chapter, where)
            await check_narration_reachable(pilot, app, where)
        assert set(ESSENTIAL_KEYS) <= visible_footer_keys(app)
        # Back through the chapters with p: each lands again.
        for index in range(len(chapters) - 2, -1, -1):
            await pilot.press("p")
            await pilot.pause()
            check_key_event_in_view(app, chapters[index], f"{path.name} {size} back to chapter {index + 1}")

    run_at(app, size, script)
