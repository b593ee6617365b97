"""The spec view (`b`) as a person sees it, driven by Textual's pilot at the sizes a laptop or a projector gives.

On the shipped runc recording (made by `boxtrace demo runc`, see docs/recordings; its bundle was kept at runtime):
the view opens on the ambient-capabilities row, which differs (the three PR_CAP_AMBIENT_RAISE calls fail with
EPERM); that row is wholly on screen with its verdict word and symbol, nothing in the table is cut with "…", and
Enter selects its proving event in the event list and shows it in the details pane. On a recording without a bundle
the view says why in one sentence. The same from presenter mode. The expected rows come from tracer.insights.spec, not from
the screen.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from scenarios import lesson_for
from tracer.insights.spec import DIFFERS, KEPT, NOT_VISIBLE, spec_report
from tracer.recording import load_recording
from viz.tui.app import BoxtraceApp
from viz.tui.screens.help import KEYS
from viz.tui.screens.main import MainScreen
from viz.tui.screens.presenter import PresenterScreen
from viz.tui.screens.spec import SpecScreen

RECORDINGS = Path(__file__).resolve().parent.parent / "scenarios" / "recordings"
SIZES = [(80, 24), (100, 30), (120, 40), (200, 50)]


def open_app(name: str, *, present: bool = False) -> BoxtraceApp:
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    return BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario), present=present)


def expected_report(name: str):
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    return spec_report([recording.header, *recording.events])


def run_at(app: BoxtraceApp, size: tuple[int, int], script: Callable[[Pilot], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


async def open_spec(pilot: Pilot) -> SpecScreen:
    await pilot.press("b")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SpecScreen), f"b opened {type(screen).__name__}"
    return screen


def screen_lines(app: BoxtraceApp) -> list[str]:
    """What the terminal shows, line by line."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def region_text(app: BoxtraceApp, region) -> str:
    lines = screen_lines(app)[region.y:region.bottom]
    return "\n".join(line[region.x:region.right] for line in lines)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def ambient_row(report):
    return next(row for row in report.rows if row.item == "ambient")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_ambient_discrepancy_is_on_screen_and_enter_shows_its_proof(size: tuple[int, int]) -> None:
    report = expected_report("runc")
    ambient = ambient_row(report)
    assert ambient.verdict == DIFFERS and ambient.seqs
    app = open_app("runc")

    async def script(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        where = f"{size[0]}x{size[1]}"
        title = flat(region_text(app, spec.query_one("#spec-title", Static).region))
        counts = report.counts()
        for verdict in (KEPT, DIFFERS, NOT_VISIBLE):
            assert f"{counts[verdict]} {verdict}" in title, (where, title)
        # The cursor opens on the first row that is not kept: the ambient capabilities.
        assert spec.selected_row == ambient, where
        content = spec.rows_list.scrollable_content_region
        shown = region_text(app, content)
        # Read as a person reads it: verdict word and symbol, the promise, both sides, the proving event, why.
        assert "✗ differs" in shown and "ambient" in shown, (where, shown)
        text = flat(shown)
        for part in ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "0: none", f"→ {ambient.seqs[0]}"):
            assert part in text, (where, part, shown)
        # The whole row is on screen, down to the last word of why it differs.
        assert ambient.why and flat(ambient.why) in text, (where, shown)
        # Nothing in the table is cut: every verdict on screen is whole, no cell ends in an ellipsis.
        assert "…" not in shown, (where, shown)
        for line in shown.splitlines():
            if "✓" in line:
                assert "✓ kept" in line, (where, line)
            if "?" in line[:6]:
                assert "? not visible" in line, (where, line)
        # The bottom pane lists the proving events as the event list prints them.
        proof = region_text(app, spec.query_one("#spec-proof", Static).region)
        first = app.model.event(ambient.seqs[0])
        assert "PR_CAP_AMBIENT_RAISE" in app.model.line(first).plain
        assert str(ambient.seqs[0]) in proof and "PR_CAP_AMBIENT_RAISE" in proof, proof
        # Enter: back on the panes, the proving event selected, on screen and in the details pane.
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen), where
        events = main.event_list
        assert events.selected_seq == ambient.seqs[0], where
        position = events.index_of(ambient.seqs[0])
        assert position is not None
        visible_top = int(events.scroll_offset.y)
        assert visible_top <= position < visible_top + events.scrollable_content_region.height, where
        assert main.details_pane.display and main.details_pane.region.width > 0, f"{where}: no details pane"
        assert main.details_pane.shown_seq == ambient.seqs[0], where
        details = flat(region_text(app, main.details_pane.region))
        assert "PR_CAP_AMBIENT_RAISE" in details and "EPERM" in details, (where, details)
        assert events.has_focus, where

    run_at(app, size, script)


def test_keys_step_between_rows_not_kept_and_hide_the_kept_ones() -> None:
    report = expected_report("runc")
    not_kept = [row for row in report.rows if row.verdict != KEPT]
    assert len(not_kept) >= 2
    app = open_app("runc")

    async def script(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        assert spec.selected_row == not_kept[0]
        for expected in [*not_kept[1:], not_kept[0]]:  # n walks them in order and wraps around
            await pilot.press("n")
            await pilot.pause()
            assert spec.selected_row == expected
        await pilot.press("p")
        await pilot.pause()
        assert spec.selected_row == not_kept[-1]
        # a: only the rows that are not kept (with their section headings); a again: every row.
        await pilot.press("a")
        await pilot.pause()
        rows = spec.rows_list
        shown = [rows.get_option_at_index(i) for i in range(rows.option_count)]
        assert [spec._rows[o.id] for o in shown if not o.disabled] == not_kept  # noqa: SLF001
        assert spec.selected_row == not_kept[-1], "the cursor stays on its row"
        await pilot.press("a")
        await pilot.pause()
        assert sum(1 for i in range(rows.option_count) if not rows.get_option_at_index(i).disabled) == len(
            report.rows)
        # Esc: back where the view was opened, nothing selected by it.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

    run_at(app, (120, 40), script)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_without_a_bundle_the_view_says_why_in_one_sentence(size: tuple[int, int]) -> None:
    report = expected_report("teach")
    assert report.bundle is None and report.problem
    app = open_app("teach")

    async def script(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        assert not spec.rows_list.display, "an empty table instead of the sentence"
        text = flat("\n".join(screen_lines(app)))
        assert "holds no OCI bundle" in text and "was given one." in text, text
        # Only the keys that apply are offered.
        footer = screen_lines(app)[-1]
        assert "Back" in footer and "Go to event" not in footer, footer
        await pilot.press("enter")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

    run_at(app, size, script)


@pytest.mark.parametrize("size", [(100, 30), (160, 45)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_from_presenter_mode_enter_opens_the_panes_at_the_proving_event(size: tuple[int, int]) -> None:
    ambient = ambient_row(expected_report("runc"))
    app = open_app("runc", present=True)

    async def script(pilot: Pilot) -> None:
        await pilot.pause()
        assert isinstance(app.screen, PresenterScreen)
        spec = await open_spec(pilot)
        assert spec.present and spec.has_class("-present")
        assert spec.selected_row == ambient
        assert "✗ differs" in region_text(app, spec.rows_list.scrollable_content_region)
        # Esc returns to the presenter, where it was.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PresenterScreen)
        await open_spec(pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), "Enter leaves presenter mode for the panes"
        assert not any(isinstance(s, PresenterScreen) for s in app.screen_stack)
        assert app.main_screen.event_list.selected_seq == ambient.seqs[0]
        assert app.main_screen.details_pane.shown_seq == ambient.seqs[0]

    run_at(app, size, script)


def test_the_key_is_in_the_footer_and_the_help() -> None:
    assert any(key == "b" and "spec view" in what for key, what in KEYS)
    app = open_app("runc")

    async def script(pilot: Pilot) -> None:
        footer = screen_lines(app)[-1]
        assert "b Spec" in footer, footer

    run_at(app, (200, 50), script)


def test_spec_screen_rows_list_is_an_option_list() -> None:
    """The rows are an OptionList: a click selects like Enter (guards the on_row_selected wiring)."""
    app = open_app("runc")

    async def script(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        assert isinstance(spec.rows_list, OptionList)
        ambient = spec.selected_row
        assert ambient is not None
        spec.rows_list.action_select()
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.main_screen.event_list.selected_seq == ambient.seqs[0]

    run_at(app, (120, 40), script)


def test_while_a_live_trace_runs_the_view_says_its_rows_are_so_far() -> None:
    """Opened during a live trace, the view says the rows are those of the events so far (or that the bundle may
    still come)."""
    for name, expected in (("runc", "so far: the trace is still running"),
                           ("teach", "The trace is still running: Esc, then b a little later, reads it again.")):
        app = open_app(name)

        async def script(pilot: Pilot, app: BoxtraceApp = app, expected: str = expected) -> None:
            app.push_screen(SpecScreen(app.model, tracing=True))
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert expected in flat("\n".join(screen_lines(app))), expected

        run_at(app, (120, 40), script)


def test_console_tui_and_page_share_one_vocabulary() -> None:
    """Each verdict has its own word, symbol and colour (viz.spec_view.VERDICT_LOOKS), and the console, the TUI
    and the page all print the same label for it."""
    from rich.console import Console

    from tracer.processes import ProcessTable
    from viz.model import build_model
    from viz.page import spec_section
    from viz.spec_view import VERDICT_LOOKS, render_spec, verdict_label
    from viz.tui.screens.spec import render_row

    looks = list(VERDICT_LOOKS.values())
    for attribute in ("word", "mark", "style", "css", "light", "dark"):
        assert len({getattr(look, attribute) for look in looks}) == len(looks), attribute
    recording = load_recording(RECORDINGS / "runc.jsonl")
    events = [recording.header, *recording.events]
    report = spec_report(events)
    console = Console(width=200, color_system=None, record=True)
    console.print(render_spec(report))
    printed = console.export_text()
    page = spec_section(events, build_model(ProcessTable.from_events(events)))
    for row in report.rows:
        label = verdict_label(row.verdict)
        tui = Console(width=120, color_system=None, record=True)
        tui.print(render_row(row, 120))
        assert label in tui.export_text(), row.item
        assert re.search(rf"{re.escape(label)}\s+{re.escape(row.item)}: asks", printed), row.item
        assert f'data-item="{row.item}"><td><span class="verdict verdict-{VERDICT_LOOKS[row.verdict].css}">' \
               f"{label}</span>" in page.replace("&#x27;", "'"), row.item


def test_a_fold_that_fails_becomes_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the fold trips on a trace it does not expect, the view says so instead of waiting forever."""
    import viz.tui.screens.spec as spec_module

    def broken(events):  # noqa: ANN001, ANN202
        raise ValueError("config.json has no process")

    monkeypatch.setattr(spec_module, "spec_for", broken)
    app = open_app("runc")

    async def script(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        assert not spec.rows_list.display
        text = flat("\n".join(screen_lines(app)))
        assert "The bundle could not be laid beside this trace: config.json has no process." in text, text

    run_at(app, (100, 30), script)


def test_an_overlay_root_lists_the_image_layers_and_enter_shows_its_event() -> None:
    """The shipped docker recording (re-made with its bundle): the image's layers close the list, lowest first,
    and Enter there selects the event that shows the overlay root."""
    report = expected_report("docker")
    overlay = report.overlay
    assert overlay is not None and overlay.layers
    app = open_app("docker")

    async def script(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        await pilot.press("end")
        await pilot.pause()
        rows = spec.rows_list
        assert rows.get_option_at_index(rows.highlighted).id == "overlay"
        shown = flat(region_text(app, rows.scrollable_content_region))
        facts = [flat(line.strip()) for line in overlay.facts()[1:]]
        for fact in facts:
            assert fact in shown, (fact, shown)
        assert shown.index(facts[0]) < shown.index(facts[-1])
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.main_screen.event_list.selected_seq == overlay.seq

    run_at(app, (160, 50), script)
