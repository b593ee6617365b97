"""`make bench`: boxtrace against strace on real container launches, recording consumers and start-up.

    sudo .venv/bin/python -m bench.run [--rounds N | --quick] [--only dd,runc,docker,...]

Every group runs its configurations interleaved (A B C ... A B C ...) `--rounds` times (default 5;
`--quick`: 2 rounds, a smaller dd, and the 1M-event recording made by concatenation). Results: a Markdown
table printed and written to bench/results/latest.md, everything (each sample included) in
bench/results/latest.json, then each target met or missed. Temporary files live in one temporary directory;
every runc container, docker container and process the harness starts is removed or ended (by id or pid)
before it exits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import consumers as cons
from bench import machine, report, startup, targets, workloads
from bench.measure import (
    BenchError,
    Sample,
    interleave,
    median,
    paired_ratio,
    run_timed,
    use_bytecode_cache,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LAUNCH_GROUPS = ("dd", "runc", "unshare", "teach", "runc-dd")
GROUPS = (*LAUNCH_GROUPS, "docker", "live-tui", "consumers", "startup", "profile")
FULL_DD_COUNT = 100_000
QUICK_DD_COUNT = 10_000


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def summarize(samples: list[Sample]) -> dict[str, Any]:
    walls = [s.wall for s in samples if not s.timed_out]
    row: dict[str, Any] = {
        "median": median(walls),
        "min": min(walls) if walls else None,
        "max": max(walls) if walls else None,
        "failures": sum(1 for s in samples if s.rc != 0 or s.timed_out),
        "samples": [s.to_json() for s in samples],
    }
    for key in (
        "in_trace",
        "events",
        "cli_in_trace",
        "attach_s",
        "detach_s",
        "open_s",
        "ingest_events_per_s",
        "max_lag_s",
        "p95_lag_s",
        "p50_lag_s",
        "over_limit_s",
        "max_events_behind",
        "batches",
        "largest_batch",
    ):
        values = [s.extra[key] for s in samples if isinstance(s.extra.get(key), (int, float))]
        if values:
            value = median(values)
            row[f"median_{key}" if key in ("in_trace", "events", "cli_in_trace") else key] = (
                round(value, 4) if isinstance(value, float) else value
            )
    return row


def ratio_matrix(samples: dict[str, list[Sample]]) -> dict[str, float | None]:
    return {f"{a}/{b}": paired_ratio(samples[a], samples[b]) for a in samples for b in samples if a != b}


# Groups ----------------------------------------------------------------------------------------------------


def run_launch(workload: workloads.Workload, tmp: Path, strace_set: list[str], rounds: int) -> dict[str, Any]:
    log(f"== {workload.name}: {workload.description}")
    workload.prepare(tmp)
    try:
        runner = workloads.launch_runner(workload, tmp, strace_set)
        samples = interleave(workloads.CONFIGS, rounds, runner, progress=log)
    finally:
        workload.finish()
    return {
        "description": workload.description,
        "configs": {
            key: {"label": workloads.CONFIG_LABELS[key], **summarize(value)} for key, value in samples.items()
        },
        "ratios": {**ratio_matrix(samples), **in_trace_ratios(samples)},
    }


def in_trace_ratios(samples: dict[str, list[Sample]]) -> dict[str, float | None]:
    """boxtrace's in-trace time (start-up excluded) over the other configurations' wall time, paired."""

    def in_trace(sample: Sample) -> float | None:
        return sample.extra.get("in_trace")

    ratios: dict[str, float | None] = {}
    for mine in ("boxtrace", "boxtrace-all"):
        for other in ("untraced", "strace", "strace-bpf"):
            if mine in samples and other in samples:
                ratio = _paired_mixed(samples[mine], samples[other], in_trace)
                ratios[f"{mine}-trace/{other}"] = ratio
                ratios[f"{other}/{mine}-trace"] = _paired_mixed(
                    samples[mine], samples[other], in_trace, invert=True
                )
    return ratios


def run_docker(tmp: Path, strace_set: list[str], rounds: int, daemon_wait: float = 600.0) -> dict[str, Any]:
    from scenarios.docker import daemon_pids

    why_not = docker_unavailable()
    if why_not is not None:
        return {"skipped": why_not}
    pids = daemon_pids()
    log(f"== docker: dockerd and containerd are {pids}")
    wait_untraced(pids, daemon_wait)
    runner = workloads.docker_runner(tmp, strace_set, pids, lambda: wait_untraced(pids, daemon_wait))
    samples = interleave(workloads.DOCKER_CONFIGS, rounds, runner, progress=log)
    ratios = ratio_matrix(samples)

    def cli(sample: Sample) -> float | None:
        return sample.extra.get("cli_in_trace")

    for other in ("untraced", "strace-attach"):
        ratios[f"boxtrace-cli/{other}"] = _paired_mixed(samples["boxtrace"], samples[other], cli)
    configs = {
        key: {"label": workloads.DOCKER_LABELS[key], **summarize(value)} for key, value in samples.items()
    }
    threads = [s.extra.get("threads_attached") for s in samples["strace-attach"]]
    configs["strace-attach"]["threads"] = median([t for t in threads if t])
    return {"daemon_pids": pids, "configs": configs, "ratios": ratios}


def wait_untraced(pids: list[int], timeout: float = 600.0) -> None:
    """Wait until no other tracer holds the daemons (a test suite attached to dockerd, say): only one tracer
    can attach, and measuring beside another would measure both."""
    deadline = time.monotonic() + timeout
    while True:
        busy = [pid for pid in pids if _tracer_of(pid)]
        if not busy:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{busy} stayed traced by another process for {timeout:.0f} s")
        log(f"  waiting: {busy} are traced by another process")
        time.sleep(5)


def _tracer_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _paired_mixed(
    numerator: list[Sample],
    denominator: list[Sample],
    value: Callable[[Sample], float | None],
    invert: bool = False,
) -> float | None:
    """Paired ratio of a value read from the numerator's samples to the denominator's wall time (or, with
    `invert`, of the denominator's wall time to that value)."""
    pairs = []
    for a, b in zip(numerator, denominator, strict=False):
        va = value(a)
        if va and b.wall > 0 and not (a.timed_out or b.timed_out or a.rc or b.rc):
            pairs.append(b.wall / va if invert else va / b.wall)
    return median(pairs)


def run_live_tui(tmp: Path, rounds: int, dd_count: int) -> dict[str, Any]:
    """`--filter all` dd traced to a file (`boxtrace run -o FILE > /dev/null`) and into the live TUI, headless
    (`bench.live_tui`), interleaved; the TUI's frame latency read from its samples."""
    log(f"== live TUI: --filter all dd count={dd_count}, to a file and into the headless TUI")
    samples = interleave(
        list(workloads.LIVE_TUI_CONFIGS), rounds, workloads.live_tui_runner(tmp, dd_count), progress=log
    )
    configs = {
        key: {"label": workloads.LIVE_TUI_LABELS[key], **summarize(value)} for key, value in samples.items()
    }
    lags = [s.extra["max_lag_s"] for s in samples["tui"] if isinstance(s.extra.get("max_lag_s"), (int, float))]
    configs["tui"]["worst_lag_s"] = max(lags) if lags else None

    def in_trace(sample: Sample) -> float | None:
        return sample.extra.get("in_trace")

    ratios = {
        "tui/file": paired_ratio(samples["tui"], samples["file"]),
        "tui-trace/file-trace": paired_ratio(samples["tui"], samples["file"], in_trace),
    }
    errors = [s.extra["error"] for s in samples["tui"] if s.extra.get("error")]
    return {
        "description": f"`{' '.join(workloads.dd_argv(dd_count))}` under `--filter all`",
        "configs": configs,
        "ratios": ratios,
        **({"error": errors[-1]} if errors else {}),
    }


def run_consumers(tmp: Path, rounds: int, big: str) -> dict[str, Any]:
    log("== recording consumers: making the recordings")
    small, large = tmp / "recording-100k.jsonl", tmp / "recording-1m.jsonl"
    recordings = {"100k": cons.make_100k(small, log)}
    recordings["1m"] = cons.make_1m(large, small, recordings["100k"], big, log)
    paths = {"100k": small, "1m": large}
    chosen, skipped = cons.consumers(cons.tui_available(), cons.export_available())
    for key, why in skipped.items():
        log(f"  {key}: skipped ({why})")
    by_key = {c.key: c for c in chosen}

    def run_one(key: str, index: int) -> Sample:
        consumer = by_key[key]
        return consumer.run(paths[consumer.recording], tmp)

    samples = interleave([c.key for c in chosen], rounds, run_one, progress=log)
    rows: dict[str, Any] = {}
    for key, values in samples.items():
        consumer = by_key[key]
        row = {"label": consumer.label, **summarize(values)}
        events = recordings[consumer.recording]["events"]
        peak_kb = max((s.maxrss_kb for s in values), default=0)
        row["peak_mb"] = peak_kb / 1024
        row["mb_per_100k"] = row["peak_mb"] / (events / 100_000)
        if row["median"]:
            row["events_per_s"] = events / row["median"]
        errors = [s.extra["error"] for s in values if s.extra.get("error")]
        if errors:
            row["error"] = errors[-1]
        rows[key] = row
    return {"recordings": recordings, "rows": rows, "skipped": skipped}


def run_startup(rounds: int, tmp: Path, root: bool, daemon_wait: float) -> dict[str, Any]:
    log("== CLI start-up")
    samples = interleave(list(startup.STARTUP_COMMANDS), rounds, startup.startup_runner(), progress=log)
    commands = {
        key: {"label": startup.STARTUP_COMMANDS[key][0], **summarize(value)} for key, value in samples.items()
    }
    return {
        "commands": commands,
        "importtime": [
            startup.top_offenders("import boxtrace.cli"),
            startup.top_offenders(startup.RUN_PATH_IMPORTS),
        ],
        "first_ptrace": run_first_ptrace(rounds, tmp, root, daemon_wait),
    }


def run_first_ptrace(rounds: int, tmp: Path, root: bool, daemon_wait: float) -> dict[str, Any]:
    """Each traced command's time from spawn to its first PTRACE_SEIZE, and what it had imported by then."""
    log("== the first ptrace call")
    skipped: dict[str, str] = {}
    docker_args: list[str] | None = None
    if not root:
        return {"skipped": "needs root (sudo make bench)"}
    why_not = docker_unavailable()
    if why_not is None:
        from scenarios.docker import daemon_pids

        wait_untraced(daemon_pids(), daemon_wait)
        docker_args = workloads.docker_run_args(f"boxtrace-bench-{os.getpid()}-first")
    else:
        skipped["docker"] = why_not
    commands = startup.first_ptrace_commands(tmp, docker_args)

    def run_one(key: str, index: int) -> Sample:
        try:
            return startup.first_ptrace(commands[key][1], tmp / "first-ptrace.json")
        finally:
            if key == "docker" and docker_args is not None:
                workloads.remove_container(docker_args[docker_args.index("--name") + 1])

    samples = interleave(list(commands), rounds, run_one, progress=log)
    rows: dict[str, Any] = {}
    for key, values in samples.items():
        seize = [s.extra["seconds"] for s in values if isinstance(s.extra.get("seconds"), (int, float))]
        heavy = sorted({m for s in values for m in s.extra.get("heavy", [])})
        rows[key] = {
            "label": commands[key][0],
            **summarize(values),
            "median_seize_s": median(seize),
            "modules": median([s.extra["modules"] for s in values if s.extra.get("modules")]),
            "heavy": heavy,
            "seized": all(s.extra.get("request") for s in values),
        }
    return {"rows": rows, "skipped": skipped}


def docker_unavailable() -> str | None:
    """Why the docker group cannot run here, or None."""
    from scenarios.daemons import docker_answers
    from scenarios.images import docker_image_exists

    if shutil.which("docker") is None:
        return "docker is not installed"
    if not docker_answers(timeout=10):
        return "no Docker engine answers (start it: bash scripts/daemons.sh start)"
    if not docker_image_exists():
        return "image boxtrace/busybox is missing (python -m scenarios.images)"
    return None


# Main ------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="boxtrace benchmark (see docs/performance.md)"
    )
    parser.add_argument(
        "--rounds", "-n", type=int, default=None, help="interleaved rounds per group (default 5)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds, dd count 10000, 1M recording by concatenation"
    )
    parser.add_argument(
        "--only", default=None, metavar="GROUP,...", help="groups to run: " + ",".join(GROUPS)
    )
    parser.add_argument(
        "--dd-count", type=int, default=None, help="dd blocks (default 100000, --quick 10000)"
    )
    parser.add_argument(
        "--big-recording",
        choices=("trace", "concat"),
        default=None,
        help="make the 1M-event recording by tracing (default) or concatenating the 100k one",
    )
    parser.add_argument("--profile-count", type=int, default=20_000, help="dd blocks for the engine profile")
    parser.add_argument(
        "--daemon-wait",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long the docker group waits for another tracer to leave dockerd and containerd (default 600)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where latest.md/latest.json go")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="re-measure only the --only groups and merge them into the existing latest.json",
    )
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.dd_count = args.dd_count or (QUICK_DD_COUNT if args.quick else FULL_DD_COUNT)
    args.big_recording = args.big_recording or ("concat" if args.quick else "trace")
    selected = GROUPS if args.only is None else tuple(g.strip() for g in args.only.split(",") if g.strip())
    unknown = [g for g in selected if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    args.groups = selected
    return args


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwind through every finally: containers deleted, temp dir removed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    if shutil.which("strace") is None:
        log("bench: strace is not installed (sudo apt-get install strace)")
        return 1
    root = os.geteuid() == 0
    results: dict[str, Any] = {"machine": machine.describe()}
    strace_set, dropped = workloads.strace_syscall_set()
    results["params"] = {
        "rounds": args.rounds,
        "quick": args.quick,
        "dd_count": args.dd_count,
        "groups": list(args.groups),
        "strace_set": strace_set,
        "strace_set_dropped": dropped,
        "big_recording": args.big_recording,
    }
    log(f"bench: {args.rounds} rounds, groups {', '.join(args.groups)}; results in {args.results}")
    with tempfile.TemporaryDirectory(prefix="boxtrace-bench-") as tmp_name:
        tmp = Path(tmp_name)
        use_bytecode_cache(tmp / "pycache")
        # Warm the bytecode cache and the page cache, so the first measured run pays no more than the others.
        run_timed(
            [*workloads.boxtrace_argv(), "run", "-o", str(tmp / "warm.jsonl"), "--", "true"], timeout=120
        )
        for statement in ("import viz.tui.app", "import viz.export", startup.RUN_PATH_IMPORTS):
            run_timed([sys.executable, "-c", statement], timeout=120)
        try:
            _run_groups(args, results, tmp, strace_set, root)
        except KeyboardInterrupt:
            log("bench: interrupted; writing what was measured")
            results["interrupted"] = True
    if args.merge:
        results = merge_into(args.results / "latest.json", results, args.groups)
    results["targets"] = targets.evaluate(results)
    write_results(results, args.results)
    print_verdicts(results["targets"])
    return 0


def _run_groups(
    args: argparse.Namespace, results: dict[str, Any], tmp: Path, strace_set: list[str], root: bool
) -> None:
    launch_list = {w.name: w for w in workloads.launch_workloads(args.dd_count)}
    for name in LAUNCH_GROUPS:
        if name not in args.groups:
            continue
        launch = results.setdefault("launch", {})
        if name != "dd" and not root:
            launch[name] = {"skipped": "needs root (sudo make bench)"}
            continue
        if name.startswith("runc") and shutil.which("runc") is None:
            launch[name] = {"skipped": "runc is not installed"}
            continue
        launch[name] = _guarded(name, lambda n=name: run_launch(launch_list[n], tmp, strace_set, args.rounds))
    if "docker" in args.groups:
        results["docker"] = (
            _guarded("docker", lambda: run_docker(tmp, strace_set, args.rounds, args.daemon_wait))
            if root
            else {"skipped": "needs root (sudo make bench)"}
        )
    if "live-tui" in args.groups:
        results["live_tui"] = _guarded("live-tui", lambda: run_live_tui(tmp, args.rounds, args.dd_count))
    if "consumers" in args.groups:
        results["consumers"] = _guarded(
            "consumers", lambda: run_consumers(tmp, args.rounds, args.big_recording)
        )
    if "startup" in args.groups:
        results["startup"] = _guarded("startup", lambda: run_startup(args.rounds, tmp, root, args.daemon_wait))
    if "profile" in args.groups:
        from bench import profile_engine

        log("== engine profile (--filter all dd)")
        profile = _guarded(
            "profile", lambda: profile_engine.profile(args.profile_count, rounds=min(args.rounds, 5), log=log)
        )
        results["profile"] = profile
        if not profile.get("skipped"):
            results["profile_md"] = profile_engine.render_markdown(profile)


def _guarded(name: str, body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one group; a failure becomes a `skipped` entry with the reason instead of ending the benchmark."""
    try:
        return body()
    except Exception as error:  # noqa: BLE001 - one failing group must not lose the others
        log(f"bench: {name} failed: {error!r}")
        log(traceback.format_exc())
        return {"skipped": f"failed: {error}"}


def merge_into(previous_path: Path, fresh: dict[str, Any], groups: tuple[str, ...]) -> dict[str, Any]:
    """The previous results with the freshly measured groups replaced (and the merge noted in params)."""
    try:
        previous = json.loads(previous_path.read_text())
    except (OSError, ValueError):
        log(f"bench: nothing to merge into at {previous_path}; writing the fresh groups alone")
        return fresh
    for group in groups:
        if group in LAUNCH_GROUPS:
            if group in fresh.get("launch", {}):
                previous.setdefault("launch", {})[group] = fresh["launch"][group]
        elif group.replace("-", "_") in fresh:
            previous[group.replace("-", "_")] = fresh[group.replace("-", "_")]
            if group == "profile":
                previous["profile_md"] = fresh.get("profile_md")
    previous["params"].setdefault("remeasured", []).append(
        {
            "groups": list(groups),
            "date": fresh["machine"]["date"],
            "rounds": fresh["params"]["rounds"],
            "boxtrace_commit": fresh["machine"]["boxtrace_commit"],
            "loadavg": fresh["machine"].get("loadavg"),
        }
    )
    return previous


def write_results(results: dict[str, Any], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    markdown = report.render(results)
    for name, text in (
        ("latest.md", markdown),
        ("latest.json", json.dumps(results, indent=1, default=str) + "\n"),
    ):
        tmp = directory / f"{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, directory / name)
    print(markdown)
    log(f"bench: wrote {directory / 'latest.md'} and {directory / 'latest.json'}")


def print_verdicts(verdicts: list[dict[str, Any]]) -> None:
    for title, issue in (("Issue 21's targets:", True), ("Earlier targets:", False)):
        print(title)
        for row in verdicts:
            if bool(row.get("issue")) != issue:
                continue
            mark = {True: "MET   ", False: "MISSED", None: "n/a   "}[row["met"]]
            print(f"  {mark} {row['target']} ({row['limit']}): {row['verdict']}")


if __name__ == "__main__":
    sys.exit(main())
