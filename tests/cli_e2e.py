"""Run the installed `boxtrace` console script exactly as a user types it, and check what every run must satisfy.

An end-to-end test of a subcommand is marked with the subcommand's name, so that tests/test_cli_contract.py can
check that every subcommand the parser declares has one:

    from tests.cli_e2e import run_boxtrace

    @pytest.mark.cli_e2e("spec")
    def test_spec_end_to_end(tmp_path: Path) -> None:
        result = run_boxtrace("spec", "--help-me", cwd=tmp_path)
        assert result.returncode == 0
        assert "what the user must see" in result.stdout

`run_boxtrace` fails the test when the output contains a traceback or an `unexpected error`, whatever the exit
code, so each test only asserts what the user should see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: The console script `make setup` installed next to this interpreter (`.venv/bin/boxtrace`).
BOXTRACE = Path(sys.executable).parent / "boxtrace"

#: What no run of boxtrace may ever print.
FORBIDDEN = ("Traceback (most recent call last)", "unexpected error")

#: A wide terminal for rich's tables, so that names are not folded across lines; no colour codes.
PLAIN_ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def boxtrace_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **PLAIN_ENV, **(extra or {})}


def assert_no_crash(result: subprocess.CompletedProcess[str]) -> None:
    for text in (result.stdout, result.stderr):
        for forbidden in FORBIDDEN:
            assert forbidden not in (text or ""), f"`boxtrace {' '.join(map(str, result.args[1:]))}` printed " \
                                                  f"{forbidden!r}:\n{result.stderr[-3000:]}"


def run_boxtrace(*args: str | Path | int, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                 timeout: float = 180, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run `boxtrace ARGS...` with stdin from /dev/null and the output captured (both can be replaced through
    `stdin=`, `stdout=`, `stderr=`); return the finished process (text output)."""
    assert BOXTRACE.exists(), f"{BOXTRACE} is missing: run `make setup` (the tests use the installed script)"
    streams = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    result = subprocess.run([str(BOXTRACE), *map(str, args)], cwd=cwd, env=boxtrace_env(env), text=True,
                            timeout=timeout, check=False, **streams)  # type: ignore[call-overload]
    assert_no_crash(result)
    return result


def popen_boxtrace(*args: str | Path | int, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                   **kwargs: object) -> subprocess.Popen[str]:
    """Start `boxtrace ARGS...` without waiting (for attach, interrupts); check its output with assert_no_crash."""
    return subprocess.Popen([str(BOXTRACE), *map(str, args)], cwd=cwd, env=boxtrace_env(env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            **kwargs)  # type: ignore[call-overload]
