"""Tracees that do awkward things: stop themselves, ignore every signal, exec from a thread, vfork, fork 500 times,
die in the middle of a system call, fail to exec, call ptrace themselves, gain privileges through a setuid binary,
pass 128 KiB of arguments or bytes that are not UTF-8, or outlive the command that started them.

Every case runs the real `boxtrace run` (or the library for options the CLI lacks) with a timeout, so none may hang;
the recording must be complete (an end line) and load; then the case's own facts are checked. The helper programs
live in tests/programs/.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.prereqs import require
from tests.programs import system_state as state
from tracer.engine import TraceOptions
from tracer.events import Exec, Exit, Notice, ProcessStarted, Signal, Syscall
from tracer.recording import MAX_LINE_BYTES, Recording, load_recording
from tracer.session import trace_to_list

pytestmark = pytest.mark.root

PROGRAMS = Path(__file__).parent / "programs"
PYTHON = sys.executable
BOXTRACE = [PYTHON, "-m", "boxtrace"]
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    require(os.geteuid() == 0, "tracing needs root")


@dataclass
class Traced:
    code: int
    stdout: str
    stderr: str
    recording: Recording

    def of(self, kind: type) -> list:
        return [e for e in self.recording.events if isinstance(e, kind)]

    def syscalls(self, name: str) -> list[Syscall]:
        return [e for e in self.of(Syscall) if e.name == name]

    @property
    def notices(self) -> list[str]:
        return [e.message for e in self.of(Notice)]


def boxtrace_run(tmp_path: Path, command: list[str | bytes], *options: str, timeout: float = TIMEOUT) -> Traced:
    """`boxtrace run OPTIONS -- COMMAND` to the end (never longer than `timeout`), with a complete recording."""
    out = tmp_path / f"trace-{secrets.token_hex(3)}.jsonl"
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with open(stdout, "wb") as out_file, open(stderr, "wb") as err_file:
        # Files, not pipes: a process left running would keep a pipe open and make the wait hang.
        proc = subprocess.run([*BOXTRACE, "run", "-o", str(out), *options, "--", *command], stdout=out_file,
                              stderr=err_file, stdin=subprocess.DEVNULL, timeout=timeout)
    err = stderr.read_text(errors="replace")
    assert "Traceback" not in err, err
    recording = load_recording(out)
    assert recording.complete, f"no end line: {recording.warnings}"
    return Traced(proc.returncode, stdout.read_text(errors="replace"), err, recording)


def started_and_exited(traced: Traced) -> tuple[set[int], set[int]]:
    started = {e.pid for e in traced.of(ProcessStarted)}
    exited = {e.pid for e in traced.of(Exit)}
    return started, exited


# Signals and job control --------------------------------------------------------------------------------------


@pytest.mark.parametrize("filter_", ["container", "all"])
def test_sigstop_and_sigcont(tmp_path: Path, filter_: str) -> None:
    traced = boxtrace_run(tmp_path, [PYTHON, str(PROGRAMS / "group_stop.py")], "--filter", filter_)
    assert traced.code == 0, traced.stderr
    signals = [e.signal for e in traced.of(Signal)]
    assert signals.count("SIGSTOP (group-stop)") == 2, signals
    assert "SIGCONT" in signals and "SIGTERM" in signals
    child_exit = [e for e in traced.of(Exit) if e.signal == "SIGTERM"]
    assert len(child_exit) == 1


def test_tracee_that_ignores_and_blocks_all_signals(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    traced = boxtrace_run(tmp_path, [PYTHON, str(PROGRAMS / "ignore_signals.py"), str(pidfile), "0.3"])
    assert traced.code == 0
    started, exited = started_and_exited(traced)
    assert len(started) == 2 and started == exited


def test_interrupting_a_trace_of_signal_deaf_tracees_kills_them(tmp_path: Path) -> None:
    """Ctrl-C on boxtrace while its tracees ignore every signal: the stop path uses SIGKILL, so they die anyway."""
    pidfile = tmp_path / "pids"
    out = tmp_path / "deaf.jsonl"
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen([*BOXTRACE, "run", "-o", str(out), "--", PYTHON,
                                 str(PROGRAMS / "ignore_signals.py"), str(pidfile), "60"],
                                stdout=subprocess.DEVNULL, stderr=err)
        try:
            assert state.wait_until(pidfile.exists, 20), "the program never started"
            pids = [int(p) for p in pidfile.read_text().split()]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) is not None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Traceback" not in (tmp_path / "stderr").read_text()
    assert state.wait_until(lambda: not any(state.alive(p) for p in pids), 5), "a deaf tracee survived"
    recording = load_recording(out)
    assert recording.end is not None and recording.end.status == "interrupted"


def test_child_killed_while_blocked_in_read(tmp_path: Path) -> None:
    for filter_ in ("container", "all"):
        traced = boxtrace_run(tmp_path, [PYTHON, str(PROGRAMS / "killed_in_read.py")], "--filter", filter_)
        assert traced.code == 0, traced.stderr
        killed = [e for e in traced.of(Exit) if e.signal == "SIGKILL"]
        assert len(killed) == 1, filter_
        started, exited = started_and_exited(traced)
        assert started == exited


# Threads, vfork, many processes -------------------------------------------------------------------------------


@pytest.mark.parametrize("filter_", ["container", "all"])
def test_exec_from_a_thread_while_siblings_run(tmp_path: Path, filter_: str) -> None:
    marker = f"thread-exec-{secrets.token_hex(3)}"
    traced = boxtrace_run(tmp_path, [PYTHON, str(PROGRAMS / "thread_exec.py"), marker], "--filter", filter_)
    assert traced.code == 0, traced.stderr
    execs = [e for e in traced.of(Exec) if e.argv == ["/bin/true", marker]]
    assert len(execs) == 1
    launched = next(e for e in traced.of(ProcessStarted) if e.via == "launch")
    assert execs[0].pid == launched.pid, "the exec'ing thread takes the leader's pid"
    assert execs[0].old_tid is not None and execs[0].old_tid != launched.pid
    assert [e.pid for e in traced.of(Exit)] == [launched.pid]


@pytest.mark.parametrize("filter_", ["container", "all"])
def test_vfork_then_exec(tmp_path: Path, filter_: str) -> None:
    marker = f"vfork-{secrets.token_hex(3)}"
    traced = boxtrace_run(tmp_path, [PYTHON, str(PROGRAMS / "vfork_exec.py"), "20", marker], "--filter", filter_)
    assert traced.code == 0, traced.stderr
    children = [e for e in traced.of(ProcessStarted) if e.via != "launch"]
    assert len(children) == 20
    assert all(e.via == "vfork" or "CLONE_VFORK" in e.flags for e in children), {e.via for e in children}
    execs = [e for e in traced.of(Exec) if e.argv[1:2] == [marker]]
    assert sorted(int(e.argv[2]) for e in execs) == list(range(20))
    started, exited = started_and_exited(traced)
    assert started == exited


@pytest.mark.slow
def test_a_tree_of_500_short_lived_processes(tmp_path: Path) -> None:
    began = time.monotonic()
    traced = boxtrace_run(tmp_path, ["/bin/sh", str(PROGRAMS / "process_tree.sh")])
    elapsed = time.monotonic() - began
    assert traced.code == 0, traced.stderr
    started = traced.of(ProcessStarted)
    exits = traced.of(Exit)
    assert len(started) == 501, "the shell, 100 subshells and 400 /bin/true"
    assert len(exits) == 501
    assert {e.pid for e in started} == {e.pid for e in exits}
    assert Counter(e.path for e in traced.of(Exec))["/bin/true"] == 400
    assert traced.recording.end is not None and traced.recording.end.processes == 501
    print(f"\n500-process tree traced in {elapsed:.1f} s")


# Exec failures and ptrace inside ------------------------------------------------------------------------------


def test_failing_execs(tmp_path: Path) -> None:
    plain = tmp_path / "not-executable"
    plain.write_text("#!/bin/sh\necho no\n")
    plain.chmod(0o644)
    traced = boxtrace_run(tmp_path, [PYTHON, str(PROGRAMS / "failing_exec.py"), str(plain)])
    assert traced.code == 0, traced.stderr
    failed = {e.args.get("path"): e.error for e in traced.syscalls("execve") if e.error}
    assert failed == {"/nonexistent/boxtrace-program": "ENOENT", str(plain): "EACCES"}
    assert any(e.argv == ["/bin/true", "after-failures"] for e in traced.of(Exec))


def test_tracee_calling_ptrace_gets_eperm(tmp_path: Path) -> None:
    traced = boxtrace_run(tmp_path, [PYTHON, str(PROGRAMS / "ptrace_self.py")], "-e", "ptrace")
    assert "TRACEME=EPERM ATTACH=EPERM" in traced.stdout
    assert traced.code == 0
    calls = traced.syscalls("ptrace")
    assert len(calls) == 2 and all(e.error == "EPERM" for e in calls)


def test_strace_under_boxtrace(tmp_path: Path) -> None:
    require(shutil.which("strace"), "strace is not installed")
    traced = boxtrace_run(tmp_path, ["strace", "-f", "-o", str(tmp_path / "inner.log"), "/bin/true"],
                          "-e", "ptrace")
    assert traced.code != 0, "the inner strace cannot trace a process boxtrace already traces"
    refused = [e for e in traced.syscalls("ptrace") if e.error == "EPERM"]
    assert refused, [(e.args, e.error) for e in traced.syscalls("ptrace")]
    started, exited = started_and_exited(traced)
    assert started == exited


# Privileges, big and odd arguments ----------------------------------------------------------------------------


def test_setuid_root_binary_run_by_an_unprivileged_user(tmp_path: Path) -> None:
    passwd = "/usr/bin/passwd"
    require(os.path.exists(passwd) and os.stat(passwd).st_mode & 0o4000, "no setuid /usr/bin/passwd here")
    untraced = subprocess.run([passwd, "-S"], user=65534, group=65534, extra_groups=[], capture_output=True,
                              text=True, timeout=30)
    for filter_ in ("container", "all"):
        output = tmp_path / f"passwd-{filter_}.out"
        result, events = trace_to_list([passwd, "-S"], options=TraceOptions(
            filter=filter_, run_as=(65534, 65534), output_path=str(output)), output=tmp_path / f"{filter_}.jsonl")
        assert result.status == "completed"
        assert result.exit_code == untraced.returncode, "tracing does not change what the program may do"
        assert output.read_text().strip() == (untraced.stdout + untraced.stderr).strip()
        assert any(isinstance(e, Exec) and e.path == passwd for e in events)
        assert load_recording(tmp_path / f"{filter_}.jsonl").complete


def test_128_kib_of_arguments(tmp_path: Path) -> None:
    many = [f"{index:04d}" + "a" * 507 for index in range(256)]  # 256 arguments of 512 bytes with their NULs
    one = "b" * (128 * 1024 - 1)  # the kernel's limit for one argument (MAX_ARG_STRLEN, NUL included)
    for args in (many, [one]):
        traced = boxtrace_run(tmp_path, ["/bin/true", *args])
        assert traced.code == 0
        execs = [e for e in traced.of(Exec) if e.argv[:1] == ["/bin/true"]]
        assert len(execs) == 1 and execs[0].argv == ["/bin/true", *args], "argv recorded whole"
        longest = max(len(json.dumps(e.to_json())) for e in traced.recording.events)
        assert longest < MAX_LINE_BYTES


def test_console_lines_stay_short_with_a_huge_argument(tmp_path: Path) -> None:
    boxtrace_run(tmp_path, ["/bin/true", "b" * (128 * 1024 - 1)])
    longest = max(len(line) for line in (tmp_path / "stdout").read_bytes().splitlines())
    assert longest < 4096


def test_non_utf8_paths_and_arguments(tmp_path: Path) -> None:
    directory = os.path.join(os.fsencode(tmp_path), b"dir\xff")
    os.mkdir(directory)
    program = os.path.join(directory, b"prog\xfe")
    os.symlink(b"/bin/echo", program)
    traced = boxtrace_run(tmp_path, [program, b"arg\xfd", b"ok"])
    assert traced.code == 0, traced.stderr
    exec_ = next(e for e in traced.of(Exec))
    assert exec_.argv == [f"{tmp_path}/dir\\xff/prog\\xfe", "arg\\xfd", "ok"], "bytes as \\xNN, as documented"
    shown = subprocess.run([*BOXTRACE, "show", str(traced.recording.path)], capture_output=True, timeout=60)
    assert shown.returncode == 0 and b"Traceback" not in shown.stderr


def test_non_utf8_bytes_are_spelled_the_same_everywhere(tmp_path: Path) -> None:
    traced = boxtrace_run(tmp_path, ["/bin/echo", b"arg\xfd"])
    launched = next(e for e in traced.of(ProcessStarted) if e.via == "launch")
    assert traced.recording.header.command == ["/bin/echo", "arg\\xfd"]
    assert launched.argv == ["/bin/echo", "arg\\xfd"]


# Processes that outlive the command ---------------------------------------------------------------------------


def _seccomp_mode(pid: int) -> int | None:
    return state.status_of(pid, "Seccomp")


@pytest.mark.slow
def test_grandchild_outliving_the_command_default_mode(tmp_path: Path) -> None:
    """Default mode: what outlives the command carries the seccomp filter, so the engine kills it and says why."""
    result_file = tmp_path / f"result-{secrets.token_hex(3)}"
    traced = boxtrace_run(tmp_path, ["/bin/sh", str(PROGRAMS / "outlive.sh"), str(result_file), "1.5"])
    assert traced.code == 0
    assert traced.recording.header.seccomp
    assert any("outlived the command and were killed" in n for n in traced.notices), traced.notices
    time.sleep(2.5)  # past the grandchild's sleep: it would have written the file by now
    assert not result_file.exists(), "the grandchild was killed before its (filtered) exec"
    survivors = state.pids_mentioning(str(result_file))
    assert all(_seccomp_mode(p) == 0 for p in survivors), "no process with boxtrace's filter is left"
    assert not survivors


@pytest.mark.slow
def test_grandchild_outliving_the_command_filter_all(tmp_path: Path) -> None:
    """--filter all uses no seccomp filter: the grandchild is let go, and its exec works untraced."""
    result_file = tmp_path / f"result-{secrets.token_hex(3)}"
    traced = boxtrace_run(tmp_path, ["/bin/sh", str(PROGRAMS / "outlive.sh"), str(result_file), "1.5"],
                          "--filter", "all")
    assert traced.code == 0
    assert not traced.recording.header.seccomp
    assert not any("were killed" in n for n in traced.notices)
    survivors = state.pids_mentioning(str(result_file))
    try:
        assert survivors, "the grandchild is still running after boxtrace ended"
        for pid in survivors:
            assert _seccomp_mode(pid) == 0 and state.status_of(pid, "TracerPid") == 0
            assert not state.unhealthy_threads(pid)
        assert state.wait_until(result_file.exists, 10)
        assert state.wait_until(lambda: result_file.read_text().strip() != "", 2)
        assert result_file.read_text().strip() == "0", "unshare ran normally"
    finally:
        for pid in state.pids_mentioning(str(result_file)):
            os.kill(pid, signal.SIGKILL)


# A detached container -----------------------------------------------------------------------------------------


@pytest.fixture
def detached_bundle(tmp_path: Path):
    require(shutil.which("runc"), "runc is not installed")
    from scenarios.bundle import make_bundle

    container_id = f"boxtrace-detached-{secrets.token_hex(4)}"
    root = tmp_path / "runc-root"
    bundle = make_bundle(tmp_path / "bundle", ["/bin/sh", "-c", "sleep 60"], cgroups_path=f"/{container_id}")
    runc = [shutil.which("runc") or "runc", "--root", str(root)]
    yield runc, bundle, container_id
    subprocess.run([*runc, "delete", "--force", container_id], capture_output=True, timeout=30)
    leftovers = state.cgroup_dirs(container_id)
    for directory in leftovers:
        try:
            directory.rmdir()
        except OSError:
            pass
    assert not leftovers, f"runc delete left cgroup directories: {leftovers}"


def _runc_state(runc: list[str], container_id: str) -> dict:
    result = subprocess.run([*runc, "state", container_id], capture_output=True, text=True, timeout=30)
    return json.loads(result.stdout) if result.returncode == 0 else {}


@pytest.mark.slow
def test_detached_container_default_mode_is_killed_with_a_notice(tmp_path: Path, detached_bundle) -> None:
    runc, bundle, container_id = detached_bundle
    traced = boxtrace_run(tmp_path, [*runc, "run", "-d", "--bundle", str(bundle), container_id])
    assert traced.code == 0, traced.stderr
    assert any("outlived the command and were killed" in n and "--filter all" in n for n in traced.notices)
    after = _runc_state(runc, container_id)
    assert after.get("status") == "stopped", after
    assert not state.pids_mentioning(container_id)


@pytest.mark.slow
def test_detached_container_filter_all_keeps_running(tmp_path: Path, detached_bundle) -> None:
    runc, bundle, container_id = detached_bundle
    traced = boxtrace_run(tmp_path, [*runc, "run", "-d", "--bundle", str(bundle), container_id], "--filter", "all")
    assert traced.code == 0, traced.stderr
    assert not any("were killed" in n for n in traced.notices)
    after = _runc_state(runc, container_id)
    assert after.get("status") == "running", after
    pid = after["pid"]
    assert state.alive(pid)
    assert state.status_of(pid, "TracerPid") == 0 and _seccomp_mode(pid) == 0
    assert not state.unhealthy_threads(pid)
    assert any(e.pid == pid and e.detached for e in traced.of(Exit)), "the recording says it was let go"
