"""Damaged strace logs: the importer writes a complete recording or says in one sentence why it cannot.

Base inputs are real `strace -f` logs made here (the syscall zoo with -tt -yy -s 4096: structs, arrays, -yy
annotations; a threaded exec written to strace's stderr: `[pid N]` prefixes, `strace: Process N attached` cutting
lines in two, `superseded by execve`). hypothesis takes a window of a few hundred lines and damages it: lines cut
short, bytes flipped, lines swapped, dropped, duplicated, garbage or random bytes inserted. For each damaged log
`import_strace` either raises StraceImportError with a one-line message, or returns a report whose recording loads
complete, without warnings, with the counts the report gives; nothing else may escape (a TypeError from a `\\8`
escape in a -yy annotation once did).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.prereqs import require
from tracer.events import ProcessStarted, Syscall
from tracer.recording import load_recording
from tracer.strace_import import StraceImportError, import_strace

PROGRAMS = Path(__file__).parent / "programs"
EXAMPLES = int(os.environ.get("BOXTRACE_FUZZ_EXAMPLES", "60"))
#: Replayed the same way every run (no database, derandomized), so a failure reproduces.
SETTINGS = dict(deadline=None, derandomize=True, database=None, max_examples=EXAMPLES,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
WINDOW = 300
DAMAGE_KINDS = ("cut", "flip", "swap", "drop", "duplicate", "garbage", "random")
GARBAGE = (b"<... resumed>", b"+++ exited with +++", b"--- SIG", b'"\\', b"</a\\8>", b"{", b"[", b"(", b"0x",
           b"strace: Process 12 attached", b"= ", b"<unfinished ...>", b"\xff\xfe", b"\0", b"/* 3 vars */")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    require(os.geteuid() == 0, "the syscall zoo makes namespaces (root)")
    require(shutil.which("strace"), "strace is not installed (sudo apt-get install strace)")
    workdir = tmp_path_factory.mktemp("strace-fuzz")
    (workdir / "zoo").mkdir()
    zoo = workdir / "zoo.log"
    subprocess.run(["strace", "-f", "-tt", "-yy", "-s", "4096", "-o", str(zoo), sys.executable,
                    str(PROGRAMS / "syscall_zoo.py"), str(workdir / "zoo")], stdout=subprocess.DEVNULL, timeout=120,
                   check=True)
    threads = workdir / "threads.log"
    with open(threads, "wb") as out:
        subprocess.run(["strace", "-f", "-tt", sys.executable, str(PROGRAMS / "thread_exec.py"), "marker"],
                       stderr=out, stdout=subprocess.DEVNULL, timeout=120, check=True)
    return {path.stem: path.read_bytes().splitlines(keepends=True) for path in (zoo, threads)}


def damaged(lines: list[bytes], kind: str, start: int, seed: int) -> bytes:
    rng = random.Random(seed)
    window = list(lines[start : start + WINDOW])
    for _ in range(rng.randint(1, 8)):
        if not window:
            break
        at = rng.randrange(len(window))
        line = window[at]
        if kind == "cut":
            window[at] = line[: rng.randrange(len(line) + 1)] + b"\n"
        elif kind == "flip" and line:
            spot = rng.randrange(len(line))
            window[at] = line[:spot] + bytes([line[spot] ^ (1 << rng.randrange(8))]) + line[spot + 1 :]
        elif kind == "swap":
            other = rng.randrange(len(window))
            window[at], window[other] = window[other], window[at]
        elif kind == "drop":
            del window[at]
        elif kind == "duplicate":
            window.insert(at, line)
        elif kind == "garbage" and line:
            spot = rng.randrange(len(line))
            window[at] = line[:spot] + rng.choice(GARBAGE) + line[spot:]
        elif kind == "random":
            window.insert(at, rng.randbytes(rng.randint(0, 200)) + b"\n")
    return b"".join(window)


def check_import(data: bytes, workdir: Path) -> None:
    log, out = workdir / "damaged.log", workdir / "damaged.jsonl"
    log.write_bytes(data)
    try:
        report = import_strace(log, out)
    except StraceImportError as error:
        message = str(error)
        assert message and "\n" not in message and str(log) in message, repr(message)
        return
    recording = load_recording(out)
    assert recording.complete and not recording.warnings, recording.warnings
    assert recording.header.mode == "import"
    assert report.events == len(recording.events) + 1  # (the header is not in .events)
    assert report.processes == sum(isinstance(e, ProcessStarted) for e in recording.events)
    assert report.syscalls == sum(isinstance(e, Syscall) for e in recording.events)
    assert report.malformed >= len(report.problems)
    assert recording.end is not None and recording.end.processes == report.processes


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.parametrize("kind", DAMAGE_KINDS)
@pytest.mark.parametrize("base", ["zoo", "threads"])
def test_damaged_strace_logs(base: str, kind: str, logs: dict[str, list[bytes]],
                             tmp_path_factory: pytest.TempPathFactory) -> None:
    workdir = tmp_path_factory.mktemp(f"{base}-{kind}")
    lines = logs[base]

    @settings(**SETTINGS)
    @given(start=st.integers(0, max(0, len(lines) - WINDOW)), seed=st.integers(0, 2**32 - 1))
    def run(start: int, seed: int) -> None:
        check_import(damaged(lines, kind, start, seed), workdir)

    run()


@pytest.mark.root
def test_the_bases_import_cleanly(logs: dict[str, list[bytes]], tmp_path: Path) -> None:
    """Undamaged, the bases have no malformed line (so what the damage tests see is the damage's doing)."""
    for name, lines in logs.items():
        log = tmp_path / f"{name}.log"
        log.write_bytes(b"".join(lines))
        report = import_strace(log, tmp_path / f"{name}.jsonl")
        assert report.malformed == 0 and report.undecoded == 0, (name, report.problems)
