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

import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    try:
        from viz.export import export
    except ImportError:
        return
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
