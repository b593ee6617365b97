"""`boxtrace compare` on real traces of teach, runc and docker: the same milestones, different system
calls."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from tracer.recording import load_recording
from viz.compare import compare_markdown, compare_rows, render_compare


@pytest.fixture(scope="module")
def recordings(scenario_recording):
    return [load_recording(scenario_recording(name)) for name in ("teach", "runc", "docker")]


@pytest.fixture(scope="module")
def table(recordings):
    titles, rows = compare_rows(recordings)
    return titles, dict(rows)


def test_columns_are_the_scenarios(table):
    titles, _ = table
    assert titles == ["teach", "runc", "docker"]


def test_clone_with_flags_versus_unshare(table):
    _, rows = table
    teach, runc, docker = rows["pid namespace"]
    # The teach runtime is Python: its label is the interpreter's name (python, python3 or python3.11).
    assert teach.startswith("clone(CLONE_NEWPID) in ") and re.search(r"\(python[0-9.]*\)$", teach)
    for cell in (runc, docker):
        assert cell.startswith("unshare(CLONE_NEWPID) in ") and "(runc:[1:CHILD])" in cell
        assert "enters)" in cell  # the unsharer's child is the first member of the new pid namespace
    for kind in ("mnt", "uts", "ipc", "net"):
        teach, runc, docker = rows[f"{kind} namespace"]
        assert teach.startswith("clone(") and runc.startswith("unshare(") and docker.startswith("unshare(")


def test_other_milestones(table):
    _, rows = table
    assert all(
        cell.startswith("pivot_root into ") and "old root detached" in cell for cell in rows["root switch"]
    )
    teach, runc, docker = rows["seccomp"]
    assert teach == runc == "-" and docker.startswith("default ERRNO(EPERM), ")
    teach, runc, docker = rows["capabilities"]
    # runc keeps 3 capabilities of those the process really had (a sandbox may lack some of the 41).
    match = re.match(r"bounding: dropped (\d+) of (\d+)", runc)
    assert teach == "-" and match and int(match[2]) - int(match[1]) == 3 and "effective: 14 kept" in docker
    teach, runc, docker = rows["cgroups"]
    assert teach == "-" and runc.startswith("/boxtrace-runc-") and docker.startswith("/docker/")
    assert rows["no_new_privs"][1].startswith("set in ") and rows["no_new_privs"][2] == "not set"
    assert all(cell.endswith("(sh as pid 1)") for cell in rows["start to entrypoint"])
    teach_time, runc_time, docker_time = (float(cell.split()[0]) for cell in rows["start to entrypoint"])
    assert 0 < teach_time < docker_time and 0 < runc_time < docker_time
    assert rows["failure"] == ["-", "-", "-"]
    assert "cgroups" in rows["syscalls by category"][1] and "cgroups" not in rows["syscalls by category"][0]
    assert rows["processes"][2].split()[0].isdigit() and "containerd-shim-runc-v2" in rows["processes"][2]


def test_markdown(recordings):
    text = compare_markdown(recordings)
    lines = text.splitlines()
    assert lines[0] == "| milestone | teach | runc | docker |"
    assert lines[1] == "|---|---|---|---|"
    for line in lines[2:]:
        assert line.startswith("| ") and line.endswith(" |")
        assert line.replace("\\|", "").count("|") == 5, line
    assert any(line.startswith("| pid namespace | clone(CLONE_NEWPID) in ") for line in lines)


def test_rich_table(recordings):
    console = Console(color_system=None, width=160, record=True)
    console.print(render_compare(recordings))
    text = console.export_text()
    assert "boxtrace compare" in text and "pid namespace" in text and "start to entrypoint" in text


def test_event_lists_are_accepted(recordings):
    titles, rows = compare_rows([[recordings[0].header, *recordings[0].events]])
    assert titles == ["teach"] and dict(rows)["pid namespace"][0].startswith("clone(")
