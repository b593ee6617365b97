"""Broken recordings: the loader and every reader answer with one clear error or a warning and a partial result.

Base inputs are real recordings of the unshare and runc scenarios (made by the `scenario_recording` fixture), then
damaged by hypothesis: cut short, bytes flipped, lines swapped, fields given the wrong type, garbage lines added,
or replaced by random bytes. For each damaged file:
- `load_recording` returns a Recording (possibly with warnings) or raises RecordingError with a one-line message
  naming the file; nothing else may escape;
- `boxtrace show` and `boxtrace export` (run in-process through `boxtrace.cli.main`, so no interpreter start per
  example) exit 0, or exit 1 with one `boxtrace: ...` line that is not "unexpected error";
- `boxtrace tui` and the Python API: what they build from a loaded recording (the TUI's model, walkthrough and
  details renderings; the API's graph model, milestones and insights) raises nothing (`check_library`).
Memory: `boxtrace show` of a 100 MB garbage file, of a single 100 MB line and of /dev/zero stays within a fixed
bound (ru_maxrss of the child process), because the loader refuses lines longer than MAX_LINE_BYTES.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios import lesson_for
from tracer.events import Event, Header
from tracer.recording import MAX_LINE_BYTES, Recording, RecordingError, load_recording

BASE_SCENARIOS = ("unshare", "runc")
#: Examples per mutation kind for the loader (fast) and for the CLI readers (slower: rendering).
LOADER_EXAMPLES = int(os.environ.get("BOXTRACE_FUZZ_EXAMPLES", "60"))
READER_EXAMPLES = LOADER_EXAMPLES
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
#: The reader tests replay the same examples every run (no database, derandomized), so a failure reproduces.
READER_SETTINGS = settings(SETTINGS, derandomize=True, database=None)
#: The readers' exports that need no Graphviz renderer (svg/png/pdf only add `dot -T` on the same source).
EXPORTS = (("architecture", "dot"), ("tree", "dot"), ("sequence", "mmd"), ("timeline", "json"))
#: How a recording is damaged (see `damaged`).
DAMAGE_KINDS = ("truncate", "flip", "swap", "retype", "insert", "drop", "random", "duplicate")
#: Examples tried, by kind, for docs/reliability.md (printed at the end with -s).
TRIED: dict[str, int] = {}


@pytest.fixture(scope="module")
def bases(scenario_recording: Callable[[str], Path]) -> dict[str, bytes]:
    return {name: scenario_recording(name).read_bytes() for name in BASE_SCENARIOS}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _count(kind: str) -> None:
    TRIED[kind] = TRIED.get(kind, 0) + 1


def check_loader(data: bytes, path: Path) -> Recording | None:
    """Load `data` from `path`; the only allowed outcomes are a Recording or a one-line RecordingError."""
    path.write_bytes(data)
    try:
        recording = load_recording(path)
    except RecordingError as error:
        message = str(error)
        assert message and "\n" not in message, repr(message)
        assert str(path) in message, "the error names the file"
        assert len(message) < 500
        return None
    assert isinstance(recording.header, Header)
    assert all(isinstance(e, Event) for e in recording.events)
    assert all(isinstance(w, str) and "\n" not in w for w in recording.warnings)
    return recording


def run_main(*args: str) -> tuple[int, str, str]:
    """`boxtrace ARGS` in this process: exit code, stdout, stderr."""
    from boxtrace.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def check_readers(path: Path, workdir: Path, loadable: bool) -> None:
    commands = [["show", str(path)], ["show", "--json", str(path)]]
    commands += [["export", str(path), "--view", view, "--format", fmt, "-o", str(workdir / f"out.{fmt}")]
                 for view, fmt in EXPORTS]
    for args in commands:
        code, _, err = run_main(*args)
        lines = err.strip().splitlines()
        assert "Traceback" not in err
        assert not any("unexpected error" in line for line in lines), (args, err)
        if code == 0:
            assert loadable, (args, "a file the loader refuses was accepted")
            assert all(line.startswith("boxtrace: warning: ") for line in lines), (args, err)
        else:
            assert code == 1, (args, code, err)
            assert len(lines) == 1 and lines[0].startswith("boxtrace: "), (args, err)
    if loadable:
        check_library(load_recording(path))


def check_library(recording: Recording) -> None:
    """What the TUI and the Python API build from a loaded (possibly damaged) recording: no exception escapes.

    The TUI's screens are views of these (the model, the walkthrough, the details renderings); the notebooks use
    the API functions. Nothing is drawn on a terminal here."""
    from rich.console import Console

    from boxtrace import api
    from viz.tui.model import TuiModel
    from viz.tui.walkthrough import build_walkthrough
    from viz.tui.widgets.details import render_event_details, render_process_details

    events = [recording.header, *recording.events]
    model = TuiModel(events)
    build_walkthrough(events, lesson_for(recording.header.scenario))
    console = Console(file=io.StringIO(), width=100)
    for event in events[:20] + events[-20:]:
        console.print(render_event_details(model, event))
    for proc in list(model.table.processes.values())[:20]:
        console.print(render_process_details(model, proc))
    api.model(recording)
    api.insights(recording)
    if recording.header.scenario is not None:
        try:
            api.milestones(recording)
        except (KeyError, ValueError) as error:  # the API's documented answer to an unknown scenario name
            assert "\n" not in str(error)


# Mutations ----------------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


@st.composite
def damaged(draw: st.DrawFn, base: bytes) -> tuple[str, bytes]:
    """One damaged copy of `base` and the name of the damage."""
    lines = base.split(b"\n")
    kind = draw(st.sampled_from(DAMAGE_KINDS))
    if kind == "truncate":
        return kind, base[: draw(st.integers(0, len(base)))]
    if kind == "flip":
        data = bytearray(base)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return kind, bytes(data)
    if kind == "swap":
        for _ in range(draw(st.integers(1, 5))):
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        return kind, b"\n".join(lines)
    if kind == "retype":
        index = draw(st.integers(0, len(lines) - 2))
        try:
            obj = json.loads(lines[index])
        except ValueError:
            return kind, base
        key = draw(st.sampled_from(sorted(obj)))
        obj[key] = draw(JSON_VALUES)
        lines[index] = json.dumps(obj).encode()
        return kind, b"\n".join(lines)
    if kind == "insert":
        index = draw(st.integers(0, len(lines)))
        garbage = draw(st.binary(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
        lines.insert(index, garbage.replace(b"\n", b" "))
        return kind, b"\n".join(lines)
    if kind == "drop":
        del lines[draw(st.integers(0, len(lines) - 1))]
        return kind, b"\n".join(lines)
    if kind == "duplicate":
        index = draw(st.integers(0, len(lines) - 1))
        lines.insert(draw(st.integers(0, len(lines))), lines[index])
        return kind, b"\n".join(lines)
    return kind, draw(st.binary(max_size=4096))


@pytest.mark.root
@pytest.mark.parametrize("scenario", BASE_SCENARIOS)
def test_loader_on_damaged_recordings(scenario: str, bases: dict[str, bytes], workdir: Path) -> None:
    base = bases[scenario]
    assert check_loader(base, workdir / "base.jsonl") is not None, "the undamaged recording loads"

    @settings(SETTINGS, max_examples=LOADER_EXAMPLES * 4)
    @given(case=damaged(base))
    def run(case: tuple[str, bytes]) -> None:
        kind, data = case
        _count(f"loader/{kind}")
        check_loader(data, workdir / f"{scenario}-damaged.jsonl")

    run()


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.parametrize("scenario", BASE_SCENARIOS)
def test_readers_on_damaged_recordings(scenario: str, bases: dict[str, bytes], workdir: Path) -> None:
    base = bases[scenario]

    @settings(READER_SETTINGS, max_examples=READER_EXAMPLES * 2)
    @given(case=damaged(base))
    def run(case: tuple[str, bytes]) -> None:
        kind, data = case
        _count(f"readers/{kind}")
        path = workdir / f"{scenario}-readers.jsonl"
        recording = check_loader(data, path)
        check_readers(path, workdir, loadable=recording is not None)

    run()


@settings(SETTINGS, max_examples=LOADER_EXAMPLES)
@given(data=st.binary(max_size=8192))
def test_loader_on_random_bytes(data: bytes, tmp_path: Path) -> None:
    _count("loader/random-bytes")
    check_loader(data, tmp_path / "random.bin")


@settings(SETTINGS, max_examples=LOADER_EXAMPLES)
@given(values=st.lists(JSON_VALUES, max_size=6), header_first=st.booleans())
def test_loader_on_json_that_is_not_a_recording(values: list, header_first: bool, tmp_path: Path) -> None:
    _count("loader/json-lines")
    header = {"type": "header", "seq": 0, "t": 0.0, "schema": 1}
    lines = ([json.dumps(header)] if header_first else []) + [json.dumps(v) for v in values]
    check_loader(("\n".join(lines) + "\n").encode(), tmp_path / "lines.jsonl")


@settings(READER_SETTINGS, max_examples=LOADER_EXAMPLES)
@given(
    kind=st.sampled_from(sorted({"process", "thread", "exec", "syscall", "namespace", "signal", "ipc", "mounts",
                                 "notice", "exit", "end"})),
    fields=st.dictionaries(
        st.sampled_from(["seq", "t", "pid", "tid", "ppid", "creator", "argv", "env", "args", "ns", "nspid",
                         "flags", "name", "path", "signal", "code", "mountinfo", "message", "level", "ret",
                         "error", "notes", "threads", "old", "new", "kind", "events", "exit_code", "status"]),
        JSON_VALUES,
        max_size=6,
    ),
)
def test_readers_on_events_with_wrong_field_types(kind: str, fields: dict, tmp_path: Path) -> None:
    """One event of every kind with fields of random types: loaded and shown, or refused in one line."""
    _count("readers/event-fields")
    header = {"type": "header", "seq": 0, "t": 0.0, "schema": 1, "mode": "launch", "command": ["sh"]}
    process = {"type": "process", "seq": 1, "t": 0.0, "pid": 10, "ppid": 1, "via": "launch", "argv": ["sh"]}
    event = {"type": kind, "seq": 2, "t": 0.1, "pid": 10, **fields}
    end = {"type": "end", "seq": 3, "t": 0.2, "events": 4, "processes": 1, "exit_code": 0, "status": "completed"}
    path = tmp_path / "fields.jsonl"
    data = "\n".join(json.dumps(x) for x in (header, process, event, end)) + "\n"
    recording = check_loader(data.encode(), path)
    check_readers(path, tmp_path, loadable=recording is not None)


# The causes of the reader failures, one small reproduction each ------------------------------------------------

HEADER = {"type": "header", "seq": 0, "t": 0.0, "schema": 1, "mode": "launch", "command": ["sh"]}
LAUNCHED = {"type": "process", "seq": 1, "t": 0.0, "pid": 10, "ppid": 1, "via": "launch", "argv": ["sh"]}
END = {"type": "end", "seq": 9, "t": 0.2, "events": 4, "processes": 1, "exit_code": 0, "status": "completed"}


def _write(tmp_path: Path, *events: dict) -> Path:
    path = tmp_path / "case.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


@pytest.mark.parametrize("event", [
    {"type": "exit", "seq": 2, "t": 0.1, "pid": 10, "code": "x"},
    {"type": "exec", "seq": 2, "t": 0.1, "pid": 10, "path": "/bin/sh", "argv": [1, 2]},
    {"type": "process", "seq": 2, "t": 0.1, "pid": 11, "ppid": 10, "creator": "10", "via": "fork"},
    {"type": "syscall", "seq": 2, "t": 0.1, "pid": 10, "tid": 10, "name": "mount", "ret": "0"},
    {"type": "exec", "seq": 2, "t": 0.1, "pid": 10, "path": "/bin/sh", "argv": ["sh"], "comm": 7},
], ids=["exit code", "argv items", "creator", "ret", "comm"])
def test_wrong_field_types_are_refused(event: dict, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER, LAUNCHED, event, END)
    with pytest.raises(RecordingError, match="line 3"):
        load_recording(path)


def test_lines_out_of_order_are_refused_or_handled(tmp_path: Path) -> None:
    child = {"type": "process", "seq": 2, "t": 0.1, "pid": 11, "ppid": 10, "creator": 10, "via": "fork"}
    path = _write(tmp_path, HEADER, child, LAUNCHED, END)  # the child before its parent
    try:
        load_recording(path)
    except RecordingError:
        return
    check_readers(path, tmp_path, loadable=True)


def test_connection_to_a_server_outside_the_trace(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER, LAUNCHED, {"type": "ipc", "seq": 2, "t": 0.1, "pid": 10}, END)
    check_readers(path, tmp_path, loadable=check_loader(path.read_bytes(), path) is not None)


def test_loader_edge_files(tmp_path: Path) -> None:
    directory = tmp_path / "dir"
    directory.mkdir()
    other = tmp_path / "package.json"
    other.write_text(json.dumps({"name": "x", "dependencies": {}}))
    for path in (directory, tmp_path / "missing.jsonl", other):
        with pytest.raises(RecordingError) as error:
            load_recording(path)
        assert str(path) in str(error.value) and "\n" not in str(error.value)
    assert check_loader(b"", tmp_path / "empty.jsonl") is None
    assert check_loader(b"\n\n\n", tmp_path / "blank.jsonl") is None


def test_oversized_line_is_refused_not_loaded(tmp_path: Path) -> None:
    header = json.dumps({"type": "header", "seq": 0, "t": 0.0, "schema": 1}).encode()
    huge = b'{"type":"notice","seq":1,"t":0.1,"message":"' + b"a" * (MAX_LINE_BYTES + 10) + b'"}'
    path = tmp_path / "huge.jsonl"
    path.write_bytes(header + b"\n" + huge + b"\n")
    with pytest.raises(RecordingError, match="longer than"):
        load_recording(path)
    # Just under the limit is a (strange but valid) event.
    fits = b'{"type":"notice","seq":1,"t":0.1,"message":"' + b"a" * (MAX_LINE_BYTES - 100) + b'"}'
    path.write_bytes(header + b"\n" + fits + b"\n")
    assert len(load_recording(path).events) == 1


# Memory -------------------------------------------------------------------------------------------------------

#: What `boxtrace show` may use on garbage: the interpreter (about 15 MB here) plus a few copies of the one line the
#: loader reads (MAX_LINE_BYTES, 8 MiB); measured 19-31 MB. A loader that read the whole file would need 100 MB+.
MAX_RSS_MB = 80


#: Runs `boxtrace ARGS` and, at exit, writes its peak resident size (VmHWM: this process's own address space, not
#: the forked test process's, which ru_maxrss of a child would include).
_MEASURE = """
import atexit, sys
target = sys.argv[1]
def report():
    status = open('/proc/self/status').read()
    peak = next(line.split()[1] for line in status.splitlines() if line.startswith('VmHWM:'))
    open(target, 'w').write(peak)
atexit.register(report)
from boxtrace.cli import main
sys.argv = ['boxtrace', *sys.argv[2:]]
sys.exit(main())
"""


def _max_rss_mb(args: list[str], tmp_path: Path) -> tuple[int, float, str]:
    peak = tmp_path / "peak-kb"
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(peak), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, timeout=120)
    return result.returncode, int(peak.read_text()) / 1024, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["random bytes", "one huge line", "header then a huge line", "/dev/zero"])
def test_memory_stays_bounded(shape: str, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    size = 100 * 1024 * 1024
    header = json.dumps({"type": "header", "seq": 0, "t": 0.0, "schema": 1}).encode() + b"\n"
    if shape == "/dev/zero":
        path = Path("/dev/zero")
    else:
        with open(path, "wb") as out:
            if shape == "random bytes":
                rng = random.Random(1)
                for _ in range(size // (1 << 20)):
                    out.write(rng.randbytes(1 << 20))
            else:
                if shape == "header then a huge line":
                    out.write(header)
                out.write(b'{"type":"header","seq":0,"t":0,"schema":1,"command":["')
                chunk = b"a" * (1 << 20)
                for _ in range(size // len(chunk)):
                    out.write(chunk)
    baseline_code, baseline_mb, _ = _max_rss_mb(["scenarios", "--help"], tmp_path)
    assert baseline_code == 0
    code, rss_mb, err = _max_rss_mb(["show", str(path)], tmp_path)
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and "unexpected error" not in err, err
    print(f"\n{shape}: peak {rss_mb:.0f} MB (interpreter alone: {baseline_mb:.0f} MB)")
    assert rss_mb < MAX_RSS_MB, f"{shape}: {rss_mb:.0f} MB (interpreter alone: {baseline_mb:.0f} MB)"


def test_report_examples_tried() -> None:
    """Every kind of damage was really tried on the loader (the counts, printed with -s, go to
    docs/reliability.md). Runs last in this module; alone (-k) it has nothing to look at."""
    if any(key.startswith("loader/") for key in TRIED):
        untried = [kind for kind in DAMAGE_KINDS if not TRIED.get(f"loader/{kind}")]
        assert not untried, f"damage kinds never generated: {untried}"
    if TRIED:
        print("\nfuzzed recordings: " + ", ".join(f"{k}={v}" for k, v in sorted(TRIED.items())) +
              f"; total {sum(TRIED.values())}")
