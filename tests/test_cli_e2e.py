"""Every subcommand end to end: the installed `boxtrace` script, run as a user types it, on the real machine.

Each test is marked `cli_e2e(SUBCOMMAND)`; tests/test_cli_contract.py fails when a subcommand has none. Output and
exit codes are asserted; any `Traceback` or `unexpected error` fails (tests/cli_e2e.py). Traces are real: root,
ptrace, the runtimes and the Docker engine are prerequisites (skipped on a laptop, failures under CI=true). Every
process a test starts is ended by its pid; containers are named and removed; the machine's daemons are only read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from boxtrace.cli import subcommands
from scenarios import SCENARIO_MODULES, get_scenario
from scenarios.staging import STAGING_ROOT, reachable_by
from tests.cli_e2e import BOXTRACE, assert_no_crash, popen_boxtrace, run_boxtrace
from tests.prereqs import require
from tracer.events import Exec, Syscall
from tracer.recording import load_recording

PROJECT = Path(__file__).resolve().parent.parent
SHIPPED = PROJECT / "scenarios" / "recordings"
NOBODY = 65534


def need_root() -> None:
    require(os.geteuid() == 0, "tracing and the machine's checks need root")


def need_engine() -> None:
    from scenarios.daemons import containerd_answers, docker_answers

    need_root()
    require(docker_answers(timeout=5) and containerd_answers(timeout=5),
            "dockerd and containerd must be running: `bash scripts/daemons.sh start`")


def table_rows(text: str) -> dict[str, list[str]]:
    """A rich table's rows by their first cell (box-drawing borders removed)."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃|]", line)[1:-1]]
        if cells and cells[0]:
            rows.setdefault(cells[0], cells[1:])
    return rows


# doctor -------------------------------------------------------------------------------------------------------


@pytest.mark.cli_e2e("doctor")
def test_doctor_on_a_prepared_machine() -> None:
    need_engine()
    result = run_boxtrace("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "boxtrace doctor" in result.stdout
    rows = table_rows(result.stdout)
    for check in ("root", "ptrace", "cgroup layout", "runc", "containerd running", "dockerd running",
                  "docker image", "containerd image", "busybox rootfs"):
        assert rows[check][0] == "yes", (check, rows.get(check))
    assert not result.stdout.startswith("fix:"), "without --fix nothing is repaired"


@pytest.mark.cli_e2e("doctor")
def test_doctor_fix_with_nothing_to_fix_says_so() -> None:
    need_engine()
    result = run_boxtrace("doctor", "--fix")
    assert result.returncode == 0, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert first == "fix: nothing to fix: every check boxtrace can repair passes"
    assert table_rows(result.stdout)["dockerd running"][0] == "yes"


@pytest.mark.cli_e2e("doctor")
def test_doctor_fix_builds_a_missing_rootfs_and_prints_it(tmp_path: Path) -> None:
    """A real repair: with an empty cache the rootfs check fails, --fix builds it and says where."""
    need_engine()
    before = run_boxtrace("doctor", env={"XDG_CACHE_HOME": str(tmp_path)})
    assert before.returncode == 1 and table_rows(before.stdout)["busybox rootfs"][0] == "NO"
    result = run_boxtrace("doctor", "--fix", env={"XDG_CACHE_HOME": str(tmp_path)})
    rootfs = tmp_path / "boxtrace" / "rootfs"
    assert result.stdout.splitlines()[0] == f"fix: built the busybox rootfs at {rootfs}"
    assert result.stdout.count("fix:") == 1, "only what was repaired is reported"
    assert table_rows(result.stdout)["busybox rootfs"][0] == "yes"
    assert result.returncode == 0
    assert (rootfs / "bin" / "busybox").exists() or (rootfs / "bin" / "sh").exists()


# scenarios and demo -------------------------------------------------------------------------------------------


@pytest.mark.cli_e2e("scenarios")
def test_scenarios_lists_every_scenario_with_its_readiness() -> None:
    result = run_boxtrace("scenarios")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    for name in SCENARIO_MODULES:
        readiness = get_scenario(name).check()
        assert rows[name][0] == ("ready" if readiness.ready else "not ready"), (name, rows[name])
    if os.geteuid() == 0:
        assert rows["teach"][0] == rows["teach-rootless"][0] == "ready"


@pytest.mark.cli_e2e("demo")
def test_demo_teach_live_on_the_console(tmp_path: Path) -> None:
    need_root()
    result = run_boxtrace("demo", "teach", "--no-tui", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "boxtrace-teach.jsonl"
    assert result.stdout.startswith("teach: ")
    assert f"recording written to {out}" in result.stdout
    for shown in ("pivot_root", "sethostname", "CLONE_NEWPID", "hello from pid 1 on teach"):
        assert shown in result.stdout, shown
    recording = load_recording(out)
    assert recording.complete and recording.header.scenario == "teach"
    missing = [r.milestone.id for r in get_scenario("teach").evaluate(recording.events)
               if r.milestone.required and not r.found]
    assert missing == []


@pytest.mark.cli_e2e("demo")
def test_demo_that_cannot_prepare_says_why_in_one_sentence(tmp_path: Path) -> None:
    """A cache path that is not a directory: the rootfs cannot be built. One sentence naming the path, exit 1,
    and no summary of a trace that never started."""
    need_root()
    result = run_boxtrace("demo", "teach", "--no-tui", cwd=tmp_path, env={"XDG_CACHE_HOME": "/dev/null/cache"})
    assert result.returncode == 1
    assert result.stderr == "boxtrace: cannot use /dev/null/cache/boxtrace: Not a directory\n"
    assert "boxtrace summary" not in result.stdout


@pytest.mark.cli_e2e("demo")
def test_demo_replay_shows_the_shipped_recording(tmp_path: Path) -> None:
    result = run_boxtrace("demo", "runc", "--replay", "--no-tui", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "runc" in result.stdout and "pivot_root" in result.stdout and "boxtrace summary" in result.stdout
    assert list(tmp_path.iterdir()) == [], "a replay writes nothing"


@pytest.mark.cli_e2e("demo")
def test_demo_without_a_keyboard_prints_instead_of_opening_the_tui(tmp_path: Path) -> None:
    """`make demo </dev/null` on a terminal: stdout is a terminal but stdin is not, so no TUI waits for a key."""
    import pty

    controller, terminal = pty.openpty()
    try:
        result = run_boxtrace("demo", "teach", "--replay", cwd=tmp_path, stdout=terminal, timeout=120)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert result.returncode == 0, result.stderr
    text = shown.decode(errors="replace")
    assert "pivot_root" in text and "boxtrace summary" in text
    assert "\x1b[?1049h" not in text, "the TUI's alternate screen was not opened"


@pytest.mark.cli_e2e("demo")
def test_demo_teach_rootless_as_root_runs_the_runtime_as_nobody(tmp_path: Path) -> None:
    need_root()
    out = tmp_path / "rootless.jsonl"
    result = run_boxtrace("demo", "teach-rootless", "--no-tui", "-o", out)
    assert result.returncode == 0, result.stdout + result.stderr
    recording = load_recording(out)
    maps = [e for e in recording.events if isinstance(e, Syscall) and e.name == "write"
            and f"0 {NOBODY} 1" in json.dumps(e.args)]
    assert maps, "the runtime, run as nobody, maps uid 0 inside to 65534 outside"
    runtime = next(arg for arg in recording.header.command if arg.endswith("teach_runtime.py"))
    assert Path(runtime).parent.parent == STAGING_ROOT, "nobody runs a staged copy, not the checkout's file"
    assert not Path(runtime).exists(), "the staged copy is removed after the trace"


@pytest.fixture
def nobodys_directory() -> Iterator[Path]:
    """A directory nobody may write (for its recording), removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="boxtrace-e2e-nobody-", dir="/tmp"))
    os.chown(directory, NOBODY, NOBODY)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.cli_e2e("demo")
def test_demo_teach_rootless_as_nobody(nobodys_directory: Path) -> None:
    """As an ordinary user, demo lets the scenario decide: teach-rootless runs, teach is refused with why.

    In a checkout nobody cannot reach (a clone under /root) nobody cannot start this boxtrace at all; then the
    test asserts exactly that refusal by the kernel, which is what such a user sees."""
    need_root()
    user: dict[str, Any] = {"user": NOBODY, "group": NOBODY, "extra_groups": [], "env": {"HOME": str(nobodys_directory)}}
    if not reachable_by(BOXTRACE, NOBODY, NOBODY, want=os.X_OK):
        with pytest.raises(PermissionError):
            subprocess.run([str(BOXTRACE), "--version"], cwd=nobodys_directory, capture_output=True, check=False,
                           **user)
        return
    result = run_boxtrace("demo", "teach-rootless", "--no-tui", cwd=nobodys_directory, **user)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello from pid 1 on teach" in result.stdout
    assert load_recording(nobodys_directory / "boxtrace-teach-rootless.jsonl").complete
    scenarios = table_rows(run_boxtrace("scenarios", cwd=nobodys_directory, **user).stdout)
    assert scenarios["teach-rootless"][0] == "ready" and scenarios["teach"][0] == "not ready"
    refused = run_boxtrace("demo", "teach", "--no-tui", cwd=nobodys_directory, **user)
    assert refused.returncode == 1
    assert refused.stderr.startswith("boxtrace: the teach scenario cannot run here: this scenario needs root")
    assert "--replay" in refused.stderr


# run, attach, docker -------------------------------------------------------------------------------------------


@pytest.mark.cli_e2e("run")
def test_run_traces_an_unshare_and_passes_its_exit_status_on(tmp_path: Path) -> None:
    need_root()
    out = tmp_path / "run.jsonl"
    result = run_boxtrace("run", "-o", out, "--", "unshare", "--uts", "--pid", "--fork", "sh", "-c",
                          "hostname e2e-box; hostname; exit 3")
    assert result.returncode == 3, result.stderr
    assert "e2e-box" in result.stdout
    assert "CLONE_NEWUTS" in result.stdout and "sethostname" in result.stdout
    assert "boxtrace summary" in result.stdout
    recording = load_recording(out)
    assert recording.end is not None and recording.end.exit_code == 3
    assert any(isinstance(e, Exec) and e.path.endswith("/unshare") for e in recording.events)


@pytest.mark.cli_e2e("run")
def test_run_json_prints_event_lines() -> None:
    need_root()
    result = run_boxtrace("run", "--json", "--", "true")
    assert result.returncode == 0, result.stderr
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert types[0] == "header" and types[-1] == "end" and "exec" in types


@pytest.mark.cli_e2e("attach")
def test_attach_follows_a_loop_and_detaches_leaving_it_running(tmp_path: Path) -> None:
    need_root()
    loop = subprocess.Popen(["sh", "-c", "while :; do sleep 0.2; done"], stdin=subprocess.DEVNULL)
    out = tmp_path / "attach.jsonl"
    try:
        tracer = popen_boxtrace("attach", loop.pid, "-o", out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out.exists() and b'"sleep"' in out.read_bytes()):
            time.sleep(0.1)
        assert out.exists() and b'"sleep"' in out.read_bytes(), "the attached loop's sleeps were never recorded"
        tracer.send_signal(signal.SIGINT)
        stdout, stderr = tracer.communicate(timeout=60)
        assert_no_crash(subprocess.CompletedProcess(tracer.args, tracer.returncode, stdout, stderr))
        assert tracer.returncode == 130, stderr
        assert re.search(rf"^\s*{loop.pid}\b.*attached: sh -c", stdout, re.MULTILINE), stdout
        assert "detached" in (stdout + stderr) or "interrupted" in stdout
        assert loop.poll() is None, "the attached process keeps running"
        with open(f"/proc/{loop.pid}/status") as status:
            state = next(line for line in status if line.startswith("State:"))
        assert "T" not in state.split()[1], f"left stopped: {state}"
        recording = load_recording(out)
        assert recording.header.mode == "attach" and recording.header.attached == [loop.pid]
        assert recording.end is not None and recording.end.status == "interrupted"
    finally:
        loop.kill()
        loop.wait()


@pytest.mark.cli_e2e("docker")
def test_docker_run_is_followed_to_the_entrypoint(tmp_path: Path) -> None:
    need_engine()
    from scenarios.images import DOCKER_IMAGE, docker_image_exists

    require(docker_image_exists(), f"{DOCKER_IMAGE} is missing: `boxtrace doctor --fix` imports it")
    name = f"boxtrace-e2e-{os.getpid()}"
    out = tmp_path / "docker.jsonl"
    try:
        result = run_boxtrace("docker", "-o", out, "--", "--rm", "--name", name, "--network", "none", DOCKER_IMAGE,
                              "sh", "-c", "echo hello-from-e2e", timeout=300)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "hello-from-e2e" in result.stdout
    recording = load_recording(out)
    assert recording.header.mode == "docker" and recording.complete
    execs = [e for e in recording.events if isinstance(e, Exec)]
    assert any("runc" in e.path for e in execs) and any(e.argv[:1] == ["sh"] for e in execs)
    for daemon in recording.header.attached:
        assert os.path.exists(f"/proc/{daemon}"), "attached daemons keep running"


# Reading recordings -------------------------------------------------------------------------------------------


@pytest.mark.cli_e2e("show")
def test_show_prints_a_recording_like_the_live_run() -> None:
    teach = SHIPPED / "teach.jsonl"
    result = run_boxtrace("show", teach)
    assert result.returncode == 0, result.stderr
    assert "pivot_root" in result.stdout and "boxtrace summary" in result.stdout
    bare = run_boxtrace("show", "--no-summary", teach)
    assert bare.returncode == 0 and "boxtrace summary" not in bare.stdout and "pivot_root" in bare.stdout
    as_json = run_boxtrace("show", "--json", teach)
    lines = as_json.stdout.splitlines()
    assert as_json.returncode == 0 and len(lines) == len(teach.read_text().splitlines())
    assert json.loads(lines[0])["type"] == "header"


@pytest.mark.cli_e2e("tui")
def test_tui_opens_a_recording_headless(tmp_path: Path) -> None:
    """The same entry point with Textual's own switches: its headless driver, a key press (next chapter), and a
    screenshot after two seconds, after which the app exits. The screenshot is what a person would see."""
    env = {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver", "TEXTUAL_PRESS": "n",
           "TEXTUAL_SCREENSHOT": "2", "TEXTUAL_SCREENSHOT_LOCATION": str(tmp_path),
           "TEXTUAL_SCREENSHOT_FILENAME": "tui.svg"}
    result = run_boxtrace("tui", SHIPPED / "teach.jsonl", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    screen = svg_text(tmp_path / "tui.svg")
    assert "boxtrace — teach" in screen
    assert "processes" in screen and "teach runtime" in screen and "container entrypoint" in screen
    first = get_scenario("teach").milestones[0]
    assert "Chapter 1/" in screen and first.title in screen, "the key press opened the walkthrough's first chapter"


def svg_text(path: Path) -> str:
    """The text of a Textual SVG screenshot, row by row."""
    import html

    rows: dict[float, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', path.read_text()):
        rows.setdefault(float(match[2]), []).append((float(match[1]), html.unescape(match[3]).replace("\xa0", " ")))
    return "\n".join("".join(text for _, text in sorted(row)) for _, row in sorted(rows.items()))


@pytest.mark.cli_e2e("export")
def test_export_writes_each_view(tmp_path: Path) -> None:
    runc = SHIPPED / "runc.jsonl"
    cases = {"architecture": ("a.svg", b"<svg"), "tree": ("t.png", b"\x89PNG"), "sequence": ("s.mmd", b"sequence"),
             "timeline": ("t.json", b"{"), "page": ("p.html", b"<!DOCTYPE html>"), "network": ("n.svg", b"<svg")}
    views = next(a.choices for a in subcommands()["export"]._actions if a.dest == "view")
    assert set(cases) == set(views or ()), "a view the parser offers has no case here: add its file and magic"
    for view, (name, magic) in cases.items():
        trace = SHIPPED / "teach-net.jsonl" if view == "network" else runc
        result = run_boxtrace("export", trace, "--view", view, "-o", tmp_path / name)
        assert result.returncode == 0, (view, result.stderr)
        assert result.stdout.strip() == f"wrote {tmp_path / name}"
        assert magic in (tmp_path / name).read_bytes()[:400], view
    refused = run_boxtrace("export", runc, "--format", "png", "-o", tmp_path / "png-named.svg")
    assert refused.returncode == 2 and not (tmp_path / "png-named.svg").exists()


@pytest.mark.cli_e2e("compare")
def test_compare_puts_runtimes_side_by_side() -> None:
    traces = [SHIPPED / f"{name}.jsonl" for name in ("teach", "runc")]
    result = run_boxtrace("compare", *traces, "--markdown")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("|") and "teach" in lines[0] and "runc" in lines[0]
    assert any("pivot_root" in line for line in lines)
    table = run_boxtrace("compare", *traces)
    assert table.returncode == 0 and "runc" in table.stdout


@pytest.mark.cli_e2e("import-strace")
def test_import_strace_turns_a_real_strace_log_into_a_recording(tmp_path: Path) -> None:
    require(shutil.which("strace"), "strace is not installed")
    need_root()
    log = tmp_path / "strace.log"
    traced = subprocess.run(["strace", "-f", "-tt", "-o", str(log), "unshare", "--uts", "sh", "-c",
                             "hostname from-strace"], capture_output=True, text=True, timeout=60, check=False)
    assert traced.returncode == 0, traced.stderr
    out = tmp_path / "imported.jsonl"
    result = run_boxtrace("import-strace", log, "-o", out)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout or "events" in result.stdout
    recording = load_recording(out)
    assert recording.header.mode == "import"
    assert any(isinstance(e, Syscall) and e.name == "sethostname" for e in recording.events)
    shown = run_boxtrace("show", out)
    assert shown.returncode == 0 and "sethostname" in shown.stdout
