"""The sequence view on the shipped recordings: participants in the order of the chain, messages are hand-offs,
chapter titles are notes. No root needed: these read scenarios/recordings/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenarios import lesson_for
from tracer.processes import ProcessTable
from tracer.recording import load_recording
from viz.export import mermaid_text, sequence_mermaid
from viz.model import build_model
from viz.themes import LIGHT
from viz.tui.walkthrough import build_walkthrough

RECORDINGS = Path(__file__).resolve().parent.parent / "scenarios" / "recordings"

CHAINS = {
    "docker": ["Docker CLI", "Docker Engine (dockerd)", "containerd", "containerd-shim", "runc create", "runc init",
               "container entrypoint"],
    "containerd": ["ctr (containerd CLI)", "containerd", "containerd-shim", "runc create", "runc init",
                   "container entrypoint"],
    "runc": ["runc run", "runc init", "container entrypoint"],
}


def _sequence(name: str) -> tuple[str, list]:
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    chapters = build_walkthrough([recording.header, *recording.events], lesson_for(recording.header.scenario)).chapters
    model = build_model(ProcessTable.from_events([recording.header, *recording.events]))
    return sequence_mermaid(model, LIGHT, chapters), chapters


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_participants_stand_in_chain_order(name: str) -> None:
    text, _ = _sequence(name)
    participants = [p.strip() for p in re.findall(r"^\s+participant P\d+ as (.+)$", text, re.M)]
    positions = [participants.index(role) for role in CHAINS[name]]
    assert positions == sorted(positions), participants
    # runc init stands twice (host stages, then the one in the container): both before the entrypoint.
    inits = [i for i, p in enumerate(participants) if p == "runc init"]
    assert inits and max(inits) < participants.index("container entrypoint")


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_messages_are_hand_offs_and_chapters_are_notes(name: str) -> None:
    text, chapters = _sequence(name)
    messages = re.findall(r"^\s+P\d+(-?->>)P\d+: (.+)$", text, re.M)
    assert messages
    for arrow, label in messages:
        assert arrow == "->>", label  # no replies: exits are not hand-offs
        assert re.match(r"(connect|execve|execveat|clone|clone3|vfork|fork)\(", label), label
        assert not re.search(r"/proc/\d+/", label)  # host pids hidden
    notes = re.findall(r"^\s+Note over P1,P\d+: (.+)$", text, re.M)
    assert len(notes) == len(chapters)
    # The chapters' notes come in the order the chapters start in the trace.
    starts = sorted(chapters, key=lambda c: c.seqs[0])
    assert notes == [mermaid_text(c.title) for c in starts]


def test_sequence_picture_in_chain_order_and_a_pdf_page_per_chapter(tmp_path: Path) -> None:
    import shutil

    from pypdf import PdfReader

    from tests.prereqs import require
    from viz.export import export

    require(shutil.which("dot"), "Graphviz's dot is not installed")
    recording = load_recording(RECORDINGS / "docker.jsonl")
    chapters = build_walkthrough([recording.header, *recording.events], lesson_for(recording.header.scenario)).chapters
    svg = export(recording, "sequence", "svg", "light", tmp_path / "s.svg", chapters=chapters).read_text()
    # Header boxes stand left to right in chain order.
    heads = re.findall(r'<title>h(\d+)</title>\s*<path[^>]*d="M([\d.]+)', svg)
    assert len(heads) >= len(CHAINS["docker"])
    assert [int(i) for i, _ in sorted(heads, key=lambda h: float(h[1]))] == sorted(int(i) for i, _ in heads)
    import html

    shown = html.unescape(svg)
    assert "clone(CLONE_PARENT)" in shown and 'execve("/bin/sh")' in shown and "/proc/PID/exe" in shown
    pdf = export(recording, "sequence", "pdf", "light", tmp_path / "s.pdf", chapters=chapters)
    assert len(PdfReader(pdf).pages) == 1 + len([c for c in chapters if c.seqs])
