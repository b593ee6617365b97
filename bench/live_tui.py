"""A live trace streamed into the TUI, headless, and how far the screen falls behind (a child of bench.run).

    python -m bench.live_tui --result RESULT.json --output RECORDING [--filter all] -- CMD [ARG...]

It wires the trace as `boxtrace run --tui -o RECORDING` does (`SessionSource` handed to `BoxtraceApp(live=...)`,
the tracer on the app's worker thread, `viz.tui.live.EventPump` batching into `EventsArrived`) and runs the app
with Textual's headless driver (`App.run(headless=True)`): the same event loop, compositor and widgets, no
terminal. The app quits once the trace has finished and its last batch is on screen.

Frame latency: the tracer's sink notes the seq of each event it hands on (one attribute store); the app notes,
after the frame that follows each batch has been drawn (`call_after_refresh`), the last seq of that batch. A
sampler thread reads both every `SAMPLE_INTERVAL` seconds. The screen's lag at a sample is how long ago the
tracer produced the first event the screen does not show yet (0 when it shows everything the tracer produced);
"produced" is the first sample that saw the tracer at or past that seq, so lags are accurate to one interval.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before any import
import bisect  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

SAMPLE_INTERVAL = 0.01
#: The screen may fall this far behind the tracer (issue 21).
LAG_LIMIT = 0.5


class Clock:
    """The tracer's latest seq and the screen's, read by the sampler thread."""

    def __init__(self) -> None:
        self.tracer_seq = 0
        self.shown_seq = 0
        self.samples: list[tuple[float, int, int]] = []
        self.batches = 0
        self.batch_events: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-lag-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL):
            self.samples.append((time.monotonic(), self.tracer_seq, self.shown_seq))

    def shown(self, seq: int) -> None:
        self.shown_seq = max(self.shown_seq, seq)


def lag_report(samples: list[tuple[float, int, int]]) -> dict[str, Any]:
    """Lag statistics from (time, tracer seq, shown seq) samples (see the module's docstring)."""
    if not samples:
        return {"samples": 0}
    times = [t for t, _, _ in samples]
    tracer = [s for _, s, _ in samples]  # non-decreasing
    lags: list[float] = []
    behind: list[int] = []
    for t, tracer_seq, shown_seq in samples:
        if tracer_seq <= shown_seq:
            lags.append(0.0)
            behind.append(0)
            continue
        first_unshown = shown_seq + 1
        index = bisect.bisect_left(tracer, first_unshown)
        produced = times[min(index, len(times) - 1)]
        lags.append(max(0.0, t - produced))
        behind.append(tracer_seq - shown_seq)
    ordered = sorted(lags)
    worst = max(range(len(lags)), key=lags.__getitem__)
    return {
        "samples": len(samples),
        "max_lag_s": round(ordered[-1], 4),
        # When the worst lag was seen, in seconds after the first sample, and how long the samples span.
        "max_lag_at_s": round(times[worst] - times[0], 3),
        "sampled_s": round(times[-1] - times[0], 3),
        "p50_lag_s": round(ordered[len(ordered) // 2], 4),
        "p95_lag_s": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 4),
        "over_limit_s": round(sum(SAMPLE_INTERVAL for lag in lags if lag > LAG_LIMIT), 3),
        "max_events_behind": max(behind),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_tui")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--output", required=True, help="the recording the live TUI writes (-o)")
    parser.add_argument("--filter", choices=("container", "all"), default="all")
    parser.add_argument("--size", default="160x48", help="the headless screen, COLUMNSxROWS")
    parser.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval (experiments)")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the app's thread into this file")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    columns, rows = (int(n) for n in args.size.split("x"))

    from tracer.engine import TraceOptions
    from tracer.session import SessionSource
    from viz.tui.app import BoxtraceApp
    from viz.tui.live import LiveTrace
    from viz.tui.messages import EventsArrived, TraceFinished, TracerFailed

    imported = time.perf_counter()
    clock = Clock()

    class MeasuredSource(SessionSource):
        def run(self, sink):  # noqa: ANN001, ANN202 - the EventSource protocol's
            def noted(event) -> None:  # noqa: ANN001
                clock.tracer_seq = event.seq
                sink(event)

            return super().run(noted)

    class ProbeApp(BoxtraceApp):
        # Textual calls the handlers of every class in the MRO: these run just before BoxtraceApp's own.
        def on_events_arrived(self, message: EventsArrived) -> None:
            clock.batches += 1
            clock.batch_events.append(len(message.events))
            if message.events:
                self.call_after_refresh(clock.shown, message.events[-1].seq)

        def on_trace_finished(self, message: TraceFinished) -> None:
            self.call_after_refresh(self.exit, 0)

        def on_tracer_failed(self, message: TracerFailed) -> None:
            self.call_after_refresh(self.exit, 1)

    source = MeasuredSource(command, None, TraceOptions(filter=args.filter), args.output)
    live = LiveTrace(source)
    app = ProbeApp(live=live)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    clock.start()
    began = time.perf_counter()
    if args.profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        code = profiler.runcall(app.run, headless=True, size=(columns, rows))
        profiler.dump_stats(str(args.profile))
    else:
        code = app.run(headless=True, size=(columns, rows))
    finished = time.perf_counter()
    clock.stop()
    live.request_stop()
    live.wait(timeout=30)
    result = live.result
    report: dict[str, Any] = {
        "import_s": round(imported - STARTED, 4),
        "app_s": round(finished - began, 4),
        "batches": clock.batches,
        "largest_batch": max(clock.batch_events, default=0),
        "tracer_seq": clock.tracer_seq,
        "shown_seq": clock.shown_seq,
        "status": None if result is None else result.status,
        "error": None if live.error is None else repr(live.error),
        **lag_report(clock.samples),
    }
    args.result.write_text(json.dumps(report))
    if live.error is not None or result is None:
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
