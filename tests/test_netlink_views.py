"""What a person sees of the network: the TUI's details pane draws a netlink message as a tree (Textual's pilot at a
real terminal size, walking teach-net's chapters), the export's network view (namespaces as boxes, interfaces with
their addresses, the veth pair as a cable, rendered by Graphviz), and the insight sentences."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from scenarios import lesson_for
from tests.prereqs import require
from tests.test_page import browser  # noqa: F401 (the headless chromium fixture)
from tracer.events import Syscall
from tracer.insights import Insights
from tracer.recording import load_recording
from viz.network import netlink_tree, network_dot
from viz.themes import THEMES

ROOT = Path(__file__).parent.parent
RECORDING = ROOT / "scenarios" / "recordings" / "teach-net.jsonl"


def _text(renderable, width: int = 120) -> str:
    console = Console(width=width, color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def test_tui_details_pane_shows_the_veth_message_as_a_tree():
    from viz.tui.app import BoxtraceApp

    recording = load_recording(RECORDING)
    app = BoxtraceApp(recording=recording, lesson=lesson_for(recording.header.scenario))
    seen: dict[str, tuple[str, str]] = {}

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            screen = app.main_screen
            chapters = screen.walkthrough().chapters
            for _ in chapters:
                await pilot.press("n")
                await pilot.pause()
                chapter = screen.current_chapter
                seq = screen.event_list.selected_seq
                event = app.model.event(seq)
                pane = screen.details_pane
                assert pane.display and pane.size.width >= 30
                # What the pane holds, laid out at the pane's own width.
                seen[chapter.title] = (getattr(event, "name", type(event).__name__),
                                       _text(pane.body.content, width=pane.size.width - 2))
            await pilot.press("q")

    asyncio.run(main())
    name, details = seen["A veth pair is born in one namespace"]
    assert name == "sendto"
    flat = " ".join(details.split())  # the pane is narrow: lines wrap
    assert "netlink messages" in flat and "RTM_NEWLINK veth-host type veth peer veth-box" in flat
    # The tree: the peer's own ifinfomsg and name nested under IFLA_LINKINFO > IFLA_INFO_DATA > VETH_INFO_PEER.
    lines = details.splitlines()
    at = {key: next(i for i, line in enumerate(lines) if key in line)
          for key in ("IFLA_LINKINFO", "IFLA_INFO_KIND", "IFLA_INFO_DATA", "VETH_INFO_PEER")}
    assert list(at.values()) == sorted(at.values())
    indents = [len(lines[i]) - len(lines[i].lstrip(" │├└─")) for i in at.values()]
    assert indents[0] < indents[1] == indents[2] < indents[3]
    assert "veth-box" in " ".join(lines[at["VETH_INFO_PEER"]:])
    name, details = seen["One end moves into the container"]
    flat = " ".join(details.split())
    assert name == "sendto" and "IFLA_NET_NS_PID" in flat and "RTM_NEWLINK veth-box index 2 netns of pid" in flat


def test_tree_shows_errors_and_unknown_attributes():
    messages = [
        {"type": "NLMSG_ERROR", "flags": [], "seq": 3, "pid": 0, "error": "EEXIST",
         "request": {"type": "RTM_NEWLINK", "flags": ["NLM_F_REQUEST"], "seq": 3, "pid": 0}},
        {"type": "RTM_NEWLINK", "flags": [], "seq": 4, "pid": 0, "ifinfo": {"index": 1},
         "attrs": [{"type": 999, "len": 2, "hex": "0102"}, {"type": "IFLA_MTU", "decode_error": "1 bytes, too short"}]},
    ]
    text = _text(netlink_tree(messages))
    assert "error EEXIST for RTM_NEWLINK" in text and "error EEXIST" in text
    assert "999 2 bytes: 0102" in text and "malformed: 1 bytes, too short" in text


def test_network_view_draws_namespaces_interfaces_and_the_cable(tmp_path):
    recording = load_recording(RECORDING)
    graph = network_dot([recording.header, *recording.events], THEMES["light"], "teach-net")
    source = graph.source
    assert source.count("subgraph cluster_ns") == 2
    assert "veth-host" in source and "eth0" in source and "169.254.77.1/30" in source and "169.254.77.2/30" in source
    assert "made by unshare in" in source and "made by clone in" in source
    assert source.count(" -> ") == 1 and 'dir=none' in source.split(" -> ")[1].split("\n")[0]
    require(shutil.which("dot") is not None, "Graphviz's dot is needed to render")
    out = tmp_path / "net.svg"
    done = subprocess.run([sys.executable, "-m", "boxtrace", "export", str(RECORDING), "--view", "network", "-o",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    svg = out.read_text()
    assert svg.count('class="cluster"') == 2 and "eth0" in svg and "169.254.77.2/30" in svg
    # A trace that built no network says so instead of drawing nothing.
    runc = load_recording(ROOT / "scenarios" / "recordings" / "unshare.jsonl")
    assert "built no network" in network_dot([runc.header, *runc.events], THEMES["dark"]).source


def test_insights_report_the_network_per_namespace():
    insights = Insights.from_recording(load_recording(RECORDING))
    facts = insights.facts()
    per_namespace = [f for f in facts if f.startswith("In network namespace")]
    assert len(per_namespace) == 2
    assert any("veth-host (veth, index 3); created as veth; address 169.254.77.1/30; brought up" in f
               for f in per_namespace)
    assert any("eth0 (veth, index 2); created as the peer of veth-host; moved here" in f for f in per_namespace)
    sender = next(e.pid for e in insights.events if isinstance(e, Syscall) and e.name == "sendto")
    assert "move veth-box to network namespace" in " ".join(insights.for_process(sender))


def test_page_shows_the_network_in_a_browser(browser, tmp_path):  # noqa: F811 (the imported fixture)
    """The walkthrough page of teach-net, opened in headless chromium: the network section is there, visible, with
    both namespaces, both ends and their addresses drawn; a trace that built no network has no such section."""
    from selenium.webdriver.common.by import By

    require(shutil.which("dot") is not None, "Graphviz's dot is needed to draw the page")
    out = tmp_path / "teach-net.html"
    done = subprocess.run([sys.executable, "-m", "boxtrace", "export", str(RECORDING), "--view", "page", "-o",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    browser.get(out.as_uri())
    section = browser.find_element(By.ID, "network")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    assert section.is_displayed()
    texts = [t.text for t in section.find_elements(By.CSS_SELECTOR, "svg text")]
    for shown in ("veth-host", "eth0", "169.254.77.1/30", "169.254.77.2/30", "veth"):
        assert shown in texts, shown
    assert len(section.find_elements(By.CSS_SELECTOR, "svg g.cluster")) == 2
    assert section.size["height"] > 100 and section.size["width"] > 300
    facts = [li.text for li in section.find_elements(By.CSS_SELECTOR, "ul li")]
    assert any("one cable with an end in network namespace" in fact for fact in facts)
    plain = tmp_path / "unshare.html"
    subprocess.run([sys.executable, "-m", "boxtrace", "export", str(ROOT / "scenarios" / "recordings" / "unshare.jsonl"),
                    "--view", "page", "-o", str(plain)], cwd=ROOT, check=True, capture_output=True, timeout=120)
    assert 'id="network"' not in plain.read_text()


def _mutations():
    """Every shipped teach-net message, then each with one field replaced by a value of another type."""
    from hypothesis import strategies as st

    values = st.recursive(
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=12),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )
    keys = st.sampled_from(["type", "flags", "seq", "ifinfo", "ifaddr", "rtmsg", "attrs", "request", "error",
                            "value", "name", "index", "change", "netns", "fd_path", "messages", "netlink"])
    return st.tuples(st.integers(0, 40), keys, values, st.booleans())


def test_readers_survive_damaged_messages():
    """A damaged recording (fields of other types in the message trees) never ends the insights, the tree, the
    strace-like line or the network view with an exception."""
    import copy

    from hypothesis import HealthCheck, given, settings

    from tracer.decoders import format_call
    from tracer.decoders.netlink import describe_message

    recording = load_recording(RECORDING)
    base = [e for e in recording.events if isinstance(e, Syscall) and e.args.get("messages")]

    def damage(args: dict, key: str, value: object, deep: bool) -> None:
        targets = [args]
        if deep:
            stack = list(args.get("messages") or [])
            while stack:
                item = stack.pop()
                if isinstance(item, dict):
                    targets.append(item)
                    stack += [v for v in item.values() if isinstance(v, list | dict)]
                elif isinstance(item, list):
                    stack += item
        for target in targets[:: max(1, len(targets) // 3)]:
            target[key] = value

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=_mutations())
    def run(case) -> None:
        index, key, value, deep = case
        events = [copy.deepcopy(e) for e in base]
        event = events[index % len(events)]
        damage(event.args, key, value, deep)
        network_state_facts = Insights.from_events([recording.header, *events]).facts()
        assert isinstance(network_state_facts, list)
        format_call(event.name, event.args, event.ret, event.error)
        messages = event.args.get("messages")
        if isinstance(messages, list):
            _text(netlink_tree(messages))
            for message in messages:
                describe_message(message)
        assert network_dot([recording.header, *events], THEMES["light"]).source

    run()
