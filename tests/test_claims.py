"""Checked claims: every sentence about order or agency holds in every trace it speaks of.

The claims live in `scenarios/claims.py` (the matchers in `tracer/claims.py`). Each is checked against every
shipped recording of its scenarios and against a fresh live trace of each scenario (one per test session, made by
the `scenario_recording` fixture of tests/conftest.py; it needs root and the scenario's prerequisites, skips on a
laptop without them and fails under CI=true). Every chapter of every scenario walkthrough must state at least one
claim, and every notebook paragraph that speaks of order or agency must name its claims in a
`<!-- claims: ... -->` comment. A failure names the file and the claim.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from scenarios import get_scenario, lesson_for
from scenarios.claims import BY_ID, CLAIMS, claims_for, generic_claims_for
from tracer.claims import Before, Call, Claim, Count, Exists, OnlyBy, Trace, Who, check, evidence_seqs
from tracer.events import Exec, Exit, Syscall
from tracer.recording import load_recording
from viz.tui.walkthrough import build_walkthrough

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "scenarios" / "recordings"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.md"))
SCENARIOS_WITH_CLAIMS = sorted({name for claim in CLAIMS for name in claim.scenarios})
#: Scenarios with a shipped recording (crun has none: crun 1.8 refuses the recording machine's cgroup layout).
RECORDED = sorted(p.stem for p in RECORDINGS.glob("*.jsonl"))

_traces: dict[Path, Trace] = {}


def trace_of(path: Path) -> Trace:
    if path not in _traces:
        _traces[path] = Trace(load_recording(path).events)
    return _traces[path]


def failures(claim: Claim, path: Path) -> list[str]:
    return [f"{path}: claim {claim.id!r} ({claim.says}): {problem}" for problem in check(claim, trace_of(path))]


# Against the shipped recordings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_holds_in_every_shipped_recording_of_its_scenarios(claim: Claim) -> None:
    shipped = [RECORDINGS / f"{name}.jsonl" for name in claim.scenarios]
    assert shipped, f"claim {claim.id!r} names no scenario"
    missing = [str(p) for p in shipped if not p.exists()]
    assert not missing, f"claim {claim.id!r}: no recording {missing}"
    problems = [line for path in shipped for line in failures(claim, path)]
    assert not problems, "\n".join(problems)


def test_every_claim_is_unique_sourced_and_has_evidence() -> None:
    assert len(BY_ID) == len(CLAIMS), "two claims share an id"
    for claim in CLAIMS:
        assert claim.says and claim.evidence and claim.source, claim.id
        assert set(claim.scenarios) <= set(RECORDED), f"{claim.id}: {claim.scenarios} has no recording"


# Against a fresh live trace of each scenario --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS_WITH_CLAIMS)
def test_claims_hold_in_a_live_trace(name: str, scenario_recording: Callable[[str], Path]) -> None:
    path = scenario_recording(name)
    problems = [line for claim in CLAIMS if name in claim.scenarios for line in failures(claim, path)]
    assert not problems, "\n".join(problems)


# Coverage: every chapter, every notebook statement ----------------------------------------------------------------


@pytest.mark.parametrize("name", RECORDED)
def test_every_walkthrough_chapter_states_checked_claims(name: str) -> None:
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    walk = build_walkthrough(recording.events, lesson_for(name))
    assert walk.source == name and walk.chapters
    for chapter in walk.chapters:
        claims = claims_for(name, chapter.id)
        assert claims, f"{name} walkthrough, chapter {chapter.id!r} ({chapter.title}): no checked claim"
        for claim in claims:
            assert not check(claim, trace_of(RECORDINGS / f"{name}.jsonl")), (name, chapter.id, claim.id)


@pytest.mark.parametrize("name", RECORDED)
def test_every_generic_walkthrough_chapter_states_checked_claims(name: str) -> None:
    """The chapters boxtrace computes for a trace of no known scenario, on each shipped recording."""
    path = RECORDINGS / f"{name}.jsonl"
    walk = build_walkthrough(load_recording(path).events, None)
    assert walk.source == "generic" and walk.chapters
    for chapter in walk.chapters:
        claims = generic_claims_for(chapter.title)
        assert claims, f"{path}: generic chapter {chapter.id!r} ({chapter.title}) states no checked claim"
        problems = [line for claim in claims for line in failures(claim, path)]
        assert not problems, "\n".join(problems)


def test_every_milestone_of_a_recorded_scenario_has_claims() -> None:
    for name in RECORDED:
        bare = [m.id for m in get_scenario(name).milestones if not claims_for(name, m.id)]
        assert not bare, f"scenario {name}: milestones {bare} state no checked claim"


#: Words that mark a sentence about order or agency in the notebooks' prose.
ORDER_OR_AGENCY = re.compile(
    r"\b(before|after|then|first|until|only then|afterwards|earlier|later|exits?|reaps?|writes?|runs?|execs?|"
    r"forks?|starts?)\b",
    re.IGNORECASE,
)
MARKER = re.compile(r"<!--\s*claims:\s*(.*?)\s*-->", re.DOTALL)


def markdown_paragraphs(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every prose paragraph (list items and table rows included) outside code blocks."""
    out: list[tuple[int, str]] = []
    in_code, start = False, 0
    buffer: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        in_table = line.startswith("| ") and bool(buffer) and buffer[-1].startswith("|")
        if line.strip() == "" or (line.startswith(("#", "* ", "1. ", "2. ", "3. ", "| ")) and not in_table):
            if buffer:
                out.append((start, "\n".join(buffer)))
            buffer = []
            if line.strip() == "" or line.startswith("#"):
                continue
        if not buffer:
            start = number
        buffer.append(line)
    if buffer:
        out.append((start, "\n".join(buffer)))
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_claim_markers_name_real_claims_that_hold(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for marker in MARKER.findall(text):
        for claim_id in marker.split():
            if claim_id == "none":
                break
            assert claim_id in BY_ID, f"{path.name}: unknown claim {claim_id!r}"
            claim = BY_ID[claim_id]
            for name in claim.scenarios:
                problems = failures(claim, RECORDINGS / f"{name}.jsonl")
                assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_statements_about_order_or_agency_name_their_claims(path: Path) -> None:
    """A paragraph about runtimes that speaks of order or agency carries `<!-- claims: ids -->` (or
    `<!-- claims: none - why -->` where the sentence states no order a trace could show)."""
    paragraphs = markdown_paragraphs(path)
    unmarked = []
    for index, (line, text) in enumerate(paragraphs):
        if MARKER.search(text) or text.lstrip().startswith("<!--"):
            continue
        if not re.search(r"\b(runc|shim|containerd|dockerd|stage|init|pid 1|unshare|clone|pivot_root)\b", text):
            continue
        if not ORDER_OR_AGENCY.search(text):
            continue
        following = paragraphs[index + 1][1] if index + 1 < len(paragraphs) else ""
        if MARKER.match(following.strip()):
            continue
        unmarked.append(f"{path.name}:{line}: {text.splitlines()[0][:90]}")
    assert not unmarked, "paragraphs about order or agency without <!-- claims: ... -->:\n" + "\n".join(unmarked)


# The claims can fail: a trace that lacks the evidence is caught, and the message says what is missing -------------


def test_a_claim_fails_when_its_order_is_reversed() -> None:
    events = load_recording(RECORDINGS / "docker.jsonl").events
    claim = BY_ID["hook-inside-create-before-pivot-root"]
    assert not check(claim, events)
    pivot = next(e for e in events if isinstance(e, Syscall) and e.name == "pivot_root")
    hook = next(e.pid for e in events if isinstance(e, Exec) and e.argv and e.argv[0] == "libnetwork-setkey")
    # Replay the hook's whole life after pivot_root, renumbered: the hook now runs after it.
    rest = [e for e in events if getattr(e, "pid", None) != hook]
    at = rest.index(pivot) + 1
    # A fractional seq places each moved event between pivot_root and the next one (seq is an int in recordings).
    moved = [replace(e, seq=pivot.seq + (i + 1) / 1000) for i, e in enumerate(  # type: ignore[arg-type]
        e for e in events if getattr(e, "pid", None) == hook)]
    problems = check(claim, rest[:at] + moved + rest[at:])
    assert any("does not come before" in p and "pivot_root" in p for p in problems), problems


def test_a_claim_fails_when_its_evidence_is_missing() -> None:
    events = load_recording(RECORDINGS / "runc.jsonl").events
    claim = BY_ID["runc-run-reaps-pid1"]
    without_wait = [e for e in events if not (isinstance(e, Syscall) and e.name == "wait4")]
    problems = check(claim, without_wait)
    assert problems and "no event shows" in problems[0]
    assert "wait4" in problems[0]


def test_agency_and_count_catch_the_wrong_process() -> None:
    events = load_recording(RECORDINGS / "runc.jsonl").events
    writes = Call("syscall", "write", args={"path": lambda p: str(p).endswith("/cgroup.procs")})
    assert not OnlyBy(writes, Who(program="runc", argv_any=("run",))).problems(Trace(events).found)
    wrong = OnlyBy(writes, Who(named="runc:[2:INIT]")).problems(Trace(events).found)
    assert wrong and "another process" in wrong[0]
    assert Count(Call("syscall", "pivot_root"), 2).problems(Trace(events).found)
    assert not Exists(Call("exit", who=Who(pid1=True))).problems(Trace(events).found)


def test_evidence_seqs_point_at_the_events() -> None:
    events = load_recording(RECORDINGS / "runc.jsonl").events
    by_seq = {e.seq: e for e in events}
    seqs = evidence_seqs(BY_ID["ambient-raise-eperm"], events)
    raises = [e for e in (by_seq[s] for s in seqs) if isinstance(e, Syscall)]
    assert len([e for e in raises if e.error == "EPERM"]) == 3
    exits = evidence_seqs(BY_ID["pid1-exits-before-the-launch"], events)
    assert all(isinstance(by_seq[s], Exit) for s in exits) and len(exits) == 2
    assert isinstance(BY_ID["old-root-rslave-then-detached"].evidence[0], Before)
