"""The benchmark harness (`make bench`): its lag arithmetic, its verdicts, and a quick real run producing every
row of issue 21's table. No timing is asserted here: speed is judged by `make bench` itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import targets
from bench.live_tui import SAMPLE_INTERVAL, lag_report
from tests.prereqs import require

REPO = Path(__file__).resolve().parent.parent
ISSUE_ROWS = [t.id for t in targets.TARGETS if t.issue]


def test_lag_is_the_age_of_the_first_event_not_yet_on_screen() -> None:
    # (time, tracer's latest seq, screen's latest seq)
    samples = [(10.00, 5, 0), (10.01, 9, 0), (10.02, 9, 9), (10.03, 20, 9), (10.40, 30, 9), (10.41, 30, 30)]
    report = lag_report(samples)
    # At 10.40 the screen still lacks seq 10, first seen by the tracer at 10.03.
    assert report["max_lag_s"] == pytest.approx(0.37)
    assert report["max_events_behind"] == 21
    assert report["samples"] == 6
    assert report["over_limit_s"] == 0
    late = [(float(i) * SAMPLE_INTERVAL, i + 1, 0) for i in range(100)]
    assert lag_report(late)["over_limit_s"] == pytest.approx(SAMPLE_INTERVAL * 49)


def test_a_screen_that_keeps_up_has_no_lag() -> None:
    samples = [(float(i), i, i) for i in range(10)]
    assert lag_report(samples)["max_lag_s"] == 0
    assert lag_report([]) == {"samples": 0}


def _results(**ratios: float) -> dict:
    return {
        "launch": {
            "dd": {"ratios": {"boxtrace-all-trace/strace": ratios["dd"], "boxtrace-all/strace": 1.3}},
            "runc": {"ratios": {"boxtrace-trace/strace-bpf": ratios["runc"], "boxtrace/strace-bpf": 2.5}},
        },
        "docker": {"skipped": "no Docker engine answers"},
        "live_tui": {"ratios": {"tui-trace/file-trace": 1.05, "tui/file": 1.08},
                     "configs": {"tui": {"worst_lag_s": 0.7, "p95_lag_s": 0.2}}},
    }


def test_verdicts_follow_the_issue_limits() -> None:
    verdicts = {v["id"]: v for v in targets.evaluate(_results(dd=1.19, runc=1.2))}
    assert verdicts["issue-dd-all"]["met"] is True
    assert "whole command 1.30x" in verdicts["issue-dd-all"]["verdict"]
    assert verdicts["issue-runc-trace"]["met"] is False
    assert verdicts["issue-runc-whole"]["met"] is False
    assert verdicts["issue-live-tui"]["met"] is True
    assert verdicts["issue-live-lag"]["met"] is False
    assert verdicts["issue-docker-cli"]["met"] is None
    assert "no Docker engine answers" in verdicts["issue-docker-cli"]["verdict"]


def test_every_row_of_the_issue_is_a_target() -> None:
    limits = {t.id: (t.limit, t.op) for t in targets.TARGETS if t.issue}
    assert limits == {
        "issue-dd-all": (1.2, "<="),
        "issue-runc-trace": (1.1, "<="),
        "issue-runc-whole": (2.0, "<="),
        "issue-docker-cli": (1.0, "<="),
        "issue-docker-untraced": (2.5, "<="),
        "issue-live-tui": (1.1, "<="),
        "issue-live-lag": (0.5, "<="),
    }


@pytest.mark.slow
def test_a_quick_run_reports_every_row(tmp_path: Path) -> None:
    """dd with 300 blocks, one round of each group the issue's rows come from: every row gets a value."""
    require(os.geteuid() == 0, "the runc and docker groups need root")
    require(shutil.which("strace") and shutil.which("runc") and shutil.which("docker"), "needs strace, runc, docker")
    from scenarios.daemons import docker_answers
    from scenarios.images import DOCKER_IMAGE, docker_image_exists

    require(docker_answers(timeout=5), "no Docker engine answers (bash scripts/daemons.sh start)")
    require(docker_image_exists(), f"{DOCKER_IMAGE} is missing: `boxtrace doctor --fix` imports it")
    results = tmp_path / "results"
    with subprocess.Popen(
        [sys.executable, "-m", "bench.run", "--quick", "--rounds", "1", "--dd-count", "300",
         "--only", "dd,runc,docker,live-tui,startup", "--daemon-wait", "240", "--results", str(results)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as bench:
        try:
            stdout, stderr = bench.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            bench.terminate()  # SIGTERM: the harness unwinds, deleting its containers
            stdout, stderr = bench.communicate(timeout=120)
    run = subprocess.CompletedProcess(bench.args, bench.returncode, stdout, stderr)
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads((results / "latest.json").read_text())
    verdicts = {v["id"]: v for v in data["targets"]}
    for row in ISSUE_ROWS:
        assert verdicts[row]["value"] is not None, (row, verdicts[row]["verdict"], run.stderr[-3000:])
        assert verdicts[row]["met"] in (True, False)
    markdown = (results / "latest.md").read_text()
    for target in targets.TARGETS:
        if target.issue:
            assert target.text in markdown
    assert "## The live TUI" in markdown and "## CLI start-up" in markdown
    # The live TUI drew every event the tracer produced before it quit.
    tui = data["live_tui"]["configs"]["tui"]["samples"][0]
    assert tui["shown_seq"] == tui["tracer_seq"] > 600
    # Nothing left behind: no runc container in a private state dir survives (they live in the temp dir) and
    # no bench container is left in docker.
    left = subprocess.run(["docker", "ps", "-a", "--quiet", "--filter", f"name=boxtrace-bench-{bench.pid}-"],
                          capture_output=True, text=True, timeout=60, check=False).stdout.split()
    assert left == []
    assert "Issue 21's targets:" in run.stdout


def test_the_live_pump_posts_at_most_every_min_gap() -> None:
    """A busy trace reaches the app in a few large batches (each batch costs a screen update), every event once,
    in order; the first events after a quiet moment go at once."""
    import threading
    import time

    from viz.tui.live import EventPump

    posted: list = []
    pump = EventPump(posted.append, interval=0.01, batch_size=10**9, min_gap=0.2, freeze_every=0)
    started = time.monotonic()
    events = list(range(200_000))  # stand-ins: the pump never looks inside an event
    feeder = threading.Thread(target=lambda: [pump(e) for e in events])
    feeder.start()
    feeder.join()
    time.sleep(0.05)
    pump.close()
    elapsed = time.monotonic() - started
    assert [e for batch in posted for e in batch.events] == events
    # One post when the events begin (the last post was long ago), then at most one per 0.2 s, and the close.
    assert len(posted) <= elapsed / 0.2 + 2


def test_the_live_pump_freezes_the_heap_every_so_many_events() -> None:
    """A long live trace must not stop the screen for a full collection over every event it holds."""
    import gc

    from viz.tui.live import EventPump

    pump = EventPump(lambda message: None, interval=0.01, batch_size=1000, freeze_every=5000)
    try:
        pump(object())
        pump.flush()
        assert gc.get_freeze_count() > 0  # the first batch freezes the app's own heap
        gc.unfreeze()
        frozen_before = gc.get_freeze_count()
        for _ in range(4999):
            pump(object())
        pump.flush()
        assert gc.get_freeze_count() == frozen_before  # not yet: 4,999 posted
        pump(object())
        pump.flush()
        assert gc.get_freeze_count() > frozen_before
    finally:
        pump.close()
        gc.unfreeze()
