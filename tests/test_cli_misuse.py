"""The CLI under misuse: wrong arguments get usage help and exit 2, bad files get one sentence and exit 1.

Every case runs the real `python -m boxtrace` in a subprocess, so a traceback anywhere (import time included)
would show. No case here starts a trace: misuse is caught before anything is launched or attached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.prereqs import require

BOXTRACE = [sys.executable, "-m", "boxtrace"]
EXIT_USAGE = 2
EXIT_FAILURE = 1


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BOXTRACE, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          cwd=cwd)


def assert_usage(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == EXIT_USAGE, (result.returncode, result.stderr)
    assert "usage:" in result.stderr
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == "", "usage errors print nothing on stdout"


def assert_one_sentence(result: subprocess.CompletedProcess[str], code: int = EXIT_FAILURE) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("boxtrace: ")
    assert "unexpected error" not in lines[0], lines[0]
    assert "Traceback" not in result.stderr


# Missing, extra and wrong arguments ---------------------------------------------------------------------------

MISUSE = {
    "no command": [],
    "unknown command": ["bogus"],
    "unknown top option": ["--bogus"],
    "only --debug": ["--debug"],
    # run
    "run without command": ["run"],
    "run with only --": ["run", "--"],
    "run -o without file": ["run", "-o"],
    "run bad filter": ["run", "--filter", "bogus", "--", "true"],
    "run unknown option": ["run", "--bogus", "--", "true"],
    "run --filter without value": ["run", "--filter"],
    # attach
    "attach without pid": ["attach"],
    "attach non-numeric pid": ["attach", "abc"],
    "attach --filter without value": ["attach", "1", "--filter"],
    "attach unknown option": ["attach", "--bogus", "1"],
    # docker
    "docker without args": ["docker"],
    "docker with only --": ["docker", "--"],
    "docker bad filter": ["docker", "--filter", "x", "--", "img"],
    "docker -o without file": ["docker", "-o"],
    # show
    "show without trace": ["show"],
    "show extra argument": ["show", "a.jsonl", "b.jsonl"],
    "show unknown option": ["show", "--bogus", "a.jsonl"],
    # tui
    "tui without trace": ["tui"],
    "tui extra argument": ["tui", "a.jsonl", "b.jsonl"],
    # export
    "export without anything": ["export"],
    "export without -o": ["export", "a.jsonl"],
    "export -o without value": ["export", "a.jsonl", "-o"],
    "export bad view": ["export", "a.jsonl", "-o", "x.svg", "--view", "bogus"],
    "export bad format": ["export", "a.jsonl", "-o", "x.svg", "--format", "gif"],
    "export bad theme": ["export", "a.jsonl", "-o", "x.svg", "--theme", "pink"],
    "export extra argument": ["export", "a.jsonl", "-o", "x.svg", "extra"],
    # scenarios, demo, doctor
    "scenarios extra argument": ["scenarios", "extra"],
    "scenarios unknown option": ["scenarios", "--bogus"],
    "demo extra argument": ["demo", "runc", "extra"],
    "demo unknown option": ["demo", "--bogus"],
    "demo -o without file": ["demo", "-o"],
    "doctor extra argument": ["doctor", "extra"],
    "doctor --fix with a value": ["doctor", "--fix", "x"],
    # compare
    "compare without traces": ["compare"],
    "compare only --markdown": ["compare", "--markdown"],
    "compare unknown option": ["compare", "--bogus", "a.jsonl"],
    # spec
    "spec without a trace": ["spec"],
    "spec unknown option": ["spec", "--bogus", "a.jsonl"],
    # import-strace
    "import-strace without anything": ["import-strace"],
    "import-strace without -o": ["import-strace", "log"],
    "import-strace -o without value": ["import-strace", "log", "-o"],
    "import-strace extra argument": ["import-strace", "log", "-o", "x.jsonl", "extra"],
}


#: Misuse argparse cannot see: the arguments parse but ask for the impossible. Each needs a real recording.
IMPOSSIBLE = {
    "export unknown suffix": ["-o", "x.gif"],
    "export timeline as svg": ["--view", "timeline", "-o", "t.svg"],
    "export sequence as json": ["--view", "sequence", "-o", "s.json"],
    "export tree as json": ["--view", "tree", "-o", "t.json"],
    "export png into an svg name": ["--format", "png", "-o", "x.svg"],
    "export dot into a pdf name": ["--format", "dot", "-o", "x.pdf"],
}


@pytest.mark.parametrize("args", list(IMPOSSIBLE.values()), ids=list(IMPOSSIBLE))
def test_impossible_export_is_misuse_and_writes_nothing(args: list[str], tmp_path: Path) -> None:
    recording = Path(__file__).resolve().parent.parent / "scenarios" / "recordings" / "teach.jsonl"
    result = run_cli("export", str(recording), *args, cwd=tmp_path)
    assert_usage(result)
    assert result.stderr.count("error:") == 1, result.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is written"


@pytest.mark.parametrize("args", list(MISUSE.values()), ids=list(MISUSE))
def test_misuse_gets_usage_and_exit_2(args: list[str], tmp_path: Path) -> None:
    assert_usage(run_cli(*args, cwd=tmp_path))


def test_every_command_is_covered() -> None:
    from boxtrace.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = set(sub.choices)
    covered = {args[0] for args in MISUSE.values() if args and args[0] in commands}
    assert commands == covered, f"commands without a misuse case: {sorted(commands - covered)}"


def test_help_is_not_an_error() -> None:
    result = run_cli("--help")
    assert result.returncode == 0 and "usage:" in result.stdout
    result = run_cli("show", "--help")
    assert result.returncode == 0 and "TRACE" in result.stdout


# Bad files ----------------------------------------------------------------------------------------------------


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "missing": tmp_path / "missing.jsonl",
        "directory": tmp_path / "a-directory",
        "empty": tmp_path / "empty.jsonl",
        "random bytes": tmp_path / "random.bin",
        "json but not a recording": tmp_path / "other.json",
        "json array": tmp_path / "array.json",
        "other schema": tmp_path / "schema99.jsonl",
        "corrupt middle line": tmp_path / "corrupt.jsonl",
        "unknown event type": tmp_path / "unknown.jsonl",
    }
    files["directory"].mkdir()
    files["empty"].write_bytes(b"")
    files["random bytes"].write_bytes(bytes(range(256)) * 64)
    files["json but not a recording"].write_text(json.dumps({"name": "package", "version": 1}) + "\n")
    files["json array"].write_text("[1, 2, 3]\n")
    header = {"type": "header", "seq": 0, "t": 0.0, "schema": 1, "mode": "launch"}
    files["other schema"].write_text(json.dumps({**header, "schema": 99}) + "\n")
    files["corrupt middle line"].write_text(
        json.dumps(header) + "\n{not json\n" + json.dumps({"type": "end", "seq": 2, "t": 0.1}) + "\n"
    )
    files["unknown event type"].write_text(json.dumps(header) + "\n" + json.dumps({"type": "x", "seq": 1, "t": 0}) + "\n")
    return files


READERS = {
    "show": lambda path: ["show", str(path)],
    "show --json": lambda path: ["show", "--json", str(path)],
    "tui": lambda path: ["tui", str(path)],
    "export": lambda path: ["export", str(path), "-o", str(Path(os.environ.get("TMPDIR", "/tmp")) / "never.svg")],
    "compare": lambda path: ["compare", str(path)],
}

BAD_FILE_KINDS = [
    "missing",
    "directory",
    "empty",
    "random bytes",
    "json but not a recording",
    "json array",
    "other schema",
    "corrupt middle line",
    "unknown event type",
]


@pytest.mark.parametrize("kind", BAD_FILE_KINDS)
@pytest.mark.parametrize("reader", list(READERS))
def test_bad_recording_gets_one_sentence(reader: str, kind: str, bad_files: dict[str, Path]) -> None:
    path = bad_files[kind]
    result = run_cli(*READERS[reader](path))
    assert_one_sentence(result)
    assert str(path) in result.stderr, "the sentence names the file"


def test_bad_strace_logs_get_one_sentence(tmp_path: Path, bad_files: dict[str, Path]) -> None:
    log = tmp_path / "ok.log"
    log.write_text('123 10:00:00.000001 execve("/bin/true", ["true"], 0x7ffd /* 1 vars */) = 0\n'
                   "123 10:00:00.000100 +++ exited with 0 +++\n")
    assert_one_sentence(run_cli("import-strace", str(bad_files["missing"]), "-o", str(tmp_path / "a.jsonl")))
    assert_one_sentence(run_cli("import-strace", str(bad_files["directory"]), "-o", str(tmp_path / "b.jsonl")))
    assert_one_sentence(run_cli("import-strace", str(bad_files["random bytes"]), "-o", str(tmp_path / "c.jsonl")))
    assert_one_sentence(run_cli("import-strace", str(bad_files["empty"]), "-o", str(tmp_path / "d.jsonl")))
    assert_one_sentence(run_cli("import-strace", str(log), "-o", str(tmp_path / "no-such-dir" / "e.jsonl")))
    assert_one_sentence(run_cli("import-strace", str(log), "-o", str(bad_files["directory"])))
    good = run_cli("import-strace", str(log), "-o", str(tmp_path / "f.jsonl"))
    assert good.returncode == 0, good.stderr


@pytest.mark.root
@pytest.mark.parametrize("where", ["missing directory", "a directory"])
def test_trace_output_that_cannot_be_written(where: str, tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "t.jsonl" if where == "missing directory" else tmp_path
    result = run_cli("run", "-o", str(target), "--", "true")
    assert_one_sentence(result)
    assert str(target) in result.stderr
    assert result.stdout == "", "nothing was traced, so nothing is summarised"


def test_command_that_cannot_run(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "boxtrace run refuses non-root users before looking at the command")
    missing = run_cli("run", "--", str(tmp_path / "no-such-program"))
    assert_one_sentence(missing, code=127)
    plain = tmp_path / "plain.txt"
    plain.write_text("not a program\n")
    assert_one_sentence(run_cli("run", "--", str(plain)), code=127)
    assert_one_sentence(run_cli("run", "--", str(tmp_path)), code=127)


def test_replay_with_an_output_is_misuse(tmp_path: Path) -> None:
    result = run_cli("demo", "teach", "--replay", "-o", "t.jsonl", cwd=tmp_path)
    assert_usage(result)
    assert "--replay" in result.stderr and list(tmp_path.iterdir()) == []


def test_command_not_found_prints_no_empty_summary(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "boxtrace run refuses non-root users before looking at the command")
    result = run_cli("run", "--", str(tmp_path / "no-such-program"))
    assert_one_sentence(result, code=127)
    assert result.stdout == "", "nothing ran, so nothing is summarised"


def test_header_without_schema_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "no-schema.jsonl"
    path.write_text(json.dumps({"type": "header", "seq": 0, "t": 0.0, "mode": "launch"}) + "\n")
    result = run_cli("show", str(path))
    assert_one_sentence(result)
    assert str(path) in result.stderr and "no schema" in result.stderr and "None" not in result.stderr


def test_attach_to_a_pid_that_is_not_there() -> None:
    result = run_cli("attach", "999999999")
    assert_one_sentence(result)
    assert "999999999" in result.stderr


def test_unknown_scenario_and_syscall_names() -> None:
    demo = run_cli("demo", "no-such-scenario")
    assert demo.returncode in (EXIT_FAILURE, EXIT_USAGE)
    assert "Traceback" not in demo.stderr and "no-such-scenario" in demo.stderr
    unknown_syscall = run_cli("run", "-e", "openat,no_such_syscall", "--", "true")
    assert_usage(unknown_syscall)
    assert "'no_such_syscall'" in unknown_syscall.stderr


def test_docker_without_an_engine_is_one_sentence(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """In-process, because the machine's dockerd must keep running: scenarios.docker finds no dockerd (its pid
    lookup answers None, as on a machine without one) and raises its DaemonError, which the CLI reports."""
    require(os.geteuid() == 0, "boxtrace docker refuses non-root users first")
    from boxtrace.cli import main
    from scenarios import docker

    monkeypatch.setattr(docker, "dockerd_pid", lambda: None)
    code = main(["docker", "--", "--rm", "boxtrace/busybox", "true"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert err.startswith("boxtrace: dockerd is not running: ") and err.count("\n") == 1, err
    assert "unexpected error" not in err
