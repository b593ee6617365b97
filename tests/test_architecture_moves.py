"""The architecture view draws a process in the namespaces it began in; its notes say where unshare and setns
took it. Each note is checked here against the namespace changes the recordings hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracer.events import NamespaceChange, NamespaceVia, Syscall
from tracer.recording import load_recording
from tracer.xlat.clone import namespaces_of
from viz.model import build_model

RECORDINGS = sorted((Path(__file__).parent.parent / "scenarios" / "recordings").glob("*.jsonl"))


def move_notes_by_role(path: Path) -> dict[str, list[str]]:
    recording = load_recording(path)
    model = build_model([recording.header, *recording.events])
    out: dict[str, list[str]] = {}
    for _, attrs in model.architecture.nodes(data=True):
        for note in attrs.get("notes", []):
            if note.startswith(("unshare:", "setns:")):
                out.setdefault(attrs["role"], []).append(note)
    return out


def test_teach_net_runtime_leaves_the_host_net_namespace_and_visits_the_container() -> None:
    path = next(p for p in RECORDINGS if p.stem == "teach-net")
    recording = load_recording(path)
    notes = move_notes_by_role(path)["python3.11"]
    assert notes[0] == "unshare: own net namespace"
    joined = re.fullmatch(r"setns: joins pid (\d+)'s net namespace", notes[1])
    assert joined, notes
    child = int(joined.group(1))
    setns_changes = [e for e in recording.events if isinstance(e, NamespaceChange) and e.via == NamespaceVia.SETNS]
    child_net = [e.new for e in recording.events
                 if isinstance(e, NamespaceChange) and e.pid == child and e.kind == "net"]  # fmt: skip
    assert setns_changes[0].new == child_net[0], "the first setns joined the child's net namespace"
    unshared = next(e.new for e in recording.events if isinstance(e, NamespaceChange) and e.via == NamespaceVia.UNSHARE)
    assert notes[2] == "setns: back into its earlier net namespace"
    assert setns_changes[1].new == unshared != recording.header.host_ns["net"]


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_unshare_notes_name_what_the_trace_shows_changed(path: Path) -> None:
    recording = load_recording(path)
    events = recording.events
    notes = [n for ns in move_notes_by_role(path).values() for n in ns if n.startswith("unshare:")]
    calls = [e for e in events if isinstance(e, Syscall) and e.name == "unshare" and e.error is None
             and namespaces_of(e.args.get("flags") or [])]  # fmt: skip
    if not calls:
        assert not notes
        return
    assert notes, "an unshare that made namespaces has its note"
    for call in calls:
        changed = {e.kind for e in events if isinstance(e, NamespaceChange) and e.via == NamespaceVia.UNSHARE
                   and e.pid == call.pid and call.seq < e.seq <= call.seq + 10}  # fmt: skip
        own = sorted(changed - {"pid_for_children", "time_for_children"})
        matching = [n for n in notes if sorted(re.findall(r"\b(\w+)(?=,| namespace)", n.split(";")[0])) == own]
        assert matching, (own, notes)
        if "CLONE_NEWPID" in (call.args.get("flags") or []):
            assert any("new pid namespace for its children" in n for n in matching)
