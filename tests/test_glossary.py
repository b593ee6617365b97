"""docs/glossary.md: every entry cites its man page or source file, every claim id it names is a checked claim, and
every link to it (from docs/ and the notebooks) lands on an entry that exists. The pages learners read link to it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenarios.claims import BY_ID

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
#: A man page reference such as clone(2), or a source file path such as libcontainer/nsenter/nsexec.c.
CITATION = re.compile(r"\b[a-z_0-9.-]+\([1-8]\)|[\w./-]+\.(?:c|go|md|rst)\b|`[\w./-]+/`|`src/[\w./-]+`|documentation")
LINK = re.compile(r"\]\(((?:\.\./docs/)?glossary\.md)(?:#([\w-]+))?\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def entries() -> dict[str, str]:
    out: dict[str, str] = {}
    current = None
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            current = line[4:]
            out[current] = ""
        elif current is not None and not line.startswith("## "):
            out[current] += line + "\n"
    return out


def test_every_entry_cites_a_man_page_or_a_source_file() -> None:
    found = entries()
    assert len(found) >= 40
    uncited = [name for name, text in found.items() if not CITATION.search(text.split("—")[-1] if "—" in text else "")]
    assert not uncited, f"glossary entries without a man page or source after the dash: {uncited}"


def test_claim_ids_named_in_the_docs_are_checked_claims() -> None:
    for page in [*sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"\[`([a-z0-9-]+)`((?:, `[a-z0-9-]+`)*)\]", text):
            ids = [match.group(1), *re.findall(r"`([a-z0-9-]+)`", match.group(2))]
            unknown = [i for i in ids if i not in BY_ID and "-" in i]
            assert not unknown, f"{page.name}: unknown claim ids {unknown}"


LINKING = [*(ROOT / "docs" / name for name in ("concepts.md", "insights.md", "scenarios.md")),
           *sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.md"))]


@pytest.mark.parametrize("page", LINKING, ids=lambda p: p.name)
def test_learner_pages_link_to_entries_that_exist(page: Path) -> None:
    anchors = {slug(name) for name in entries()}
    links = LINK.findall(page.read_text(encoding="utf-8"))
    assert links, f"{page.name} does not link to the glossary"
    broken = [anchor for _, anchor in links if anchor and anchor not in anchors]
    assert not broken, f"{page.name}: glossary anchors that do not exist: {broken}"
