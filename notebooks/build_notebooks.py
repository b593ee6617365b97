"""Write the classroom notebooks (notebooks/NN-*.ipynb) from their Markdown sources (notebooks/NN-*.md).

    .venv/bin/python notebooks/build_notebooks.py           # rewrite every .ipynb from its .md
    .venv/bin/python notebooks/build_notebooks.py --check   # exit 1 naming each .ipynb that differs

The Markdown files are the lessons: jupytext Markdown notebooks, prose as Markdown and each code cell a ```python
block, so a teacher edits them in any editor (or in Jupyter, which opens them through jupytext) and a change is a
readable diff. The .ipynb files are generated from them without outputs and with stable cell ids, so regenerating
gives the same bytes; `tests/test_notebook_sources.py` fails when an .ipynb and its source disagree. A new
notebook is one more `NN-name.md` here. Code cells assert what the prose next to them says, so a re-made recording
that no longer shows the story fails `tests/test_notebooks.py` instead of teaching something false.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"display_name": "Python 3 (boxtrace)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def sources(directory: Path = HERE) -> list[Path]:
    """The notebooks' Markdown sources, in lesson order (NN-*.md)."""
    return sorted(directory.glob("[0-9][0-9]-*.md"))


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook for one Markdown source: no outputs, no cell metadata, ids `nbNN-MM`."""
    notebook = jupytext.read(source, fmt="md")
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    stem = source.name.split("-", 1)[0]
    for index, cell in enumerate(notebook.cells):
        cell.metadata = nbformat.from_dict({})
        cell.id = f"nb{stem}-{index:02d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(notebook)
    return notebook


def rendered(source: Path) -> str:
    """The .ipynb text for a source, exactly as `main` writes it."""
    return nbformat.writes(build(source)) + "\n"


def target(source: Path) -> Path:
    return source.with_suffix(".ipynb")


def stale(directory: Path = HERE) -> list[str]:
    """Names of the .ipynb files that are missing or differ from what their source builds."""
    out = []
    for source in sources(directory):
        path = target(source)
        if not path.exists() or path.read_text(encoding="utf-8") != rendered(source):
            out.append(path.name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build notebooks/NN-*.ipynb from notebooks/NN-*.md.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any .ipynb is stale")
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        for name in names:
            print(f"{name} differs from its Markdown source: run notebooks/build_notebooks.py", file=sys.stderr)
        return 1 if names else 0
    for source in sources():
        target(source).write_text(rendered(source), encoding="utf-8")
        print(f"wrote {target(source).relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
