"""What-if faults in attach mode hit only what the user names, never an attached daemon: a daemon of our own (a
multi-threaded process that calls umask(2) all the time, in threads that exist before the attach and threads made
after it) is attached to with rules that name a runc role, a program, and the daemon itself; only the shell the
daemon starts during the trace (a process born under the trace, named by the rule) gets the fault."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.prereqs import require
from tracer.engine import TraceOptions, Tracer
from tracer.events import Event, Fault, ProcessStarted, Syscall
from tracer.inject import parse_rule

DAEMON = textwrap.dedent("""
    import os, subprocess, sys, threading, time
    with open("/proc/self/comm", "w") as comm:
        comm.write(sys.argv[1])
    log = open(sys.argv[2], "w", buffering=1)

    def spin():
        while True:
            if os.umask(0o022) != 0o022:  # umask(2) cannot fail: any other answer is an injected fault
                log.write("daemon hit\\n")
            time.sleep(0.001)

    for _ in range(3):
        threading.Thread(target=spin, daemon=True).start()
    log.write("ready\\n")
    while True:  # a new thread now and then (made after the attach), and a shell, a process of its own
        threading.Thread(target=spin, daemon=True).start()
        shell = subprocess.run(["sh", "-c", "umask 027; echo status=$?"], capture_output=True, text=True)
        log.write("sh " + shell.stdout.strip() + " " + shell.stderr.strip() + "\\n")
        time.sleep(0.3)
""")


@pytest.mark.root
def test_attach_mode_faults_never_hit_the_attached_daemon(tmp_path: Path) -> None:
    require(os.geteuid() == 0 or Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip() == "0",
            "attaching to a process needs ptrace permission")
    name = f"btdmn{os.getpid() % 100000}"
    log = tmp_path / "daemon.log"
    daemon = subprocess.Popen([sys.executable, "-c", DAEMON, name, str(log)])
    try:
        deadline = time.monotonic() + 10
        while "ready" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.05)
        rules = (parse_rule("umask=EPERM:runc:[2:INIT]"), parse_rule("umask=EPERM:runc"),
                 parse_rule(f"umask=EACCES:{name}"), parse_rule("umask=EPERM:sh"))
        events: list[Event] = []
        tracer = Tracer(events.append, TraceOptions(inject=rules))
        timer = threading.Timer(3.0, tracer.request_stop)
        timer.start()
        try:
            tracer.run(attach=[daemon.pid])
        finally:
            timer.cancel()
        time.sleep(0.5)
        # The daemon still runs, not stopped, and none of its calls failed.
        assert daemon.poll() is None
        state = Path(f"/proc/{daemon.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state not in ("T", "t", "Z")
        text = log.read_text()
        assert "daemon hit" not in text
        threads = {int(tid) for tid in os.listdir(f"/proc/{daemon.pid}/task")}
        faults = [e for e in events if isinstance(e, Fault)]
        injected = [e for e in events if isinstance(e, Syscall) and (e.notes or {}).get("injected")]
        assert all(f.pid != daemon.pid and f.tid not in threads for f in faults)
        assert all(e.pid != daemon.pid for e in injected)
        # Rules naming a runc role, a program or even the daemon itself never fire on the daemon: its threads are
        # attached quietly (no seccomp filter, never stopped at a syscall), so no rule can reach them. What a rule
        # can hit is a process born during the trace that it names: the daemon's shell.
        assert [f.rule for f in faults] == ["umask=EPERM:sh"], faults
        shells = {e.pid for e in events if isinstance(e, ProcessStarted) and e.ppid == daemon.pid}
        assert faults[0].pid in shells and faults[0].process == "sh"
        # The shell's call was skipped and given EPERM (dash ignores umask's result: umask(2) cannot fail).
        assert [(e.pid, e.name, e.error) for e in injected] == [(faults[0].pid, "umask", "EPERM")]
    finally:
        daemon.kill()
        daemon.wait()
