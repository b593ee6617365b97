"""The scenarios boxtrace can trace, in teaching order: from a runtime you can read to a full `docker run`.

`SCENARIOS` maps each name to its `Scenario` object; `get_scenario(name)` looks one up and says which names exist
when it is not found. The scenario modules are imported on first use, so that `python -m scenarios.daemons` (or the
teach runtime) does not load every scenario first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenarios.base import Scenario

#: Module of each scenario, in teaching order.
SCENARIO_MODULES: dict[str, str] = {
    "teach": "scenarios.teach",
    "teach-rootless": "scenarios.teach_rootless",
    "teach-net": "scenarios.teach_net",
    "unshare": "scenarios.unshare",
    "runc": "scenarios.runc",
    "crun": "scenarios.crun",
    "containerd": "scenarios.containerd",
    "docker": "scenarios.docker",
    "podman": "scenarios.podman",
    "podman-rootless": "scenarios.podman_rootless",
}

_scenarios: dict[str, Scenario] | None = None


class UnknownScenario(KeyError):
    """A scenario name that does not exist; the message lists the ones that do."""

    def __str__(self) -> str:
        return str(self.args[0])


def _load() -> dict[str, Scenario]:
    global _scenarios
    if _scenarios is None:
        _scenarios = {
            name: importlib.import_module(module).SCENARIO for name, module in SCENARIO_MODULES.items()
        }
    return _scenarios


#: A scenario with an injected fault is named `BASE-what-if-EXPERIMENT` (runc-what-if-pivot_root).
WHAT_IF = "-what-if-"


def get_scenario(name: str) -> Scenario:
    if WHAT_IF in name:
        base, experiment = name.split(WHAT_IF, 1)
        module = importlib.import_module(SCENARIO_MODULES.get(base, "scenarios.base"))
        if not hasattr(module, "what_if_scenario"):
            raise UnknownScenario(f"the {base!r} scenario has no what-if experiments (runc has)")
        try:
            return module.what_if_scenario(experiment)
        except KeyError as error:
            raise UnknownScenario(str(error.args[0])) from None
    if name not in SCENARIO_MODULES:
        raise UnknownScenario(f"unknown scenario {name!r}: choose one of {', '.join(SCENARIO_MODULES)}")
    if _scenarios is not None:
        return _scenarios[name]
    # Only this scenario's module: `boxtrace demo runc` starts tracing sooner without the others (_load() later
    # finds the same object, the module being imported once).
    scenario: Scenario = importlib.import_module(SCENARIO_MODULES[name]).SCENARIO
    return scenario


def lesson_for(name: str | None) -> Scenario | None:
    """The scenario named in a recording's header, as the lesson the viewers are handed; None when there is no
    name or it names no scenario of this version (what-if variants included, as get_scenario finds them)."""
    if not name:
        return None
    try:
        return get_scenario(name)
    except UnknownScenario:
        return None


def __getattr__(attr: str) -> Any:
    if attr == "SCENARIOS":
        return _load()
    raise AttributeError(f"module 'scenarios' has no attribute {attr!r}")
