"""The notebooks' Markdown sources are the lessons; the .ipynb files must be exactly what they build.

A teacher edits notebooks/NN-*.md; `notebooks/build_notebooks.py` writes the .ipynb. These tests fail when the two
disagree (an .ipynb edited by hand, or a source edited without rebuilding), naming the file. No kernel is needed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
_spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOKS_DIR / "build_notebooks.py")
assert _spec is not None and _spec.loader is not None
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)

SOURCES = build_notebooks.sources(NOTEBOOKS_DIR)


def test_every_notebook_has_a_markdown_source_and_back() -> None:
    built = {source.with_suffix(".ipynb").name for source in SOURCES}
    present = {path.name for path in NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb")}
    assert len(SOURCES) >= 4
    assert present == built, f"without a source: {sorted(present - built)}; never built: {sorted(built - present)}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_ipynb_is_built_from_its_markdown(source: Path) -> None:
    path = source.with_suffix(".ipynb")
    assert path.read_text(encoding="utf-8") == build_notebooks.rendered(source), (
        f"{path.name} differs from {source.name}: edit the .md and run notebooks/build_notebooks.py"
    )


def test_check_mode_names_a_stale_notebook(tmp_path: Path) -> None:
    source = SOURCES[0]
    copy = tmp_path / source.name
    copy.write_text(source.read_text(encoding="utf-8") + "\nOne more sentence a teacher added.\n", encoding="utf-8")
    copy.with_suffix(".ipynb").write_text(build_notebooks.rendered(source), encoding="utf-8")
    assert build_notebooks.stale(tmp_path) == [copy.with_suffix(".ipynb").name]
    copy.with_suffix(".ipynb").write_text(build_notebooks.rendered(copy), encoding="utf-8")
    assert build_notebooks.stale(tmp_path) == []


def test_build_script_check_passes_on_the_repository() -> None:
    result = subprocess.run([sys.executable, str(NOTEBOOKS_DIR / "build_notebooks.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_notebook_code_cells_pass_ruff() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.fail(f"ruff is not installed next to {sys.executable}: run `make setup`")
    notebooks = [str(source.with_suffix(".ipynb")) for source in SOURCES]
    result = subprocess.run([str(ruff), "check", "--output-format", "concise", *notebooks],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
