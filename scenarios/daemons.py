"""The Docker engine and containerd: find them, ask whether they answer, start and stop the ones boxtrace started.

The docker and containerd scenarios attach to long-running daemons, so they need their pids. Nothing is hard-coded:
dockerd is found from its pid file or by scanning /proc for a process whose executable is named `dockerd`; the
containerd it talks to is the one listening on the socket dockerd was given (`--containerd=...`), found by matching
the socket inodes in /proc/PID/fd against the listening sockets in /proc/net/unix.

Daemons started here run in their own session (they outlive the caller), log to /var/log/boxtrace/, and get a pid
file under /run/boxtrace/ holding "pid starttime". `stop_started_daemons()` stops only those, by that pid, and only
while the start time still matches (pids are reused).

    python -m scenarios.daemons start | stop | status
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
#: Where containerd listens when dockerd starts its own (no --containerd given).
DOCKER_MANAGED_CONTAINERD_SOCKET = "/var/run/docker/containerd/containerd.sock"
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
DOCKER_PID_FILE = Path("/var/run/docker.pid")
STATE_DIR = Path("/run/boxtrace")
LOG_DIR = Path("/var/log/boxtrace")
DOCKER_DATA_ROOT = Path("/var/lib/docker")
DAEMON_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: Popen objects of daemons started by this process (kept so that stopping them here also reaps them).
_started: dict[int, subprocess.Popen[bytes]] = {}


class DaemonError(RuntimeError):
    """A daemon could not be started or does not answer; the message says where its log is."""


# Finding processes -------------------------------------------------------------------------------------------


def exe_name(pid: int) -> str | None:
    """Basename of /proc/PID/exe (None when the process is gone or unreadable)."""
    try:
        target = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None
    return os.path.basename(target.removesuffix(" (deleted)"))


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def parent_pid(pid: int) -> int | None:
    stat = _stat_fields(pid)
    return int(stat[1]) if stat else None


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    stat = _stat_fields(pid)
    return int(stat[19]) if stat else None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, ...] (field 3 onwards)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _alive(pid: int) -> bool:
    stat = _stat_fields(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def pids_named(name: str) -> list[int]:
    """Every live process whose executable's basename is `name`, oldest pid first."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and exe_name(int(entry)) == name and _alive(int(entry)):
            found.append(int(entry))
    return sorted(found)


def listening_unix_paths(pid: int) -> set[str]:
    """Paths of the AF_UNIX sockets `pid` listens on (its fd socket inodes matched against /proc/net/unix)."""
    inodes: set[str] = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return set()
    paths: set[str] = set()
    try:
        lines = Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]
    except OSError:
        return set()
    for line in lines:
        parts = line.split()
        # Num RefCount Protocol Flags Type St Inode [Path]; flag 0x10000 (__SO_ACCEPTCON) marks a listener.
        if len(parts) >= 8 and parts[6] in inodes and int(parts[3], 16) & 0x10000:
            paths.add(os.path.normpath(parts[7]))
    return paths


def _same_socket(a: str, b: str) -> bool:
    """/var/run is a symlink to /run on most systems: compare resolved paths."""
    return os.path.realpath(a) == os.path.realpath(b)


def dockerd_pid() -> int | None:
    """The running dockerd: from /var/run/docker.pid when it names a live dockerd, else by scanning /proc."""
    try:
        pid = int(DOCKER_PID_FILE.read_text().strip())
        if exe_name(pid) == "dockerd" and _alive(pid):
            return pid
    except (OSError, ValueError):
        pass
    pids = pids_named("dockerd")
    return pids[0] if pids else None


def dockerd_containerd_address(pid: int | None = None) -> str | None:
    """The containerd socket dockerd uses: its --containerd flag, else the one dockerd runs itself."""
    pid = dockerd_pid() if pid is None else pid
    if pid is None:
        return None
    args = cmdline(pid)
    for i, arg in enumerate(args):
        if arg.startswith("--containerd="):
            return arg.split("=", 1)[1]
        if arg == "--containerd" and i + 1 < len(args):
            return args[i + 1]
    return DOCKER_MANAGED_CONTAINERD_SOCKET


def containerd_pid(address: str | None = None) -> int | None:
    """The containerd listening on `address` (default: the one dockerd talks to, else the standalone socket)."""
    if address is None:
        address = dockerd_containerd_address() or CONTAINERD_SOCKET
    candidates = pids_named("containerd")
    for pid in candidates:
        if any(_same_socket(path, address) for path in listening_unix_paths(pid)):
            return pid
    # Sockets unreadable (not root?): fall back to what the command lines and parents say.
    for pid in candidates:
        args = cmdline(pid)
        for i, arg in enumerate(args):
            value = arg.split("=", 1)[1] if arg.startswith(("--address=", "-a=")) else None
            if arg in ("--address", "-a") and i + 1 < len(args):
                value = args[i + 1]
            if value and _same_socket(value, address):
                return pid
    if _same_socket(address, DOCKER_MANAGED_CONTAINERD_SOCKET):
        docker = dockerd_pid()
        for pid in candidates:
            if docker is not None and parent_pid(pid) == docker:
                return pid
    elif _same_socket(address, CONTAINERD_SOCKET):
        for pid in candidates:
            if not any(a in ("--address", "-a") or a.startswith("--address=") for a in cmdline(pid)):
                return pid
    return None


# Asking them -------------------------------------------------------------------------------------------------


def _answers(command: list[str], timeout: float) -> bool:
    if shutil.which(command[0]) is None:
        return False
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def docker_answers(timeout: float = 5.0) -> bool:
    """True when `docker version` reaches an engine."""
    return _answers(["docker", "version", "--format", "{{.Server.Version}}"], timeout)


def containerd_answers(address: str = CONTAINERD_SOCKET, timeout: float = 5.0) -> bool:
    """True when `ctr version` reaches containerd on `address`."""
    return _answers(["ctr", "--address", address, "--connect-timeout", "2s", "version"], timeout)


# Storage ------------------------------------------------------------------------------------------------------


def overlay_works(base: str | os.PathLike[str] = "/var/lib") -> bool:
    """Try an overlay mount on the filesystem that will hold the layers; True when the kernel allows it."""
    if os.geteuid() != 0:
        return False
    Path(base).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".boxtrace-overlay-", dir=base))
    try:
        for name in ("lower", "upper", "work", "merged"):
            (work / name).mkdir()
        options = f"lowerdir={work / 'lower'},upperdir={work / 'upper'},workdir={work / 'work'}"
        mounted = subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(work / "merged")],
            capture_output=True,
            timeout=10,
            check=False,
        )
        if mounted.returncode != 0:
            return False
        subprocess.run(["umount", str(work / "merged")], capture_output=True, timeout=10, check=False)
        return True
    finally:
        shutil.rmtree(work, ignore_errors=True)


def storage_driver() -> str:
    """The Docker storage driver to use here: overlay2 when overlay mounts work on /var/lib, else vfs."""
    return "overlay2" if overlay_works(DOCKER_DATA_ROOT.parent) else "vfs"


def containerd_snapshotter() -> str:
    """containerd's counterpart of `storage_driver()`: overlayfs, else native (plain copies)."""
    return "overlayfs" if overlay_works("/var/lib") else "native"


# Starting and stopping -----------------------------------------------------------------------------------------


def _pid_file(name: str) -> Path:
    return STATE_DIR / f"{name}.pid"


def _spawn(name: str, command: list[str]) -> subprocess.Popen[bytes]:
    STATE_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    LOG_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    env = dict(os.environ, PATH=DAEMON_PATH)
    with open(LOG_DIR / f"{name}.log", "ab") as log:
        log.write(f"\n--- boxtrace starting {' '.join(command)} at {time.ctime()}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: no terminal hangup or process-group signal reaches it
            close_fds=True,
            env=env,
            cwd="/",
        )
    _started[process.pid] = process
    _pid_file(name).write_text(f"{process.pid} {start_time(process.pid) or 0}\n")
    return process


def _wait_until(
    check: Callable[[], bool], process: subprocess.Popen[bytes], name: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _pid_file(name).unlink(missing_ok=True)
            raise DaemonError(f"{name} exited with status {process.returncode}: see {LOG_DIR / name}.log")
        if check():
            return
        time.sleep(0.2)
    raise DaemonError(f"{name} did not answer within {timeout:.0f} s: see {LOG_DIR / name}.log")


def start_containerd(timeout: float = 30.0) -> int:
    """Start a standalone containerd on /run/containerd/containerd.sock unless one answers; return its pid."""
    if containerd_answers(CONTAINERD_SOCKET, timeout=3):
        pid = containerd_pid(CONTAINERD_SOCKET)
        if pid is not None:
            return pid
    if shutil.which("containerd") is None:
        raise DaemonError("containerd is not installed: run `sudo apt-get install containerd`")
    process = _spawn("containerd", ["containerd", "--address", CONTAINERD_SOCKET])
    _wait_until(lambda: containerd_answers(CONTAINERD_SOCKET, timeout=3), process, "containerd", timeout)
    return process.pid


def dockerd_command(driver: str | None = None) -> list[str]:
    """How boxtrace runs dockerd: no iptables, no default bridge, using the standalone containerd."""
    return [
        "dockerd",
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        f"--containerd={CONTAINERD_SOCKET}",
        f"--storage-driver={driver or storage_driver()}",
    ]


def start_dockerd(timeout: float = 60.0) -> int:
    """Start dockerd (and the standalone containerd it uses) unless an engine answers; return dockerd's pid."""
    if docker_answers(timeout=5):
        pid = dockerd_pid()
        if pid is not None:
            return pid
    if shutil.which("dockerd") is None:
        raise DaemonError("dockerd is not installed: run `sudo apt-get install docker.io`")
    start_containerd()
    process = _spawn("dockerd", dockerd_command())
    _wait_until(lambda: docker_answers(timeout=5), process, "dockerd", timeout)
    return process.pid


def started_daemons() -> dict[str, int]:
    """The daemons boxtrace started that are still running: name -> pid (stale pid files are removed)."""
    running: dict[str, int] = {}
    for name in ("dockerd", "containerd"):
        path = _pid_file(name)
        try:
            pid_text, start_text = path.read_text().split()
            pid, started = int(pid_text), int(start_text)
        except (OSError, ValueError):
            continue
        if exe_name(pid) == name and _alive(pid) and start_time(pid) == started:
            running[name] = pid
        else:
            path.unlink(missing_ok=True)
    return running


def stop_started_daemons(timeout: float = 30.0) -> list[str]:
    """SIGTERM the daemons boxtrace started (dockerd first), wait for each, and return their names."""
    stopped = []
    running = started_daemons()
    for name in ("dockerd", "containerd"):
        pid = running.get(name)
        if pid is None:
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        _reap(pid)
        if _alive(pid):
            raise DaemonError(f"{name} (pid {pid}) did not stop within {timeout:.0f} s of SIGTERM")
        _pid_file(name).unlink(missing_ok=True)
        stopped.append(name)
    return stopped


def _reap(pid: int) -> None:
    process = _started.get(pid)
    if process is not None and process.poll() is not None:
        _started.pop(pid, None)


def docker_storage_driver(timeout: float = 5.0) -> str | None:
    """The storage driver the running engine uses (None when no engine answers)."""
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.Driver}}"], capture_output=True, text=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def status() -> dict[str, object]:
    docker = dockerd_pid()
    address = dockerd_containerd_address(docker) if docker else CONTAINERD_SOCKET
    return {
        "dockerd": docker,
        "docker answers": docker_answers(),
        "containerd address": address,
        "containerd": containerd_pid(address),
        "containerd answers": containerd_answers(address or CONTAINERD_SOCKET),
        "storage driver": docker_storage_driver() if docker else None,
        "started by boxtrace": started_daemons(),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    action = args[0] if args else "status"
    try:
        if action == "start":
            containerd = start_containerd()
            dockerd = start_dockerd()
            print(
                f"containerd pid {containerd}, dockerd pid {dockerd} (storage driver {docker_storage_driver()})"
            )
        elif action == "stop":
            stopped = stop_started_daemons()
            print("stopped: " + (", ".join(stopped) if stopped else "nothing boxtrace started was running"))
        elif action == "status":
            for key, value in status().items():
                print(f"{key}: {value}")
        else:
            print("usage: python -m scenarios.daemons start|stop|status", file=sys.stderr)
            return 2
    except DaemonError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
