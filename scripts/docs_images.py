"""Make the pictures the README shows and the walkthrough pages docs/ links, with boxtrace itself.

    .venv/bin/python scripts/docs_images.py      (what `make docs-images` runs)
    .venv/bin/python scripts/docs_images.py --pages   (only the walkthrough pages: after a change to viz/page.py)

From the shipped recordings (scenarios/recordings/): the docker architecture diagram and its slide (whole, and one
per phase of the lecture), and one walkthrough page per recording in docs/walkthrough/NAME.html, the file a teacher
links and a student opens offline (`boxtrace export TRACE --view page`). The TUI screenshot comes from the real app
driven headless to a walkthrough chapter (Textual saves what is on screen as SVG).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenarios import lesson_for  # noqa: E402
from tracer.recording import load_recording  # noqa: E402
from viz.export import export  # noqa: E402
from viz.tui.app import BoxtraceApp  # noqa: E402
from viz.tui.walkthrough import build_walkthrough  # noqa: E402

IMAGES = ROOT / "docs" / "images"
PAGES = ROOT / "docs" / "walkthrough"
RECORDINGS = ROOT / "scenarios" / "recordings"
RECORDING = RECORDINGS / "docker.jsonl"
#: The phases the docs show as slides, one step of a lecture each.
SLIDE_PHASES = ("handoff", "namespaces", "root", "identity")
CHAPTER_PRESSES = 7  # "n" presses from the start: the unshare chapter of the docker walkthrough


def main() -> int:
    if "--pages" in sys.argv[1:]:
        _pages()
        print(f"wrote {sorted(p.name for p in PAGES.iterdir())}")
        return 0
    IMAGES.mkdir(parents=True, exist_ok=True)
    recording = load_recording(RECORDING)
    chapters = _chapters(recording)
    for suffix in ("svg", "png"):
        export(recording, view="architecture", fmt=suffix, theme="light", output=IMAGES / f"docker-architecture.{suffix}")
    export(recording, "architecture", "png", "light", IMAGES / "docker-slide.png", slide=True)
    export(recording, "architecture", "png", "dark", IMAGES / "docker-slide-dark.png", slide=True)
    for phase in SLIDE_PHASES:
        export(recording, "architecture", "png", "light", IMAGES / f"docker-slide-{phase}.png", focus=phase,
               chapters=chapters)
    _pages()
    asyncio.run(_screenshot(recording))
    asyncio.run(_spec_screenshot())
    print(f"wrote {sorted(p.name for p in IMAGES.iterdir())} and {sorted(p.name for p in PAGES.iterdir())}")
    return 0


def _pages() -> None:
    """One walkthrough page per shipped recording."""
    PAGES.mkdir(parents=True, exist_ok=True)
    for trace in sorted(RECORDINGS.glob("*.jsonl")):
        shipped = load_recording(trace)
        export(shipped, "page", "html", "light", PAGES / f"{trace.stem}.html", chapters=_chapters(shipped))


def _chapters(recording) -> list:
    return build_walkthrough([recording.header, *recording.events], lesson_for(recording.header.scenario)).chapters


async def _screenshot(recording) -> None:
    app = BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for _ in range(CHAPTER_PRESSES):
            await pilot.press("n")
        await pilot.pause(0.5)
        app.save_screenshot(filename="tui-docker-walkthrough.svg", path=str(IMAGES))


async def _spec_screenshot() -> None:
    """The spec view (`b`) on the runc recording: the bundle's promises, the cursor on the ambient discrepancy."""
    runc = load_recording(RECORDINGS / "runc.jsonl")
    app = BoxtraceApp(recording=runc, lesson=lesson_for(runc.header.scenario))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        app.save_screenshot(filename="tui-runc-spec.svg", path=str(IMAGES))


if __name__ == "__main__":
    sys.exit(main())
