"""Where the time of a `--filter all` stop goes: the engine run in-process with a timer around each step.

    python -m bench.profile_engine [--count N] [--json FILE]

What it measures, all on `dd if=/dev/zero of=/dev/null bs=1 count=N` (two syscalls a block, two stops each):
1. a ladder: `boxtrace run --filter all`, then the engine in-process as the CLI wires it (recorder + console
   view on a non-terminal console), then with the console view, the recorder and decoding switched off one by
   one, down to a bare Python loop (waitpid + PTRACE_GET_SYSCALL_INFO + PTRACE_SYSCALL) and `strace -f`; the
   differences between rungs are what each part costs;
2. the proposed changes, prototyped in bench/prototypes.py, each alone and all together;
3. the engine once with a timer around every step (shares of the time), and micro-benchmarks of single steps.

It patches module attributes of tracer.* and viz.console in this process only, and puts them back. It reads
the engine; it changes nothing in it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import patched, run_timed, use_bytecode_cache

DEFAULT_COUNT = 20_000


def dd_command(count: int) -> list[str]:
    return ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={count}"]


# Floors ----------------------------------------------------------------------------------------------------


def _spawn_stopped(argv: list[str]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.kill(os.getpid(), signal.SIGSTOP)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    os.waitpid(pid, os.WUNTRACED)
    return pid


def bare_loop(argv: list[str], direct: bool = False) -> dict[str, Any]:
    """waitpid + GET_SYSCALL_INFO + PTRACE_SYSCALL per stop and nothing else: the floor of a Python tracer."""
    from tracer import ptrace_api as pt

    libc = ctypes.CDLL(None, use_errno=True)
    raw = libc.ptrace
    raw.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
    raw.restype = ctypes.c_long
    buffer = ctypes.create_string_buffer(88)
    address = ctypes.addressof(buffer)
    head = struct.Struct("<B3xIQQQ6Q")
    pid = _spawn_stopped(argv)
    pt.seize(pid, pt.BASE_OPTIONS | pt.PTRACE_O_EXITKILL)
    start = time.perf_counter()
    os.kill(pid, signal.SIGCONT)
    stops = 0
    waitpid = os.waitpid
    while True:
        tid, status = waitpid(-1, pt.WALL)
        if status & 0x7F != 0x7F:
            if tid == pid:
                break
            continue
        stops += 1
        sig = (status >> 8) & 0xFF
        inject = 0
        if sig == 0x85:
            if direct:
                raw(pt.PTRACE_GET_SYSCALL_INFO, tid, 88, address)
                head.unpack_from(buffer)
            else:
                pt.get_syscall_info(tid)
        elif status >> 16 == 0 and sig != signal.SIGTRAP:
            inject = sig
        if direct:
            raw(pt.PTRACE_SYSCALL, tid, None, inject)
        else:
            pt.resume(pt.PTRACE_SYSCALL, tid, inject)
    wall = time.perf_counter() - start
    return {"wall": round(wall, 4), "stops": stops, "us_per_stop": round(wall / max(stops, 1) * 1e6, 2)}


# The engine, timed step by step ----------------------------------------------------------------------------


class Timers:
    def __init__(self) -> None:
        self.data: dict[str, list[int]] = {}

    def wrap(self, name: str, fn: Callable) -> Callable:
        slot = self.data.setdefault(name, [0, 0])
        clock = time.perf_counter_ns

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                slot[0] += 1
                slot[1] += clock() - start

        return timed

    def add(self, name: str, ns: int) -> None:
        slot = self.data.setdefault(name, [0, 0])
        slot[0] += 1
        slot[1] += ns

    def seconds(self, name: str) -> float:
        return self.data.get(name, [0, 0])[1] / 1e9

    def calls(self, name: str) -> int:
        return self.data.get(name, [0, 0])[0]


def _session(argv: list[str], output: Path, console_file: Any) -> tuple[Any, Any]:
    from rich.console import Console

    from tracer.engine import TraceOptions
    from tracer.session import TraceSession
    from viz.console import ConsoleView

    # As boxtrace.commands wires `boxtrace run --filter all -o FILE` with stdout not a terminal.
    view = ConsoleView(Console(file=console_file, highlight=False, soft_wrap=True))
    session = TraceSession(argv, None, TraceOptions(filter="all"), output=output, sinks=[view])
    return session, view


def engine_variant(
    argv: list[str],
    output: Path,
    *,
    console: bool = True,
    recorder: bool = True,
    decode: bool = True,
    prototypes: tuple[str, ...] = (),
) -> float:
    """Wall seconds of TraceSession.run() with parts of the per-event work switched off, or with the proposed
    changes (bench.prototypes) patched in."""
    import tracer.syscall_recorder as recorder
    from bench.prototypes import applied

    with open(os.devnull, "w") as null, contextlib.ExitStack() as stack:
        stack.enter_context(applied(prototypes))
        session, view = _session(argv, output if recorder else None, null)
        if not console:
            session.sinks = []
        if not decode:
            stack.enter_context(patched(recorder, "decode_syscall", lambda ctx: ({}, "other")))
        start = time.perf_counter()
        session.run()
        wall = time.perf_counter() - start
        if console:
            view.close()
    return wall


def engine_instrumented(argv: list[str], output: Path) -> dict[str, Any]:
    import tracer.events as events
    import tracer.ptrace_api as pt
    import tracer.recording as recording
    import tracer.syscall_recorder as recorder
    import viz.console as console

    timers = Timers()
    # The per-stop requests go to libc through pt._fast_ptrace (looked up at each call, so it can be wrapped).
    fast = pt._fast_ptrace
    get_info = pt.PTRACE_GET_SYSCALL_INFO
    clock = time.perf_counter_ns

    def ptrace_timed(request: int, *args: Any) -> Any:
        start = clock()
        try:
            return fast(request, *args)
        finally:
            timers.add(
                "ptrace(GET_SYSCALL_INFO) call" if request == get_info else "ptrace(SYSCALL/CONT/...) call",
                clock() - start,
            )

    class TimedEncoder:
        def __init__(self, encoder: json.JSONEncoder) -> None:
            self.encode = timers.wrap("JSONEncoder.encode", encoder.encode)

    with open(os.devnull, "w") as null:
        session, view = _session(argv, output, null)
        view.table.add = timers.wrap("ProcessTable.add (console view)", view.table.add)
        patches = [
            (os, "waitpid", timers.wrap("waitpid", os.waitpid)),
            (pt, "_fast_ptrace", ptrace_timed),
            (pt, "get_syscall_info", timers.wrap("get_syscall_info", pt.get_syscall_info)),
            (pt, "resume", timers.wrap("resume", pt.resume)),
            (recorder, "decode_syscall", timers.wrap("decode_syscall", recorder.decode_syscall)),
            (recorder, "SyscallContext", timers.wrap("SyscallContext + ProcessMemory", recorder.SyscallContext)),
            (recorder, "ProcessMemory", timers.wrap("SyscallContext + ProcessMemory", recorder.ProcessMemory)),
            (recorder, "_Pending", timers.wrap("_Pending + Syscall construction", recorder._Pending)),
            (recorder, "Syscall", timers.wrap("_Pending + Syscall construction", recorder.Syscall)),
            (events.Syscall, "to_json", timers.wrap("Event.to_json", events.Syscall.to_json)),
            (recording, "_ENCODER", TimedEncoder(recording._ENCODER)),
            (recording.Recorder, "write", timers.wrap("Recorder.write", recording.Recorder.write)),
            (console, "render_event", timers.wrap("render_event", console.render_event)),
            (console.ConsoleView, "__call__", timers.wrap("ConsoleView", console.ConsoleView.__call__)),
        ]
        with contextlib.ExitStack() as stack:
            for target, name, value in patches:
                stack.enter_context(patched(target, name, value))
            start = time.perf_counter()
            result = session.run()
            wall = time.perf_counter() - start
        view.close()
    stops = timers.calls("waitpid")
    s = timers.seconds
    rows: list[tuple[str, float]] = [
        ("waitpid (tracee runs; kernel stop/resume)", s("waitpid")),
        ("ptrace(PTRACE_GET_SYSCALL_INFO) call", s("ptrace(GET_SYSCALL_INFO) call")),
        (
            "get_syscall_info unpacking (struct, SyscallInfo)",
            s("get_syscall_info") - s("ptrace(GET_SYSCALL_INFO) call"),
        ),
        ("ptrace(PTRACE_SYSCALL) call", s("ptrace(SYSCALL/CONT/...) call")),
        ("resume wrapper", s("resume") - s("ptrace(SYSCALL/CONT/...) call")),
        ("SyscallContext + ProcessMemory construction", s("SyscallContext + ProcessMemory")),
        ("decode_syscall", s("decode_syscall")),
        ("_Pending + Syscall event construction", s("_Pending + Syscall construction")),
        ("Event.to_json (field copy)", s("Event.to_json")),
        ("JSONEncoder.encode (one prebuilt encoder)", s("JSONEncoder.encode")),
        (
            "Recorder.write: buffered file write, flush check",
            s("Recorder.write") - s("Event.to_json") - s("JSONEncoder.encode"),
        ),
        ("ConsoleView: ProcessTable.add", s("ProcessTable.add (console view)")),
        ("ConsoleView: render_event", s("render_event")),
        (
            "ConsoleView: writing the line, bookkeeping",
            s("ConsoleView") - s("ProcessTable.add (console view)") - s("render_event"),
        ),
    ]
    accounted = sum(value for _, value in rows)
    rows.append(("engine logic between the steps (the rest)", wall - accounted))
    return {
        "wall": round(wall, 4),
        "events": result.events,
        "stops": stops,
        "syscall_events": timers.calls("Recorder.write"),
        "rows": [
            {
                "step": name,
                "seconds": round(value, 4),
                "us_per_stop": round(value / max(stops, 1) * 1e6, 2),
                "share": round(value / wall, 4),
            }
            for name, value in rows
        ],
    }


# Micro-benchmarks ------------------------------------------------------------------------------------------


def _per_call(fn: Callable[[], Any], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - start) / loops * 1e6


def micro(recording: Path, loops: int = 20_000) -> dict[str, float]:
    """Per-call microseconds of single steps, on a stopped tracee and on a recorded read(2) event."""
    from dataclasses import fields

    from rich.console import Console

    from tracer import ptrace_api as pt
    from tracer.events import Syscall, event_from_json
    from tracer.recording import encode_event
    from viz.console import ConsoleView, render_event

    out: dict[str, float] = {}
    # A tracee parked in a PTRACE_EVENT_STOP: GET_SYSCALL_INFO works there and changes nothing.
    pid = _spawn_stopped(["sleep", "60"])
    try:
        pt.seize(pid, pt.PTRACE_O_EXITKILL)
        os.kill(pid, signal.SIGCONT)
        pt.interrupt(pid)
        os.waitpid(pid, pt.WALL)
        libc = ctypes.CDLL(None, use_errno=True)
        raw = libc.ptrace
        raw.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
        raw.restype = ctypes.c_long
        buffer = ctypes.create_string_buffer(88)
        address = ctypes.addressof(buffer)
        head = struct.Struct("<B3xIQQQ6Q")
        out["os.getppid() (a bare syscall from Python)"] = _per_call(os.getppid, loops)
        out["pt.get_syscall_info (libc ptrace + struct unpack into SyscallInfo)"] = _per_call(
            lambda: pt.get_syscall_info(pid), loops
        )
        out["pt.raw_ptrace(GET_SYSCALL_INFO) alone (python-ptrace's wrapper, as before)"] = _per_call(
            lambda: pt.raw_ptrace(pt.PTRACE_GET_SYSCALL_INFO, pid, 88, address), loops
        )
        out["inline ctypes ptrace + struct.unpack_from"] = _per_call(
            lambda: (raw(pt.PTRACE_GET_SYSCALL_INFO, pid, 88, address), head.unpack_from(buffer)), loops
        )
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    # Distinct recorded syscall events (the same object printed again and again is not representative).
    batch: list[Syscall] = []
    with open(recording, "rb") as handle:
        for line in handle:
            if b'"type":"syscall"' in line:
                event = event_from_json(json.loads(line))
                if isinstance(event, Syscall):
                    batch.append(event)
            if len(batch) >= 5000:
                break
    if batch:
        names = [f.name for f in fields(Syscall)]

        def each(fn: Callable[[Any], Any]) -> float:
            start = time.perf_counter()
            for item in batch:
                fn(item)
            return (time.perf_counter() - start) / len(batch) * 1e6

        def shallow(event: Any) -> dict[str, Any]:
            data = {"type": event.type}
            for name in names:
                data[name] = getattr(event, name)
            return data

        out["Syscall(...) construction"] = each(
            lambda e: Syscall(**{n: getattr(e, n) for n in names})
        ) - each(lambda e: {n: getattr(e, n) for n in names})
        out["Event.to_json (field loop)"] = each(lambda e: e.to_json())
        out["json.dumps of the dict (a new encoder per call, as before)"] = each(
            lambda e: json.dumps(shallow(e), separators=(",", ":"))
        ) - each(shallow)
        out["encode_event (to_json + the prebuilt encoder)"] = each(encode_event)
        with open(os.devnull, "w") as null:
            view = ConsoleView(Console(file=null, highlight=False, soft_wrap=True), live_status=False)
            out["ConsoleView(event): table.add + render_event + Console.print"] = each(view)
            out["render_event alone"] = each(lambda e: render_event(e, view.table))
            out["plain file.write of the rendered text"] = (
                each(lambda e: null.write(render_event(e, view.table).plain + "\n"))
                - out["render_event alone"]
            )
    return {key: round(value, 3) for key, value in out.items()}


#: The ladder: each rung switches off one more part of the per-event work; the differences are their costs.
LADDER: tuple[tuple[str, str], ...] = (
    ("cli", "`boxtrace run --filter all -o FILE > /dev/null` (the CLI, start-up included)"),
    ("engine", "engine in-process: recorder + console view (what the CLI runs)"),
    ("recorder", "engine, recorder only (no console view)"),
    ("no-sinks", "engine, events built but neither recorded nor printed"),
    ("no-decode", "same, decode_syscall replaced by a constant"),
    ("bare", "bare Python loop: waitpid + GET_SYSCALL_INFO + PTRACE_SYSCALL via tracer.ptrace_api"),
    ("bare-direct", "same loop, ptrace and struct.unpack_from inline (no SyscallInfo, no function calls)"),
    ("strace", "`strace -f -o /dev/null`"),
    ("untraced", "untraced"),
)


def _rung(key: str, argv: list[str], output: Path) -> float:
    if key == "cli":
        return run_timed(
            [sys.executable, "-m", "boxtrace", "run", "--filter", "all", "-o", str(output), "--", *argv],
            timeout=900,
        ).wall
    if key == "engine":
        return engine_variant(argv, output)
    if key == "recorder":
        return engine_variant(argv, output, console=False)
    if key == "no-sinks":
        return engine_variant(argv, output, console=False, recorder=False)
    if key == "no-decode":
        return engine_variant(argv, output, console=False, recorder=False, decode=False)
    if key == "bare":
        return bare_loop(argv)["wall"]
    if key == "bare-direct":
        return bare_loop(argv, direct=True)["wall"]
    if key == "strace":
        return run_timed(["strace", "-f", "-o", "/dev/null", *argv], timeout=900).wall
    if key == "untraced":
        return run_timed(argv, timeout=120).wall
    raise ValueError(key)


def profile(
    count: int = DEFAULT_COUNT, rounds: int = 3, log: Callable[[str], None] = print, pin: int | None = 0
) -> dict[str, Any]:
    """The ladder, the timed steps and the micro-benchmarks.

    With `pin`, this process and every child run on that one CPU: wall time is then tracer work + tracee
    work + context switches, without the cross-CPU wake-ups whose cost varies several-fold from run to run on
    a VM, so the differences between rungs are stable. The ladder is also run once unpinned for comparison.
    """
    import statistics

    argv = dd_command(count)
    result: dict[str, Any] = {
        "workload": " ".join(argv),
        "syscalls": 2 * count,
        "rounds": rounds,
        "pinned_cpu": pin,
    }
    affinity = os.sched_getaffinity(0)
    with tempfile.TemporaryDirectory(prefix="boxtrace-profile-") as tmp:
        output = Path(tmp) / "profile.jsonl"
        try:
            if pin is not None:
                os.sched_setaffinity(0, {pin})
            stops = bare_loop(argv)["stops"]
            result["stops"] = stops
            walls: dict[str, list[float]] = {key: [] for key, _ in LADDER}
            for index in range(rounds):
                for key, _ in LADDER:
                    walls[key].append(_rung(key, argv, output))
                done = ", ".join(f"{k} {v[-1]:.2f}" for k, v in walls.items())
                log(f"  profile round {index + 1}/{rounds}{' (pinned)' if pin is not None else ''}: {done}")
            result["ladder"] = [
                {
                    "key": key,
                    "label": label,
                    "walls": [round(w, 4) for w in walls[key]],
                    "median": round(statistics.median(walls[key]), 4),
                    "us_per_stop": round(statistics.median(walls[key]) / stops * 1e6, 2),
                }
                for key, label in LADDER
            ]
            result["proposals_pinned"] = proposals(argv, output, rounds, log, "pinned")
            result["instrumented"] = engine_instrumented(argv, output)
            log(f"  profile: instrumented engine {result['instrumented']['wall']} s")
            result["micro_us"] = micro(output)
        finally:
            os.sched_setaffinity(0, affinity)
        if pin is not None:
            result["proposals_unpinned"] = proposals(argv, output, rounds, log, "unpinned")
            unpinned = {key: _rung(key, argv, output) for key in ("cli", "engine", "bare", "strace")}
            result["unpinned_once"] = {key: round(value, 4) for key, value in unpinned.items()}
            log(f"  profile: unpinned once: {result['unpinned_once']}")
    return result


PROPOSAL_RUNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("engine as it is", ()),
    ("+ plain console lines", ("plain-console",)),
    ("+ emit after resume", ("emit-after-resume",)),
    ("both", ("plain-console", "emit-after-resume")),
    ("emit after resume, no console view", ("emit-after-resume",)),
)


def proposals(
    argv: list[str], output: Path, rounds: int, log: Callable[[str], None], mode: str
) -> list[dict[str, Any]]:
    """The engine with each prototype of a proposed change (bench.prototypes), interleaved."""
    import statistics

    walls: dict[str, list[float]] = {label: [] for label, _ in PROPOSAL_RUNS}
    for index in range(rounds):
        for label, names in PROPOSAL_RUNS:
            console = not label.endswith("no console view")
            walls[label].append(engine_variant(argv, output, prototypes=names, console=console))
        log(
            f"  proposals round {index + 1}/{rounds} ({mode}): "
            + ", ".join(f"{v[-1]:.2f}" for v in walls.values())
        )
    base = walls[PROPOSAL_RUNS[0][0]]
    rows = []
    for label, names in PROPOSAL_RUNS:
        ratios = [a / b for a, b in zip(walls[label], base, strict=True)]
        rows.append(
            {
                "label": label,
                "prototypes": list(names),
                "walls": [round(w, 4) for w in walls[label]],
                "median": round(statistics.median(walls[label]), 4),
                "ratio_to_engine": round(statistics.median(ratios), 3),
            }
        )
    return rows


def render_markdown(result: dict[str, Any]) -> str:
    stops = result["stops"]
    ladder = {row["key"]: row for row in result["ladder"]}
    lines = [
        f"Workload: `{result['workload']}`: {result['syscalls']} syscalls, {stops} ptrace stops when every "
        f"syscall stops; medians of {result['rounds']} interleaved rounds"
        + (
            f", everything pinned to CPU {result['pinned_cpu']}."
            if result.get("pinned_cpu") is not None
            else "."
        ),
        "",
        "| run | median s | us per stop | step cost, us per stop |",
        "|---|---:|---:|---:|",
    ]
    keys = [key for key, _ in LADDER]
    for i, key in enumerate(keys):
        row = ladder[key]
        step = ""
        if (
            key not in ("strace", "untraced")
            and i + 1 < len(keys)
            and keys[i + 1] not in ("strace", "untraced")
        ):
            step = f"{(row['median'] - ladder[keys[i + 1]]['median']) / stops * 1e6:.1f}"
        lines.append(f"| {row['label']} | {row['median']:.3f} | {row['us_per_stop']:.1f} | {step} |")
    if result.get("unpinned_once"):
        once = result["unpinned_once"]
        lines += [
            "",
            "The same runs once without pinning (tracer and tracee free to sit on different CPUs): "
            + ", ".join(
                f"{key} {value:.3f} s ({value / stops * 1e6:.0f} us a stop)" for key, value in once.items()
            )
            + ".",
        ]
    if result.get("proposals_pinned"):
        lines += [
            "",
            "The proposed changes, prototyped by patching this process (bench/prototypes.py), interleaved; "
            "× is the paired median ratio to the engine as it is:",
            "",
            "| engine variant | pinned s | us per stop | × | unpinned s | us per stop | × |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        unpinned = {row["label"]: row for row in result.get("proposals_unpinned", [])}
        for row in result["proposals_pinned"]:
            other = unpinned.get(row["label"])
            cells = [
                row["label"],
                f"{row['median']:.3f}",
                f"{row['median'] / stops * 1e6:.1f}",
                f"{row['ratio_to_engine']:.2f}",
            ]
            if other:
                cells += [
                    f"{other['median']:.3f}",
                    f"{other['median'] / stops * 1e6:.1f}",
                    f"{other['ratio_to_engine']:.2f}",
                ]
            else:
                cells += ["", "", ""]
            lines.append("| " + " | ".join(cells) + " |")
    inst = result["instrumented"]
    lines += [
        "",
        f"The engine with a timer around every step ({inst['wall']:.3f} s, "
        f"{inst['wall'] / stops * 1e6:.1f} us a stop; the timers and the extra work per stop also slow the "
        "tracee's wake-ups, so read the shares, not the sums):",
        "",
        "| step | s | us per stop | share |",
        "|---|---:|---:|---:|",
    ]
    for row in inst["rows"]:
        lines.append(
            f"| {row['step']} | {row['seconds']:.3f} | {row['us_per_stop']:.1f} | {row['share']:.1%} |"
        )
    lines += ["", "Single steps, microseconds per call:", "", "| step | us |", "|---|---:|"]
    for key, value in result["micro_us"].items():
        lines.append(f"| {key} | {value:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_engine", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="dd blocks (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default %(default)s)")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="boxtrace-pycache-") as cache:
        use_bytecode_cache(cache)
        run_timed([sys.executable, "-m", "boxtrace", "run", "-o", os.devnull, "--", "true"], timeout=120)
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    result = profile(args.count, args.rounds, log=lambda text: print(text, file=sys.stderr))
    print(render_markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
