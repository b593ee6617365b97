"""The learner insights where a reader meets them: the TUI's details pane, the diagrams' node notes and the
console's capability counts, on the shipped recordings (scenarios/recordings/*.jsonl).

The recordings are remade from time to time on other machines, so the assertions are about facts a re-recording
keeps (the rootless id map is the nobody user's, Docker's profile answers EPERM by default, kept + dropped
capabilities make the set the process started with), never about pids, inodes or counts that depend on the host.
No root is needed: nothing here traces.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from tracer.events import End, Event, Exec, ProcessStarted, Syscall
from tracer.insights import Insights
from tracer.insights.capabilities import ALL_CAPABILITIES
from tracer.insights.sentences import short_cgroup
from tracer.processes import ProcessTable
from tracer.recording import Recording, load_recording
from viz.export import architecture_dot, tree_dot
from viz.insights_view import render_capabilities, render_process_insights
from viz.model import build_model
from viz.themes import THEMES
from viz.tui.model import TuiModel
from viz.tui.widgets.details import render_event_details, render_process_details

RECORDINGS = Path(__file__).resolve().parent.parent / "scenarios" / "recordings"


def _text(renderable) -> str:
    out = io.StringIO()
    Console(file=out, color_system=None, width=400).print(renderable)
    return out.getvalue()


@pytest.fixture(scope="module")
def recordings() -> dict[str, Recording]:
    return {name: load_recording(RECORDINGS / f"{name}.jsonl") for name in ("teach-rootless", "runc", "docker")}


def _events(recording: Recording) -> list[Event]:
    return [recording.header, *recording.events]


def _insights(recording: Recording) -> Insights:
    return Insights.from_recording(recording)


def _entrypoint(insights: Insights) -> int:
    assert insights.entrypoint is not None and insights.entrypoint.inner_pid == 1
    return insights.entrypoint.exec.pid


def _first(events: list[Event], pid: int, name: str, **args: object) -> Syscall:
    return next(
        e for e in events
        if isinstance(e, Syscall) and e.pid == pid and e.name == name and e.error is None
        and all(e.args.get(k) == v for k, v in args.items())
    )  # fmt: skip


# The TUI's details pane -----------------------------------------------------------------------------------------


def test_rootless_id_map_shows_for_every_process_in_the_user_namespace(recordings):
    recording = recordings["teach-rootless"]
    model = TuiModel(_events(recording))
    pid1 = _entrypoint(_insights(recording))
    inode = model.table.processes[pid1].ns["user"]
    sentence = f"in user namespace {inode}, uid 0 is host uid 65534 (1 id)"
    inside = [p for p in model.table.history if p.ns.get("user") == inode]
    assert len(inside) >= 1
    for proc in inside:
        text = _text(render_process_details(model, proc))
        assert sentence in text, proc.pid
        assert f"in user namespace {inode}, setgroups denied" in text
    runtime = next(p for p in model.table.history if p.ns.get("user") != inode)
    assert sentence not in _text(render_process_details(model, runtime))
    # the start and exec events of a process (what selecting it in the tree shows first) carry the same block
    started = next(e for e in model.events if isinstance(e, ProcessStarted) and e.pid == pid1)
    assert sentence in _text(render_event_details(model, started))


def test_a_write_to_uid_map_shows_its_sentence(recordings):
    model = TuiModel(_events(recordings["teach-rootless"]))
    write = next(e for e in model.events if isinstance(e, Syscall) and str(e.args.get("path", "")).endswith("/uid_map"))
    text = _text(render_event_details(model, write))
    assert "what the trace shows" in text
    assert re.search(r"in user namespace \d+, uid 0 is host uid 65534 \(1 id\)", text)


def test_docker_entrypoint_details_show_cgroup_capabilities_seccomp_and_mounts(recordings):
    recording = recordings["docker"]
    model = TuiModel(_events(recording))
    pid1 = _entrypoint(_insights(recording))
    text = _text(render_process_details(model, model.table.processes[pid1]))
    assert "what the trace shows about it" in text
    assert re.search(r"in cgroup /docker/[0-9a-f]{64}: born there", text)
    bounding = re.search(r"bounding: (\d+) before → (\d+) after: kept (\d+), dropped (\d+)", text)
    assert bounding is not None
    before, after, kept, dropped = map(int, bounding.groups())
    assert kept == after and kept + dropped == before
    assert "before: the sets it had when it started or last exec'd, as recorded" in text
    assert "assumed" not in text
    assert re.search(r"default ERRNO\(EPERM\), \d+ of \d+ system calls allowed, \d+ denied", text)
    assert '"/" is now' in text and "the old root" in text
    assert "runs the container's entrypoint /bin/sh as pid 1" in text


def test_docker_events_an_insight_came_from_show_it(recordings):
    recording = recordings["docker"]
    model = TuiModel(_events(recording))
    pid1 = _entrypoint(_insights(recording))
    events = model.events
    install = _first(events, pid1, "prctl", option="PR_SET_SECCOMP")
    text = _text(render_event_details(model, install))
    assert "default action: ERRNO(EPERM)" in text
    capset = _first(events, pid1, "capset")
    text = _text(render_event_details(model, capset))
    effective = re.search(r"effective: (\d+) kept, (\d+) of the (\d+) it had dropped", text)
    assert effective is not None
    kept, dropped, had = map(int, effective.groups())
    assert kept + dropped == had == len(capset.args["effective"]) + dropped
    pivot = _first(events, pid1, "pivot_root")
    assert '"/" is now' in _text(render_event_details(model, pivot))
    first_drop = _first(events, pid1, "prctl", option="PR_CAPBSET_DROP")
    assert "leaves the bounding set" in _text(render_event_details(model, first_drop))


def test_docker_seccomp_goes_in_during_runc_create_before_the_capability_drops(recordings):
    """docs/insights.md: runc init installs Docker's profile while it still has CAP_SYS_ADMIN (no no_new_privs),
    before dropping capabilities and changing user, and `runc create` is still running; the entrypoint's execve
    comes after `runc start`."""
    recording = recordings["docker"]
    insights = _insights(recording)
    pid1 = _entrypoint(insights)
    events = recording.events
    install = _first(events, pid1, "prctl", option="PR_SET_SECCOMP")
    entry = insights.entrypoint
    assert entry is not None
    assert install.seq < _first(events, pid1, "prctl", option="PR_CAPBSET_DROP").seq
    # runc's finalizeNamespace (capability drops, then setuid to the container's user) comes after the filter
    setuids = [e.seq for e in events if isinstance(e, Syscall) and e.pid == pid1 and e.name == "setuid"]
    assert any(install.seq < seq < entry.exec.seq for seq in setuids)
    caps = insights.capabilities.for_process(pid1)
    assert caps is not None and not caps.no_new_privs
    runc = [e for e in events if isinstance(e, Exec) and e.path.endswith("runc")]
    create = next(e for e in runc if "create" in e.argv)
    start = next(e for e in runc if "start" in e.argv)
    create_exit = next(e for e in events if e.type == "exit" and e.pid == create.pid and e.seq > create.seq)
    assert create.seq < install.seq < create_exit.seq
    assert start.seq < entry.exec.seq


def test_model_computes_insights_once_and_again_when_events_arrive(recordings):
    events = _events(recordings["runc"])
    end = events[-1]
    assert isinstance(end, End)
    model = TuiModel(events[:-1])
    first = model.insights()
    assert first is not None and model.insights() is first  # cached between renders
    model.extend([end])
    assert model.insights() is not first  # the end of the trace always gets a fresh computation
    assert TuiModel(events[:1]).insights() is None  # nothing that can give rise to an insight


# Diagram notes ---------------------------------------------------------------------------------------------------


def _dot(recording: Recording, view: str) -> str:
    model = build_model(ProcessTable.from_events(_events(recording)))
    draw = architecture_dot if view == "architecture" else tree_dot
    return draw(model, THEMES["light"], "t").source


@pytest.mark.parametrize("view", ["architecture", "tree"])
def test_rootless_diagrams_note_the_id_map(recordings, view):
    assert "uid/gid 0 → host 65534 (1 id)" in _dot(recordings["teach-rootless"], view)


@pytest.mark.parametrize("view", ["architecture", "tree"])
def test_docker_diagrams_note_cgroup_capabilities_and_seccomp(recordings, view):
    recording = recordings["docker"]
    dot = _dot(recording, view)
    assert re.search(r"cgroup /docker/[0-9a-f]{12}…", dot)
    assert re.search(r"seccomp: default ERRNO\(EPERM\), \d+ denied, \d+ allowed", dot)
    found = re.search(r"caps: (\d+) kept, (\d+) dropped", dot)
    assert found is not None
    caps = _insights(recording).capabilities.for_process(_entrypoint(_insights(recording)))
    assert caps is not None
    assert int(found[1]) + int(found[2]) == len(caps.before.bounding)
    assert "/ is now overlay" in dot


def test_runc_notes_sit_on_runc_init_not_on_the_entrypoint(recordings):
    model = build_model(ProcessTable.from_events(_events(recordings["runc"])))
    noted = {attrs["role"]: attrs["notes"] for _, attrs in model.architecture.nodes(data=True) if attrs.get("notes")}
    assert set(noted) == {"runc init"}
    (notes,) = noted.values()
    assert any(re.fullmatch(r"caps: \d+ kept, \d+ dropped, no_new_privs", n) for n in notes)
    assert any(n.startswith("/ is now ") for n in notes)
    assert model.insights is not None
    assert not any(
        attrs.get("notes") for _, attrs in build_model(model.table, notes=False).processes.nodes(data=True)
    )


def test_notes_are_short(recordings):
    for recording in recordings.values():
        for notes in _insights(recording).diagram_notes().values():
            assert all(len(n.text) <= 72 for n in notes)


# Capability counts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["runc", "docker"])
def test_capability_counts_add_up(recordings, name):
    insights = _insights(recordings[name])
    caps = insights.capabilities.for_process(_entrypoint(insights))
    assert caps is not None and not caps.assumed_before
    text = _text(render_capabilities(insights))
    bounding = re.search(r"bounding set: dropped (\d+) of (\d+), kept (.*)", text)
    assert bounding is not None
    dropped, total = int(bounding[1]), int(bounding[2])
    kept = [n for n in bounding[3].strip().split(", ") if n.startswith("CAP_")]
    assert total == len(caps.before.bounding) and dropped + len(kept) == total
    effective = re.search(r"effective: kept (\d+) of (\d+) \(.*\), dropped (\d+)", text)
    assert effective is not None and int(effective[1]) + int(effective[3]) == int(effective[2])
    assert "assumed" not in text
    assert all(f"dropped {dropped} of {total}" in line for line in caps.facts() if "bounding set" in line)


def test_without_recorded_sets_the_before_set_is_assumed_and_said(recordings):
    stripped = [
        dataclasses.replace(e, caps=None) if isinstance(e, ProcessStarted | Exec) else e
        for e in _events(recordings["runc"])
    ]
    insights = Insights.from_events(stripped)
    caps = insights.capabilities.for_process(_entrypoint(insights))
    assert caps is not None and caps.assumed_before
    text = _text(render_capabilities(insights))
    assert f"of {len(ALL_CAPABILITIES)}" in text and "assumed all capabilities" in text
    assert "assumed all capabilities" in _text(render_process_insights(insights, caps.pid))


@pytest.mark.parametrize(
    ("cgroup", "short"),
    [
        ("/docker/8cd1842ef0abcd8c92d3ed56c955fdbfdfbbffa35e90dea55501c44ca4f74c75", "/docker/8cd1842ef0ab…"),
        (
            "/system.slice/docker-8cd1842ef0abcd8c92d3ed56c955fdbfdfbbffa35e90dea55501c44ca4f74c75.scope",
            "/system.slice/docker-8cd1842ef0ab…",
        ),
        ("/boxtrace-runc-e37069a7", "/boxtrace-runc-e37069a7"),
        ("/", "/"),
    ],
)
def test_container_ids_in_cgroup_notes_are_cut_like_docker_short_ids(cgroup, short):
    assert short_cgroup(cgroup) == short
