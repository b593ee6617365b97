"""Timing primitives: run one command with a deadline, interleave configurations, summarise paired samples.

Every child runs in a session of its own, so a deadline (or a left-over grandchild) is dealt with by
signalling that one process group, never by name. Wall time is measured around fork and wait4 with
perf_counter; peak memory needs a wrapper (see `run_timed`'s measure_rss).
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any


class BenchError(RuntimeError):
    """A measurement that could not be taken; the message says which command and why."""


@dataclass
class Sample:
    """One timed run."""

    wall: float
    rc: int
    maxrss_kb: int = 0
    timed_out: bool = False
    #: Facts read after the run (events recorded, in-trace time, ...).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"wall": round(self.wall, 6), "rc": self.rc, "maxrss_kb": self.maxrss_kb}
        if self.timed_out:
            data["timed_out"] = True
        data.update(self.extra)
        return data


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> bool:
    """Signal the process group we created for a child (its pid). False when the group is already empty."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def run_timed(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    stdout: int | IO[Any] | None = subprocess.DEVNULL,
    stderr: int | IO[Any] | None = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
    measure_rss: bool = False,
) -> Sample:
    """Run `argv` to completion and time it; kill its process group after `timeout` seconds.

    `measure_rss`: report the command's own peak RSS. wait4's ru_maxrss cannot: a child created by fork (or
    vfork) keeps, across exec, the high-water mark of the address space it started from, i.e. this harness's.
    So the command runs under GNU time (or bench.rss), which forks it from a small process and reports its
    ru_maxrss.
    """
    rss_file: str | None = None
    if measure_rss:
        handle, rss_file = tempfile.mkstemp(prefix="boxtrace-bench-rss-")
        os.close(handle)
        argv = [*rss_wrapper(rss_file), *argv]
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
    except OSError as error:
        raise BenchError(f"cannot start {argv[0]}: {error}") from None
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        kill_group(proc.pid)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        while True:
            try:
                _, status, usage = os.wait4(proc.pid, 0)
                break
            except InterruptedError:
                continue
        wall = time.perf_counter() - start
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Anything the child left running in its session (a daemonised grandchild) is ours to end.
    kill_group(proc.pid)
    maxrss = int(usage.ru_maxrss)
    if rss_file is not None:
        maxrss = _read_rss(rss_file)
    return Sample(wall=wall, rc=proc.returncode, maxrss_kb=maxrss, timed_out=timed_out.is_set())


GNU_TIME = "/usr/bin/time"


def rss_wrapper(output: str) -> list[str]:
    if os.access(GNU_TIME, os.X_OK):
        return [GNU_TIME, "-f", "%M", "-o", output]
    return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "rss.py"), output]


def _read_rss(path: str) -> int:
    try:
        with open(path) as handle:
            lines = handle.read().split()
        return int(lines[-1]) if lines else 0
    except (OSError, ValueError):
        return 0
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


RunOne = Callable[[str, int], Sample]


def interleave(
    keys: Sequence[str], rounds: int, run_one: RunOne, progress: Callable[[str], None] | None = None
) -> dict[str, list[Sample]]:
    """Run every configuration once per round, in the same order each round (A B C A B C ...)."""
    samples: dict[str, list[Sample]] = {key: [] for key in keys}
    for index in range(rounds):
        for key in keys:
            sample = run_one(key, index)
            samples[key].append(sample)
            if progress is not None:
                flag = " TIMEOUT" if sample.timed_out else (f" rc={sample.rc}" if sample.rc else "")
                progress(f"  round {index + 1}/{rounds} {key}: {sample.wall:.3f} s{flag}")
    return samples


def median(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired_ratio(
    numerator: Sequence[Sample],
    denominator: Sequence[Sample],
    value: Callable[[Sample], float | None] = lambda s: s.wall,
) -> float | None:
    """Median of the per-round ratios numerator[i] / denominator[i] (each pair measured in the same round)."""
    ratios = []
    for a, b in zip(numerator, denominator, strict=False):
        va, vb = value(a), value(b)
        # A run that failed (or timed out) measured something else than the work: its pair is left out.
        if va is None or vb is None or vb <= 0 or a.timed_out or b.timed_out or a.rc != 0 or b.rc != 0:
            continue
        ratios.append(va / vb)
    return statistics.median(ratios) if ratios else None


def spread(values: Sequence[float]) -> tuple[float, float] | None:
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else None


def use_bytecode_cache(cache_dir: os.PathLike[str] | str) -> None:
    """Let child interpreters cache bytecode in `cache_dir` (outside the repository).

    An environment with PYTHONDONTWRITEBYTECODE=1 makes every `boxtrace` start compile its modules from source
    (about 0.1 s here); an installed boxtrace has its bytecode cached, so that is what is measured.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache_dir)


@contextlib.contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    """Replace `target.name` with `value` for the duration (the profiler's variants and bench.prototypes)."""
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)
