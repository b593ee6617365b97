"""Slides a teacher projects, drawn from the shipped docker and runc recordings: 16:9, every label line within its
limit, no host pids unless asked, namespaces named by kind, short titles with the full command in a caption,
`--focus` drawing only one chapter's components. No root needed: these read scenarios/recordings/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import lesson_for
from tests.prereqs import require
from tracer.processes import ProcessTable
from tracer.recording import Recording, load_recording
from viz.export import ExportUsageError, export
from viz.model import build_model
from viz.slides import (
    CAPTION_LIMIT,
    LABEL_LIMIT,
    PHASES,
    TITLE_LIMIT,
    focus_chapters,
    label_lines,
    slide_title,
    wrap,
)
from viz.tui.walkthrough import build_walkthrough

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "scenarios" / "recordings"


@pytest.fixture(autouse=True)
def _dot() -> None:
    require(shutil.which("dot"), "Graphviz's dot is not installed")


def _recording(name: str) -> Recording:
    return load_recording(RECORDINGS / f"{name}.jsonl")


def _chapters(recording: Recording) -> list:
    return build_walkthrough([recording.header, *recording.events], lesson_for(recording.header.scenario)).chapters


def _size(svg: str) -> tuple[float, float]:
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert found is not None
    return float(found[1]), float(found[2])


def _check_slide(svg: str, title: str, caption: str) -> None:
    width, height = _size(svg)
    assert abs(width / height - 16 / 9) < 0.01 * 16 / 9, (width, height)
    lines = [line.strip() for line in label_lines(svg) if line.strip()]
    assert lines
    caption_lines = {line.strip() for line in wrap(caption, CAPTION_LIMIT)} if caption else set()
    title_lines = {line.strip() for line in wrap(title, TITLE_LIMIT)}
    for line in lines:
        if line in caption_lines:
            continue
        limit = TITLE_LIMIT if line in title_lines else LABEL_LIMIT
        assert len(line) <= limit, line
        assert "…" not in line, line


@pytest.mark.parametrize("name", ["docker", "runc", "unshare", "teach"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_slide_is_16_9_and_no_label_is_longer_than_its_limit(name: str, theme: str, tmp_path: Path) -> None:
    recording = _recording(name)
    svg = export(recording, "architecture", "svg", theme, tmp_path / "s.svg", slide=True).read_text()
    model = build_model(ProcessTable.from_events([recording.header, *recording.events]))
    title, caption = slide_title(recording, model)
    _check_slide(svg, title, caption)
    assert len(title) <= TITLE_LIMIT and "…" not in title
    # The full command is in the caption, whole.
    text = " ".join(line.strip() for line in label_lines(svg))
    assert recording.header.command[-1].split()[0] in text


def test_docker_slide_hides_pids_and_names_namespaces_by_kind(tmp_path: Path) -> None:
    recording = _recording("docker")
    svg = export(recording, "architecture", "svg", "light", tmp_path / "s.svg", slide=True).read_text()
    text = "\n".join(label_lines(svg))
    pids = {p.pid for p in ProcessTable.from_events([recording.header, *recording.events]).history}
    for pid in pids:
        assert not re.search(rf"\b{pid}\b", text), pid
    assert 'execve("/proc/PID/exe")' in text  # the libnetwork hook, dockerd's binary by its /proc path
    assert re.search(r"container: new pid, mnt, uts, ipc,\s*\n?\s*net namespaces", text)
    assert not re.search(r"\b4026\d{6}\b", text)  # inodes only with --detail
    detailed = export(recording, "architecture", "svg", "light", tmp_path / "d.svg", slide=True, detail=True,
                      show_pids=True).read_text()
    assert re.search(r"\b4026\d{6}\b", detailed)
    assert any(re.search(rf"\b{pid}\b", detailed) for pid in pids)


@pytest.mark.parametrize("phase", ["handoff", "namespaces", "root", "identity", "hostname", "entrypoint"])
def test_focus_draws_only_the_components_of_one_phase(phase: str, tmp_path: Path) -> None:
    recording = _recording("docker")
    chapters = _chapters(recording)
    svg = export(recording, "architecture", "svg", "light", tmp_path / "f.svg", focus=phase,
                 chapters=chapters).read_text()
    model = build_model(ProcessTable.from_events([recording.header, *recording.events]))
    title, caption = slide_title(recording, model)
    picked = focus_chapters(chapters, phase)
    width, height = _size(svg)
    assert abs(width / height - 16 / 9) < 0.02 * 16 / 9
    drawn = set(re.findall(r'<g id="node\d+" class="node">\s*<title>(n_[^<]+)</title>', svg))
    drawn.discard("legend")
    full = export(recording, "architecture", "svg", "light", tmp_path / "all.svg", slide=True).read_text()
    everything = set(re.findall(r'<g id="node\d+" class="node">\s*<title>(n_[^<]+)</title>', full))
    assert drawn and drawn < everything, (phase, drawn)
    # Every process a chapter names is drawn (as the component it was at the chapter's first event).
    pids_roles = {model.book.phase_at(model.book.process_at(pid, c.seqs[0]), c.seqs[0]).role.name
                  for c in picked for pid in c.pids if model.book.process_at(pid, c.seqs[0])}
    text = "\n".join(label_lines(svg))
    for role in pids_roles:
        assert role in text, (phase, role)
    if phase == "root":
        assert 'pivot_root(".", ".")' in text
    if phase == "hostname":
        assert "sethostname(" in text


def test_focus_on_a_chapter_that_is_not_there_is_misuse(tmp_path: Path) -> None:
    recording = _recording("runc")
    with pytest.raises(ExportUsageError, match="choose one of"):
        export(recording, "architecture", "svg", "light", tmp_path / "f.svg", focus="handshake",
               chapters=_chapters(recording))
    result = subprocess.run([sys.executable, "-m", "boxtrace", "export", str(RECORDINGS / "runc.jsonl"), "--focus",
                             "handshake", "-o", str(tmp_path / "f.svg")], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "handshake" in result.stderr.splitlines()[-1]


def test_every_phase_names_chapters_the_shipped_recordings_have() -> None:
    ids = {c.id for name in ("docker", "runc", "containerd", "unshare", "teach", "teach-rootless")
           for c in _chapters(_recording(name))}
    for phase, wanted in PHASES.items():
        assert any(w in ids or (w.endswith("*") and any(i.startswith(w[:-1]) for i in ids)) for w in wanted), phase


def test_cli_slide_png(tmp_path: Path) -> None:
    out = tmp_path / "docker.png"
    result = subprocess.run([sys.executable, "-m", "boxtrace", "export", str(RECORDINGS / "docker.jsonl"), "--slide",
                             "--theme", "dark", "-o", str(out)], capture_output=True, text=True, cwd=ROOT,
                            check=False)
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert abs(width / height - 16 / 9) < 0.01 * 16 / 9


def test_pdf_has_a_page_per_chapter(tmp_path: Path) -> None:
    from pypdf import PdfReader

    recording = _recording("runc")
    chapters = _chapters(recording)
    whole = export(recording, "architecture", "pdf", "light", tmp_path / "a.pdf", chapters=chapters)
    assert len(PdfReader(whole).pages) == 1 + len(chapters)
    phase = export(recording, "architecture", "pdf", "dark", tmp_path / "root.pdf", focus="root",
                   chapters=chapters)
    assert len(PdfReader(phase).pages) == 1 + len(focus_chapters(chapters, "root")) > 2
    # Without chapters (a Python caller that has none) the PDF is the one picture.
    assert len(PdfReader(export(recording, "architecture", "pdf", "light", tmp_path / "b.pdf")).pages) == 1


# Edge labels next to their edges, and the architecture view's own defects -------------------------------------


def _bezier(d: str) -> list[tuple[float, float]]:
    numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]
    points = list(zip(numbers[0::2], numbers[1::2], strict=True))
    out = [points[0]]
    for i in range(1, len(points) - 2, 3):
        p0, p1, p2, p3 = points[i - 1], points[i], points[i + 1], points[i + 2]
        for step in range(1, 21):
            t = step / 20
            x, y = ((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c + t ** 3 * e
                    for a, b, c, e in zip(p0, p1, p2, p3, strict=True))
            out.append((x, y))
    return out


def _label_gaps(svg: str) -> list[tuple[float, float, str]]:
    """(distance from an edge's label to its curve, the label's font size, its first line) for every edge."""
    import math
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for group in ET.fromstring(svg).iter(ns + "g"):
        if (group.get("class") or "").split()[:1] != ["edge"]:
            continue
        curve = _bezier(group.find(ns + "path").get("d"))
        texts = [t for t in group.findall(ns + "text") if (t.text or "").strip()]
        if not texts:
            continue
        best = math.inf
        for text in texts:
            x, y, size = float(text.get("x")), float(text.get("y")), float(text.get("font-size"))
            width = len(text.text) * size * 0.6
            anchor = text.get("text-anchor")
            left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
            for px, py in curve:
                best = min(best, math.hypot(max(left - px, 0, px - left - width), max(y - size - py, 0, py - y)))
        out.append((best, float(texts[0].get("font-size")), texts[0].text))
    return out


@pytest.mark.parametrize("name", ["docker", "containerd", "runc"])
@pytest.mark.parametrize("slide", [True, False])
def test_edge_labels_sit_next_to_their_edges(name: str, slide: bool, tmp_path: Path) -> None:
    svg = export(_recording(name), "architecture", "svg", "light", tmp_path / "a.svg", slide=slide).read_text()
    gaps = _label_gaps(svg)
    assert gaps
    for gap, size, text in gaps:
        assert gap <= 2 * size, (text, gap)


def test_the_docker_architecture_is_landscape_with_whole_titles_and_namespaces_by_kind(tmp_path: Path) -> None:
    recording = _recording("docker")
    svg = export(recording, "architecture", "svg", "light", tmp_path / "a.svg").read_text()
    width, height = _size(svg)
    assert abs(width / height - 16 / 9) < 0.01 * 16 / 9
    text = "\n".join(label_lines(svg))
    assert "…" not in text.split("\n")[0]
    assert "boxtrace/busybox:latest" in text  # the whole command, in the caption
    assert re.search(r"container: new pid, mnt, uts, ipc, net namespaces", text)
    assert not re.search(r"\b4026\d{6}\b", text)
    # The architecture view, read closer than a slide, keeps pids and the insight notes.
    cli = next(p for p in ProcessTable.from_events([recording.header, *recording.events]).history
               if p.executable.endswith("/docker"))
    assert re.search(rf"pid {cli.pid}\b", text) and re.search(r"caps: \d+ kept, \d+ dropped", text)


def _shapes(svg: str) -> list[tuple[float, float, float, float]]:
    """Bounding boxes of every node and cluster shape in a Graphviz SVG."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for group in ET.fromstring(svg).iter(ns + "g"):
        if (group.get("class") or "").split()[:1] not in (["node"], ["cluster"]):
            continue
        for shape in list(group.iter(ns + "path")) + list(group.iter(ns + "polygon")):
            numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", shape.get("d") or shape.get("points") or "")]
            if len(numbers) >= 4:
                xs, ys = numbers[0::2], numbers[1::2]
                out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


@pytest.mark.parametrize("name", ["docker", "containerd", "runc", "unshare", "teach"])
def test_no_quadrant_of_a_slide_is_empty(name: str, tmp_path: Path) -> None:
    svg = export(_recording(name), "architecture", "svg", "light", tmp_path / "s.svg", slide=True).read_text()
    boxes = _shapes(svg)
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
    mid_x, mid_y = (left + right) / 2, (top + bottom) / 2
    for x0, y0, x1, y1 in ((left, top, mid_x, mid_y), (mid_x, top, right, mid_y), (left, mid_y, mid_x, bottom),
                           (mid_x, mid_y, right, bottom)):
        assert any(b[0] < x1 and b[2] > x0 and b[1] < y1 and b[3] > y0 for b in boxes), (name, (x0, y0, x1, y1))


def test_export_slide_is_the_one_call_the_tui_needs(tmp_path: Path) -> None:
    from viz.export import export_slide

    recording = _recording("runc")
    out = export_slide(recording, tmp_path / "root.svg", theme="dark", focus="root", chapters=_chapters(recording))
    svg = out.read_text()
    width, height = _size(svg)
    assert abs(width / height - 16 / 9) < 0.02 * 16 / 9
    assert 'pivot_root(".", ".")' in "\n".join(label_lines(svg))
    whole = export_slide(recording, tmp_path / "whole.png")
    assert whole.read_bytes().startswith(b"\x89PNG")


def test_a_focus_slide_shows_where_the_chapters_call_leads(tmp_path: Path) -> None:
    recording = _recording("docker")
    svg = export(recording, "architecture", "svg", "light", tmp_path / "n.svg", focus="unshare",
                 chapters=_chapters(recording)).read_text()
    text = "\n".join(label_lines(svg))
    # unshare in runc init's middle stage, then the clone that starts the stage inside the container.
    assert "runc:[2:INIT]" in text and "clone(CLONE_PARENT)" in text
    assert re.search(r"container: new pid, mnt, uts, ipc,\s*\n?\s*net namespaces", text)
