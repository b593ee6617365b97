"""Spec against reality: live runc, containerd and docker traces, every row checked against the bundle's config.json
read independently (by a sink of this test, at the runtime's exec, from the --bundle argument), and `boxtrace spec`
end to end."""

from __future__ import annotations

import glob
import json
import os
import subprocess
from pathlib import Path

import pytest

from scenarios import get_scenario
from scenarios.runner import trace_scenario
from tests.cli_e2e import run_boxtrace
from tests.prereqs import require
from tracer.decoders import SYSCALL_NRS_BY_NAME
from tracer.events import REDACTED, BundleConfig, Event, Exec
from tracer.insights.overlay import overlay_from_options
from tracer.insights.spec import DIFFERS, KEPT, OCI_NAMESPACES, spec_report
from tracer.recording import load_recording
from tracer.spec_capture import bundle_argument, redact_config

ROOT = Path(__file__).resolve().parent.parent


# Pure parts ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    (["/usr/sbin/runc", "--root", "/run/x", "run", "--bundle", "/b", "id"], ("runc", "/b")),
    (["runc", "--root", "/r", "--log", "/l.json", "--log-format", "json", "--systemd-cgroup", "create",
      "--bundle", "/run/containerd/t/moby/abc", "--pid-file", "/p", "abc"], ("runc", "/run/containerd/t/moby/abc")),
    (["crun", "run", "-b", "bundle", "id"], ("crun", "bundle")),
    (["crun", "create", "--bundle=/x", "id"], ("crun", "/x")),
    (["runc", "run", "id"], ("runc", "")),
    (["runc", "init"], None),
    (["runc", "--root", "/r", "start", "id"], None),
    (["runc", "--root", "/r", "delete", "id"], None),
    (["/bin/sh", "-c", "runc run x"], None),
    ([], None),
])
def test_bundle_argument(argv: list[str], expected: tuple[str, str] | None) -> None:
    assert bundle_argument(argv) == expected


def test_env_values_are_redacted_in_process_and_hooks() -> None:
    config = {"process": {"env": ["PATH=/bin", "SECRET=hunter2"]},
              "hooks": {"prestart": [{"path": "/h", "env": ["TOKEN=abc"]}]}}
    redacted = redact_config(config)
    assert redacted["process"]["env"] == ["PATH=" + REDACTED, "SECRET=" + REDACTED]
    assert redacted["hooks"]["prestart"][0]["env"] == ["TOKEN=" + REDACTED]
    assert "hunter2" not in json.dumps(redacted) and "abc" not in json.dumps(redacted)
    assert redact_config(config, show_env=True) == config


@pytest.mark.parametrize(("data", "layers", "upper"), [
    # containerd's snapshotter: one image layer.
    ("index=off,workdir=/s/6/work,upperdir=/s/6/fs,lowerdir=/s/1/fs", ("/s/1/fs",), "/s/6/fs"),
    # docker's overlay2: lowerdir lists the top layer first; the lowest comes first in ours.
    ("lowerdir=/d/l/TOP:/d/l/MID:/d/l/BASE,upperdir=/d/c/diff,workdir=/d/c/work",
     ("/d/l/BASE", "/d/l/MID", "/d/l/TOP"), "/d/c/diff"),
    # A read-only overlay (no upperdir).
    ("lowerdir=/a:/b", ("/b", "/a"), None),
])
def test_overlay_layers_lowest_first(data: str, layers: tuple[str, ...], upper: str | None) -> None:
    found = overlay_from_options(data, 5, "mount")
    assert found is not None and found.layers == layers and found.upper == upper


def test_no_bundle_says_why() -> None:
    recording = load_recording(ROOT / "scenarios" / "recordings" / "teach.jsonl")
    report = spec_report([recording.header, *recording.events])
    assert report.bundle is None and not report.rows and "no OCI bundle" in (report.problem or "")


# Live traces --------------------------------------------------------------------------------------------------


class _IndependentReader:
    """A sink that, at a runc/crun create|run exec, reads config.json itself from the argv's --bundle (the tracee is
    stopped while the sink runs), so the test has the bundle as the runtime saw it without trusting the engine."""

    def __init__(self) -> None:
        self.configs: list[dict] = []

    def __call__(self, event: Event) -> None:
        if not isinstance(event, Exec) or os.path.basename(event.argv[0] if event.argv else "") not in ("runc", "crun"):
            return
        argv = event.argv
        sub = next((a for a in argv[1:] if not a.startswith("-") and a in ("create", "run")), None)
        if sub is None or "init" in argv[1:2]:
            return
        bundle = argv[argv.index("--bundle") + 1] if "--bundle" in argv else os.readlink(f"/proc/{event.pid}/cwd")
        with open(os.path.join(bundle, "config.json")) as handle:
            self.configs.append(json.load(handle))


@pytest.fixture(scope="module")
def live_traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    out: dict[str, tuple[Path, dict]] = {}
    if os.geteuid() != 0:
        return out
    directory = tmp_path_factory.mktemp("spec")
    for name in ("runc", "containerd", "docker"):
        scenario = get_scenario(name)
        if not scenario.check().ready:
            continue
        reader = _IndependentReader()
        path = directory / f"{name}.jsonl"
        run = trace_scenario(scenario, output=path, sinks=[reader])
        assert run.result.status == "completed"
        assert len(reader.configs) == 1, f"{name}: {len(reader.configs)} bundles read"
        bundle = next(e for e in _events(path) if isinstance(e, BundleConfig))
        _assert_clean(os.path.basename(bundle.bundle.rstrip("/")) if name != "runc" else
                      (bundle.config or {}).get("linux", {}).get("cgroupsPath", "").strip("/"), bundle.bundle)
        out[name] = (path, reader.configs[0])
    return out


def _assert_clean(container: str, bundle: str) -> None:
    """Nothing of the traced container is left: no runtime state, mount, cgroup or docker/containerd record."""
    assert container
    left = [p for p in glob.glob(f"/run/**/{container}", recursive=True) if not p.startswith("/run/user")]
    assert not left, f"runtime state left behind: {left}"
    with open("/proc/self/mountinfo") as table:
        assert not [line for line in table if container in line or bundle in line], "a mount was left behind"
    assert not glob.glob(f"/sys/fs/cgroup/*/{container}*") + glob.glob(f"/sys/fs/cgroup/*/*/{container}*"), \
        "a cgroup was left behind"
    docker = subprocess.run(["docker", "ps", "-aq", "--no-trunc"], capture_output=True, text=True)
    assert container not in docker.stdout


def _rows(report, section: str) -> dict[str, object]:
    return {row.item: row for row in report.rows if row.section == section}


def _events(path: Path) -> list[Event]:
    recording = load_recording(path)
    return [recording.header, *recording.events]


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.parametrize("name", ["runc", "containerd", "docker"])
def test_spec_rows_against_the_bundle(name: str, live_traces: dict[str, tuple[Path, dict]]) -> None:
    require(os.geteuid() == 0, "tracing runtimes needs root")
    require(name in live_traces, f"the {name} scenario cannot run here")
    path, config = live_traces[name]
    events = _events(path)
    bundles = [e for e in events if isinstance(e, BundleConfig)]
    assert len(bundles) == 1 and bundles[0].error is None
    # What the recording kept is the file the runtime was given, environment values redacted.
    assert bundles[0].config == redact_config(config)
    assert all(item.endswith("=" + REDACTED) for item in bundles[0].config["process"]["env"])
    report = spec_report(events)
    assert report.problem is None, report.problem
    process, linux = config["process"], config.get("linux", {})

    namespaces = _rows(report, "namespaces")
    for entry in linux.get("namespaces", []):
        row = namespaces[OCI_NAMESPACES[entry["type"]]]
        assert row.requested == "new" and row.verdict == KEPT and row.seqs, row
    for kind in set(OCI_NAMESPACES.values()) - {OCI_NAMESPACES[e["type"]] for e in linux.get("namespaces", [])}:
        assert namespaces[kind].verdict == KEPT and "host" in namespaces[kind].applied

    mounts = _rows(report, "mounts")
    assert set(mounts) == {os.path.normpath(m["destination"]) for m in config["mounts"]}
    for mount in config["mounts"]:
        row = mounts[os.path.normpath(mount["destination"])]
        assert row.verdict == KEPT and row.seqs, row
        for option in mount.get("options", []):
            assert option in row.requested
    assert set(_rows(report, "masked paths")) == set(linux.get("maskedPaths", []))
    assert set(_rows(report, "read-only paths")) == set(linux.get("readonlyPaths", []))
    assert all(r.verdict == KEPT for s in ("masked paths", "read-only paths") for r in _rows(report, s).values())

    caps = _rows(report, "capabilities")
    for kind in ("bounding", "effective", "permitted", "inheritable", "ambient"):
        asked = process.get("capabilities", {}).get(kind, [])
        assert caps[kind].requested.startswith(f"{len(asked)}:")
        assert all(name in caps[kind].requested for name in asked)
    if process["capabilities"].get("ambient"):
        # The runc scenario's bundle asks for ambient capabilities without inheritable ones: the kernel refuses.
        ambient = caps["ambient"]
        assert ambient.verdict == DIFFERS and ambient.applied == "0: none"
        assert f"the {len(process['capabilities']['ambient'])} PR_CAP_AMBIENT_RAISE calls failed with EPERM" in (
            ambient.why)
        raises = [e for e in events if getattr(e, "name", None) == "prctl"
                  and e.args.get("operation") == "PR_CAP_AMBIENT_RAISE"]
        assert [e.seq for e in raises] == list(ambient.seqs[:-1]) and all(e.error == "EPERM" for e in raises)
    else:
        assert all(row.verdict == KEPT for row in caps.values())

    privileges = _rows(report, "privileges")["no_new_privs"]
    assert privileges.requested == ("set" if process.get("noNewPrivileges") else "not set")
    assert privileges.verdict == KEPT

    hostname = _rows(report, "identity")["hostname"]
    assert hostname.requested == config.get("hostname", "not set") and hostname.verdict == KEPT

    seccomp = _rows(report, "seccomp")
    if "seccomp" in linux:
        assert seccomp["default action"].requested.startswith(linux["seccomp"]["defaultAction"])
        assert seccomp["default action"].verdict == KEPT
        assert seccomp["syscall rules"].verdict == KEPT and ": 0 differ" in seccomp["syscall rules"].applied
        # Every rule with argument conditions was run through the installed program, none left unchecked.
        argument_rules = sum(1 for rule in linux["seccomp"].get("syscalls", []) if rule.get("args")
                             for name in rule["names"] if name in SYSCALL_NRS_BY_NAME)
        assert f"and {argument_rules} calls with the arguments" in seccomp["syscall rules"].applied
        assert "not checked" not in seccomp["syscall rules"].why
    else:
        assert seccomp["filter"].verdict == KEPT and seccomp["filter"].applied == "none installed"

    rlimits = _rows(report, "rlimits")
    assert set(rlimits) == {limit["type"] for limit in process.get("rlimits", [])}
    by_seq = {e.seq: e for e in events}
    for limit in process.get("rlimits", []):
        row = rlimits[limit["type"]]
        assert row.verdict == KEPT and row.applied == f"soft {limit['soft']}, hard {limit['hard']}", row
        proof = by_seq[row.seqs[-1]]
        assert proof.name in ("prlimit64", "setrlimit") and proof.error is None
        assert proof.args["resource"] == limit["type"]
        assert proof.args["new"] == {"soft": limit["soft"], "hard": limit["hard"]}

    sysctls = _rows(report, "sysctl")
    assert set(sysctls) == set(linux.get("sysctl", {}))
    for key, value in linux.get("sysctl", {}).items():
        row = sysctls[key]
        assert row.verdict == KEPT, row
        proof = by_seq[row.seqs[-1]]
        assert proof.args["path"].endswith("/proc/sys/" + key.replace(".", "/")) and proof.args["data"] == value

    cgroup = _rows(report, "cgroups")["cgroup path"]
    assert cgroup.requested == linux["cgroupsPath"] and cgroup.verdict == KEPT

    proc_rows = _rows(report, "process")
    assert proc_rows["entrypoint"].requested == " ".join(process["args"]) and proc_rows["entrypoint"].verdict == KEPT
    assert proc_rows["cwd"].requested == process["cwd"] and proc_rows["cwd"].verdict == KEPT
    assert proc_rows["uid"].requested == str(process["user"]["uid"]) and proc_rows["uid"].verdict == KEPT
    assert proc_rows["gid"].requested == str(process["user"]["gid"]) and proc_rows["gid"].verdict == KEPT

    for stage, hooks in config.get("hooks", {}).items():
        row = _rows(report, "hooks")[stage]
        assert row.requested == " ".join(hooks[0]["args"]) and row.verdict == KEPT

    # Every row names its proving events or says why it cannot.
    for row in report.rows:
        assert row.seqs or row.why or row.verdict == KEPT, row
    expected_differs = ["ambient"] if process["capabilities"].get("ambient") else []
    assert [row.item for row in report.differences()] == expected_differs

    if name in ("containerd", "docker"):
        overlay = report.overlay
        assert overlay is not None and overlay.layers and overlay.upper
        assert _rows(report, "root")["overlay layers"].verdict == KEPT
        # Lowest first: the image's base layer, which outlives the container (docker's -init layer and the writable
        # one are removed with it), is a real directory of the image store.
        assert os.path.isdir(overlay.layers[0]) and not os.path.exists(overlay.upper)
    if name == "docker":
        # The short links docker passes were resolved while the container ran: the base layer is the image's,
        # by the diff-id docker itself reports for it; above it, docker's per-container init layer.
        inspect = subprocess.run(["docker", "image", "inspect", "-f", "{{json .RootFS.Layers}}", "boxtrace/busybox"],
                                 capture_output=True, text=True, check=True)
        diff_ids = json.loads(inspect.stdout)
        bottom = overlay.resolved[overlay.layers[0]]
        assert bottom["diff_id"] == diff_ids[0] and bottom["chain_id"].startswith("sha256:")
        assert bottom["dir"].endswith(f"/overlay2/{bottom['cache_id']}/diff")
        init = overlay.resolved[overlay.layers[-1]]
        assert init["cache_id"].endswith("-init") and "init" in init
        names = overlay.layer_names()
        assert names[0] == diff_ids[0][:19] and names[-1].startswith("init layer ")
        assert f"lowest first: {', '.join(names)}" in _rows(report, "root")["overlay layers"].applied


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.cli_e2e("spec")
def test_boxtrace_spec_end_to_end(live_traces: dict[str, tuple[Path, dict]], tmp_path: Path) -> None:
    require(os.geteuid() == 0, "tracing runtimes needs root")
    require("runc" in live_traces, "the runc scenario cannot run here")
    path, config = live_traces["runc"]
    result = run_boxtrace("spec", path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 differ" in result.stdout and "ambient" in result.stdout
    assert "PR_CAP_AMBIENT_RAISE calls failed with EPERM" in result.stdout
    differences = run_boxtrace("spec", "--differences", path, cwd=tmp_path)
    assert "ambient" in differences.stdout and "/proc:" not in differences.stdout
    as_json = run_boxtrace("spec", "--json", path, cwd=tmp_path)
    data = json.loads(as_json.stdout)
    assert data["bundle"]["runtime"] == "runc" and data["counts"]["differs"] == 1
    assert {row["item"] for row in data["rows"] if row["section"] == "mounts"} == {
        m["destination"] for m in config["mounts"]}
    none = run_boxtrace("spec", ROOT / "scenarios" / "recordings" / "teach.jsonl", cwd=tmp_path)
    assert none.returncode == 1 and none.stderr.count("\n") == 1 and "no OCI bundle" in none.stderr
    # The shipped containerd recording carries its bundle: spec works without root on it.
    shipped = run_boxtrace("spec", ROOT / "scenarios" / "recordings" / "containerd.jsonl", cwd=tmp_path)
    assert shipped.returncode == 0 and "0 differ" in shipped.stdout and "overlay" in shipped.stdout
