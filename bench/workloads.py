"""The traced workloads (dd, runc, unshare, teach, dd inside runc, docker) and the configurations to run.

Every launch workload runs under the same five configurations, interleaved round by round:

- untraced: the command itself;
- strace: `strace -f -o /dev/null` (every syscall of every thread: two stops each);
- strace-bpf: `strace -f --seccomp-bpf -e trace=SET -o /dev/null`, SET being boxtrace's container syscall set
  (minus write, see `strace_syscall_set`, and minus names this strace does not know);
- boxtrace: `boxtrace run -o FILE` (the default: container filter + seccomp-bpf);
- boxtrace-all: `boxtrace run --filter all -o FILE` (every syscall, no seccomp).

docker has its own three: the CLI untraced, the CLI while `strace -f -p dockerd -p containerd` is attached
(only the CLI's run is timed), and `boxtrace docker` (whole command timed; the CLI's time inside the trace is
read from the recording).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import BenchError, Sample, kill_group, run_timed

CONFIGS: tuple[str, ...] = ("untraced", "strace", "strace-bpf", "boxtrace", "boxtrace-all")
CONFIG_LABELS: dict[str, str] = {
    "untraced": "untraced",
    "strace": "strace -f",
    "strace-bpf": "strace -f --seccomp-bpf -e trace=SET",
    "boxtrace": "boxtrace run (container filter + seccomp)",
    "boxtrace-all": "boxtrace run --filter all",
}
DOCKER_CONFIGS: tuple[str, ...] = ("untraced", "strace-attach", "boxtrace")
DOCKER_LABELS: dict[str, str] = {
    "untraced": "docker run, untraced",
    "strace-attach": "docker run while strace -f -p dockerd -p containerd -e trace=SET",
    "boxtrace": "boxtrace docker",
}
DOCKER_SCRIPT = "hostname; echo hi"
_ids = itertools.count(1)


def boxtrace_argv() -> list[str]:
    """The installed `boxtrace` entry point beside this interpreter (what `make` users run)."""
    script = Path(sys.executable).with_name("boxtrace")
    return [str(script)] if script.exists() else [sys.executable, "-m", "boxtrace"]


def container_syscall_names() -> list[str]:
    from tracer.decoders import CONTAINER_SYSCALL_NRS, SYSCALLS

    return sorted(SYSCALLS[nr].name for nr in CONTAINER_SYSCALL_NRS)


def strace_syscall_set() -> tuple[list[str], list[str]]:
    """boxtrace's container set as strace can take it: (names, names left out and why).

    write is left out: boxtrace's filter stops at write(2) only when fd > 2, which `-e trace=` cannot express,
    and with write in the set strace would stop at every one of dd's writes to stdout.
    """
    names = [n for n in container_syscall_names() if n != "write"]
    dropped = ["write (fd > 2 only in boxtrace; strace cannot express that)"]
    for _ in range(len(names)):
        result = subprocess.run(
            ["strace", "-e", "trace=" + ",".join(names), "-o", "/dev/null", "true"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        match = re.search(r"invalid system call '([^']+)'", result.stderr)
        if result.returncode == 0 or match is None:
            break
        names.remove(match.group(1))
        dropped.append(f"{match.group(1)} (unknown to this strace)")
    return names, dropped


# Facts from recordings ------------------------------------------------------------------------------------


def count_lines(path: Path) -> int:
    lines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def last_event(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 65536))
            tail = handle.read().splitlines()
    except OSError:
        return None
    for line in reversed(tail):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def recording_facts(path: Path) -> dict[str, Any]:
    """Events, bytes and in-trace seconds (the End event's t) of a recording just written."""
    if not path.exists():
        return {"events": 0}
    end = last_event(path)
    facts: dict[str, Any] = {"events": count_lines(path), "bytes": path.stat().st_size}
    if end and end.get("type") == "end":
        facts["in_trace"] = end.get("t")
        facts["status"] = end.get("status")
    return facts


def launched_exit_time(path: Path) -> float | None:
    """When the launched command (the docker CLI) exited, in trace seconds (the header is at 0)."""
    launched: int | None = None
    with open(path, "rb") as handle:
        for raw in handle:
            if b'"launch"' not in raw and b'"type":"exit"' not in raw:
                continue
            event = json.loads(raw)
            if event.get("type") == "process" and event.get("via") == "launch":
                launched = event.get("pid")
            elif event.get("type") == "exit" and launched is not None and event.get("pid") == launched:
                return float(event["t"])
    return None


# Launch workloads ------------------------------------------------------------------------------------------


@dataclass
class Workload:
    """A command traced under the five configurations; `before`/`after` run untimed around each run."""

    name: str
    description: str
    timeout: float
    cwd: str | None = None
    argv: list[str] = field(default_factory=list)

    def prepare(self, tmp: Path) -> None:
        """Build what the runs need (bundles, rootfs), once, untimed."""

    def command(self, run_id: str) -> list[str]:
        return list(self.argv)

    def before(self, run_id: str) -> None:
        pass

    def after(self, run_id: str) -> None:
        pass

    def finish(self) -> None:
        """Remove anything the runs left behind."""


@dataclass
class RuncWorkload(Workload):
    """`runc --root <private dir> run --bundle B ID` of a busybox bundle; each container deleted after."""

    container_args: list[str] = field(default_factory=list)
    bundle: Path | None = None
    state: Path | None = None

    def prepare(self, tmp: Path) -> None:
        from scenarios.bundle import make_bundle

        self.state = tmp / "runc-state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.bundle = make_bundle(tmp / f"bundle-{self.name}", self.container_args, "bench")
        self.cwd = str(self.bundle)

    def _runc(self, *args: str) -> list[str]:
        return [shutil.which("runc") or "runc", "--root", str(self.state), *args]

    def command(self, run_id: str) -> list[str]:
        return self._runc("run", "--bundle", str(self.bundle), run_id)

    def before(self, run_id: str) -> None:
        from scenarios.bundle import make_bundle

        # A cgroup per container (as the runc scenario does): runc removes it when it deletes the container.
        make_bundle(self.bundle, self.container_args, "bench", cgroups_path=f"/{run_id}")

    def after(self, run_id: str) -> None:
        subprocess.run(
            self._runc("delete", "--force", run_id),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )

    def finish(self) -> None:
        if self.state is None:
            return
        try:
            listed = subprocess.run(
                self._runc("list", "--quiet"), capture_output=True, text=True, timeout=30, check=False
            ).stdout.split()
        except subprocess.TimeoutExpired:
            listed = []
        for container in listed:
            self.after(container)


def dd_argv(count: int) -> list[str]:
    return ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={count}"]


def launch_workloads(dd_count: int) -> list[Workload]:
    from scenarios.common import ENTRYPOINT_SCRIPT
    from scenarios.rootfs import build_rootfs
    from scenarios.teach import SCENARIO as TEACH

    rootfs = str(build_rootfs())
    unshare = [
        "unshare",
        "--fork",
        "--pid",
        "--mount-proc",
        "--uts",
        "--ipc",
        "--net",
        "--mount",
        "chroot",
        rootfs,
        "/bin/sh",
        "-c",
        "hostname box; echo ok",
    ]
    teach = TEACH.launch()
    return [
        Workload("dd", f"`{' '.join(dd_argv(dd_count))}`", timeout=600, argv=dd_argv(dd_count)),
        RuncWorkload(
            "runc",
            "`runc run` of a busybox bundle (sh -c 'echo hello ...')",
            timeout=180,
            container_args=["/bin/sh", "-c", ENTRYPOINT_SCRIPT],
        ),
        Workload(
            "unshare",
            "`unshare --fork --pid --mount-proc --uts --ipc --net --mount chroot ROOTFS sh -c ...`",
            timeout=180,
            argv=unshare,
        ),
        Workload(
            "teach",
            "boxtrace's teach runtime (`scenarios/teach.py`)",
            timeout=180,
            cwd=teach.cwd,
            argv=list(teach.command),
        ),
        RuncWorkload(
            "runc-dd",
            f"`runc run` of a bundle whose process is `{' '.join(dd_argv(dd_count))}`",
            timeout=600,
            container_args=dd_argv(dd_count),
        ),
    ]


def configured_argv(config: str, command: list[str], *, strace_set: list[str], recording: Path) -> list[str]:
    if config == "untraced":
        return command
    if config == "strace":
        return ["strace", "-f", "-o", "/dev/null", "--", *command]
    if config == "strace-bpf":
        return [
            "strace",
            "-f",
            "--seccomp-bpf",
            "-e",
            "trace=" + ",".join(strace_set),
            "-o",
            "/dev/null",
            "--",
            *command,
        ]
    if config == "boxtrace":
        return [*boxtrace_argv(), "run", "-o", str(recording), "--", *command]
    if config == "boxtrace-all":
        return [*boxtrace_argv(), "run", "--filter", "all", "-o", str(recording), "--", *command]
    raise ValueError(config)


def launch_runner(workload: Workload, tmp: Path, strace_set: list[str]) -> Callable[[str, int], Sample]:
    """run_one(config, round) for `interleave`."""

    def run_one(config: str, index: int) -> Sample:
        run_id = f"bench-{workload.name}-{os.getpid()}-{next(_ids)}"
        recording = tmp / f"{workload.name}-{config}.jsonl"
        recording.unlink(missing_ok=True)
        argv = configured_argv(config, workload.command(run_id), strace_set=strace_set, recording=recording)
        workload.before(run_id)
        try:
            sample = run_timed(argv, timeout=workload.timeout, cwd=workload.cwd)
        finally:
            workload.after(run_id)
        if config.startswith("boxtrace"):
            sample.extra.update(recording_facts(recording))
        return sample

    return run_one


# docker ----------------------------------------------------------------------------------------------------


def remove_container(name: str) -> None:
    try:
        found = subprocess.run(
            ["docker", "ps", "-a", "--quiet", "--filter", f"name=^{name}$"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        if found:
            subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        pass


ATTACHED = re.compile(rb"Process (\d+) attached(?: with (\d+) threads)?")


class StraceAttach:
    """`strace -f -p dockerd -p containerd` running in the background until `stop()`."""

    def __init__(
        self, pids: list[int], strace_set: list[str], output: Path, attach_timeout: float = 5.0
    ) -> None:
        self.expected = len(pids)
        argv = [
            "strace",
            "-f",
            *itertools.chain.from_iterable(("-p", str(p)) for p in pids),
            "-e",
            "trace=" + ",".join(strace_set),
            "-o",
            str(output),
        ]
        self.attached = 0
        self.threads = 0
        self._all_attached = threading.Event()
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # With -f strace prints one "Process N attached with M threads" per -p once it has seized every thread
        # of N: wait for all of them (or give it attach_timeout).
        self._all_attached.wait(attach_timeout)
        self.attach_seconds = time.perf_counter() - started
        if self.proc.poll() is not None:
            raise BenchError(f"strace -p exited at once (rc {self.proc.returncode})")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            match = ATTACHED.search(raw)
            if match is None:
                continue
            self.attached += 1
            self.threads += int(match.group(2) or 1)
            if self.attached >= self.expected:
                self._all_attached.set()

    def stop(self, timeout: float = 60.0) -> float:
        """SIGINT (strace detaches from every thread and exits); SIGKILL the group if it does not. Seconds."""
        started = time.perf_counter()
        try:
            os.kill(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            kill_group(self.proc.pid)
            self.proc.wait(10)
        self._reader.join(5)
        return time.perf_counter() - started


def docker_run_args(name: str) -> list[str]:
    """`docker run`'s arguments (after `run`) for the benchmark's container."""
    from scenarios.images import DOCKER_IMAGE

    return ["--rm", "--network", "none", "--name", name, DOCKER_IMAGE, "/bin/sh", "-c", DOCKER_SCRIPT]


def docker_runner(
    tmp: Path, strace_set: list[str], daemon_pids: list[int], before_each: Callable[[], None] = lambda: None
) -> Callable[[str, int], Sample]:
    """run_one(config, round); `before_each` runs untimed before every run (the harness waits there until no
    other tracer holds the daemons: on a shared machine a test suite may attach between two rounds)."""
    docker = shutil.which("docker") or "docker"

    run_args = docker_run_args

    def run_one(config: str, index: int) -> Sample:
        before_each()
        try:
            return _run_one(config)
        except BenchError as error:
            # Lost to another tracer that attached meanwhile: recorded as failed and left out of every ratio.
            return Sample(wall=0.0, rc=1, timed_out=True, extra={"error": str(error)})

    def _run_one(config: str) -> Sample:
        name = f"boxtrace-bench-{os.getpid()}-{next(_ids)}"
        try:
            if config == "untraced":
                return run_timed([docker, "run", *run_args(name)], timeout=180)
            if config == "strace-attach":
                output = tmp / "docker-strace.txt"
                tracer = StraceAttach(daemon_pids, strace_set, output)
                try:
                    sample = run_timed([docker, "run", *run_args(name)], timeout=300)
                finally:
                    detach = tracer.stop()
                sample.extra.update(
                    {
                        "processes_attached": tracer.attached,
                        "threads_attached": tracer.threads,
                        "attach_s": round(tracer.attach_seconds, 3),
                        "detach_s": round(detach, 3),
                        "strace_lines": count_lines(output) if output.exists() else 0,
                    }
                )
                return sample
            if config == "boxtrace":
                recording = tmp / "docker-boxtrace.jsonl"
                recording.unlink(missing_ok=True)
                sample = run_timed(
                    [*boxtrace_argv(), "docker", "-o", str(recording), "--", *run_args(name)], timeout=300
                )
                sample.extra.update(recording_facts(recording))
                if recording.exists():
                    sample.extra["cli_in_trace"] = launched_exit_time(recording)
                return sample
            raise ValueError(config)
        finally:
            remove_container(name)

    return run_one


# The live TUI ----------------------------------------------------------------------------------------------

LIVE_TUI_CONFIGS: tuple[str, ...] = ("file", "tui")
LIVE_TUI_LABELS: dict[str, str] = {
    "file": "boxtrace run --filter all -o FILE > /dev/null (the trace to a file)",
    "tui": "the same trace into the live TUI, headless, with -o FILE (bench.live_tui)",
}
REPO = Path(__file__).resolve().parent.parent


def live_tui_runner(tmp: Path, dd_count: int) -> Callable[[str, int], Sample]:
    """run_one(config, round): dd under `--filter all`, to a file or into the headless live TUI."""

    def run_one(config: str, index: int) -> Sample:
        recording = tmp / f"live-{config}.jsonl"
        recording.unlink(missing_ok=True)
        if config == "file":
            argv = configured_argv("boxtrace-all", dd_argv(dd_count), strace_set=[], recording=recording)
            sample = run_timed(argv, timeout=900)
        elif config == "tui":
            result = tmp / "live-tui.json"
            result.unlink(missing_ok=True)
            argv = [
                sys.executable, "-m", "bench.live_tui", "--result", str(result), "--output", str(recording),
                "--filter", "all", "--", *dd_argv(dd_count),
            ]  # fmt: skip
            sample = run_timed(argv, timeout=900, cwd=str(REPO))
            if result.exists():
                sample.extra.update(json.loads(result.read_text()))
            else:
                sample.rc = sample.rc or 1
                sample.extra["error"] = "bench.live_tui wrote no result"
        else:
            raise ValueError(config)
        sample.extra.update(recording_facts(recording))
        return sample

    return run_one
