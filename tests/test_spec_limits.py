"""Spec rows that needed more than the first spec fold: resource limits (prlimit64/setrlimit decoded, recorded by
default), sysctls (writes under /proc/sys recorded by default), and seccomp rules with argument conditions (run
through the installed BPF program). Decoders are checked on this process's own memory; the rows on a live
`runc run` of a bundle generated here, against that bundle."""

from __future__ import annotations

import ctypes
import glob
import json
import os
import resource
import subprocess
from pathlib import Path

import pytest

from scenarios.bundle import make_bundle
from scenarios.runc import runc_container_ids
from tests.decoder_fixtures import Arena, LocalMemory, make_ctx
from tests.prereqs import require
from tests.test_xlat import _headers, check_table
from tracer.decoders import SYSCALL_NRS_BY_NAME, SYSCALLS, decode_syscall, decode_syscall_exit, format_call
from tracer.decoders.common import control_file_category
from tracer.engine import TraceOptions, Tracer
from tracer.events import Category, Event
from tracer.insights.spec import DIFFERS, KEPT, _satisfying_args, spec_report
from tracer.xlat.rlimit import RLIM_INFINITY, RLIMIT_RESOURCES


class Rlimit64(ctypes.Structure):
    _fields_ = [("rlim_cur", ctypes.c_uint64), ("rlim_max", ctypes.c_uint64)]


@pytest.fixture
def memory():
    mem = LocalMemory()
    yield mem
    mem.close()


# Decoding ---------------------------------------------------------------------------------------------------------


def test_rlimit_table_matches_the_headers_and_python() -> None:
    check_table(RLIMIT_RESOURCES, _headers("asm-generic/resource.h"), minimum=16)
    names = dict(RLIMIT_RESOURCES)
    for name in ("RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_RTTIME"):
        assert names[name] == getattr(resource, name)
    assert RLIM_INFINITY == resource.RLIM_INFINITY & 0xFFFF_FFFF_FFFF_FFFF


def test_rlimit_calls_are_recorded_by_default() -> None:
    for name in ("prlimit64", "setrlimit"):
        spec = SYSCALLS[SYSCALL_NRS_BY_NAME[name]]
        assert spec.container and spec.category == Category.PROCESS


def test_prlimit64_new_at_entry_old_at_exit(memory: LocalMemory) -> None:
    arena = Arena()
    new = arena.struct(Rlimit64(512, 1024))
    old = arena.struct(Rlimit64(8388608, RLIM_INFINITY))
    ctx = make_ctx("prlimit64", (4242, 7, new, old), memory)
    args, category = decode_syscall(ctx)
    assert category == Category.PROCESS
    assert args == {"pid": 4242, "resource": "RLIMIT_NOFILE", "new": {"soft": 512, "hard": 1024}, "old": hex(old)}
    decode_syscall_exit(ctx, args, 0)
    assert args["old"] == {"soft": 8388608, "hard": "RLIM_INFINITY"}
    assert format_call("prlimit64", args, 0, None) == (
        "prlimit64(4242, RLIMIT_NOFILE, {rlim_cur=512, rlim_max=1024}, {rlim_cur=8388608, rlim_max=RLIM_INFINITY}) = 0")
    # A failed call leaves old_limit unwritten: it keeps its address; NULL and bad pointers read as such.
    ctx = make_ctx("prlimit64", (0, 6, 0, 1), memory)
    args, _ = decode_syscall(ctx)
    decode_syscall_exit(ctx, args, -1)
    assert args == {"pid": 0, "resource": "RLIMIT_NPROC", "new": None, "old": "0x1"}
    args, _ = decode_syscall(make_ctx("setrlimit", (99, 1), memory))
    assert args == {"resource": "99", "new": "<unreadable: 0x1>"}
    assert format_call("setrlimit", args, None, "EFAULT") == "setrlimit(99, <unreadable: 0x1>) = -1 EFAULT"


@pytest.mark.parametrize(("path", "category"), [
    ("/proc/sys/net/ipv4/ip_forward", Category.NAMESPACES),
    ("/proc/sys/kernel/shmmax", Category.NAMESPACES),
    ("/proc/sysrq-trigger", None),
    ("/proc/self/uid_map", Category.PRIVILEGES),
])
def test_sysctl_writes_are_control_files(path: str, category: Category | None) -> None:
    assert control_file_category(path) == category


# Seccomp rules with arguments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("conditions", "args"), [
    ([{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}], (8, 0, 0, 0, 0, 0)),
    ([{"index": 0, "value": 0, "op": "SCMP_CMP_NE"}], (1, 0, 0, 0, 0, 0)),
    ([{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}], (0, 0, 0, 0, 0, 0)),
    ([{"index": 1, "value": 0xFF, "valueTwo": 0x10, "op": "SCMP_CMP_MASKED_EQ"}], (0, 0x10, 0, 0, 0, 0)),
    ([{"index": 2, "value": 5, "op": "SCMP_CMP_GT"}, {"index": 2, "value": 7, "op": "SCMP_CMP_LT"}],
     (0, 0, 6, 0, 0, 0)),
    ([{"index": 0, "value": 5, "op": "SCMP_CMP_GT"}, {"index": 0, "value": 5, "op": "SCMP_CMP_LT"}], None),
    ([{"index": 9, "value": 5, "op": "SCMP_CMP_EQ"}], None),
])
def test_arguments_that_satisfy_a_rule(conditions: list[dict], args: tuple[int, ...] | None) -> None:
    assert _satisfying_args(conditions) == args


# Live: runc run of a bundle made here ---------------------------------------------------------------------------

NAME = f"boxtrace-spec-limits-{os.getpid()}"


def _has_cap_sys_resource() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> 24 & 1)  # CAP_SYS_RESOURCE is 24
    return False


def _assert_clean(bundle: Path) -> None:
    assert NAME not in runc_container_ids(), "runc state left behind"
    assert not glob.glob(f"/sys/fs/cgroup/*/{NAME}") and not glob.glob(f"/sys/fs/cgroup/{NAME}")
    with open("/proc/self/mountinfo") as table:
        assert not [line for line in table if str(bundle) in line or NAME in line], "a mount was left behind"


@pytest.mark.root
@pytest.mark.slow
def test_rlimits_sysctls_and_seccomp_arguments_on_a_live_runc(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "runc needs root")
    require(subprocess.run(["which", "runc"], capture_output=True).returncode == 0, "runc is not installed")
    bundle = make_bundle(tmp_path / "bundle", ["/bin/sh", "-c", "ulimit -n; cat /proc/sys/net/ipv4/ip_forward"],
                         cgroups_path=NAME)
    config = json.loads((bundle / "config.json").read_text())
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    raise_to = RLIM_INFINITY if hard != resource.RLIM_INFINITY else None
    config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024}]
    config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                                  "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                                                "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}
    (bundle / "config.json").write_text(json.dumps(config))
    output = tmp_path / "out.txt"
    events: list[Event] = []
    result = Tracer(events.append, TraceOptions(output_path=str(output))).run(
        ["runc", "run", "--bundle", str(bundle), NAME])
    try:
        assert result.exit_code == 0, output.read_text()
        assert output.read_text().split() == ["512", "1"]
        report = spec_report(events)
        rows = {(row.section, row.item): row for row in report.rows}
        nofile = rows["rlimits", "RLIMIT_NOFILE"]
        assert nofile.verdict == KEPT and nofile.applied == "soft 512, hard 1024"
        proof = [e for e in events if e.seq in nofile.seqs]
        assert proof[-1].name == "prlimit64" and proof[-1].args["new"] == {"soft": 512, "hard": 1024}
        sysctl = rows["sysctl", "net.ipv4.ip_forward"]
        assert sysctl.verdict == KEPT and sysctl.applied.startswith("1 to /proc/sys/net/ipv4/ip_forward")
        rules = rows["seccomp", "syscall rules"]
        assert rules.verdict == KEPT and "and 1 calls with the arguments" in rules.applied, rules
        # The same filter judged against a rule it does not implement: the evaluation must disagree.
        wrong = dict(config)
        wrong["linux"] = {**config["linux"], "seccomp": {**config["linux"]["seccomp"], "syscalls": [
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 9,
                                                                            "op": "SCMP_CMP_EQ"}]}]}}
        from dataclasses import replace

        from tracer.events import BundleConfig
        swapped = [replace(e, config=wrong) if isinstance(e, BundleConfig) else e for e in events]
        bad = {(r.section, r.item): r for r in spec_report(swapped).rows}["seccomp", "syscall rules"]
        assert bad.verdict == DIFFERS and "personality(arg0 == 9): ALLOW not ERRNO(EPERM)" in bad.why
    finally:
        subprocess.run(["runc", "delete", "--force", NAME], capture_output=True)
    _assert_clean(bundle)
    if raise_to is None:
        return
    # A raise past the hard limit: refused without CAP_SYS_RESOURCE (root here lacks it), and the spec says why.
    config["process"]["rlimits"] = [{"type": "RLIMIT_NPROC", "soft": soft, "hard": raise_to}]
    (bundle / "config.json").write_text(json.dumps(config))
    events = []
    result = Tracer(events.append, TraceOptions(output_path=str(output))).run(
        ["runc", "run", "--bundle", str(bundle), NAME])
    subprocess.run(["runc", "delete", "--force", NAME], capture_output=True)
    row = {(r.section, r.item): r for r in spec_report(events).rows}["rlimits", "RLIMIT_NPROC"]
    if _has_cap_sys_resource():
        assert result.exit_code == 0 and row.verdict == KEPT
    else:
        assert result.exit_code != 0 and row.verdict == DIFFERS
        assert "needs CAP_SYS_RESOURCE" in row.why and "never started" in row.why
        assert [e for e in events if e.seq in row.seqs][-1].error == "EPERM"
    _assert_clean(bundle)
