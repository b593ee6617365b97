"""Secrets never reach what boxtrace writes or prints, unless the user asks with --show-env.

What counts as boxtrace's output: the recording, every file `export` writes, and boxtrace's own console lines.
The traced program's own output is not boxtrace's: a container running `env` prints PASSWORD=hunter2 because that
is its job, and in `boxtrace docker` that text reaches the same stdout (the docker CLI inherits it). So the
console checks drop the lines the traced program printed: the exact `NAME=value` lines of `env`, which no boxtrace
line ever is (every trace line starts with a pid or "boxtrace"). Anything else holding the secret is a leak.
Where the library API is used instead, the traced program's output goes to a file (TraceOptions.output_path) and
boxtrace's whole console output is checked.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import lesson_for
from tests.prereqs import require
from tracer.engine import TraceOptions
from tracer.events import REDACTED, Syscall
from tracer.recording import load_recording
from tracer.redact import CONTAINER_CLIS, redact_argv
from tracer.session import TraceSession

SECRET = "hunter2"
BOXTRACE = [sys.executable, "-m", "boxtrace"]
R = REDACTED


# redact_argv: a pure function, table-driven -------------------------------------------------------------------

REDACTIONS = [
    # (argv, expected)
    (["docker", "run", "-e", "PASSWORD=hunter2", "img"], ["docker", "run", "-e", f"PASSWORD={R}", "img"]),
    (["docker", "run", "--env", "PASSWORD=hunter2", "img"], ["docker", "run", "--env", f"PASSWORD={R}", "img"]),
    (["docker", "run", "--env=PASSWORD=hunter2", "img"], ["docker", "run", f"--env=PASSWORD={R}", "img"]),
    (["docker", "run", "-ePASSWORD=hunter2", "img"], ["docker", "run", f"-ePASSWORD={R}", "img"]),
    (["docker", "run", "-ite", "PASSWORD=hunter2", "img"], ["docker", "run", "-ite", f"PASSWORD={R}", "img"]),
    (["docker", "run", "-itePASSWORD=hunter2", "img"], ["docker", "run", f"-itePASSWORD={R}", "img"]),
    (["docker", "run", "-e", "A=b=c", "-e", "EMPTY=", "img"], ["docker", "run", "-e", f"A={R}", "-e", f"EMPTY={R}", "img"]),
    (["/usr/local/bin/docker", "run", "-e", "X=1", "img"], ["/usr/local/bin/docker", "run", "-e", f"X={R}", "img"]),
    (["docker", "container", "run", "-e", "X=1", "img"], ["docker", "container", "run", "-e", f"X={R}", "img"]),
    (["docker", "exec", "-e", "X=1", "c", "sh"], ["docker", "exec", "-e", f"X={R}", "c", "sh"]),
    # A bare NAME copies the caller's variable: its value is not in argv.
    (["docker", "run", "-e", "PASSWORD", "img"], ["docker", "run", "-e", "PASSWORD", "img"]),
    (["docker", "run", "--env-file", "secrets.env", "img"], ["docker", "run", "--env-file", "secrets.env", "img"]),
    # Other options with values, including clusters whose letter takes a value, stay as they are.
    (["docker", "run", "-p", "8080:80", "-v", "/a:/b", "-w", "/", "img"],
     ["docker", "run", "-p", "8080:80", "-v", "/a:/b", "-w", "/", "img"]),
    (["docker", "run", "-pe80:80", "img"], ["docker", "run", "-pe80:80", "img"]),
    (["docker", "run", "-ve=x:/y", "img"], ["docker", "run", "-ve=x:/y", "img"]),
    (["docker", "run", "--rm", "--name", "n", "img", "true"], ["docker", "run", "--rm", "--name", "n", "img", "true"]),
    # After the image the words belong to the container's command; -e X=Y there is redacted too (on purpose).
    (["docker", "run", "img", "sh", "-e", "X=1"], ["docker", "run", "img", "sh", "-e", f"X={R}"]),
    (["docker", "run", "img", "sh", "-e", "-c", "echo"], ["docker", "run", "img", "sh", "-e", "-c", "echo"]),
    # A dangling option.
    (["docker", "run", "-e"], ["docker", "run", "-e"]),
    (["docker", "run", "--env"], ["docker", "run", "--env"]),
    # The other container CLIs.
    (["podman", "run", "-e", "A=1", "img"], ["podman", "run", "-e", f"A={R}", "img"]),
    (["nerdctl", "run", "--env=A=1", "img"], ["nerdctl", "run", f"--env=A={R}", "img"]),
    (["runc", "exec", "--env", "TOKEN=abc", "id", "sh"], ["runc", "exec", "--env", f"TOKEN={R}", "id", "sh"]),
    (["ctr", "run", "--env", "TOKEN=abc", "img", "id"], ["ctr", "run", "--env", f"TOKEN={R}", "img", "id"]),
    # docker login's password, in every spelling; --password-stdin is a flag without a value.
    (["docker", "login", "-u", "me", "-p", "hunter2", "reg"], ["docker", "login", "-u", "me", "-p", R, "reg"]),
    (["docker", "login", "--password", "hunter2"], ["docker", "login", "--password", R]),
    (["docker", "login", "--password=hunter2"], ["docker", "login", f"--password={R}"]),
    (["docker", "login", "-phunter2"], ["docker", "login", f"-p{R}"]),
    (["docker", "login", "--password-stdin", "reg"], ["docker", "login", "--password-stdin", "reg"]),
    # -p is --publish outside login.
    (["docker", "run", "-p", "80:80", "img"], ["docker", "run", "-p", "80:80", "img"]),
    # Not a container CLI: -e means something else.
    (["sh", "-e", "-c", "X=1"], ["sh", "-e", "-c", "X=1"]),
    (["grep", "-e", "PASSWORD=hunter2", "f"], ["grep", "-e", "PASSWORD=hunter2", "f"]),
    (["env", "-u", "X", "sh"], ["env", "-u", "X", "sh"]),
    ([], []),
    (["docker"], ["docker"]),
    # Wrappers: their own options are skipped and what they run is looked at again.
    (["sudo", "docker", "run", "-e", "P=hunter2", "img"], ["sudo", "docker", "run", "-e", f"P={R}", "img"]),
    (["/usr/bin/sudo", "-E", "-u", "root", "--", "docker", "run", "--env=P=x", "img"],
     ["/usr/bin/sudo", "-E", "-u", "root", "--", "docker", "run", f"--env=P={R}", "img"]),
    (["sudo", "-Eu", "root", "docker", "run", "-e", "P=x"], ["sudo", "-Eu", "root", "docker", "run", "-e", f"P={R}"]),
    (["sudo", "-uroot", "docker", "run", "-e", "P=x"], ["sudo", "-uroot", "docker", "run", "-e", f"P={R}"]),
    (["doas", "-u", "root", "podman", "run", "-eA=1", "img"], ["doas", "-u", "root", "podman", "run", f"-eA={R}", "img"]),
    (["nice", "-n", "5", "docker", "run", "-e", "A=1"], ["nice", "-n", "5", "docker", "run", "-e", f"A={R}"]),
    (["nice", "-5", "docker", "run", "-e", "A=1"], ["nice", "-5", "docker", "run", "-e", f"A={R}"]),
    (["timeout", "-s", "KILL", "30", "docker", "run", "-e", "A=1"],
     ["timeout", "-s", "KILL", "30", "docker", "run", "-e", f"A={R}"]),
    (["setsid", "-w", "nohup", "ionice", "-c", "3", "docker", "run", "-e", "A=1"],
     ["setsid", "-w", "nohup", "ionice", "-c", "3", "docker", "run", "-e", f"A={R}"]),
    # stdbuf's -e is its stderr buffering: its value is not a secret and not the command.
    (["stdbuf", "-e", "0", "docker", "run", "-e", "A=1"], ["stdbuf", "-e", "0", "docker", "run", "-e", f"A={R}"]),
    (["docker", "login", "-p", "hunter2"], ["docker", "login", "-p", R]),
    (["sudo", "docker", "login", "-p", "hunter2"], ["sudo", "docker", "login", "-p", R]),
    # env's and sudo's NAME=value assignments before the command are an environment too: values redacted,
    # whatever the command (they never reach the command's argv, only its environment).
    (["env", "PASSWORD=hunter2", "docker", "run", "img"], ["env", f"PASSWORD={R}", "docker", "run", "img"]),
    (["env", "-i", "-u", "HOME", "A=1", "B=", "sh", "-c", "X=1"], ["env", "-i", "-u", "HOME", f"A={R}", f"B={R}", "sh",
                                                                    "-c", "X=1"]),
    (["env", "-", "TOKEN=abc"], ["env", "-", f"TOKEN={R}"]),
    (["sudo", "TOKEN=abc", "env", "A=1", "docker", "run", "-e", "P=x"],
     ["sudo", f"TOKEN={R}", "env", f"A={R}", "docker", "run", "-e", f"P={R}"]),
    (["timeout", "10", "env", "TOKEN=abc", "true"], ["timeout", "10", "env", f"TOKEN={R}", "true"]),
    # Wrappers with nothing (or only their own words) after them.
    (["sudo"], ["sudo"]),
    (["timeout", "10"], ["timeout", "10"]),
    (["env", "-u"], ["env", "-u"]),
    # A wrapper running something else leaves its arguments alone; -e there is not an environment.
    (["sudo", "grep", "-e", "A=1", "f"], ["sudo", "grep", "-e", "A=1", "f"]),
    (["nice", "sh", "-c", "docker run -e A=1"], ["nice", "sh", "-c", "docker run -e A=1"]),
]


@pytest.mark.parametrize(("argv", "expected"), REDACTIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_redact_argv(argv: list[str], expected: list[str]) -> None:
    original = list(argv)
    assert redact_argv(argv) == expected
    assert argv == original, "the input list is not changed"


_word = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    program=st.sampled_from(sorted(CONTAINER_CLIS)),
    words=st.lists(_word, max_size=8),
    name=st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True),
    form=st.sampled_from(["-e", "--env", "--env=", "-e+", "-ite"]),
    position=st.integers(0, 8),
)
def test_redact_argv_properties(program: str, words: list[str], name: str, form: str, position: int) -> None:
    value = "s3cr3t-" + secrets.token_hex(4)
    assignment = f"{name}={value}"
    option = {"-e": ["-e", assignment], "--env": ["--env", assignment], "--env=": [f"--env={assignment}"],
              "-e+": [f"-e{assignment}"], "-ite": ["-ite", assignment]}[form]
    words = [w for w in words if value not in w]
    position = min(position, len(words))
    argv = [program, *words[:position], *option, *words[position:]]
    out = redact_argv(argv)
    assert not any(value in word for word in out), out
    assert len(out) == len(argv)
    assert redact_argv(out) == out, "redacting twice changes nothing"
    assert redact_argv(["echo", *argv[1:]]) == ["echo", *argv[1:]], "other programs are left alone"


@settings(max_examples=200, deadline=None)
@given(
    wrappers=st.lists(st.sampled_from([
        ["sudo"], ["sudo", "-E", "-u", "root"], ["sudo", "--"], ["doas", "-u", "root"], ["env"], ["env", "-i"],
        ["env", "-u", "HOME"], ["nice", "-n", "5"], ["nohup"], ["setsid", "-w"], ["timeout", "30"],
        ["timeout", "-k", "5", "30"], ["ionice", "-c", "3"], ["stdbuf", "-oL"],
    ]), min_size=1, max_size=4),
    assignments=st.lists(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True), max_size=3),
    program=st.sampled_from(sorted(CONTAINER_CLIS)),
)
def test_redact_argv_sees_through_wrappers(wrappers: list[list[str]], assignments: list[str], program: str) -> None:
    value = "s3cr3t-" + secrets.token_hex(4)
    argv: list[str] = []
    for wrapper in wrappers:
        argv += wrapper
        if wrapper[0] in ("env", "sudo"):
            argv += [f"{name}={value}" for name in assignments]
    argv += [program, "run", "-e", f"PASSWORD={value}", "img"]
    out = redact_argv(argv)
    assert not any(value in word for word in out), out
    assert len(out) == len(argv) and out[-5:] == [program, "run", "-e", f"PASSWORD={R}", "img"]
    assert redact_argv(out) == out, "redacting twice changes nothing"


# Writes to regular files and pipes -----------------------------------------------------------------------------

WRITER = """\
import os, sys
secret = os.environ["PASSWORD"].encode()
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, secret)
os.close(fd)
r, w = os.pipe()
os.write(w, secret)
os.read(r, 100)
"""


@pytest.mark.root
@pytest.mark.parametrize("filter_", ["container", "all"])
def test_write_contents_to_files_and_pipes_are_never_recorded(tmp_path: Path, filter_: str) -> None:
    require(os.geteuid() == 0, "tracing needs root")
    target = tmp_path / "secret.txt"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    out = tmp_path / "t.jsonl"
    options = TraceOptions(filter=filter_, env=dict(os.environ, PASSWORD=SECRET), extra_syscalls=("write",),
                           output_path=str(tmp_path / "program-output"))
    console = io.StringIO()
    result = _trace([sys.executable, str(script), str(target)], options, out, console)
    assert result.exit_code == 0
    assert target.read_text() == SECRET, "the program really wrote the secret"
    recording = load_recording(out)
    writes = [e for e in recording.events if isinstance(e, Syscall) and e.name == "write"]
    to_file = [e for e in writes if e.args.get("path") == str(target)]
    to_pipe = [e for e in writes if str(e.args.get("path", "")).startswith("pipe:")]
    assert to_file and to_pipe, "both writes are recorded (fd, path and size)"
    assert all("data" not in e.args and e.args["count"] == len(SECRET) for e in to_file + to_pipe)
    assert SECRET not in out.read_text()
    assert SECRET not in console.getvalue()


def _trace(command: list[str], options: TraceOptions, out: Path, console: io.StringIO):
    from rich.console import Console

    from viz.console import ConsoleView

    view = ConsoleView(Console(file=console, width=200, color_system=None))
    session = TraceSession(command, None, options, output=out, sinks=[view])
    try:
        return session.run()
    finally:
        view.close()


# Launch mode --------------------------------------------------------------------------------------------------


@pytest.mark.root
def test_launch_with_a_secret_in_the_environment(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "tracing needs root")
    out = tmp_path / "launch.jsonl"
    program_output = tmp_path / "program-output"
    env = dict(os.environ, PASSWORD=SECRET)
    command = ["sh", "-c", 'env > /dev/null; /usr/bin/env | grep -c PASSWORD; printf "%s" "$PASSWORD" > /dev/null']
    console = io.StringIO()
    result = _trace(command, TraceOptions(env=env, output_path=str(program_output)), out, console)
    assert result.exit_code == 0
    assert program_output.read_text().strip() == "1", "the program saw the variable"
    text = out.read_text()
    assert SECRET not in text and SECRET not in console.getvalue()
    assert f"PASSWORD={REDACTED}" in text
    _assert_exports_clean(out, tmp_path)

    # The CLI, both console forms.
    for extra in ([], ["--json"]):
        cli = subprocess.run([*BOXTRACE, "run", *extra, "-o", str(tmp_path / "cli.jsonl"), "--", *command],
                             env=env, capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        assert SECRET not in cli.stdout + cli.stderr
        assert SECRET not in (tmp_path / "cli.jsonl").read_text()
        shown = subprocess.run([*BOXTRACE, "show", *extra, str(tmp_path / "cli.jsonl")], capture_output=True,
                               text=True, timeout=60)
        assert shown.returncode == 0 and SECRET not in shown.stdout + shown.stderr

    # --show-env is the one way to see values.
    cli = subprocess.run([*BOXTRACE, "run", "--show-env", "-o", str(tmp_path / "shown.jsonl"), "--", *command],
                         env=env, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0
    assert f"PASSWORD={SECRET}" in (tmp_path / "shown.jsonl").read_text()


def _assert_exports_clean(recording: Path, tmp_path: Path) -> None:
    """Every export format that needs no Graphviz renderer holds no secret (svg/png/pdf are drawn from dot)."""
    from viz.export import export

    loaded = load_recording(recording)
    for view, fmt in (("architecture", "dot"), ("tree", "dot"), ("sequence", "mmd"), ("timeline", "json")):
        target = tmp_path / f"export-{view}.{fmt}"
        export(loaded, view=view, fmt=fmt, theme="light", output=target)
        assert SECRET not in target.read_text(errors="replace"), f"{view} export leaks the secret"


# Docker mode --------------------------------------------------------------------------------------------------


@pytest.fixture
def docker_ready() -> None:
    require(os.geteuid() == 0, "attaching to dockerd needs root")
    from scenarios.daemons import docker_answers
    from scenarios.images import docker_image_exists

    require(docker_answers(timeout=5), "no Docker engine answers")
    require(docker_image_exists(), "the image boxtrace/busybox is missing (python -m scenarios.images)")


def _container_name() -> str:
    return f"boxtrace-secret-{secrets.token_hex(4)}"


def _remove_container(name: str) -> None:
    found = subprocess.run(["docker", "ps", "-aq", "--filter", f"name=^{name}$"], capture_output=True, text=True)
    if found.stdout.strip():
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def _boxtrace_lines(stdout: str) -> str:
    """boxtrace's console output without the lines `env` printed in the container (see the module docstring)."""
    return "\n".join(line for line in stdout.splitlines() if line.strip() != f"PASSWORD={SECRET}")


def _docker_trace(tmp_path: Path, env_args: list[str], *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    name = _container_name()
    out = tmp_path / f"{name}.jsonl"
    try:
        cli = subprocess.run(
            [*BOXTRACE, "docker", *extra, "-o", str(out), "--", "--rm", *env_args, "--network", "none",
             "--name", name, "boxtrace/busybox", "env"],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        _remove_container(name)
    assert cli.returncode == 0, cli.stderr
    return cli, out


@pytest.mark.root
@pytest.mark.docker
@pytest.mark.slow
def test_docker_env_file_secret_is_not_recorded(tmp_path: Path, docker_ready: None) -> None:
    """The value never appears in argv here, so this checks every other path: dockerd, containerd, the shim, runc's
    config and the entrypoint's exec environment."""
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f"PASSWORD={SECRET}\n")
    cli, out = _docker_trace(tmp_path, ["--env-file", str(env_file)])
    assert f"PASSWORD={SECRET}" in cli.stdout, "the container's env printed it (the program's own output)"
    assert SECRET not in _boxtrace_lines(cli.stdout) + cli.stderr
    assert SECRET not in out.read_text()
    assert f"PASSWORD={REDACTED}" in out.read_text(), "the entrypoint's exec shows the name, redacted"
    _assert_exports_clean(out, tmp_path)


@pytest.mark.root
@pytest.mark.docker
@pytest.mark.slow
def test_docker_dash_e_secret_is_not_recorded(tmp_path: Path, docker_ready: None) -> None:
    cli, out = _docker_trace(tmp_path, ["-e", f"PASSWORD={SECRET}"])
    assert f"PASSWORD={SECRET}" in cli.stdout, "the container's env printed it (the program's own output)"
    leaks = [line for line in out.read_text().splitlines() if SECRET in line]
    assert not leaks, "recording lines with the secret: " + "; ".join(json.loads(x)["type"] for x in leaks)
    assert SECRET not in _boxtrace_lines(cli.stdout) + cli.stderr
    _assert_exports_clean(out, tmp_path)


@pytest.mark.root
@pytest.mark.docker
@pytest.mark.slow
def test_docker_show_env_records_the_value(tmp_path: Path, docker_ready: None) -> None:
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f"PASSWORD={SECRET}\n")
    _, out = _docker_trace(tmp_path, ["--env-file", str(env_file)], "--show-env")
    assert f"PASSWORD={SECRET}" in out.read_text()


# import-strace --------------------------------------------------------------------------------------------------
#
# An strace log of a container launch holds every secret of its command line in plain text. The import must redact
# argv exactly as a live trace does, and environment values when strace -v printed them. No Docker engine is
# needed: what matters is the docker CLI's argv in the log, so the "docker" here is a tiny script that exits 0,
# placed in a temporary directory and run through strace for real. sudo is the real one when it is installed and
# we are root (it then runs without a password); otherwise a stand-in script of the same name that skips its
# options and execs the rest, which puts the same argv in the log.

FAKE_DOCKER = "#!/bin/sh\nexit 0\n"
FAKE_SUDO = '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do [ "$1" = "-u" ] && shift; shift; done\nexec "$@"\n'


@pytest.fixture
def wrapped_commands(tmp_path: Path) -> dict[str, list[str]]:
    """Command lines that carry SECRET in a docker CLI's argv, plain and through wrappers."""
    require(shutil.which("strace"), "strace is not installed (sudo apt-get install strace)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    sudo = shutil.which("sudo") if os.geteuid() == 0 else None
    if sudo is None:
        sudo = str(bin_dir / "sudo")
        Path(sudo).write_text(FAKE_SUDO)
        os.chmod(sudo, 0o755)
    run = [str(docker), "run", "--rm", "-e", f"PASSWORD={SECRET}", f"--env=TOKEN={SECRET}", "img", "true"]
    return {
        "docker": run,
        "env": ["env", "-u", "HOME", f"API_KEY={SECRET}", *run],
        "sudo": [sudo, "-E", "-u", "root", "--", *run],
        "nested": ["timeout", "60", "nice", "-n", "5", "setsid", "-w", sudo, "env", f"API_KEY={SECRET}", *run],
        "login": [sudo, str(docker), "login", "-u", "me", "-p", SECRET, "registry.example"],
    }


def _strace_log(tmp_path: Path, command: list[str], *options: str, env: dict[str, str] | None = None) -> Path:
    log = tmp_path / "strace.log"
    done = subprocess.run(["strace", "-f", "-tt", "-s", "256", *options, "-o", str(log), *command],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60, env=env)
    require(done.returncode == 0 or "ptrace" not in done.stderr, f"strace cannot trace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert SECRET.encode() in log.read_bytes(), "the strace log holds the secret (the import has something to hide)"
    return log


@pytest.mark.parametrize("variant", ["docker", "env", "sudo", "nested", "login"])
def test_import_strace_redacts_argv(variant: str, wrapped_commands: dict[str, list[str]], tmp_path: Path) -> None:
    from tracer.events import Exec, ProcessStarted
    from tracer.strace_import import import_strace

    log = _strace_log(tmp_path, wrapped_commands[variant])
    out = tmp_path / "imported.jsonl"
    import_strace(log, out)
    data = out.read_bytes()
    assert SECRET.encode() not in data
    recording = load_recording(out)
    execs = [e for e in recording.events if isinstance(e, Exec)]
    docker_exec = next(e for e in execs if os.path.basename(e.path) == "docker")
    if variant == "login":
        assert docker_exec.argv[-3:] == ["-p", REDACTED, "registry.example"]
    else:
        assert docker_exec.argv[3:6] == ["-e", f"PASSWORD={REDACTED}", f"--env=TOKEN={REDACTED}"]
        assert b"PASSWORD=" + REDACTED.encode() in data and b"TOKEN=" + REDACTED.encode() in data
    first = next(e for e in recording.events if isinstance(e, ProcessStarted))
    assert first.argv == recording.header.command == execs[0].argv, "header, process and first exec agree"
    if variant in ("env", "nested"):
        assert f"API_KEY={REDACTED}" in recording.header.command

    # The CLI writes the same file and prints nothing secret.
    cli_out = tmp_path / "cli.jsonl"
    cli = subprocess.run([*BOXTRACE, "import-strace", str(log), "-o", str(cli_out)], capture_output=True, text=True,
                         timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert SECRET not in cli.stdout + cli.stderr and SECRET.encode() not in cli_out.read_bytes()
    shown = subprocess.run([*BOXTRACE, "show", str(cli_out)], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and SECRET not in shown.stdout + shown.stderr
    _assert_exports_clean(out, tmp_path)

    # show_env (live tracing's --show-env) is the one way to keep the values.
    import_strace(log, tmp_path / "shown.jsonl", show_env=True)
    assert SECRET.encode() in (tmp_path / "shown.jsonl").read_bytes()


def test_import_strace_redacts_the_environment_strace_v_shows(wrapped_commands: dict[str, list[str]],
                                                               tmp_path: Path) -> None:
    from tracer.events import Exec
    from tracer.strace_import import import_strace

    log = _strace_log(tmp_path, wrapped_commands["env"], "-v", env=dict(os.environ, DB_PASSWORD=SECRET))
    assert f'"DB_PASSWORD={SECRET}"'.encode() in log.read_bytes(), "strace -v printed the environment"
    out = tmp_path / "imported.jsonl"
    import_strace(log, out)
    assert SECRET.encode() not in out.read_bytes()
    execs = [e for e in load_recording(out).events if isinstance(e, Exec)]
    assert all(f"DB_PASSWORD={REDACTED}" in (e.env or []) for e in execs), "every exec keeps the name, not the value"
    import_strace(log, tmp_path / "shown.jsonl", show_env=True)
    assert f"DB_PASSWORD={SECRET}".encode() in (tmp_path / "shown.jsonl").read_bytes()


def test_import_strace_undecodable_exec_keeps_no_argv(tmp_path: Path) -> None:
    """A failed exec whose arguments strace printed in a shape the importer cannot read is kept as raw text: only
    its path, never the argv and environment that follow."""
    from tracer.events import Syscall
    from tracer.strace_import import import_strace

    log = tmp_path / "odd.log"
    log.write_text('5 10:00:00.000001 execve("/bin/true", ["true"], 0x7ffd /* 1 var */) = 0\n'
                   f'5 10:00:00.000002 execve("/usr/bin/docker", ["docker", "run", "-e", "P={SECRET}"], @@@) '
                   "= -1 ENOENT (No such file or directory)\n"
                   "5 10:00:00.000003 exit_group(0) = ?\n5 10:00:00.000004 +++ exited with 0 +++\n")
    out = tmp_path / "odd.jsonl"
    report = import_strace(log, out)
    assert report.undecoded == 1
    assert SECRET not in out.read_text()
    failed = next(e for e in load_recording(out).events if isinstance(e, Syscall) and e.name == "execve")
    assert failed.args == {"strace": f'"/usr/bin/docker", {REDACTED}'}


# The TUI ---------------------------------------------------------------------------------------------------------


def _svg_text(svg: str) -> str:
    """The text of a Textual screenshot: markup dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def _tui_text(app) -> str:
    """What the TUI shows now: the screenshot's text and the whole details pane, which scrolls (a screenshot holds
    only its top)."""
    from rich.console import Console

    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(app.main_screen.details_pane.body.content)
    return _svg_text(app.export_screenshot(simplify=True)) + "\n" + console.export_text()


def _everything_the_tui_shows(path: Path) -> list[str]:
    """Open the recording headless and collect the text of every event's and every process's details, each
    walkthrough chapter and the help screen."""
    from viz.tui.app import BoxtraceApp

    recording = load_recording(path)
    app = BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario))
    seen: list[str] = []

    async def main() -> None:
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            screen = app.main_screen
            seen.append(_tui_text(app))
            for event in recording.events:
                if screen.select_event(event.seq):
                    await pilot.pause()
                    seen.append(_tui_text(app))
            for proc in app.model.table.history:
                screen.set_subject(proc)
                screen.details_pane.show_process(proc)
                await pilot.pause()
                seen.append(_tui_text(app))
            for _ in screen.walkthrough().chapters:
                await pilot.press("n")
                await pilot.pause()
                seen.append(_tui_text(app))
            await pilot.press("question_mark")
            await pilot.pause()
            seen.append(_svg_text(app.export_screenshot()))
            await pilot.press("escape", "q")

    asyncio.run(main())
    return seen


def test_tui_never_shows_a_redacted_secret(wrapped_commands: dict[str, list[str]], tmp_path: Path) -> None:
    from tracer.strace_import import import_strace

    log = _strace_log(tmp_path, wrapped_commands["nested"], "-v", env=dict(os.environ, DB_PASSWORD=SECRET))
    redacted, shown = tmp_path / "redacted.jsonl", tmp_path / "shown.jsonl"
    import_strace(log, redacted)
    import_strace(log, shown, show_env=True)

    texts = _everything_the_tui_shows(redacted)
    assert not [text for text in texts if SECRET in text]
    joined = "\n".join(texts)
    assert f"PASSWORD={REDACTED}" in joined and "API_KEY=" in joined, "the argv was on screen, redacted"
    # The same walk over the values kept by show_env finds them: the check can see a secret on screen.
    assert any(SECRET in text for text in _everything_the_tui_shows(shown))


def test_import_strace_cli_redacts_unless_show_env(tmp_path: Path) -> None:
    """`boxtrace import-strace` keeps an environment value only with --show-env, like `boxtrace run`."""
    require(shutil.which("strace") is not None, "strace is needed to make a real log")
    log = tmp_path / "env.log"
    subprocess.run(["strace", "-f", "-tt", "-v", "-s", "256", "-o", str(log), "env", "SECRET_TOKEN=hunter2",
                    "/bin/true"], check=True, timeout=60)
    for flags, expected in (([], False), (["--show-env"], True)):
        out = tmp_path / f"out{len(flags)}.jsonl"
        subprocess.run([sys.executable, "-m", "boxtrace", "import-strace", *flags, str(log), "-o", str(out)],
                       check=True, capture_output=True, timeout=60)
        assert (b"hunter2" in out.read_bytes()) is expected, flags
