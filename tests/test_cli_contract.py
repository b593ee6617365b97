"""The CLI's contract, read from the parser itself: every subcommand is described, documents every option with its
default, shows an example, and has an end-to-end test marked `@pytest.mark.cli_e2e("NAME")` somewhere in tests/.

A new subcommand fails here until it has all of these; the failure message says what to add and where.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

from boxtrace.cli import build_parser, subcommands
from tests.cli_e2e import run_boxtrace

TESTS = Path(__file__).resolve().parent
#: Names a marked test must use to run the installed script (tests/cli_e2e.py).
RUNNERS = {"run_boxtrace", "popen_boxtrace", "BOXTRACE"}

SUBCOMMANDS = subcommands()


def e2e_tests() -> dict[str, list[str]]:
    """{subcommand: ["tests/file.py::test_name", ...]} for every test function marked cli_e2e("subcommand") that
    runs the installed script, found by reading the test files (so this test needs none of them imported)."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
                continue
            uses_script = any(isinstance(n, ast.Name) and n.id in RUNNERS for n in ast.walk(node))
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.cli_e2e"
                        and decorator.args and isinstance(decorator.args[0], ast.Constant)):
                    if uses_script:
                        found.setdefault(str(decorator.args[0].value), []).append(f"tests/{path.name}::{node.name}")
    return found


def test_every_subcommand_has_an_end_to_end_test() -> None:
    covered = e2e_tests()
    missing = sorted(set(SUBCOMMANDS) - set(covered))
    assert not missing, (
        f"subcommands without an end-to-end test: {', '.join(missing)}. Add to a test file (e.g. "
        f"tests/test_cli_e2e.py or your own tests/test_{missing[0].replace('-', '_')}.py), running the installed "
        "script and asserting what the user sees and the exit code:\n\n"
        "    from tests.cli_e2e import run_boxtrace\n\n"
        f'    @pytest.mark.cli_e2e("{missing[0]}")\n'
        f"    def test_{missing[0].replace('-', '_')}_end_to_end(tmp_path: Path) -> None:\n"
        f'        result = run_boxtrace("{missing[0]}", ..., cwd=tmp_path)\n'
        "        assert result.returncode == 0, result.stderr\n"
        '        assert "..." in result.stdout\n'
    )
    unknown = sorted(set(covered) - set(SUBCOMMANDS))
    assert not unknown, f"cli_e2e marks name subcommands the parser does not have: {unknown} ({covered})"


def test_the_enumeration_sees_a_missing_test() -> None:
    """The check above can fail: a parser with one more subcommand is reported."""
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    action.add_parser("no-such-e2e-test", help="a subcommand nobody tested")
    assert "no-such-e2e-test" in set(subcommands(parser)) - set(e2e_tests())


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_subcommand_is_described(name: str) -> None:
    where = "in boxtrace/cli.py's build_parser()"
    sub = SUBCOMMANDS[name]
    summary = next(a.help for a in build_parser()._subparsers._group_actions[0]._choices_actions  # type: ignore
                   if a.dest == name)
    assert summary and "\n" not in summary, f"`boxtrace {name}` needs a one-line help= in add_parser {where}"
    assert sub.description and "\n" not in sub.description.strip(), f"`boxtrace {name}` needs a one-line description"
    assert sub.epilog and sub.epilog.startswith("example:\n  "), f"`boxtrace {name}` needs an example epilog {where}"
    assert "boxtrace " + name in sub.epilog, f"the example of `boxtrace {name}` should run `boxtrace {name}`"
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        label = "/".join(action.option_strings) or action.metavar or action.dest
        assert action.help, f"`boxtrace {name}`: {label} needs help= {where}"
        optional = bool(action.option_strings) or action.nargs == "?"
        if optional and not action.required:
            assert "default" in action.help, f"`boxtrace {name}`: the help of {label} should state its default"


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_subcommand_help_runs(name: str) -> None:
    result = run_boxtrace(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: boxtrace {name}") and "example:" in result.stdout


def test_demo_lists_its_scenarios() -> None:
    from scenarios import SCENARIO_MODULES

    text = run_boxtrace("demo", "--help").stdout
    for scenario in SCENARIO_MODULES:
        assert scenario in text
    refused = run_boxtrace("demo", "no-such-scenario")
    assert refused.returncode == 2 and "invalid choice: 'no-such-scenario'" in refused.stderr


def test_version() -> None:
    from importlib.metadata import version

    result = run_boxtrace("--version")
    assert result.returncode == 0 and result.stdout == f"boxtrace {version('boxtrace')}\n"
