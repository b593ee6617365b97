"""The what-if lab: --inject rules, the engine skipping the call and setting the errno (seccomp fast path and
--filter all), each `demo runc --what-if` experiment traced live with its fault, runc's reaction and a clean
machine afterwards."""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest

from scenarios import get_scenario
from scenarios.runc import RUNC_ROOT, WHAT_IFS, runc_container_ids
from scenarios.runner import trace_scenario
from tests.cli_e2e import run_boxtrace
from tests.prereqs import require
from tracer.engine import TraceOptions, Tracer
from tracer.events import Event, Exec, Exit, Fault, MountSnapshot, NamespaceChange, ProcessStarted, Syscall
from tracer.inject import InjectError, Injector, parse_rule
from tracer.inject_story import fault_stories, printed_text
from tracer.recording import load_recording

# Rules ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "syscall", "errno_name", "nth", "process", "path"), [
    ("pivot_root=EPERM", "pivot_root", "EPERM", 1, None, None),
    ("pivot_root=EPERM:runc:[2:INIT]", "pivot_root", "EPERM", 1, "runc:[2:INIT]", None),
    ("sethostname=1@2", "sethostname", "EPERM", 2, None, None),
    ("unshare=enospc@3:runc:[1:CHILD]", "unshare", "ENOSPC", 3, "runc:[1:CHILD]", None),
    ("write(cgroup.procs)=EACCES:runc", "write", "EACCES", 1, "runc", "cgroup.procs"),
    ("execve=ENOENT:sh", "execve", "ENOENT", 1, "sh", None),
])
def test_rules_parse(text: str, syscall: str, errno_name: str, nth: int, process: str | None,
                     path: str | None) -> None:
    rule = parse_rule(text)
    assert (rule.syscall, rule.errno_name, rule.nth, rule.process, rule.path) == (syscall, errno_name, nth,
                                                                                  process, path)


@pytest.mark.parametrize(("text", "says"), [
    ("pivot_root", "SYSCALL=ERRNO"),
    ("no_such_call=EPERM", "not a system call"),
    ("exit_group=EPERM", "never returns"),
    ("mount=EWHATEVER", "not an errno"),
    ("mount=0", "not an errno"),
    ("mount=EPERM@0", "counts from 1"),
])
def test_bad_rules_say_why(text: str, says: str) -> None:
    with pytest.raises(InjectError, match=says):
        parse_rule(text)


def test_nth_call_and_attached_daemons() -> None:
    rule = parse_rule("getpid=EPERM@2")
    injector = Injector((rule,))
    me = os.getpid()
    # A thread of a daemon boxtrace attached to is never hit by a rule that does not name it.
    assert injector.at_entry(me, rule.nr, {}, attached=True) is None
    assert injector.at_entry(me, rule.nr, {}, attached=False) is None  # the first call runs
    assert injector.at_entry(me, rule.nr, {}, attached=False) == (rule, 2)  # the second fails
    assert injector.at_entry(me, rule.nr, {}, attached=False) is None  # and only that one
    assert injector.fired == 1
    named = parse_rule("getpid=EPERM:" + Path(f"/proc/{me}/comm").read_text().strip())
    assert Injector((named,)).at_entry(me, named.nr, {}, attached=True) == (named, 1)
    with pytest.raises(InjectError, match="name the process"):
        Injector((parse_rule("getpid=EPERM"),), attach_only=True)


def test_container_scope_follows_the_id_up_the_ancestry(tmp_path: Path) -> None:
    import time

    from tracer.inject import container_scope

    token = f"cid{os.getpid()}x{time.time_ns()}"
    cidfile = tmp_path / "cid"
    scope = container_scope(str(cidfile))
    parent = subprocess.Popen(["sh", "-c", "sleep 30; true", token])  # $0 = the token, in sh's command line
    try:
        deadline = time.monotonic() + 5
        children: list[int] = []
        while not children and time.monotonic() < deadline:
            path = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
            children = [int(c) for c in path.read_text().split()] if path.exists() else []
            time.sleep(0.02)
        assert children
        assert not scope(children[0]), "no id written yet: nothing is in scope"
        cidfile.write_text(token + "\n")
        assert scope(children[0]) and scope(parent.pid)
        assert not scope(os.getpid())
    finally:
        parent.kill()
        parent.wait()


def test_logrus_lines_are_quoted_by_their_message() -> None:
    line = 'time="2026-12-04T10:15:30Z" level=error msg="runc run failed: pivot_root .: operation not permitted"\n'
    assert printed_text(line) == "error: runc run failed: pivot_root .: operation not permitted"
    assert printed_text("exec /bin/sh: no such file or directory\n") == "exec /bin/sh: no such file or directory"


@pytest.mark.cli_e2e("run")
def test_cli_refuses_bad_rules(tmp_path: Path) -> None:
    bad = run_boxtrace("run", "--inject", "pivot_root", "--", "true", cwd=tmp_path)
    assert bad.returncode == 2 and "SYSCALL=ERRNO" in bad.stderr
    unnamed = run_boxtrace("attach", "--inject", "sethostname=EPERM", str(os.getpid()), cwd=tmp_path)
    assert unnamed.returncode == 2 and "name the process" in unnamed.stderr
    unknown = run_boxtrace("demo", "runc", "--what-if", "nothing", "--no-tui", cwd=tmp_path)
    assert unknown.returncode == 2 and "pivot_root" in unknown.stderr


# The engine ------------------------------------------------------------------------------------------------------

HOSTNAME_SCRIPT = "hostname boxtrace-whatif; echo status=$?; hostname"


@pytest.mark.root
@pytest.mark.parametrize("filter_", ["container", "all"])
def test_injected_sethostname_never_runs(filter_: str, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "a new UTS namespace needs root")
    output = tmp_path / "out.txt"
    events: list[Event] = []
    options = TraceOptions(filter=filter_, inject=(parse_rule("sethostname=EPERM:hostname"),),
                           output_path=str(output))
    result = Tracer(events.append, options).run(["unshare", "--uts", "sh", "-c", HOSTNAME_SCRIPT])
    assert result.exit_code == 0
    faults = [e for e in events if isinstance(e, Fault)]
    assert len(faults) == 1 and faults[0].name == "sethostname" and faults[0].errno == "EPERM"
    assert faults[0].args["name"] == "boxtrace-whatif" and faults[0].process == "hostname"
    calls = [e for e in events if isinstance(e, Syscall) and e.name == "sethostname"]
    assert len(calls) == 1 and calls[0].error == "EPERM" and calls[0].ret == -1 and calls[0].notes["injected"]
    # The call never ran: inside the new UTS namespace the name is still the one it was copied from.
    text = output.read_text().splitlines()
    assert "status=1" in text and text[-1] == os.uname().nodename
    # hostname(1) saw the error and said so; the engine recorded it after the fault.
    story = fault_stories(events)[0]
    assert any("must be root" in line.text or "not permitted" in line.text for line in story.topic("printed"))


# The experiments ----------------------------------------------------------------------------------------------

#: What each experiment's runc (1.1) prints: the step that failed, in its own words.
PRINTED = {
    "pivot_root": "pivot_root .: operation not permitted",
    "sethostname": "sethostname: operation not permitted",
    "unshare": "failed to unshare remaining namespaces",
    "cgroup": "permission denied",
    "exec": "exec /bin/sh: no such file or directory",
}


def _container_id(events: list[Event]) -> str:
    launch = next(e for e in events if isinstance(e, ProcessStarted) and e.via == "launch")
    return (launch.argv or [""])[-1]


def _assert_clean(container: str, pids: list[int]) -> None:
    assert container not in runc_container_ids(), f"runc state left for {container}"
    assert not (RUNC_ROOT / container).exists()
    assert not glob.glob(f"/sys/fs/cgroup/*/{container}") and not glob.glob(f"/sys/fs/cgroup/{container}")
    with open("/proc/self/mountinfo") as table:
        assert not [line for line in table if container in line], "a mount of the container is left"
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    assert not alive, f"processes of the trace still running: {alive}"


def _never_ran(name: str, events: list[Event], fault: Fault) -> None:
    after = [e for e in events if e.seq > fault.seq]
    if name == "pivot_root":
        assert not [e for e in events if isinstance(e, MountSnapshot) and e.moment == "after-pivot_root"]
        assert not [e for e in after if isinstance(e, Syscall) and e.name == "pivot_root" and e.error is None]
    elif name == "sethostname":
        assert not [e for e in events if isinstance(e, Syscall) and e.name == "sethostname" and e.error is None]
    elif name == "unshare":
        assert not [e for e in events if isinstance(e, NamespaceChange) and e.pid == fault.pid]
    elif name == "cgroup":
        target = fault.args["path"]
        assert target.endswith("/cgroup.procs")
        assert not [e for e in events if isinstance(e, Syscall) and e.name == "write"
                    and e.args.get("path") == target and e.error is None]
    elif name == "exec":
        assert not [e for e in events if isinstance(e, Exec) and e.pid == fault.pid and e.path == "/bin/sh"]


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.parametrize(("name", "filter_"), [(name, "container") for name in WHAT_IFS] + [
    ("sethostname", "all"), ("exec", "all")])
def test_what_if_experiment(name: str, filter_: str, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "runc needs root")
    scenario = get_scenario(f"runc-what-if-{name}")
    require(scenario.check().ready, f"runc cannot run here: {scenario.check().reason}")
    path = tmp_path / f"{name}.jsonl"
    run = trace_scenario(scenario, output=path, options=TraceOptions(filter=filter_))
    assert load_recording(path).header.filter == filter_
    recording = load_recording(path)
    events = [recording.header, *recording.events]
    assert recording.header.scenario == f"runc-what-if-{name}"
    assert run.result.status == "completed" and run.result.exit_code == 1

    rule = parse_rule(WHAT_IFS[name].rule)
    faults = [e for e in events if isinstance(e, Fault)]
    assert len(faults) == 1
    fault = faults[0]
    assert (fault.name, fault.errno, fault.rule) == (rule.syscall, rule.errno_name, rule.text)
    if rule.process:
        assert fault.process == rule.process
    call = next(e for e in events if isinstance(e, Syscall) and e.seq > fault.seq and e.tid == fault.tid)
    assert call.name == fault.name and call.error == rule.errno_name and call.notes and call.notes["injected"]
    _never_ran(name, events, fault)

    story = fault_stories(events)[0]
    printed = " ".join(line.text for line in story.topic("printed"))
    assert PRINTED[name] in printed, printed
    assert story.topic("saw")[0].text.startswith(f"{fault.process} (pid {fault.pid}) got the error")
    launched = next(e for e in events if isinstance(e, ProcessStarted) and e.via == "launch")
    runc_exit = next(e for e in events if isinstance(e, Exit) and e.pid == launched.pid)
    assert runc_exit.code == 1
    assert f"runc (pid {runc_exit.pid}): exit status 1" in story.topic("exits")[0].text
    # runc removed its state directory in every experiment (seen in the trace, and on the machine below).
    container = _container_id(events)
    assert any(str(RUNC_ROOT / container) in line.text for line in story.topic("cleaned")), story.sentences()

    missing = [r.milestone.id for r in scenario.evaluate(events) if r.milestone.required and not r.found]
    assert not missing, missing
    pids = [e.pid for e in events if isinstance(e, ProcessStarted)]
    _assert_clean(container, pids)


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.cli_e2e("demo")
def test_demo_what_if_end_to_end(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "runc needs root")
    require(get_scenario("runc").check().ready, "runc cannot run here")
    out = tmp_path / "pivot.jsonl"
    result = run_boxtrace("demo", "runc", "--what-if", "pivot_root", "--no-tui", "-o", out, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "WHAT-IF: pivot_root(\".\", \".\") fails with EPERM" in result.stdout
    assert "what-if: what happened next" in result.stdout
    assert "got the error from the kernel" in result.stdout
    shown = run_boxtrace("show", out, cwd=tmp_path)
    assert "what-if: what happened next" in shown.stdout
    events = load_recording(out).events
    _assert_clean(_container_id(list(events)), [e.pid for e in events if isinstance(e, ProcessStarted)])
    assert subprocess.run(["runc", "--root", str(RUNC_ROOT), "list", "-q"], capture_output=True,
                          text=True, check=False).returncode == 0


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.cli_e2e("docker")
def test_docker_with_an_injected_fault_leaves_the_daemons_alone(tmp_path: Path) -> None:
    """docker mode attaches to dockerd and containerd: the fault hits only the named runc stage, docker reports
    runc's error, and the daemons (never hit, detached) go on serving; the failed container is gone."""
    require(os.geteuid() == 0, "docker needs root")
    from scenarios.daemons import docker_answers

    require(docker_answers(timeout=5.0), "no Docker engine answers")
    name = f"boxtrace-whatif-{os.getpid()}"
    out = tmp_path / "docker.jsonl"
    result = run_boxtrace("docker", "-o", out, "--inject", "sethostname=EPERM:runc:[2:INIT]", "--",
                          "--rm", "--network", "none", "--name", name, "boxtrace/busybox", "hostname", cwd=tmp_path)
    try:
        assert result.returncode == 125, result.stderr[-2000:]
        recording = load_recording(out)
        events = [recording.header, *recording.events]
        faults = [e for e in events if isinstance(e, Fault)]
        assert len(faults) == 1 and faults[0].process == "runc:[2:INIT]"
        attached = {e.pid for e in events if isinstance(e, ProcessStarted) and e.via == "attach"}
        assert faults[0].pid not in attached
        # Only the named stage's call failed; no attached daemon's call carries an injected error.
        injected = [e for e in events if isinstance(e, Syscall) and (e.notes or {}).get("injected")]
        assert [e.pid for e in injected] == [faults[0].pid]
        story = fault_stories(events)[0]
        printed = " ".join(line.text for line in story.topic("printed"))
        assert "sethostname: operation not permitted" in printed and "docker" in printed
        assert docker_answers(timeout=10.0), "dockerd stopped answering"
        listed = subprocess.run(["docker", "ps", "-a", "-q", "--filter", f"name={name}"], capture_output=True,
                                text=True, check=False)
        assert listed.stdout.strip() == "", "the failed container was left behind"
        for event in events:
            if isinstance(event, Exit) and event.pid in attached:
                assert event.detached, f"attached daemon {event.pid} ended instead of being detached"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
