"""`boxtrace import-strace`: strace logs made here, by running strace on the scenarios and on test programs.

The strongest check is the syscall zoo (tests/programs/syscall_zoo.py): the same program traced by boxtrace and
by strace gives the same calls with the same decoded `args`, because the importer feeds boxtrace's own decoders.
Then the scenarios: an imported unshare or runc log shows the same milestones as boxtrace's own trace of the same
scenario, the unshare(2) with its five CLONE_NEW* flags, pivot_root, sethostname, and one process and one exit
event per process of the log. Malformed lines are counted, never fatal. An import opens in the TUI and exports
like any recording. The parser's small pieces are checked on their own at the end (no root needed). Redaction of
secrets in imports is checked in tests/test_secrets.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios import lesson_for
from tests.prereqs import require
from tracer.events import Exec, Exit, Header, NamespaceChange, ProcessStarted, Signal, Syscall, ThreadStarted
from tracer.recording import Recording, load_recording
from tracer.strace_import import StraceImportError, import_strace
from tracer.strace_lexer import int_of, link_of, parse_line, return_value, split_top, string_literal

PROGRAMS = Path(__file__).parent / "programs"
BOXTRACE = [sys.executable, "-m", "boxtrace"]
FIVE_NEW = {"CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWPID"}


@pytest.fixture
def strace() -> Callable[..., Path]:
    """`strace(log, *options, command=[...], cwd=None) -> log`: run strace for real."""
    import os

    require(os.geteuid() == 0, "the traced programs make namespaces (root)")
    require(shutil.which("strace"), "strace is not installed (sudo apt-get install strace)")

    def run(log: Path, *options: str, command: list[str], cwd: str | None = None, stderr_log: bool = False) -> Path:
        if stderr_log:  # no -o: strace writes "[pid N] ..." lines to its stderr
            with open(log, "wb") as out:
                subprocess.run(["strace", *options, *command], stderr=out, stdout=subprocess.DEVNULL, cwd=cwd,
                               timeout=120, check=True)
        else:
            subprocess.run(["strace", *options, "-o", str(log), *command], stdout=subprocess.DEVNULL, cwd=cwd,
                           timeout=120, check=True)
        return log

    return run


def imported(log: Path, tmp_path: Path) -> tuple[Recording, object]:
    out = tmp_path / (log.stem + ".jsonl")
    report = import_strace(log, out)
    recording = load_recording(out)
    assert recording.complete and not recording.warnings
    assert recording.header.mode == "import"
    return recording, report


def syscalls(recording: Recording, name: str) -> list[Syscall]:
    return [e for e in recording.events if isinstance(e, Syscall) and e.name == name]


def processes_in_log(text: str) -> int:
    """How many processes (not threads) a `strace -f` log shows: the first pid plus every fork/vfork/clone
    without CLONE_THREAD that returned a pid. Independent of the importer on purpose."""
    count, threads_in_flight = 0, {}  # pid -> whether the clone in flight makes a thread
    text = re.sub(r"strace: Process \d+ \w+\n", "", text)  # (stderr logs: strace's notes cut lines in two)
    for line in text.splitlines():
        match = re.match(r"^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:[\d:.]+\s+)?(.*)$", line)
        pid, body = match[1] or match[2] or "first", match[3]
        count = count or 1
        body = re.sub(r"\s*<\d+\.\d+>$", "", body)
        if call := re.match(r"(clone3?|fork|vfork)\((.*)$", body):
            if body.endswith("<unfinished ...>"):
                threads_in_flight[pid] = "CLONE_THREAD" in call[2]
                continue
            thread, returned = "CLONE_THREAD" in call[2], re.search(r"\) = (\d+)$", body)
        elif resumed := re.match(r"<\.\.\. (clone3?|fork|vfork) resumed>.*\) = (\d+)$", body):
            thread, returned = threads_in_flight.pop(pid, False), resumed
        else:
            continue
        if returned and not thread:
            count += 1
    return count


def assert_processes_match_log(recording: Recording, log: Path) -> None:
    started = [e for e in recording.events if isinstance(e, ProcessStarted)]
    exits = [e for e in recording.events if isinstance(e, Exit)]
    expected = processes_in_log(log.read_text(errors="replace"))
    assert len(started) == expected
    assert len(exits) == expected and {e.pid for e in exits} == {e.pid for e in started}


# The same program, traced by boxtrace and by strace --------------------------------------------------------------


def _zoo_calls(recording: Recording) -> list[tuple]:
    calls = [e for e in recording.events if isinstance(e, Syscall)]
    zoo = next(e.pid for e in calls if e.name == "chdir" and e.args.get("path") == "/zoo-begin")
    calls = [e for e in calls if e.pid == zoo]  # the forked child's exit may come before or after the clone
    begin = next(i for i, e in enumerate(calls) if e.name == "chdir" and e.args.get("path") == "/zoo-begin")
    end = next(i for i, e in enumerate(calls) if e.name == "chdir" and e.args.get("path") == "/zoo-end")
    out = []
    for call in calls[begin : end + 1]:
        args = dict(call.args)
        args.pop("env", None)  # strace prints envp as a pointer unless -v; boxtrace redacts the values
        text = re.sub(r"socket:\[\d+\]", "socket:[N]", json.dumps(args, sort_keys=True))
        ret = "pid" if call.name in ("clone", "wait4") else call.ret
        out.append((call.name, text, ret, call.error, call.category))
    return out


@pytest.mark.root
def test_zoo_imports_exactly_as_boxtrace_decodes_it(strace, tmp_path: Path) -> None:
    target = tmp_path / "zoo"
    target.mkdir()
    command = [sys.executable, str(PROGRAMS / "syscall_zoo.py"), str(target)]
    log = strace(tmp_path / "zoo.log", "-f", "-tt", "-yy", "-s", "4096", command=command)
    from tracer.session import trace_to_list

    live_file = tmp_path / "zoo-live.jsonl"
    result, _ = trace_to_list(command, output=live_file)
    assert result.exit_code == 0
    live = _zoo_calls(load_recording(live_file))
    recording, report = imported(log, tmp_path)
    assert report.malformed == 0
    from_log = _zoo_calls(recording)
    assert len(live) == len(from_log) > 30
    for live_call, log_call in zip(live, from_log, strict=True):
        assert log_call == live_call



@pytest.mark.root
def test_rlimits_import_as_boxtrace_decodes_them(strace, tmp_path: Path) -> None:
    """prlimit64 (how runc applies process.rlimits) from a log has the args of a live trace: the new limit, the
    old one the kernel wrote back, RLIM_INFINITY and strace's N*1024 spelled as numbers, a refused raise's EPERM."""
    command = [sys.executable, str(PROGRAMS / "rlimits.py")]
    log = strace(tmp_path / "rlimits.log", "-f", "-tt", command=command)
    from tracer.session import trace_to_list

    def setting(recording: Recording) -> list[tuple]:  # (Python's start-up only reads limits: new is NULL)
        calls = [e for e in recording.events if isinstance(e, Syscall) and e.name in ("prlimit64", "setrlimit")]
        return [(e.name, re.sub(r'"0x[0-9a-f]+"', '"ADDR"', json.dumps(e.args, sort_keys=True)), e.ret, e.error)
                for e in calls if e.args.get("new") is not None]

    live_file = tmp_path / "rlimits-live.jsonl"
    result, _ = trace_to_list(command, output=live_file)
    assert result.exit_code == 0
    recording, report = imported(log, tmp_path)
    assert report.undecoded == 0
    live = setting(load_recording(live_file))
    assert len(live) == 4 and live[-1][3] == "EPERM"
    assert setting(recording) == live

# The scenarios ---------------------------------------------------------------------------------------------------


def _scenario_log(name: str, strace, log: Path, *options: str) -> Path:
    from scenarios import get_scenario

    scenario = get_scenario(name)
    readiness = scenario.check()
    require(readiness.ready, f"scenario {name} is not ready: {readiness.reason}")
    scenario.prepare()
    launch = scenario.launch()
    try:
        return strace(log, *options, command=launch.command, cwd=launch.cwd)
    finally:
        scenario.cleanup()


def _milestones(name: str, recording: Recording) -> set[str]:
    from scenarios import get_scenario

    results = get_scenario(name).evaluate([recording.header, *recording.events])
    return {r.milestone.id for r in results if r.found}


@pytest.mark.root
@pytest.mark.parametrize(("name", "options"), [("unshare", ("-f", "-tt")), ("runc", ("-f", "-ttt", "-yy"))])
def test_scenario_logs(name: str, options: tuple[str, ...], strace, tmp_path: Path,
                       scenario_recording: Callable[[str], Path]) -> None:
    log = _scenario_log(name, strace, tmp_path / f"{name}.log", *options)
    recording, report = imported(log, tmp_path)
    assert report.malformed == 0
    unshares = [e for e in syscalls(recording, "unshare") if e.error is None]
    assert len(unshares) == 1 and set(unshares[0].args["flags"]) == FIVE_NEW
    assert [e.args["name"] for e in syscalls(recording, "sethostname")] == (["box"] if name == "unshare"
                                                                              else ["boxtrace"])
    if name == "runc":
        pivots = syscalls(recording, "pivot_root")
        assert [e.args for e in pivots] == [{"new_root": ".", "put_old": "."}]
        proc_mounts = [e for e in syscalls(recording, "mount") if e.args.get("fstype") == "proc"]
        assert proc_mounts and proc_mounts[0].args["target"].startswith("/proc/self/fd/")
        assert proc_mounts[0].notes["target"].endswith("/rootfs/proc"), "-yy resolves /proc/self/fd/N"
    assert_processes_match_log(recording, log)
    assert _milestones(name, recording) == _milestones(name, load_recording(scenario_recording(name)))


@pytest.mark.root
@pytest.mark.parametrize("options", [
    ("-f", "-ttt", "-yy"),
    ("-f", "-t", "-T"),
    ("-f", "-s", "16"),
    ("-f", "-tt", "-v"),
    ("-f", "-tt", "stderr"),
], ids=["ttt-yy", "t-T", "no-time-s16", "verbose-env", "pid-prefix"])
def test_strace_output_variants(options: tuple[str, ...], strace, tmp_path: Path) -> None:
    stderr_log = options[-1] == "stderr"
    options = options[:-1] if stderr_log else options
    from scenarios import get_scenario

    scenario = get_scenario("unshare")
    require(scenario.check().ready, "the unshare scenario is not ready")
    scenario.prepare()
    launch = scenario.launch()
    log = strace(tmp_path / "variant.log", *options, command=launch.command, cwd=launch.cwd, stderr_log=stderr_log)
    recording, report = imported(log, tmp_path)
    assert report.malformed == 0, report.problems
    assert {"unshare", "fork-pid1", "proc", "chroot", "hostname", "entrypoint", "exited"} <= _milestones(
        "unshare", recording)
    assert_processes_match_log(recording, log)
    execs = [e for e in recording.events if isinstance(e, Exec)]
    if "-v" in options:
        env = execs[0].env or ["missing"]
        assert all(item == "<redacted>" or item.endswith("=<redacted>") for item in env), "values never imported"
    else:
        assert execs[0].env is None, "strace showed only a pointer"
    if "-T" in options:
        assert all(e.dur is not None for e in syscalls(recording, "mount"))
    if "-s" in options:
        long_strings = [e for e in recording.events if isinstance(e, Exec) and any(a.endswith("...") for a in e.argv)]
        assert long_strings, "strings cut by -s end in '...' as in a live trace"


@pytest.mark.root
def test_threads_signals_and_kills(strace, tmp_path: Path) -> None:
    log = strace(tmp_path / "thread.log", "-f", "-tt", command=[sys.executable, str(PROGRAMS / "thread_exec.py"),
                                                                 "marker"])
    recording, _ = imported(log, tmp_path)
    exec_ = next(e for e in recording.events if isinstance(e, Exec) and e.argv == ["/bin/true", "marker"])
    launched = next(e for e in recording.events if isinstance(e, ProcessStarted))
    assert exec_.pid == launched.pid and exec_.old_tid not in (None, launched.pid)
    assert any(isinstance(e, ThreadStarted) and e.tid == exec_.old_tid for e in recording.events)
    assert_processes_match_log(recording, log)

    log = strace(tmp_path / "killed.log", "-f", "-tt", command=[sys.executable, str(PROGRAMS / "killed_in_read.py")])
    recording, _ = imported(log, tmp_path)
    assert [e.signal for e in recording.events if isinstance(e, Exit) and e.signal] == ["SIGKILL"]

    log = strace(tmp_path / "stop.log", "-f", "-tt", command=[sys.executable, str(PROGRAMS / "group_stop.py")])
    recording, _ = imported(log, tmp_path)
    signals = [e.signal for e in recording.events if isinstance(e, Signal)]
    assert signals.count("SIGSTOP (group-stop)") == 2 and "SIGCHLD" not in signals  # (strace may omit SIGCONT)



@pytest.mark.root
def test_a_child_seen_after_its_parent_exited_keeps_its_namespaces(strace, tmp_path: Path) -> None:
    """The importer remembers an exited process's namespaces: its child, whose first line comes after the parent's
    exit, starts in the parent's UTS namespace (made by unshare --uts), so its sethostname is not the host's."""
    require(shutil.which("unshare"), "util-linux unshare is needed")
    log = strace(tmp_path / "orphan.log", "-f", "-tt", command=["unshare", "--uts", sys.executable,
                                                                 str(PROGRAMS / "orphan_child.py"), "orphan"])
    lines = log.read_text().splitlines()
    parent_exit = next(i for i, line in enumerate(lines) if "+++ exited" in line)
    child = int(next(line for line in lines if "sethostname(" in line).split()[0])
    assert all(not line.startswith(f"{child} ") for line in lines[:parent_exit]), "the child shows up late"
    recording, _ = imported(log, tmp_path)
    started = {e.pid: e for e in recording.events if isinstance(e, ProcessStarted)}
    parent = started[child].creator
    assert parent is not None and started[child].ppid == parent
    assert started[child].ns["uts"] != recording.header.host_ns["uts"] == started[parent].ns["uts"]
    moved = [e.new for e in recording.events if isinstance(e, NamespaceChange) and e.pid == parent]
    assert moved == [started[child].ns["uts"]], "unshare --uts moved the parent; the child began there"
    assert [e.args["name"] for e in syscalls(recording, "sethostname")] == ["orphan"]
    assert_processes_match_log(recording, log)

@pytest.mark.root
def test_malformed_lines_are_counted_not_fatal(strace, tmp_path: Path) -> None:
    from scenarios import get_scenario

    scenario = get_scenario("unshare")
    require(scenario.check().ready, "the unshare scenario is not ready")
    scenario.prepare()
    launch = scenario.launch()
    clean = strace(tmp_path / "clean.log", "-f", "-tt", command=launch.command, cwd=launch.cwd)
    lines = clean.read_text().splitlines()
    garbage = ["\x00\x01 binary", "12345 10:00:00.000000 open(", "not strace at all", "99 10:00:00.0 = 3"]
    damaged = lines[:5] + garbage[:2] + lines[5:20] + garbage[2:] + lines[20:]
    log = tmp_path / "damaged.log"
    log.write_text("\n".join(damaged) + "\n")
    good, _ = imported(clean, tmp_path)
    bad, report = imported(log, tmp_path)
    assert report.malformed == len(garbage)
    assert [n for n, _ in report.problems] == [6, 7, 23, 24]
    assert "4 malformed lines skipped" in report.describe()
    assert report.summary()["malformed"] == 4
    strip = lambda rec: [(e.type, getattr(e, "name", None)) for e in rec.events]  # noqa: E731
    assert strip(bad) == strip(good), "the good lines import the same"


@pytest.mark.root
def test_cli(strace, tmp_path: Path) -> None:
    log = strace(tmp_path / "cli.log", "-f", "-tt", command=["sh", "-c", "true"])
    out = tmp_path / "cli.jsonl"
    result = subprocess.run([*BOXTRACE, "import-strace", str(log), "-o", str(out)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"imported {log}:") and len(result.stdout.strip().splitlines()) <= 2
    shown = subprocess.run([*BOXTRACE, "show", str(out)], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "boxtrace import" in shown.stdout


# The parser's pieces (no root) ---------------------------------------------------------------------------------


def test_not_an_strace_log(tmp_path: Path) -> None:
    for content in (b"", b"hello\nworld\n", bytes(range(256))):
        log = tmp_path / "x.log"
        log.write_bytes(content)
        with pytest.raises(StraceImportError, match="no strace lines"):
            import_strace(log, tmp_path / "x.jsonl")
    with pytest.raises(StraceImportError, match="no such file"):
        import_strace(tmp_path / "missing.log", tmp_path / "y.jsonl")


@pytest.mark.parametrize(("text", "expected"), [
    ('1, "a,b", [3, 4], {x=1, y=2}', ["1", '"a,b"', "[3, 4]", "{x=1, y=2}"]),
    ('5</a, b>, 6<UNIX-STREAM:[7->8]>, 1<<CAP_KILL|1<<CAP_CHOWN', ["5</a, b>", "6<UNIX-STREAM:[7->8]>",
                                                                   "1<<CAP_KILL|1<<CAP_CHOWN"]),
    ('0x7ffd /* 35 vars */, "x\\"y"...', ["0x7ffd /* 35 vars */", '"x\\"y"...']),
    ("{flags=CLONE_VM, exit_signal=SIGCHLD} => {parent_tid=[12]}, 88",
     ["{flags=CLONE_VM, exit_signal=SIGCHLD} => {parent_tid=[12]}", "88"]),
    ("", []),
])
def test_split_top(text: str, expected: list[str]) -> None:
    assert split_top(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ('"box"', (b"box", False)),
    ('"a\\nb\\t\\"c\\\\"', (b'a\nb\t"c\\', False)),
    ('"\\377\\0\\x41"', (b"\xff\x00A", False)),
    ('"newinstance,ptmx"...', (b"newinstance,ptmx", True)),
    ("NULL", None),
    ("0x1234", None),
])
def test_string_literal(text: str, expected) -> None:
    assert string_literal(text) == expected


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), ("-1", -1), ("0x1f", 31), ("0755", 0o755),
                                             ("022", 0o22), ("12 /* comment */", 12)])
def test_int_of(text: str, value: int) -> None:
    assert int_of(text) == value


@pytest.mark.parametrize(("text", "expected"), [
    ("0", (0, None, None)),
    ("-1 ENOENT (No such file or directory)", (-2, "ENOENT", None)),
    ("? ERESTARTSYS (To be restarted if SA_RESTART is set)", (None, "ERESTARTSYS", None)),
    ("3</etc/passwd>", (3, None, None)),
    ("0x7f0000 <0.000012>", (0x7F0000, None, 0.000012)),
    ("022", (0o22, None, None)),
    ("? <unavailable>", (None, None, None)),
])
def testreturn_value(text: str, expected) -> None:
    assert return_value(text) == expected


@pytest.mark.parametrize(("annotation", "link"), [
    ("/dev/null<char 1:3>", "/dev/null"),
    ("UNIX-STREAM:[40084->40085]", "socket:[40084]"),
    ('UNIX-STREAM:[1,"/run/x.sock"]', "socket:[1]"),
    ("net:[4026531840]", "net:[4026531840]"),
    ("pipe:[123]", "pipe:[123]"),
    ("/tmp/a\\x20b", "/tmp/a b"),
])
def test_link_of(annotation: str, link: str) -> None:
    assert link_of(annotation) == link


@pytest.mark.parametrize(("line", "kind", "pid", "name"), [
    ('123 10:00:00.000001 execve("/bin/true", ["true"], 0x7ffd /* 1 var */) = 0', "call", 123, "execve"),
    ("[pid   77] 1700000000.123456 wait4(-1,  <unfinished ...>", "unfinished", 77, "wait4"),
    ("77 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 78", "resumed", 77, "wait4"),
    ("78 +++ exited with 0 +++", "exited", 78, ""),
    ("78 +++ killed by SIGSEGV (core dumped) +++", "killed", 78, ""),
    ("78 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---", "signal", 78, ""),
    ("78 --- stopped by SIGSTOP ---", "stopped", 78, ""),
    ("9 +++ superseded by execve in pid 12 +++", "superseded", 9, ""),
    ('unshare(CLONE_NEWNS) = 0', "call", None, "unshare"),
    ("7 ???( <unfinished ...>", "unfinished", 7, "???"),
    ("7 <... ??? resumed>) = ?", "resumed", 7, "???"),
])
def testparse_line(line: str, kind: str, pid: int | None, name: str) -> None:
    parsed = parse_line(line, 1)
    assert (parsed.kind, parsed.pid, parsed.name) == (kind, pid, name)


@pytest.mark.parametrize("line", ["hello", "12 10:00:00 open(", "12 write(1, \"x\", 1)"])
def test_malformed_line_shapes(line: str) -> None:
    with pytest.raises(ValueError):
        parse_line(line, 1)


def test_header_of_an_import(tmp_path: Path) -> None:
    log = tmp_path / "tiny.log"
    log.write_text('5 1700000000.000001 execve("/bin/true", ["true"], 0x7ffd /* 1 var */) = 0\n'
                   "5 1700000000.000300 exit_group(0) = ?\n5 1700000000.000400 +++ exited with 0 +++\n")
    report = import_strace(log, tmp_path / "tiny.jsonl")
    recording = load_recording(tmp_path / "tiny.jsonl")
    assert isinstance(recording.header, Header) and recording.header.mode == "import"
    assert recording.header.command == ["true"] and recording.header.started.startswith("2023-11-14")
    assert recording.end is not None and recording.end.exit_code == 0 and recording.end.status == "completed"
    assert report.summary()["processes"] == 1 and report.events == len(recording.events) + 1



def test_every_container_syscall_has_a_converter() -> None:
    """A syscall added to the container set (tracer/decoders) needs its converter from strace's text too, or an
    imported log keeps it as raw text where a live trace decodes it."""
    from tracer.decoders import CONTAINER_SYSCALL_NRS, SYSCALLS
    from tracer.strace_encoder import CONVERTERS

    assert sorted(SYSCALLS[nr].name for nr in CONTAINER_SYSCALL_NRS if SYSCALLS[nr].name not in CONVERTERS) == []


def test_open_tree_attr_converts_like_mount_setattr() -> None:
    from tracer.strace_encoder import decode_line

    args, category, _ = decode_line("open_tree_attr", 'AT_FDCWD, "/mnt", OPEN_TREE_CLONE|AT_RECURSIVE, '
                                    "{attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, propagation=0, userns_fd=0}, 32",
                                    7, 7, 3)
    assert category == "filesystem-view" and args["path"] == "/mnt" and args["size"] == 32
    assert args["attr_set"] == ["MOUNT_ATTR_RDONLY"] and args["attr_clr"] == []
    assert set(args["flags"]) == {"OPEN_TREE_CLONE", "AT_RECURSIVE"}

def test_a_bad_escape_in_an_fd_annotation_is_not_fatal(tmp_path: Path) -> None:
    """A cut or edited log can hold a backslash before 8 or 9, which is no octal escape: the import reads it as
    the digit (a C compiler's reading of an unknown escape) instead of failing on it."""
    log = tmp_path / "escape.log"
    log.write_text('7 openat(AT_FDCWD, "/x", O_RDONLY) = 3</a\\8b>\n7 close(3</a\\9>) = 0\n7 +++ exited with 0 +++\n')
    report = import_strace(log, tmp_path / "escape.jsonl")
    assert report.malformed == 0 and report.processes == 1
    assert parse_line('7 close(3</a\\8>) = 0', 1).text == "3</a\\8>"
    assert link_of("/a\\8b") == "/a8b"


# An import is a recording like any other: the TUI and the exports read it ------------------------------------


@pytest.mark.root
def test_import_opens_in_the_tui_and_exports(strace, tmp_path: Path) -> None:
    import asyncio
    import xml.etree.ElementTree as ET

    from viz.tui.app import BoxtraceApp

    require(shutil.which("unshare"), "util-linux unshare is needed")
    log = strace(tmp_path / "unshare.log", "-f", "-tt", command=["unshare", "--fork", "--pid", "--mount-proc",
                                                                "sh", "-c", "true"])
    recording, report = imported(log, tmp_path)
    assert report.malformed == 0, report.problems
    out = tmp_path / "unshare.jsonl"
    assert recording.header.command[:2] == ["unshare", "--fork"]

    # Headless TUI: every process in the tree, every event selectable, the walkthrough has chapters.
    app = BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario))
    seen: dict[str, object] = {}

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            screen = app.main_screen
            seen["processes"] = [p.pid for p in app.model.table.history]
            seen["labels"] = [screen.process_tree.node_for(p).label.plain for p in app.model.table.history]
            seen["selectable"] = all(screen.select_event(e.seq) for e in recording.events)
            chapters = screen.walkthrough().chapters
            seen["chapters"] = [c.id for c in chapters]
            for _ in chapters:
                await pilot.press("n")
                await pilot.pause()
            seen["screenshot"] = app.export_screenshot()
            await pilot.press("q")

    asyncio.run(main())
    started = [e.pid for e in recording.events if isinstance(e, ProcessStarted)]
    assert sorted(seen["processes"]) == sorted(started) and len(started) == 2  # unshare, its fork (then sh)
    assert any("unshare" in label for label in seen["labels"])
    assert seen["selectable"] and seen["chapters"], seen
    assert "unshare" in str(seen["screenshot"])

    # `boxtrace export`: architecture and tree as .dot, and as .svg where Graphviz is installed.
    formats = ["dot"]
    require(shutil.which("dot"), "Graphviz dot is not installed (sudo apt-get install graphviz)")
    formats.append("svg")
    for view in ("architecture", "tree"):
        for fmt in formats:
            target = tmp_path / f"{view}.{fmt}"
            done = subprocess.run([*BOXTRACE, "export", str(out), "--view", view, "-o", str(target)],
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert target.stat().st_size > 0
            if fmt == "dot":
                text = target.read_text()
                assert text.lstrip().startswith(("digraph", "strict digraph")) and "unshare" in text, text[:200]
            else:
                assert ET.parse(target).getroot().tag.endswith("svg")
