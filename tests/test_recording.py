"""Loading recordings made by boxtrace, and the one-line errors for files that are not (or no longer) one."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tracer.events import End, Header
from tracer.recording import RecordingError, load_recording


@pytest.fixture
def real(scenario_recording: Callable[[str], Path], tmp_path: Path) -> bytes:
    return scenario_recording("unshare").read_bytes()


def show(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "boxtrace", "show", str(path)], capture_output=True, text=True)


def test_round_trip(real: bytes, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(real)
    recording = load_recording(path)
    assert isinstance(recording.header, Header)
    assert isinstance(recording.events[-1], End)
    assert recording.complete and recording.warnings == []
    assert [e.seq for e in recording.events] == sorted(e.seq for e in recording.events)
    shown = show(path)
    assert shown.returncode == 0 and "unshare(" in shown.stdout


def test_truncated_last_line_loads_the_prefix_with_a_warning(real: bytes, tmp_path: Path) -> None:
    lines = real.splitlines(keepends=True)
    path = tmp_path / "cut.jsonl"
    path.write_bytes(b"".join(lines[:-3]) + lines[-3][: len(lines[-3]) // 2])
    recording = load_recording(path)
    assert len(recording.events) == len(lines) - 4
    assert any("cut short" in w for w in recording.warnings)
    assert any("no end line" in w for w in recording.warnings)
    shown = show(path)
    assert shown.returncode == 0 and "warning" in shown.stderr


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda lines: lines[:5] + [b"{not json\n"] + lines[5:], "line 6 is not valid JSON"),
        (lambda lines: lines[:3] + [b'{"type":"syscall","seq":"x","t":0}\n'] + lines[3:], "line 4"),
        (lambda lines: lines[:3] + [b'{"type":"teleport","seq":1,"t":0}\n'] + lines[3:], "unknown event type"),
        (lambda lines: [lines[0].replace(b'"schema":1', b'"schema":99')] + lines[1:], "schema 99"),
        (lambda lines: [b'{"hello": "world"}\n'], "not a boxtrace recording"),
        (lambda lines: [b"\x00\xff\xfe garbage\n"], "not a boxtrace recording"),
        (lambda lines: [], "empty"),
    ],
)
def test_bad_files_get_one_sentence(real: bytes, tmp_path: Path, mangle, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(mangle(real.splitlines(keepends=True))))
    with pytest.raises(RecordingError, match=message):
        load_recording(path)
    shown = show(path)
    assert shown.returncode == 1
    assert message.split()[0] in shown.stderr
    assert "Traceback" not in shown.stderr
    assert len(shown.stderr.strip().splitlines()) == 1


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for target, text in ((tmp_path / "nope.jsonl", "no such file"), (tmp_path, "is a directory")):
        shown = show(target)
        assert shown.returncode == 1 and text in shown.stderr and "Traceback" not in shown.stderr
