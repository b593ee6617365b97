"""The classroom notebooks run top to bottom, as a student would run them, and say what they did.

Each notebook is executed with nbclient in a fresh `python3` kernel (this interpreter's, so `boxtrace` is
importable), with notebooks/ as the working directory. Their code cells assert what their prose claims about the
shipped recordings, so an error anywhere fails here. Notebook 4 traces live when it can (root and its
scenario's prerequisites) and must say which mode it used; it is run a second time forced onto the shipped
recording, so the fallback branch is always exercised.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
KERNEL = "python3"
CELL_TIMEOUT = 120


def _runs_this_python(argv: list[str]) -> bool:
    # jupyter_client starts a spec whose argv[0] is a bare "python"/"python3"/"python3.X" with sys.executable.
    bare = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    if not argv:
        return False
    if argv[0] in bare:
        return True
    return Path(argv[0]).resolve() == Path(sys.executable).resolve()


def _python3_spec_argv() -> list[str]:
    try:
        return list(KernelSpecManager().get_kernel_spec(KERNEL).argv)
    except NoSuchKernel:
        return []


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python3`, made to start this interpreter (whose venv has boxtrace).

    A fresh `make setup` venv may lack the kernelspec: install it into the venv. If a per-user `python3` spec
    still wins over the venv's, put a spec for this interpreter first on JUPYTER_PATH for these tests only.
    """
    if not _runs_this_python(_python3_spec_argv()):
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL],
                       check=True, capture_output=True)
    saved = os.environ.get("JUPYTER_PATH")
    if not _runs_this_python(_python3_spec_argv()):
        data = tmp_path_factory.mktemp("jupyter")
        spec = data / "kernels" / KERNEL
        spec.mkdir(parents=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "boxtrace", "language": "python"}))
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(data), saved) if p)
    argv = _python3_spec_argv()
    assert _runs_this_python(argv), f"the {KERNEL} kernel runs {argv[:1]}, not {sys.executable}"
    yield KERNEL
    if saved is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = saved


def execute(path: Path, kernel: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name=kernel, timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def stream_text(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in outputs(notebook) if o.get("output_type") == "stream")


def test_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01-what-a-container-is.ipynb",
        "02-docker-run-end-to-end.ipynb",
        "03-runtimes-compared.ipynb",
        "04-trace-it-yourself.ipynb",
        "05-break-it-yourself.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: run notebooks/build_notebooks.py"


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("04-")], ids=lambda p: p.stem)
def test_notebook_runs(path: Path, kernel_name: str) -> None:
    notebook = execute(path, kernel_name)
    assert outputs(notebook), f"{path.name} showed nothing"
    if path.name.startswith("02-") and shutil.which("dot"):
        svgs = [o for o in outputs(notebook) if "image/svg+xml" in o.get("data", {})]
        assert svgs, "notebook 2 drew no architecture diagram although Graphviz is installed"


@pytest.mark.slow
def test_trace_it_yourself_says_its_mode(kernel_name: str) -> None:
    # Live as root with the scenario's prerequisites (a real trace), else the shipped recording: either way it
    # must say which, in one line.
    text = stream_text(execute(NOTEBOOKS_DIR / "04-trace-it-yourself.ipynb", kernel_name))
    modes = [line for line in text.splitlines() if line.startswith("boxtrace notebook mode: ")]
    assert len(modes) == 1 and modes[0].split(": ", 1)[1].startswith(("live - ", "recording - ")), modes


@pytest.mark.slow
def test_trace_it_yourself_falls_back_to_the_recording(kernel_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXTRACE_NOTEBOOK_MODE", "recording")  # the kernel inherits this environment
    text = stream_text(execute(NOTEBOOKS_DIR / "04-trace-it-yourself.ipynb", kernel_name))
    assert "boxtrace notebook mode: recording" in text
    assert "BOXTRACE_NOTEBOOK_MODE=recording" in text
