"""The walkthrough page in a real browser: Debian's chromium, headless, driven by Selenium, opens the page of the
shipped docker recording from a file:// URL with the network blocked, steps through every chapter by key, sees
each chapter's proving trace line, and takes a screenshot per chapter that must not be blank. Also: the file is
whole (no request leaves it), the chapter list and the search work, and printed each chapter starts a page."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from scenarios import lesson_for
from tests.prereqs import require
from tracer.processes import ProcessTable
from tracer.recording import Recording, load_recording
from viz.export import export
from viz.model import build_model
from viz.page import MAX_PROOF_LINES, event_line
from viz.tui.walkthrough import build_walkthrough

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "scenarios" / "recordings"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _chapters(recording: Recording) -> list:
    return build_walkthrough([recording.header, *recording.events], lesson_for(recording.header.scenario)).chapters


@pytest.fixture(scope="module")
def docker_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Recording, list]:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    recording = load_recording(RECORDINGS / "docker.jsonl")
    chapters = _chapters(recording)
    out = tmp_path_factory.mktemp("page") / "docker.html"
    export(recording, "page", None, "light", out, chapters=chapters)
    return out, recording, chapters


def test_the_page_is_one_file_that_asks_for_nothing(docker_page: tuple[Path, Recording, list]) -> None:
    path, _, chapters = docker_page
    text = path.read_text()
    # Only XML namespace names look like URLs; nothing is fetched.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"<(link|img|iframe|object|embed)\b", text, re.I)
    assert not re.search(r"<script[^>]+src=", text, re.I)
    assert not re.search(r"@import|url\(", text)
    assert "default-src 'none'" in text
    assert len(re.findall(r'<section class="chapter"', text)) == len(chapters) >= 10


def test_cli_writes_the_page(tmp_path: Path) -> None:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    out = tmp_path / "runc.html"
    result = subprocess.run([sys.executable, "-m", "boxtrace", "export", str(RECORDINGS / "runc.jsonl"), "--view",
                             "page", "-o", str(out)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for chapter in _chapters(load_recording(RECORDINGS / "runc.jsonl")):
        assert html.escape(chapter.title, quote=True) in text


# In the browser ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Chrome]:
    require(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
            "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(False, "selenium is not installed (make setup)")
        raise
    profile = tempfile.mkdtemp(prefix="boxtrace-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={profile}", "--window-size=1440,900",
                     # Belt and braces: no proxy, no name resolution; the CDP below takes the network away.
                     "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _not_blank(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels unlike the most common one) of a screenshot."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").resize((360, 225))
    colours = image.getcolors(360 * 225) or []
    colours.sort(reverse=True)
    total = sum(count for count, _ in colours)
    return len(colours), 1 - colours[0][0] / total


def test_every_chapter_by_key_shows_its_proof(docker_page: tuple[Path, Recording, list], browser: Chrome,
                                              tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, recording, chapters = docker_page
    model = build_model(ProcessTable.from_events([recording.header, *recording.events]))
    events = model.table.events_by_seq
    driver = browser
    driver.get(path.as_uri())
    # Nothing was fetched: the only resource the page has is itself.
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert driver.execute_script("return navigator.onLine") is False
    for index, chapter in enumerate(chapters):
        section = driver.find_element(By.ID, f"chapter-{index + 1}")
        assert section.is_displayed(), chapter.title
        others = [s for s in driver.find_elements(By.CSS_SELECTOR, "section.chapter") if s.is_displayed()]
        assert others == [section]
        assert section.find_element(By.TAG_NAME, "h2").text == f"{index + 1}. {chapter.title}"
        proof = [seq for seq in chapter.seqs if seq in events and event_line(events[seq], model)]
        first = section.find_element(By.CSS_SELECTOR, f'ol.proof li[data-seq="{proof[0]}"]')
        assert first.is_displayed()
        assert first.text == event_line(events[proof[0]], model)
        assert len(section.find_elements(By.CSS_SELECTOR, "ol.proof li")) == min(len(proof), MAX_PROOF_LINES)
        # The picture outlines the chapter's components and dims the rest.
        assert section.find_elements(By.CSS_SELECTOR, "figure svg g.node.hl")
        png = driver.get_screenshot_as_png()
        (tmp_path / f"chapter-{index + 1:02d}.png").write_bytes(png)
        colours, ink = _not_blank(png)
        assert colours > 30 and ink > 0.05, (chapter.title, colours, ink)
        ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    # Past the last chapter the page stays there; Home goes back to the first; ← steps back.
    assert driver.find_element(By.ID, f"chapter-{len(chapters)}").is_displayed()
    ActionChains(driver).send_keys(Keys.HOME).perform()
    assert driver.find_element(By.ID, "chapter-1").is_displayed()
    ActionChains(driver).send_keys(Keys.END).send_keys(Keys.ARROW_LEFT).perform()
    assert driver.find_element(By.ID, f"chapter-{len(chapters) - 1}").is_displayed()


def test_click_navigation_and_search(docker_page: tuple[Path, Recording, list], browser: Chrome) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    path, _, chapters = docker_page
    driver = browser
    driver.get(path.as_uri())
    target = next(i for i, c in enumerate(chapters) if c.id == "pivot_root")
    driver.find_elements(By.CSS_SELECTOR, "nav li button")[target].click()
    section = driver.find_element(By.ID, f"chapter-{target + 1}")
    assert section.is_displayed()
    assert 'pivot_root(".", ".") = 0' in section.find_element(By.CSS_SELECTOR, "ol.proof").text
    driver.find_element(By.ID, "next").click()
    assert driver.find_element(By.ID, f"chapter-{target + 2}").is_displayed()
    # "/" jumps to the search box; typing filters every process's full event list.
    ActionChains(driver).send_keys("/").perform()
    search = driver.find_element(By.ID, "search")
    assert driver.switch_to.active_element == search
    search.send_keys("sethostname")
    hits = [li for li in driver.find_elements(By.CSS_SELECTOR, "details.process li.hit") if li.is_displayed()]
    assert len(hits) == 1 and "sethostname(" in hits[0].text
    shown = [d for d in driver.find_elements(By.CSS_SELECTOR, "details.process") if d.is_displayed()]
    assert len(shown) == 1
    assert "1 matching lines" in driver.find_element(By.ID, "matches").text
    search.clear()
    search.send_keys("execve")
    assert len([d for d in driver.find_elements(By.CSS_SELECTOR, "details.process") if d.is_displayed()]) > 5


def test_printed_each_chapter_starts_a_page(docker_page: tuple[Path, Recording, list], browser: Chrome) -> None:
    from selenium.webdriver.common.by import By

    path, _, chapters = docker_page
    driver = browser
    driver.get(path.as_uri())
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = [s for s in driver.find_elements(By.CSS_SELECTOR, "section.chapter") if s.is_displayed()]
        assert len(shown) == len(chapters)
        assert not driver.find_element(By.ID, "processes").is_displayed()
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"])
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= len(chapters), pages


def test_a_click_widens_the_picture(docker_page: tuple[Path, Recording, list], browser: Chrome) -> None:
    from selenium.webdriver.common.by import By

    path, _, _ = docker_page
    driver = browser
    driver.get(path.as_uri())
    section = driver.find_element(By.ID, "chapter-1")
    figure = section.find_element(By.TAG_NAME, "figure")
    before = figure.size["width"]
    figure.click()
    assert "wide" in section.get_attribute("class").split()
    assert figure.size["width"] > before * 1.4


@pytest.mark.parametrize("name", ["docker", "runc", "containerd", "unshare", "teach", "teach-rootless"])
def test_every_shipped_recording_has_a_page_with_every_chapter(name: str, tmp_path: Path) -> None:
    require(shutil.which("dot"), "Graphviz's dot is not installed")
    recording = load_recording(RECORDINGS / f"{name}.jsonl")
    chapters = _chapters(recording)
    text = export(recording, "page", "html", "dark", tmp_path / "p.html", chapters=chapters).read_text()
    assert len(re.findall(r'<section class="chapter"', text)) == len(chapters) > 0
    for chapter in chapters:
        assert html.escape(chapter.title, quote=True) in text
    # `make docs-images` ships the same page in docs/walkthrough/ for teachers to link.
    shipped = ROOT / "docs" / "walkthrough" / f"{name}.html"
    assert shipped.is_file() and '<section class="chapter"' in shipped.read_text()
