"""Where the TUI writes (exports and screenshots go to the current directory or --export-dir, never beside the
recording), how it says a write failed (one sentence), and the banner of a truncated or interrupted recording.
On the shipped recordings and copies of them cut short; no root needed."""

from __future__ import annotations

import asyncio
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tracer.recording import load_recording
from viz.tui.app import BoxtraceApp
from viz.tui.widgets.summary import TraceBanner

RECORDINGS = Path(__file__).resolve().parent.parent / "scenarios" / "recordings"


def run(app: BoxtraceApp, script, size: tuple[int, int] = (120, 40)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


def record_notifications(app: BoxtraceApp) -> list[str]:
    """Every message the app and its screens show as a toast, in order (toasts expire; this list does not)."""
    seen: list[str] = []
    original = app.notify

    def notify(message, *args, **kwargs):
        seen.append(str(message))
        return original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return seen


def export_and_screenshot(app: BoxtraceApp):
    """A script that presses e (and waits for the export worker), then s, then q."""

    async def script(pilot: Pilot) -> None:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("q")

    return script


def test_export_and_screenshot_go_to_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped recording is opened from the source tree; `e` and `s` write into the current directory."""
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in RECORDINGS.iterdir())
    app = BoxtraceApp(recording=load_recording(RECORDINGS / "runc.jsonl"))
    seen = record_notifications(app)

    run(app, export_and_screenshot(app))
    assert sorted(p.name for p in RECORDINGS.iterdir()) == before, "wrote beside the shipped recording"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "runc-architecture.svg" in names and "runc-architecture.png" in names, names
    screens = sorted(tmp_path.glob("runc-screen-*.svg"))
    assert len(screens) == 1, names
    assert ET.parse(screens[0]).getroot().tag.endswith("svg")
    assert any(str(screens[0].name) in m for m in seen), seen


def test_a_failed_write_is_one_sentence(tmp_path: Path) -> None:
    """An export directory that cannot exist (its parent is a file): both keys say so in one sentence, with no
    Python exception names."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    app = BoxtraceApp(recording=load_recording(RECORDINGS / "runc.jsonl"), export_dir=blocker / "out")
    seen = record_notifications(app)

    run(app, export_and_screenshot(app))
    failures = [m for m in seen if m.startswith(("could not", "export failed"))]
    assert len(failures) == 2, seen
    for message in failures:
        assert "Error" not in message and "Exception" not in message and "Traceback" not in message, message
        assert str(blocker) in message, message
        assert message.count(". ") == 0 and "\n" not in message, message


def cut_short(tmp_path: Path) -> Path:
    """A copy of the runc recording as a killed tracer leaves it: no end line, the last line cut mid-write."""
    lines = (RECORDINGS / "runc.jsonl").read_text().splitlines(keepends=True)
    body = [line for line in lines if '"type": "end"' not in line and '"type":"end"' not in line]
    body = body[: len(body) * 2 // 3]
    target = tmp_path / "runc-cut.jsonl"
    target.write_text("".join(body) + body[-1][: len(body[-1]) // 2])
    return target


def test_a_truncated_recording_says_so(tmp_path: Path) -> None:
    path = cut_short(tmp_path)
    recording = load_recording(path)
    assert recording.warnings
    app = BoxtraceApp(recording=recording)

    async def script(pilot: Pilot) -> None:
        banner = app.main_screen.query_one(TraceBanner)
        assert banner.display and banner.has_class("-shown")
        assert "truncated" in str(banner.render())
        summary = str(app.main_screen.summary_line.render())
        assert "running" not in summary and "no exit recorded" in summary, summary
        await pilot.press("q")

    run(app, script)


def test_a_whole_recording_has_no_banner(tmp_path: Path) -> None:
    shutil.copy(RECORDINGS / "teach.jsonl", tmp_path / "teach.jsonl")
    app = BoxtraceApp(recording=load_recording(tmp_path / "teach.jsonl"))

    async def script(pilot: Pilot) -> None:
        banner = app.main_screen.query_one(TraceBanner)
        assert not banner.has_class("-shown")
        assert "running" not in str(app.main_screen.summary_line.render())
        await pilot.press("q")

    run(app, script)


def test_export_writes_the_slides_of_the_launch_and_of_the_open_chapter(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`e` on an open chapter also writes the 16:9 slide of the whole launch and the slide of that chapter alone
    (issue 17: the TUI's export is a slide a teacher can project)."""
    monkeypatch.chdir(tmp_path)
    app = BoxtraceApp(recording=load_recording(RECORDINGS / "runc.jsonl"))
    record_notifications(app)

    async def script(pilot: Pilot) -> None:
        await pilot.press("n")
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("q")

    run(app, script)
    whole = tmp_path / "runc-slide.svg"
    assert whole.is_file(), sorted(p.name for p in tmp_path.iterdir())
    focused = [p for p in tmp_path.glob("runc-slide-*.svg")]
    assert len(focused) == 1, sorted(p.name for p in tmp_path.iterdir())
    for path in (whole, focused[0]):
        root = ET.parse(path).getroot()
        width = float(root.get("width", "0").removesuffix("pt"))
        height = float(root.get("height", "0").removesuffix("pt"))
        assert height > 0 and abs(width / height - 16 / 9) < 0.02, (path.name, width, height)
