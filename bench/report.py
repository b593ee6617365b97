"""The benchmark's results as Markdown (pure functions of the results dict that latest.json holds)."""

from __future__ import annotations

from typing import Any

from bench.workloads import (
    CONFIG_LABELS,
    CONFIGS,
    DOCKER_CONFIGS,
    DOCKER_LABELS,
    LIVE_TUI_CONFIGS,
    LIVE_TUI_LABELS,
)


def _s(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _x(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}x" if value < 100 else f"{value:.0f}x"


def _range(row: dict[str, Any]) -> str:
    if row.get("min") is None:
        return ""
    return f"{row['min']:.3f}–{row['max']:.3f}"


def machine_md(machine: dict[str, Any]) -> list[str]:
    lines = ["| | |", "|---|---|"]
    for key in (
        "date",
        "nproc",
        "cpu",
        "memory_mb",
        "kernel",
        "python",
        "boxtrace_commit",
        "strace",
        "runc",
        "docker",
        "loadavg",
    ):
        if machine.get(key) is not None:
            lines.append(f"| {key} | {machine[key]} |")
    return lines


def launch_md(launch: dict[str, Any], rounds: int) -> list[str]:
    lines = [
        f"Median wall time of {rounds} interleaved rounds (every configuration once per round, same order); "
        "the × columns are paired ratios: this configuration's time divided by the other's in the same "
        "round, then the median over rounds. In-trace s is boxtrace's own trace duration (the recording's "
        "end event), without interpreter start-up.",
        "",
        "| workload | configuration | median s | min–max s | × untraced | × strace -f "
        "| × strace --seccomp-bpf | in-trace s | in-trace × strace -f | in-trace × strace --seccomp-bpf "
        "| events recorded |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in launch.items():
        if entry.get("skipped"):
            lines.append(f"| {name} | skipped: {entry['skipped']} | | | | | | | | | |")
            continue
        ratios = entry["ratios"]
        for config in CONFIGS:
            row = entry["configs"].get(config)
            if row is None:
                continue
            cells = [
                name if config == CONFIGS[0] else "",
                CONFIG_LABELS[config],
                _s(row["median"]),
                _range(row),
                "" if config == "untraced" else _x(ratios.get(f"{config}/untraced")),
                "" if config == "strace" else _x(ratios.get(f"{config}/strace")),
                "" if config == "strace-bpf" else _x(ratios.get(f"{config}/strace-bpf")),
                _s(row.get("median_in_trace")),
                _x(ratios.get(f"{config}-trace/strace")) if config.startswith("boxtrace") else "",
                _x(ratios.get(f"{config}-trace/strace-bpf")) if config.startswith("boxtrace") else "",
                "" if row.get("median_events") is None else f"{row['median_events']:.0f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def docker_md(docker: dict[str, Any], rounds: int) -> list[str]:
    if docker.get("skipped"):
        return [f"Skipped: {docker['skipped']}"]
    ratios = docker["ratios"]
    lines = [
        f"Median of {rounds} interleaved rounds. strace: only the docker CLI's run is timed (strace attached "
        "before, detached after). boxtrace docker: the whole command is timed (attach, the CLI, the grace "
        "period for the shim, detach); *CLI in trace* is the CLI's exit time in the recording (the header "
        "is at 0).",
        "",
        "| configuration | median s | min–max s | × untraced | × strace -p | CLI in trace s | CLI × untraced "
        "| CLI × strace -p | events recorded |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for config in DOCKER_CONFIGS:
        row = docker["configs"].get(config)
        if row is None:
            continue
        cli = config == "boxtrace"
        cells = [
            DOCKER_LABELS[config],
            _s(row["median"]),
            _range(row),
            "" if config == "untraced" else _x(ratios.get(f"{config}/untraced")),
            "" if config == "strace-attach" else _x(ratios.get(f"{config}/strace-attach")),
            _s(row.get("median_cli_in_trace")) if cli else "",
            _x(ratios.get("boxtrace-cli/untraced")) if cli else "",
            _x(ratios.get("boxtrace-cli/strace-attach")) if cli else "",
            "" if row.get("median_events") is None else f"{row['median_events']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    attach = docker["configs"].get("strace-attach", {})
    if attach.get("threads"):
        lines += [
            "",
            f"strace attached to {attach['threads']} threads of dockerd and containerd per run "
            f"(median attach {attach.get('attach_s')} s, detach {attach.get('detach_s')} s, untimed).",
        ]
    return lines


def live_tui_md(live: dict[str, Any], rounds: int) -> list[str]:
    if live.get("skipped"):
        return [f"Skipped: {live['skipped']}"]
    ratios = live["ratios"]
    lines = [
        f"{live['description']}, median of {rounds} interleaved rounds. The TUI runs headless in its own process "
        "(`python -m bench.live_tui`: `BoxtraceApp(live=...)` on Textual's headless driver, the tracer on the "
        "app's worker thread, events batched by `viz.tui.live.EventPump`) and quits when the trace has ended "
        "and its last batch is drawn. Lag: every 10 ms, how long ago the tracer produced the first event the "
        "screen does not show yet (a batch counts as shown once the frame after it is drawn).",
        "",
        "| configuration | median s | min–max s | in-trace s | × the file (whole) | × the file (in trace) "
        "| worst lag s | p95 lag s (median round) | most events behind | batches | events |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for config in LIVE_TUI_CONFIGS:
        row = live["configs"].get(config)
        if row is None:
            continue
        tui = config == "tui"
        cells = [
            LIVE_TUI_LABELS[config],
            _s(row["median"]),
            _range(row),
            _s(row.get("median_in_trace")),
            _x(ratios.get("tui/file")) if tui else "",
            _x(ratios.get("tui-trace/file-trace")) if tui else "",
            _s(row.get("worst_lag_s")) if tui else "",
            _s(row.get("p95_lag_s")) if tui else "",
            "" if not tui or row.get("max_events_behind") is None else f"{row['max_events_behind']:.0f}",
            "" if not tui or row.get("batches") is None else f"{row['batches']:.0f}",
            "" if row.get("median_events") is None else f"{row['median_events']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if live.get("error"):
        lines += ["", f"The TUI probe reported: {live['error']}"]
    return lines


def consumers_md(consumers: dict[str, Any]) -> list[str]:
    lines = []
    recordings = consumers.get("recordings", {})
    for key, info in recordings.items():
        per_event = info["bytes"] / max(info["events"], 1)
        how = info.get("how", "")
        extra = ""
        if how == "traced":
            extra = (
                f": `boxtrace run --filter all` of a shell loop running /bin/true {info['loop_runs']} times "
                f"then `dd bs=1 count={info['dd_count']}`, traced in {info['trace_wall']:.1f} s"
            )
        lines.append(
            f"- {key} recording: {info['events']} events, {info['bytes'] / 1e6:.1f} MB, "
            f"{per_event:.0f} bytes per event on disk ({how}{extra})."
        )
    lines += [
        "",
        "| consumer | median s | min–max s | events/s | peak RSS MB | MB per 100k events |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, row in consumers.get("rows", {}).items():
        rate = row.get("events_per_s")
        lines.append(
            f"| {row['label']} | {_s(row['median'])} | {_range(row)} | "
            f"{'' if rate is None else f'{rate:,.0f}'} | {_s(row.get('peak_mb'), 0)} | "
            f"{_s(row.get('mb_per_100k'), 0)} |"
        )
        if key.startswith("tui") and row.get("open_s") is not None:
            ingest = row.get("ingest_events_per_s")
            ingest_text = "" if ingest is None else f"{ingest:,.0f} (ingest)"
            lines.append(
                f"| ↳ TUI open (spawn to loaded, median) | {_s(row['open_s'])} | | {ingest_text} | | |"
            )
        if row.get("error"):
            lines.append(f"| ↳ {key} failed: {row['error']} | | | | | |")
    for key, why in consumers.get("skipped", {}).items():
        lines.append(f"| {key}: skipped ({why}) | | | | | |")
    return lines


def startup_md(startup: dict[str, Any], rounds: int) -> list[str]:
    lines = [
        f"Median of {rounds} interleaved rounds, bytecode cached.",
        "",
        "| command | median s | min–max s |",
        "|---|---:|---:|",
    ]
    for row in startup.get("commands", {}).values():
        lines.append(f"| {row['label']} | {_s(row['median'])} | {_range(row)} |")
    first = startup.get("first_ptrace") or {}
    if first.get("skipped"):
        lines += ["", f"The first ptrace call: skipped ({first['skipped']})."]
    elif first.get("rows"):
        lines += [
            "",
            "The first ptrace call (`python -m bench.first_ptrace`: the command run in-process with "
            "`tracer.ptrace_api.seize` wrapped): seconds from spawn to the first PTRACE_SEIZE, the modules loaded "
            "by then, and which of them are display or analysis modules that should wait for the tracee "
            "(rich, textual, networkx, viz.console, tracer.insights ...).",
            "",
            "| command | to the first seize s (median) | whole command s (median) | min–max s | modules loaded "
            "| display/analysis modules loaded |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for row in first["rows"].values():
            heavy = row.get("heavy") or []
            shown = "none" if not heavy else f"{len(heavy)}: " + ", ".join(heavy[:6]) + (" ..." if len(heavy) > 6 else "")
            if not row.get("seized"):
                shown += " (no seize seen in some run)"
            modules = "" if row.get("modules") is None else f"{row['modules']:.0f}"
            lines.append(
                f"| {row['label']} | {_s(row.get('median_seize_s'))} | {_s(row['median'])} | {_range(row)} "
                f"| {modules} | {shown} |"
            )
        for key, why in first.get("skipped", {}).items():
            lines.append(f"| {key}: skipped ({why}) | | | | | |")
    for block in startup.get("importtime", []):
        lines += [
            "",
            f"`python -X importtime -c '{block['statement']}'`: {block['total_ms']} ms of imports; the "
            "biggest top-level imports (cumulative) and the biggest single modules (self):",
            "",
            "| top-level module | cumulative ms | | module | self ms |",
            "|---|---:|---|---|---:|",
        ]
        for a, b in zip(block["top_level"][:10], block["self"][:10], strict=False):
            lines.append(f"| {a['module']} | {a['cumulative_ms']} | | {b['module']} | {b['self_ms']} |")
    return lines


def targets_md(targets: list[dict[str, Any]], issue: bool | None = None) -> list[str]:
    lines = ["| target | limit | verdict |", "|---|---|---|"]
    for row in targets:
        if issue is not None and bool(row.get("issue")) != issue:
            continue
        mark = {True: "✅", False: "❌", None: "–"}[row["met"]]
        lines.append(f"| {row['target']} | {row['limit']} | {mark} {row['verdict']} |")
    return lines


def render(results: dict[str, Any]) -> str:
    params = results["params"]
    rounds = params["rounds"]
    out = ["# boxtrace benchmark", "", "## Machine", "", *machine_md(results["machine"]), ""]
    out += [
        f"Rounds: {rounds}{' (--quick)' if params.get('quick') else ''}; dd count {params['dd_count']}; "
        f"strace's `-e trace=` set: {len(params['strace_set'])} syscalls (left out: "
        f"{'; '.join(params['strace_set_dropped'])}).",
        "",
    ]
    for merge in params.get("remeasured", []):
        out += [
            f"Re-measured later and merged in: {', '.join(merge['groups'])} on {merge['date']} "
            f"({merge['rounds']} rounds, boxtrace {merge['boxtrace_commit']}"
            + (f"; load average {merge['loadavg']}" if merge.get("loadavg") else "")
            + ").",
            "",
        ]
    if results.get("targets"):
        out += ["## Issue 21's targets", "", *targets_md(results["targets"], issue=True), ""]
        out += ["## Earlier targets", "", *targets_md(results["targets"], issue=False), ""]
    if results.get("launch"):
        out += ["## Launch workloads", "", *launch_md(results["launch"], rounds), ""]
    if results.get("docker"):
        out += ["## docker run", "", *docker_md(results["docker"], rounds), ""]
    if results.get("live_tui"):
        out += ["## The live TUI", "", *live_tui_md(results["live_tui"], rounds), ""]
    if results.get("consumers"):
        out += ["## Recording consumers", "", *consumers_md(results["consumers"]), ""]
    if results.get("startup"):
        out += ["## CLI start-up", "", *startup_md(results["startup"], rounds), ""]
    if results.get("profile_md"):
        out += ["## Where a `--filter all` stop's time goes", "", results["profile_md"], ""]
    return "\n".join(out).rstrip() + "\n"
