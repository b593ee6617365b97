"""The issue's performance targets, as data, and their verdicts against one run's results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    id: str
    text: str
    #: Where the measured value lives: ("launch", workload, "ratio", numerator, denominator),
    #: ("docker", "ratio", key) or ("consumer", key, field).
    path: tuple[str, ...]
    limit: float
    op: str  # "<=" or ">=" or "<"
    unit: str = "x"


_IN_TRACE = "in-trace time (interpreter start-up excluded)"

# fmt: off
TARGETS: tuple[Target, ...] = (
    Target("dd-default-vs-bpf", "dd: boxtrace (default) vs strace -f --seccomp-bpf (same set)",
           ("launch", "dd", "boxtrace", "strace-bpf"), 1.3, "<="),
    Target("dd-default-trace-vs-bpf", f"dd: boxtrace (default), {_IN_TRACE}, vs strace -f --seccomp-bpf",
           ("launch", "dd", "boxtrace-trace", "strace-bpf"), 1.3, "<="),
    Target("runc-default-vs-bpf", "runc: boxtrace (default) vs strace -f --seccomp-bpf (same set)",
           ("launch", "runc", "boxtrace", "strace-bpf"), 1.3, "<="),
    Target("runc-default-trace-vs-bpf", f"runc: boxtrace (default), {_IN_TRACE}, vs strace -f --seccomp-bpf",
           ("launch", "runc", "boxtrace-trace", "strace-bpf"), 1.3, "<="),
    Target("dd-default-vs-strace", "dd: boxtrace (default) faster than strace -f by",
           ("launch", "dd", "strace", "boxtrace"), 50.0, ">="),
    Target("dd-default-trace-vs-strace", f"dd: boxtrace (default), {_IN_TRACE}, faster than strace -f by",
           ("launch", "dd", "strace", "boxtrace-trace"), 50.0, ">="),
    Target("dd-all-vs-strace", "dd: boxtrace --filter all vs strace -f",
           ("launch", "dd", "boxtrace-all", "strace"), 1.2, "<="),
    Target("dd-all-trace-vs-strace", f"dd: boxtrace --filter all, {_IN_TRACE}, vs strace -f",
           ("launch", "dd", "boxtrace-all-trace", "strace"), 1.2, "<="),
    Target("runc-all-vs-strace", "runc: boxtrace --filter all vs strace -f",
           ("launch", "runc", "boxtrace-all", "strace"), 1.5, "<="),
    Target("runc-all-trace-vs-strace", f"runc: boxtrace --filter all, {_IN_TRACE}, vs strace -f",
           ("launch", "runc", "boxtrace-all-trace", "strace"), 1.5, "<="),
    Target("docker-vs-strace", "docker: boxtrace docker (whole command) vs docker run under strace -p",
           ("docker", "boxtrace/strace-attach"), 1.0, "<="),
    Target("docker-cli-vs-strace", "docker: the CLI's time in boxtrace's trace vs docker run under strace -p",
           ("docker", "boxtrace-cli/strace-attach"), 1.0, "<="),
    Target("docker-vs-untraced", "docker: boxtrace docker (whole command) vs untraced docker run",
           ("docker", "boxtrace/untraced"), 1.5, "<="),
    Target("docker-cli-vs-untraced", "docker: the CLI's time inside boxtrace's trace vs untraced docker run",
           ("docker", "boxtrace-cli/untraced"), 1.5, "<="),
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
    if kind == "launch":
        _, workload, num, den = path
        entry = results.get("launch", {}).get(workload)
        if not entry:
            return None, f"{workload} not measured"
        if entry.get("skipped"):
            return None, entry["skipped"]
        return entry.get("ratios", {}).get(f"{num}/{den}"), None
    if kind == "docker":
        entry = results.get("docker")
        if not entry:
            return None, "docker not measured"
        if entry.get("skipped"):
            return None, entry["skipped"]
        return entry.get("ratios", {}).get(path[1]), None
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
        row: dict[str, Any] = {"id": target.id, "target": target.text, "limit": limit, "value": value}
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
        verdicts.append(row)
    return verdicts
