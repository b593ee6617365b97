"""Make the pictures the README shows, from the shipped docker recording, with boxtrace itself.

    .venv/bin/python scripts/docs_images.py      (what `make docs-images` runs)

The architecture diagram comes from `boxtrace export`; the TUI screenshot from the real app driven headless to a
walkthrough chapter (Textual saves what is on screen as SVG).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracer.recording import load_recording  # noqa: E402
from viz.export import export  # noqa: E402
from viz.tui.app import BoxtraceApp  # noqa: E402

IMAGES = ROOT / "docs" / "images"
RECORDING = ROOT / "scenarios" / "recordings" / "docker.jsonl"
CHAPTER_PRESSES = 7  # "n" presses from the start: the unshare chapter of the docker walkthrough


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    recording = load_recording(RECORDING)
    for suffix in ("svg", "png"):
        export(recording, view="architecture", fmt=suffix, theme="light", output=IMAGES / f"docker-architecture.{suffix}")
    asyncio.run(_screenshot(recording))
    print(f"wrote {sorted(p.name for p in IMAGES.iterdir())}")
    return 0


async def _screenshot(recording) -> None:
    app = BoxtraceApp(recording=recording)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for _ in range(CHAPTER_PRESSES):
            await pilot.press("n")
        await pilot.pause(0.5)
        app.save_screenshot(filename="tui-docker-walkthrough.svg", path=str(IMAGES))


if __name__ == "__main__":
    sys.exit(main())
