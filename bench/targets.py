"""The issue's performance targets, as data, and their verdicts against one run's results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    id: str
    text: str
    #: Where the measured value lives: ("launch", workload, numerator, denominator), ("docker", key),
    #: ("live_tui", "ratio", key), ("live_tui", config, field) or ("consumer", key, field).
    path: tuple[str, ...]
    limit: float
    op: str  # "<=" or ">=" or "<"
    unit: str = "x"
    #: One of issue 21's rows (the rest are the earlier targets docs/performance.md keeps following).
    issue: bool = False
    #: The same comparison measured another way, shown beside the verdict (e.g. the whole command's ratio
    #: where the target is on the in-trace time): (label, path).
    also: tuple[tuple[str, tuple[str, ...]], ...] = ()


_IN_TRACE = "in-trace time (interpreter start-up excluded)"

# fmt: off
TARGETS: tuple[Target, ...] = (
    # Issue 21's table, row by row.
    Target("issue-dd-all", f"dd: boxtrace --filter all, {_IN_TRACE}, vs strace -f",
           ("launch", "dd", "boxtrace-all-trace", "strace"), 1.2, "<=", issue=True,
           also=(("whole command", ("launch", "dd", "boxtrace-all", "strace")),)),
    Target("issue-runc-trace", f"runc: boxtrace (default), {_IN_TRACE}, vs strace -f --seccomp-bpf",
           ("launch", "runc", "boxtrace-trace", "strace-bpf"), 1.1, "<=", issue=True),
    Target("issue-runc-whole", "runc: boxtrace (default), whole command, vs strace -f --seccomp-bpf",
           ("launch", "runc", "boxtrace", "strace-bpf"), 2.0, "<=", issue=True),
    Target("issue-docker-cli", "boxtrace docker: the CLI's time in the trace vs docker run under "
           "strace -f -p dockerd -p containerd", ("docker", "boxtrace-cli/strace-attach"), 1.0, "<=", issue=True,
           also=(("whole command", ("docker", "boxtrace/strace-attach")),)),
    Target("issue-docker-untraced", "boxtrace docker (whole command) vs untraced docker run",
           ("docker", "boxtrace/untraced"), 2.5, "<=", issue=True,
           also=(("CLI in trace", ("docker", "boxtrace-cli/untraced")),)),
    Target("issue-live-tui", f"live TUI: --filter all dd into the headless TUI vs to a file, {_IN_TRACE}",
           ("live_tui", "ratio", "tui-trace/file-trace"), 1.1, "<=", issue=True,
           also=(("whole command", ("live_tui", "ratio", "tui/file")),)),
    Target("issue-live-lag", "live TUI: how far the screen falls behind the tracer (worst sample of any round)",
           ("live_tui", "tui", "worst_lag_s"), 0.5, "<=", "s", issue=True,
           also=(("median round's p95", ("live_tui", "tui", "p95_lag_s")),)),
    # Earlier targets (docs/performance.md) the issue's rows do not replace.
    Target("dd-default-vs-bpf", "dd: boxtrace (default) vs strace -f --seccomp-bpf (same set)",
           ("launch", "dd", "boxtrace", "strace-bpf"), 1.3, "<="),
    Target("dd-default-trace-vs-bpf", f"dd: boxtrace (default), {_IN_TRACE}, vs strace -f --seccomp-bpf",
           ("launch", "dd", "boxtrace-trace", "strace-bpf"), 1.3, "<="),
    Target("dd-default-vs-strace", "dd: boxtrace (default) faster than strace -f by",
           ("launch", "dd", "strace", "boxtrace"), 50.0, ">="),
    Target("dd-default-trace-vs-strace", f"dd: boxtrace (default), {_IN_TRACE}, faster than strace -f by",
           ("launch", "dd", "strace", "boxtrace-trace"), 50.0, ">="),
    Target("runc-all-vs-strace", "runc: boxtrace --filter all vs strace -f",
           ("launch", "runc", "boxtrace-all", "strace"), 1.5, "<="),
    Target("runc-all-trace-vs-strace", f"runc: boxtrace --filter all, {_IN_TRACE}, vs strace -f",
           ("launch", "runc", "boxtrace-all-trace", "strace"), 1.5, "<="),
    Target("tui-open", "100k-event recording opens in the TUI",
           ("consumer", "tui-100k", "open_s"), 2.0, "<", "s"),
    Target("export-time", "100k-event recording: architecture export",
           ("consumer", "export-100k", "median"), 3.0, "<", "s"),
    Target("tui-memory", "100k-event recording: TUI peak memory",
           ("consumer", "tui-100k", "peak_mb"), 200.0, "<", "MB"),
    Target("export-memory", "100k-event recording: export peak memory",
           ("consumer", "export-100k", "peak_mb"), 200.0, "<", "MB"),
    Target("show-memory", "100k-event recording: `boxtrace show` peak memory",
           ("consumer", "show-100k", "peak_mb"), 200.0, "<", "MB"),
)
# fmt: on


def _lookup(results: dict[str, Any], path: tuple[str, ...]) -> tuple[float | None, str | None]:
    """(value, why missing)."""
    kind = path[0]
    if kind in ("launch", "docker", "live_tui"):
        entry = results.get(kind, {})
        name = kind.replace("_", "-")
        if kind == "launch":
            name = path[1]
            entry = entry.get(name)
        if not entry:
            return None, f"{name} not measured"
        if entry.get("skipped"):
            return None, entry["skipped"]
        if kind == "launch":
            return entry.get("ratios", {}).get(f"{path[2]}/{path[3]}"), None
        if kind == "docker" or path[1] == "ratio":
            return entry.get("ratios", {}).get(path[-1]), None
        return entry.get("configs", {}).get(path[1], {}).get(path[2]), None
    if kind == "consumer":
        _, key, field = path
        consumers = results.get("consumers", {})
        if key in consumers.get("skipped", {}):
            return None, consumers["skipped"][key]
        row = consumers.get("rows", {}).get(key)
        if not row:
            return None, f"{key} not measured"
        return row.get(field), None
    raise ValueError(path)


def _fmt(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.0f} {unit}"


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    verdicts = []
    for target in TARGETS:
        value, why = _lookup(results, target.path)
        limit = f"{target.op} {_fmt(target.limit, target.unit)}"
        row: dict[str, Any] = {
            "id": target.id,
            "target": target.text,
            "limit": limit,
            "value": value,
            "issue": target.issue,
        }
        if value is None:
            row.update(met=None, verdict=f"not measured: {why or 'no value'}")
        else:
            if target.op == "<=":
                met = value <= target.limit
            elif target.op == "<":
                met = value < target.limit
            else:
                met = value >= target.limit
            measured = _fmt(value, target.unit)
            if met:
                verdict = f"met ({measured})"
            elif target.op == ">=":
                verdict = f"missed: {measured}, {target.limit / value:.1f}x short of {limit}"
            else:
                verdict = f"missed: {measured}, {value / target.limit:.2f}x over the limit ({limit})"
            row.update(met=met, measured=measured, verdict=verdict)
        also = []
        for label, path in target.also:
            other, _ = _lookup(results, path)
            if other is not None:
                also.append(f"{label} {_fmt(other, target.unit)}")
        if also:
            row["also"] = "; ".join(also)
            row["verdict"] += f" [{row['also']}]"
        verdicts.append(row)
    return verdicts
