"""Trace lines quoted in docs/concepts.md must appear in the shipped recordings' `boxtrace show` output.

A fenced code block preceded by `<!-- quoted from: NAME -->` quotes `boxtrace show scenarios/recordings/NAME.jsonl`:
every non-empty line of the block, whitespace-stripped, must be a substring of a stripped line of that output.
Re-recording a scenario without updating the page makes this fail, naming the stale line. No root needed.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONCEPTS = ROOT / "docs" / "concepts.md"
RECORDINGS = ROOT / "scenarios" / "recordings"

MARKER = re.compile(r"^\s*<!--\s*quoted from:\s*([\w.-]+)\s*-->\s*$")
FENCE = re.compile(r"^\s*```")


def quoted_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number of the marker, recording name, the block's non-empty stripped lines) for each marked block."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = MARKER.match(lines[i])
        if not match:
            i += 1
            continue
        marker_line = i + 1
        i += 1
        if i >= len(lines) or not FENCE.match(lines[i]):
            raise AssertionError(
                f"concepts.md:{marker_line}: quote marker not followed by a fenced code block"
            )
        i += 1
        body = []
        while i < len(lines) and not FENCE.match(lines[i]):
            if lines[i].strip():
                body.append(lines[i].strip())
            i += 1
        if i >= len(lines):
            raise AssertionError(f"concepts.md:{marker_line}: unterminated code block")
        blocks.append((marker_line, match.group(1), body))
        i += 1
    return blocks


@functools.cache
def shown_lines(name: str) -> tuple[str, ...]:
    path = RECORDINGS / f"{name}.jsonl"
    assert path.is_file(), f"no shipped recording {path}"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from boxtrace.cli import main; sys.exit(main(sys.argv[1:]))",
            "show",
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"boxtrace show {name} failed: {result.stderr}"
    return tuple(line.strip() for line in result.stdout.splitlines())


def missing_lines(name: str, body: list[str]) -> list[str]:
    shown = shown_lines(name)
    return [quote for quote in body if not any(quote in line for line in shown)]


BLOCKS = quoted_blocks(CONCEPTS.read_text())


def test_concepts_has_quote_markers() -> None:
    assert len(BLOCKS) >= 10
    assert all(body for _, _, body in BLOCKS)


@pytest.mark.parametrize(("line", "name", "body"), BLOCKS, ids=[f"L{b[0]}-{b[1]}" for b in BLOCKS])
def test_quoted_block_is_in_recording(line: int, name: str, body: list[str]) -> None:
    missing = missing_lines(name, body)
    assert not missing, (
        f"concepts.md:{line}: quoted lines not in `boxtrace show scenarios/recordings/{name}.jsonl`:\n"
        + "\n".join(missing)
    )


def test_stale_quote_is_caught() -> None:
    _, name, body = BLOCKS[0]
    stale = [*body[:-1], body[-1].replace("[ns pid 1]", "[ns pid 9]") + " stale"]
    assert missing_lines(name, stale) == [stale[-1]]
