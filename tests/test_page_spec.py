"""The walkthrough page's spec section in a real browser (Debian's chromium, headless, Selenium, file://, offline).

On the shipped runc recording (its bundle kept at runtime): one table row per promise, in the order and with the
words `boxtrace spec` gives (tracer.insights.spec, read independently here); the ambient-capabilities row is on screen,
worded and styled as differing (a badge, not only a colour); its event number opens the process below at the
proving event; the box "only the promises not kept" hides the rest; at a wide and a narrow window nothing runs
past the page's edge. On a trace without a bundle the section is one sentence. The page still asks for nothing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scenarios import lesson_for
from tests.prereqs import require
from tests.test_page import browser  # noqa: F401 - the headless chromium fixture
from tracer.insights.spec import DIFFERS, KEPT, spec_report
from tracer.recording import Recording, load_recording
from viz.export import export
from viz.spec_view import VERDICT_LOOKS, verdict_label
from viz.tui.walkthrough import build_walkthrough

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "scenarios" / "recordings"


def _page(name: str, directory: Path) -> tuple[Path, Recording]:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    chapters = build_walkthrough([recording.header, *recording.events],
                                 lesson_for(recording.header.scenario)).chapters
    out = directory / f"{name}.html"
    export(recording, "page", None, "light", out, chapters=chapters)
    return out, recording


@pytest.fixture(scope="module")
def runc_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Recording]:
    return _page("runc", tmp_path_factory.mktemp("spec-page"))


def _report(recording: Recording):
    return spec_report([recording.header, *recording.events])


def _overflow(driver) -> list[str]:  # noqa: ANN001
    """What runs past the window's right edge, or past the spec section's."""
    return driver.execute_script("""
        const out = [];
        const doc = document.documentElement;
        if (doc.scrollWidth > window.innerWidth) out.push('page ' + doc.scrollWidth + ' > ' + window.innerWidth);
        const spec = document.getElementById('spec');
        const edge = spec.getBoundingClientRect().right + 1;
        spec.querySelectorAll('tr, td, th, p, ol').forEach((el) => {
          const box = el.getBoundingClientRect();
          if (box.width && box.right > edge) out.push(el.tagName + ' ' + el.textContent.slice(0, 40));
        });
        if (spec.scrollWidth > spec.clientWidth + 1) out.push('spec scrolls sideways');
        return out;""")


def test_the_rows_are_those_of_boxtrace_spec_and_the_ambient_row_differs(
        runc_page: tuple[Path, Recording],
        browser: object,  # noqa: F811 - the fixture imported above
) -> None:
    from selenium.webdriver.common.by import By

    path, recording = runc_page
    report = _report(recording)
    driver = browser
    driver.set_window_size(1440, 900)
    driver.get(path.as_uri())
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    section = driver.find_element(By.ID, "spec")
    driver.execute_script("arguments[0].scrollIntoView()", section)
    assert section.is_displayed()
    summary = section.find_element(By.CSS_SELECTOR, ".spec-summary").text
    for verdict, count in report.counts().items():
        assert f"{count} {verdict}" in summary, summary
    rows = section.find_elements(By.CSS_SELECTOR, "tr.spec-row")
    assert len(rows) == len(report.rows) > 40
    for element, row in zip(rows, report.rows, strict=True):
        cells = element.find_elements(By.TAG_NAME, "td")
        assert [c.get_attribute("textContent") for c in cells] == [
            verdict_label(row.verdict), row.item, row.requested, row.applied,
            str(row.seqs[0]) if row.seqs else ""], row.item
    ambient = next(e for e, r in zip(rows, report.rows, strict=True) if r.item == "ambient")
    row = next(r for r in report.rows if r.item == "ambient")
    assert row.verdict == DIFFERS
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", ambient)
    assert ambient.is_displayed()
    badge = ambient.find_element(By.CSS_SELECTOR, ".verdict")
    assert badge.text == "✗ differs"
    # A badge (white on red), not only coloured text: it reads on a washed-out projector too.
    kept_badge = rows[0].find_element(By.CSS_SELECTOR, ".verdict")
    assert badge.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert badge.value_of_css_property("color") != kept_badge.value_of_css_property("color")
    assert VERDICT_LOOKS[DIFFERS].css in badge.get_attribute("class")
    # Why it differs, and the proving calls, right under it.
    why = driver.execute_script("return arguments[0].nextElementSibling", ambient)
    assert "PR_CAP_AMBIENT_RAISE" in why.text and "EPERM" in why.text and "prctl(2)" in why.text
    assert why.is_displayed()
    assert _overflow(driver) == []


def test_the_event_number_opens_the_proving_event(
        runc_page: tuple[Path, Recording],
        browser: object,  # noqa: F811 - the fixture imported above
) -> None:
    from selenium.webdriver.common.by import By

    path, recording = runc_page
    row = next(r for r in _report(recording).rows if r.item == "ambient")
    driver = browser
    driver.set_window_size(1440, 900)
    driver.get(path.as_uri())
    link = driver.find_element(By.CSS_SELECTOR, '#spec tr.spec-row[data-item="ambient"] a.seq')
    assert link.text == str(row.seqs[0])
    target = driver.find_element(By.ID, f"event-{row.seqs[0]}")
    assert not target.is_displayed(), "the processes start folded"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    assert target.is_displayed()
    assert "target" in target.get_attribute("class").split()
    assert "PR_CAP_AMBIENT_RAISE" in target.text and "EPERM" in target.text
    # The chapters did not move: the link is not a chapter address.
    assert driver.find_element(By.ID, "chapter-1").is_displayed()


@pytest.fixture(scope="module")
def docker_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Recording]:
    return _page("docker", tmp_path_factory.mktemp("spec-page-docker"))


@pytest.mark.parametrize("width", [1440, 800])
def test_the_overlay_layers_are_listed_and_nothing_overflows(
        docker_page: tuple[Path, Recording],
        browser: object,  # noqa: F811 - the fixture imported above
        width: int,
) -> None:
    """The docker recording's bundle has an overlay root: its layers (long paths, sha256 ids) wrap inside the
    section rather than pushing the page sideways."""
    from selenium.webdriver.common.by import By

    path, recording = docker_page
    report = _report(recording)
    assert report.overlay is not None and report.rows
    driver = browser
    driver.set_window_size(width, 900)
    driver.get(path.as_uri())
    items = driver.find_elements(By.CSS_SELECTOR, "#spec .spec-overlay li")
    assert [i.get_attribute("textContent") for i in items] == [f.strip() for f in report.overlay.facts()]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#spec tr.spec-row")) == len(report.rows)
    assert _overflow(driver) == [], width
    # A count of zero is plain text: no red badge for "0 differs".
    summary = driver.find_element(By.CSS_SELECTOR, "#spec .spec-summary")
    for verdict, count in report.counts().items():
        assert f"{count} {verdict}" in summary.text
        badged = summary.find_elements(By.CSS_SELECTOR, f".verdict-{VERDICT_LOOKS[verdict].css}")
        assert len(badged) == (1 if count else 0), verdict


@pytest.mark.parametrize("width", [1440, 800])
def test_only_the_promises_not_kept_and_no_overflow(
        runc_page: tuple[Path, Recording],
        browser: object,  # noqa: F811 - the fixture imported above
        width: int, tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    path, recording = runc_page
    report = _report(recording)
    driver = browser
    driver.set_window_size(width, 900)
    driver.get(path.as_uri())
    assert _overflow(driver) == [], width
    box = driver.find_element(By.ID, "spec-only-not-kept")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    shown = [e for e in driver.find_elements(By.CSS_SELECTOR, "#spec tr.spec-row") if e.is_displayed()]
    not_kept = [r for r in report.rows if r.verdict != KEPT]
    assert [e.get_attribute("data-item") for e in shown] == [r.item for r in not_kept]
    sections = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#spec tr.spec-section") if e.is_displayed()]
    assert sections == list(dict.fromkeys(r.section for r in not_kept))
    ambient = next(e for e in shown if e.get_attribute("data-item") == "ambient")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", ambient)
    assert "✗ differs" in ambient.text and "CAP_NET_BIND_SERVICE" in ambient.text
    assert _overflow(driver) == [], width
    driver.find_element(By.ID, "spec").screenshot(str(tmp_path / f"spec-{width}.png"))


def test_without_a_bundle_one_sentence(tmp_path: Path) -> None:
    path, recording = _page("teach", tmp_path)
    report = _report(recording)
    assert report.bundle is None
    text = path.read_text()
    section = re.search(r'<section id="spec".*?</section>', text, re.S)
    assert section is not None
    assert "<table" not in section.group(0)
    sentences = re.findall(r'<p class="spec-none">([^<]*)</p>', section.group(0))
    assert len(sentences) == 1 and sentences[0].count(". ") == 0 and "no OCI bundle" in sentences[0]


def test_the_shipped_runc_page_has_the_section() -> None:
    """docs/walkthrough/runc.html (made by `make docs-images`) carries the same section."""
    shipped = (ROOT / "docs" / "walkthrough" / "runc.html").read_text()
    assert '<section id="spec"' in shipped
    assert re.search(r'data-item="ambient"><td><span class="verdict verdict-differs">✗ differs</span>', shipped)


def test_the_chapter_list_leads_to_the_section(
        runc_page: tuple[Path, Recording],
        browser: object,  # noqa: F811 - the fixture imported above
        tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    path, recording = runc_page
    counts = _report(recording).counts()
    driver = browser
    driver.set_window_size(1440, 900)
    driver.get(path.as_uri())
    link = driver.find_element(By.CSS_SELECTOR, "nav .spec-link")
    assert link.is_displayed()
    assert f"{counts[DIFFERS]} differs" in link.text
    driver.save_screenshot(str(tmp_path / "nav.png"))
    link.find_element(By.TAG_NAME, "a").click()
    top = driver.execute_script("return document.getElementById('spec').getBoundingClientRect().top")
    assert -2 <= top < 100, top
    assert driver.find_element(By.ID, "chapter-1").is_displayed()
