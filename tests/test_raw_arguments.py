"""Raw argument registers: recorded beside the decoded arguments of every decoded syscall, only as many as the
syscall takes, and shown in the TUI's details pane, so a learner can hold boxtrace's reading against the kernel's
input (CLONE_NEWUTS|CLONE_NEWPID is 0x24000000)."""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from tests.prereqs import require
from tracer.events import Syscall
from tracer.session import trace_to_list
from viz.tui.model import TuiModel
from viz.tui.widgets.details import render_event_details

pytestmark = pytest.mark.root

CLONE_NEWUTS, CLONE_NEWPID = 0x04000000, 0x20000000


def test_decoded_syscalls_carry_their_raw_registers() -> None:
    require(os.geteuid() == 0, "unshare of a pid namespace needs root")
    _, events = trace_to_list(["unshare", "--fork", "--pid", "--uts", "sh", "-c", "hostname box"])
    (unshare,) = [e for e in events if isinstance(e, Syscall) and e.name == "unshare"]
    assert unshare.args["flags"] == ["CLONE_NEWUTS", "CLONE_NEWPID"]
    assert unshare.raw == [hex(CLONE_NEWUTS | CLONE_NEWPID)]  # unshare takes one argument
    (sethostname,) = [e for e in events if isinstance(e, Syscall) and e.name == "sethostname"]
    assert len(sethostname.raw) == 2 and int(sethostname.raw[1], 16) == len("box")

    model = TuiModel(events)
    console = Console(width=120, record=True, color_system=None)
    console.print(render_event_details(model, unshare))
    text = console.export_text()
    assert "raw arguments" in text and "rdi" in text and "0x24000000" in text
