"""The engine on the real kernel: real launches, real namespaces, real attach and detach. No mocked ptrace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.prereqs import require
from tracer.engine import CommandNotFound, TraceOptions
from tracer.events import Exec, Exit, Header, NamespaceChange, ProcessStarted, Signal, Syscall
from tracer.namespaces import read_namespaces
from tracer.processes import ProcessTable
from tracer.recording import load_recording
from tracer.session import trace_to_list

pytestmark = pytest.mark.root

UNSHARE_FLAGS = {"CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWPID"}


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    require(os.geteuid() == 0, "tracing namespaces needs root")


@pytest.fixture(scope="module")
def rootfs() -> Path:
    from scenarios.rootfs import build_rootfs

    return build_rootfs()


def syscalls(events, name: str) -> list[Syscall]:
    return [e for e in events if isinstance(e, Syscall) and e.name == name]


def thread_states(pid: int) -> list[str]:
    states = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                states.append(stat.read().rsplit(")", 1)[1].split()[0])
        except FileNotFoundError:
            continue
    return states


def tracer_pid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return -1


@pytest.mark.parametrize("filter_", ["container", "all"])
def test_unshare_chroot_launch(rootfs: Path, tmp_path: Path, filter_: str) -> None:
    out = tmp_path / "unshare.jsonl"
    command = ["unshare", "--fork", "--pid", "--mount-proc", "--uts", "--ipc", "--net", "--mount",
               "chroot", str(rootfs), "/bin/sh", "-c", "hostname box; echo ok"]
    result, events = trace_to_list(command, options=TraceOptions(filter=filter_), output=out)
    assert result.exit_code == 0
    assert result.status == "completed"

    unshares = [e for e in syscalls(events, "unshare") if e.error is None]
    assert len(unshares) == 1
    assert set(unshares[0].args["flags"]) == UNSHARE_FLAGS
    assert unshares[0].category == "namespaces"

    mounts = [e for e in syscalls(events, "mount") if e.args.get("fstype") == "proc"]
    assert mounts, "unshare --mount-proc mounts a new proc"
    assert {"MS_NOSUID", "MS_NODEV", "MS_NOEXEC"} <= set(mounts[0].args["flags"])

    hostnames = syscalls(events, "sethostname")
    assert [e.args["name"] for e in hostnames] == ["box"]
    assert syscalls(events, "chroot")[0].args["path"] == str(rootfs)

    table = ProcessTable.from_events(events)
    shell = next(p for p in table.history if p.execs and p.execs[-1].argv[:1] == ["/bin/sh"])
    assert shell.nspid[-1] == 1, "the shell is pid 1 of the new pid namespace"
    assert shell.ns["pid"] != read_namespaces(os.getpid())["pid"]
    assert any(isinstance(e, NamespaceChange) and e.kind == "pid" for e in events)

    execs = [e.argv[0] for e in events if isinstance(e, Exec)]
    assert execs[0] == "unshare" and "chroot" in execs and "/bin/sh" in execs

    started = {e.pid for e in events if isinstance(e, ProcessStarted)}
    exited = {e.pid for e in events if isinstance(e, Exit)}
    assert started == exited, "every process's exit is recorded"

    loaded = load_recording(out)
    assert loaded.complete and not loaded.warnings
    assert len(loaded.events) == len(events) - 1  # the header is separate
    if filter_ == "all":
        assert any(e.category == "other" for e in events if isinstance(e, Syscall))
    else:
        assert all(e.category != "other" for e in events if isinstance(e, Syscall))


def test_exit_code_and_signal_propagate(rootfs: Path) -> None:
    result, events = trace_to_list(["sh", "-c", "exit 3"])
    assert result.exit_code == 3
    result, events = trace_to_list(["sh", "-c", "kill -TERM $$"])
    assert result.exit_code == 128 + signal.SIGTERM
    exits = [e for e in events if isinstance(e, Exit)]
    assert exits[-1].signal == "SIGTERM"


def test_seccomp_and_full_stops_see_the_same_container_events(rootfs: Path) -> None:
    command = ["unshare", "--fork", "--pid", "--uts", "sh", "-c", "hostname a; /bin/true"]
    _, fast = trace_to_list(command, options=TraceOptions(seccomp=True))
    _, slow = trace_to_list(command, options=TraceOptions(seccomp=False))
    assert next(e for e in fast if isinstance(e, Header)).seccomp
    def names(events) -> list[str]:
        # Per process, in order; processes interleave differently from run to run.
        order = [e.pid for e in events if isinstance(e, ProcessStarted)]
        return [e.name for pid in order for e in events if isinstance(e, Syscall) and e.pid == pid]

    assert names(fast) == names(slow)
    assert "unshare" in names(fast) and "sethostname" in names(fast)


def _control_writes(events, suffix: str) -> list[Syscall]:
    return [e for e in events if isinstance(e, Syscall) and e.name == "write"
            and str(e.args.get("path") or "").endswith(suffix)]


@pytest.mark.parametrize("seccomp", [True, False], ids=["seccomp-filter", "full-stops"])
def test_shell_redirect_into_cgroup_procs_is_recorded(seccomp: bool) -> None:
    """`echo $$ > cgroup.procs` writes to fd 1 after dup2(3, 1): the seccomp filter lets fd 0-2 writes run, so
    the engine must notice the dup and watch that write. A real cgroup, removed afterwards."""
    base = Path("/sys/fs/cgroup/pids")
    if not base.is_dir():
        base = Path("/sys/fs/cgroup")
    require((base / "cgroup.procs").exists(), f"a writable cgroup hierarchy is needed at {base}")
    group = base / f"boxtrace-test-{os.getpid()}-{int(seccomp)}"
    group.mkdir()
    try:
        result, events = trace_to_list(
            ["sh", "-c", f"echo $$ > {group}/cgroup.procs && cat /proc/self/cgroup >/dev/null"],
            options=TraceOptions(seccomp=seccomp),
        )
    finally:
        for _ in range(50):  # the shell has exited; the kernel empties the group a moment later
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.05)
    assert result.exit_code == 0
    writes = _control_writes(events, "/cgroup.procs")
    assert len(writes) == 1, writes
    (write,) = writes
    assert write.args["fd"] == 1 and write.error is None and write.category == "cgroups"
    assert write.args["data"].strip() == str(write.pid)


def test_unshare_shell_writing_its_own_uid_map_is_diagnosed() -> None:
    """A shell exec'd by `unshare --user` has no capabilities in its namespace (its uid is unmapped when it
    execs), so its own `echo ... > /proc/self/uid_map` fails: recorded through the fd-1 watch, and explained."""
    from tracer.insights import diagnose

    result, events = trace_to_list(
        ["unshare", "--user", "sh", "-c", "echo '0 0 1' > /proc/self/uid_map"],
    )
    assert result.exit_code != 0
    writes = _control_writes(events, "/uid_map")
    assert [w.error for w in writes] == ["EPERM"]
    exec_ = [e for e in events if isinstance(e, Exec) and e.path.endswith("/sh")][-1]
    assert int(exec_.caps["effective"], 16) == 0
    (found,) = [d for d in diagnose(events) if d.kind == "id-map"]
    assert "neither CAP_SETUID nor CAP_SYS_ADMIN" in found.sentence
    assert "parent namespace" in found.fix


def test_no_seccomp_filter_falls_back_to_full_stops(tmp_path: Path) -> None:
    """A tracer without CAP_SYS_ADMIN (and root, so no no_new_privs) cannot install the filter: the launch
    goes on at full stops with a warning, and records what the filtered run records."""
    require(shutil.which("setpriv") is not None, "util-linux setpriv is needed to drop CAP_SYS_ADMIN")
    command = ["sh", "-c", "/bin/true; exit 3"]
    out = tmp_path / "nosec.jsonl"
    proc = subprocess.run(
        ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin",
         sys.executable, "-m", "boxtrace", "run", "-o", str(out), "--", *command],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert "the seccomp filter could not be installed" in proc.stdout + proc.stderr
    fallback = load_recording(out).events
    _, filtered = trace_to_list(command)
    assert next(e for e in filtered if isinstance(e, Header)).seccomp

    def names(events) -> list[str]:
        return [e.name for e in events if isinstance(e, Syscall)]

    assert names(fallback) == names(filtered) and "vfork" in names(fallback)


def test_kernels_without_get_syscall_info_are_refused_in_one_sentence() -> None:
    from tracer.launch import require_syscall_info
    from tracer.tracees import TraceError

    require_syscall_info("6.1.0-13-amd64")
    require_syscall_info("5.3.0")
    with pytest.raises(TraceError, match=r"older than Linux 5.3 and lacks PTRACE_GET_SYSCALL_INFO"):
        require_syscall_info("4.19.0-21-amd64")


def test_sigterm_in_launch_mode_reaches_the_command_first(tmp_path: Path) -> None:
    """The first SIGTERM is passed on to the launched command, which gets time to clean up (its trap runs and
    shows in the trace); boxtrace still exits 143 and the recording says interrupted."""
    out = tmp_path / "t.jsonl"
    script = 'trap "echo cleaning up; exit 5" TERM; sleep 30 & wait'
    proc = subprocess.Popen([sys.executable, "-m", "boxtrace", "run", "-o", str(out), "--", "sh", "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and b'"sleep"' not in (out.read_bytes() if out.exists() else b""):
            time.sleep(0.05)
        # The recorder's buffer is flushed while the trace is quiet: the running sleep is on disk already.
        assert b'"sleep"' in out.read_bytes(), "the recording of a running (quiet) trace stayed in a buffer"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "cleaning up" in output
    recording = load_recording(out)
    assert recording.end.status == "interrupted" and recording.end.exit_code == 5
    shell = recording.events[1].pid
    assert any(isinstance(e, Signal) and e.pid == shell and e.signal.startswith("SIGTERM") for e in recording.events)


def test_closed_stdout_does_not_end_the_trace(tmp_path: Path) -> None:
    """`boxtrace run ... | head -2`: once the reader is gone boxtrace prints nothing more, but the command runs
    to its end, traced, and the recording is complete (it used to die on EPIPE without cleaning up)."""
    out = tmp_path / "t.jsonl"
    script = "for i in 1 2 3 4 5; do /bin/true; done; sleep 0.3; echo done >&2"
    proc = subprocess.Popen([sys.executable, "-m", "boxtrace", "run", "-o", str(out), "--", "sh", "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as head does after its lines
    stderr = proc.stderr.read().decode(errors="replace")
    assert proc.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr and "done" in stderr
    recording = load_recording(out)
    assert recording.end is not None and recording.end.status == "completed" and recording.end.exit_code == 0
    assert sum(1 for e in recording.events if isinstance(e, Exec) and e.path == "/bin/true") == 5


def test_missing_command() -> None:
    with pytest.raises(CommandNotFound):
        trace_to_list(["no-such-command-boxtrace"])
    cli = subprocess.run([sys.executable, "-m", "boxtrace", "run", "--", "no-such-command-boxtrace"],
                         capture_output=True, text=True)
    assert cli.returncode == 127
    assert "command not found" in cli.stderr
    assert "Traceback" not in cli.stderr


def test_environment_values_are_redacted(tmp_path: Path) -> None:
    out = tmp_path / "env.jsonl"
    env = dict(os.environ, PASSWORD="hunter2")
    code = subprocess.run([sys.executable, "-m", "boxtrace", "run", "-o", str(out), "--", "sh", "-c",
                           "env >/dev/null; /bin/true"], env=env, capture_output=True, text=True)
    assert code.returncode == 0, code.stderr
    assert "hunter2" not in out.read_text()
    assert "hunter2" not in code.stdout + code.stderr
    assert "PASSWORD=<redacted>" in out.read_text()
    shown = tmp_path / "shown.jsonl"
    subprocess.run([sys.executable, "-m", "boxtrace", "run", "--show-env", "-o", str(shown), "--", "sh", "-c",
                    "/bin/true"], env=env, capture_output=True, check=True)
    assert "PASSWORD=hunter2" in shown.read_text()


def test_attach_then_detach_leaves_processes_running() -> None:
    victim = subprocess.Popen(["sh", "-c", "while true; do /bin/true; sleep 0.05; done"])
    try:
        time.sleep(0.2)
        from tracer.session import TraceSession

        events: list = []
        session = TraceSession(None, [victim.pid], TraceOptions(), sinks=[events.append])
        threading.Timer(1.0, session.request_stop).start()
        result = session.run()
        assert result.status == "interrupted"
        assert any(isinstance(e, Exec) and e.argv[:1] == ["/bin/true"] for e in events)
        attached = [e for e in events if isinstance(e, ProcessStarted) and e.via == "attach"]
        assert [e.pid for e in attached][:1] == [victim.pid]
        time.sleep(0.2)
        assert victim.poll() is None, "the attached process must not be killed"
        assert tracer_pid(victim.pid) == 0
        assert not {"t", "T"} & set(thread_states(victim.pid))
    finally:
        victim.kill()
        victim.wait()


def test_attach_to_a_process_with_a_zombie_child(tmp_path: Path) -> None:
    """A zombie stays listed in /proc but refuses PTRACE_SEIZE; attaching to its parent's tree must not spin."""
    victim = subprocess.Popen([sys.executable, "-c",
                               "import os, time\nif os.fork() == 0:\n    os._exit(0)\ntime.sleep(60)\n"])
    try:
        deadline = time.monotonic() + 10
        while not any(thread_states(child) == ["Z"] for child in _children(victim.pid)):
            assert time.monotonic() < deadline, "the victim's child never became a zombie"
            time.sleep(0.05)
        proc = subprocess.Popen([sys.executable, "-m", "boxtrace", "attach", "-o", str(tmp_path / "z.jsonl"),
                                 str(victim.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("boxtrace attach did not end after Ctrl-C (stuck seizing the zombie?)")
        assert "Traceback" not in err
        assert victim.poll() is None and tracer_pid(victim.pid) == 0
        recording = load_recording(tmp_path / "z.jsonl")
        assert [e.pid for e in recording.events if isinstance(e, ProcessStarted)] == [victim.pid]
    finally:
        victim.kill()
        victim.wait()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(c) for c in children.read().split()]
    except FileNotFoundError:
        return []


def test_attach_to_missing_pid() -> None:
    cli = subprocess.run([sys.executable, "-m", "boxtrace", "attach", "999999999"], capture_output=True, text=True)
    assert cli.returncode == 1
    assert "no process with pid 999999999" in cli.stderr
    assert "Traceback" not in cli.stderr


def test_ctrl_c_in_launch_mode_kills_the_tracees(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    proc = subprocess.Popen([sys.executable, "-m", "boxtrace", "run", "-o", str(tmp_path / "t.jsonl"), "--",
                             "sh", "-c", f"echo $$ > {marker}; sleep 1000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not marker.exists() or not marker.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    traced = int(marker.read_text())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err
    time.sleep(0.1)
    assert not os.path.exists(f"/proc/{traced}") or open(f"/proc/{traced}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    recording = load_recording(tmp_path / "t.jsonl")
    assert recording.end is not None and recording.end.status == "interrupted"


def test_ctrl_c_in_attach_mode_detaches(tmp_path: Path) -> None:
    victim = subprocess.Popen(["sh", "-c", "while true; do /bin/true; sleep 0.05; done"])
    try:
        out = tmp_path / "a.jsonl"
        proc = subprocess.Popen([sys.executable, "-m", "boxtrace", "attach", "-o", str(out), str(victim.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not out.exists() or '"exec"' not in out.read_text():
            assert time.monotonic() < deadline, "no exec seen while attached"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert "Traceback" not in err
        time.sleep(0.2)
        assert victim.poll() is None
        assert tracer_pid(victim.pid) == 0
        assert not {"t", "T"} & set(thread_states(victim.pid))
        recording = load_recording(out)
        assert recording.end is not None and recording.end.status == "interrupted"
        assert any(isinstance(e, Exit) and e.detached and e.pid == victim.pid for e in recording.events)
    finally:
        victim.kill()
        victim.wait()


def test_multithreaded_exec_takes_the_leader_pid(tmp_path: Path) -> None:
    script = tmp_path / "thread_exec.py"
    script.write_text(
        "import os, threading, time\n"
        "def run():\n"
        "    os.execv('/bin/true', ['/bin/true', 'from-thread'])\n"
        "threading.Thread(target=run).start()\n"
        "time.sleep(30)\n"
    )
    result, events = trace_to_list([sys.executable, str(script)], options=TraceOptions(filter="all"))
    assert result.exit_code == 0
    execs = [e for e in events if isinstance(e, Exec) and e.argv[:2] == ["/bin/true", "from-thread"]]
    assert len(execs) == 1
    launched = next(e for e in events if isinstance(e, ProcessStarted))
    assert execs[0].pid == launched.pid, "after exec the thread has the leader's pid"
    assert execs[0].old_tid not in (None, launched.pid)


def test_group_stop_and_vfork_do_not_hang() -> None:
    # Pauses between the kills: a SIGCONT sent while SIGSTOP is still pending discards it.
    command = ["sh", "-c", "sleep 5 & p=$!; sleep 0.2; kill -STOP $p; sleep 0.2; kill -CONT $p; kill $p; wait; "
               "/usr/bin/env true; echo done"]
    result, events = trace_to_list(command, options=TraceOptions(filter="all"))
    assert result.exit_code == 0
    # Recorded as a group-stop: the engine kept the child stopped (PTRACE_LISTEN) instead of resuming it.
    # tests/test_misbehaving_tracees.py checks from the outside that the stopped process makes no progress.
    assert any(isinstance(e, Signal) and e.signal == "SIGSTOP (group-stop)" for e in events)
