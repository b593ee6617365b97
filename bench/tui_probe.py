"""Open a recording in the TUI headless and say when it is loaded (a child process of bench.run).

    python -m bench.tui_probe RECORDING RESULT.json SPAWNED_AT

Loaded means: the app's TuiModel holds every event of the recording (when the app has one we can find),
its workers are done and the message queue is drained (`pilot.pause()`), i.e. the first screen with the whole
trace could be drawn. Times: `open_s` from the parent's spawn (interpreter start-up included) to loaded;
`ingest_s` from the app's construction to loaded (what the events/s figure divides by).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402 - the clock starts before any import
import inspect  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

LOAD_TIMEOUT = 300.0


def make_app(cls: type, recording: Any, path: str) -> Any:
    params = inspect.signature(cls).parameters
    for name, value in (("recording", recording), ("trace", recording), ("path", path)):
        if name in params:
            return cls(**{name: value})
    return cls(recording)


def find_model(app: Any) -> Any | None:
    """The TuiModel the app (or its screen) feeds: an object with an `events` list and `extend`."""
    holders = [app]
    try:
        holders.append(app.screen)
    except Exception:  # noqa: BLE001 - no screen yet
        pass
    for holder in holders:
        for value in list(vars(holder).values()) if hasattr(holder, "__dict__") else []:
            if hasattr(value, "extend") and isinstance(getattr(value, "events", None), list):
                return value
    return None


async def probe(path: str, spawned_at: float) -> dict[str, Any]:
    from tracer.recording import load_recording
    from viz.tui.app import BoxtraceApp

    imported = time.perf_counter()
    recording = load_recording(path)
    loaded_file = time.perf_counter()
    total = len(recording.events)
    app = make_app(BoxtraceApp, recording, path)
    constructed = time.perf_counter()
    loaded_by = "workers"
    async with app.run_test(headless=True, size=(160, 48)) as pilot:
        deadline = time.perf_counter() + LOAD_TIMEOUT
        while time.perf_counter() < deadline:
            await pilot.pause()
            model = find_model(app)
            if model is not None and len(model.events) >= total:
                loaded_by = "model"
                break
            if model is None and not any(w.is_running for w in app.workers):
                break
            await asyncio.sleep(0.01)
        else:
            raise TimeoutError(f"not loaded after {LOAD_TIMEOUT} s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        ready = time.perf_counter()
        wall_ready = time.time()
    ingest = ready - constructed
    return {
        "events": total,
        "open_s": round(wall_ready - spawned_at, 4),
        "import_s": round(imported - STARTED, 4),
        "load_recording_s": round(loaded_file - imported, 4),
        "ingest_s": round(ingest, 4),
        "ingest_events_per_s": round(total / ingest) if ingest > 0 else None,
        "loaded_by": loaded_by,
    }


def main(argv: list[str]) -> int:
    path, result_path, spawned = argv[0], Path(argv[1]), float(argv[2])
    result = asyncio.run(probe(path, spawned))
    result_path.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
