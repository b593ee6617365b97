"""What a boxtrace command has imported, and how long it has run, when it makes its first PTRACE_SEIZE or
PTRACE_TRACEME (a child of bench.run, and of tests/test_bench_startup.py).

    python -m bench.first_ptrace --result RESULT.json [--spawned EPOCH_SECONDS] -- BOXTRACE_ARGS...

It runs `boxtrace.cli.main(BOXTRACE_ARGS)` in this process with `tracer.ptrace_api.seize` (every PTRACE_SEIZE
the engine makes, launch and attach alike, goes through it) wrapped first; importing that module first changes
nothing that matters here, since the call itself needs it. At the first SEIZE it writes down `sys.modules` and
the time since `--spawned` (the parent's clock when it started this process; interpreter start-up included). A
command that never seizes (or an engine that stopped calling `seize`) leaves `request` out of the result, which
the test that uses this treats as a failure, never as a pass.
"""

from __future__ import annotations

import time

STARTED = time.time()

import json  # noqa: E402 - the clock starts first
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

#: Modules that must wait until the tracee runs (issue 21): display, graphs, the summary's analyses.
HEAVY_PREFIXES: tuple[str, ...] = (
    "rich",
    "textual",
    "networkx",
    "graphviz",
    "viz.console",
    "viz.tui",
    "viz.model",
    "viz.insights_view",
    "tracer.insights",
)


def heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in HEAVY_PREFIXES))


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: python -m bench.first_ptrace --result FILE [--spawned T] -- BOXTRACE_ARGS...", file=sys.stderr)
        return 2
    split = argv.index("--")
    options, boxtrace_args = argv[:split], argv[split + 1 :]
    result_path = Path(options[options.index("--result") + 1])
    spawned = float(options[options.index("--spawned") + 1]) if "--spawned" in options else STARTED
    seen: dict[str, Any] = {}
    me = os.getpid()
    # The CLI traces from a forked child (tracer/pipeline.py): the first SEIZE happens there, so the child writes
    # what it saw beside the result, and this process merges it in at the end.
    from_child = result_path.with_name(result_path.name + ".tracer")
    from tracer import ptrace_api

    seize = ptrace_api.seize

    def noted_seize(tid: int, options: int) -> None:
        if "request" not in seen:
            modules = sorted(sys.modules)
            seen.update(
                request="PTRACE_SEIZE",
                seconds=round(time.time() - spawned, 4),
                modules=len(modules),
                heavy=heavy(modules),
                module_names=modules,
            )
            if os.getpid() != me:
                from_child.write_text(json.dumps(seen))
        seize(tid, options)

    ptrace_api.seize = noted_seize
    from boxtrace.cli import main as boxtrace_main

    try:
        code = boxtrace_main(boxtrace_args)
    finally:
        if "request" not in seen and from_child.exists():
            seen.update(json.loads(from_child.read_text()))
            from_child.unlink()
        seen["total_s"] = round(time.time() - spawned, 4)
        result_path.write_text(json.dumps(seen))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
