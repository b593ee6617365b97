"""Make the shipped recordings: `python -m scenarios.record --all` (what `sudo make recordings` runs).

Each recording in scenarios/recordings/ is made here, by boxtrace tracing the real scenario on this machine, with
environment values redacted (the default). A scenario this machine cannot run is skipped with the reason, and its
old recording, if any, is kept.
"""

from __future__ import annotations

import argparse
import sys

from scenarios import SCENARIO_MODULES, get_scenario
from scenarios.runner import ScenarioNotReady, trace_scenario


def record(name: str) -> str:
    scenario = get_scenario(name)
    path = scenario.recording_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".jsonl.tmp")
    try:
        run = trace_scenario(scenario, output=temporary)
    except ScenarioNotReady as error:
        temporary.unlink(missing_ok=True)
        return f"skipped {name}: {error}"
    missing = [r.milestone.id for r in scenario.evaluate(run.events) if r.milestone.required and not r.found]
    if run.result.status != "completed" or missing:
        temporary.unlink(missing_ok=True)
        return f"FAILED {name}: status {run.result.status}, missing milestones {missing}"
    temporary.replace(path)
    return f"recorded {name}: {len(run.events)} events -> {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios.record", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios to record (default with --all: every one, and the runc "
                                                  "what-if experiments, named runc-what-if-EXPERIMENT)")
    parser.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    names = list(SCENARIO_MODULES) if args.all or not args.names else args.names
    if args.all:
        from scenarios.runc import WHAT_IFS

        names += [f"runc-what-if-{name}" for name in WHAT_IFS]
    failed = False
    for name in names:
        line = record(name)
        failed |= line.startswith("FAILED")
        print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
