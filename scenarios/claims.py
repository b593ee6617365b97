"""Every statement about order or agency that boxtrace's lessons make, with the evidence that makes it true.

Each `Claim` names the sentence a learner reads (`says`), the events that must be in a trace for it to hold (see
`tracer/claims.py` for the matchers and relations), the scenarios whose traces must show it, the walkthrough
chapters (milestone ids) whose text states it, and the source that explains why. Notebooks point at claims with
a comment next to the sentence, `<!-- claims: id id -->`. `tests/test_claims.py` checks every claim against every
shipped recording of its scenarios and against a fresh live trace of each, and checks that every chapter of every
walkthrough and every notebook sentence about order or agency names its claims.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.claims import (
    Absent,
    Before,
    Call,
    Claim,
    Count,
    Exists,
    FollowedBy,
    OnlyBy,
    Trace,
    Who,
    argv0,
    check,
    contains,
    ends,
    evidence_seqs,
    has,
    has_prefix,
    message,
)

RUNC_SCENARIOS = ("runc", "containerd", "docker")
PODMAN_SCENARIOS = ("podman", "podman-rootless")
#: Every scenario that runs runc, whoever starts it.
ALL_RUNC = RUNC_SCENARIOS + PODMAN_SCENARIOS
#: Scenarios where `runc create` and `runc start` are separate commands (the shim runs them).
CREATE_SCENARIOS = ("containerd", "docker")
TEACH_SCENARIOS = ("teach", "teach-rootless")

# Who is who ----------------------------------------------------------------------------------------------------

RUNC_PARENT = Who(program="runc", argv_any=("run", "create"), label="runc run/create")
RUNC_RUN = Who(program="runc", argv_any=("run",), label="runc run")
RUNC_CREATE = Who(program="runc", argv_any=("create",), label="runc create")
RUNC_INIT = Who(program="runc", argv_any=("init",), label="runc init")
ANY_RUNC = Who(program="runc", label="a runc process")
STAGE0 = Who(named="runc:[0:PARENT]", label="runc init stage 0 (runc:[0:PARENT])")
STAGE1 = Who(named="runc:[1:CHILD]", label="runc init stage 1 (runc:[1:CHILD])")
STAGE2 = Who(named="runc:[2:INIT]", label="runc init stage 2 (runc:[2:INIT])")
SHIM = Who(program="containerd-shim-runc-v2", label="the shim")
CONTAINER_PID1 = Who(pid1=True, label="the container's pid 1")
LAUNCHED = Who(via="launch", label="the launched command")
TEACH_CHILD = Who(born_with=("CLONE_NEWPID",), label="the teach runtime's child")
UNSHARE_CHILD = Who(program="unshare", via="clone", label="unshare's forked child")


def _runc(subcommand: str) -> Call:
    return Call("exec", args={"argv": argv0("runc", subcommand)}, label=f"the exec of runc {subcommand}")


ENTRYPOINT_EXEC = Call("exec", who=STAGE2, label="the entrypoint's exec by runc init stage 2")
PIVOT_BY_INIT = Call("syscall", "pivot_root", who=STAGE2, ok=True, label="pivot_root by runc init")
CGROUP_PROCS_WRITE = Call("syscall", "write", args={"path": ends("/cgroup.procs")}, ok=True,
                          label="a write to cgroup.procs")
DEVICE_RULE_WRITE = Call("syscall", "write", args={"path": contains("/devices.")}, ok=True,
                         label="a write of a device rule (devices.deny/devices.allow)")
INIT_STARTED = Call("syscall", "clone", args={"flags": has("CLONE_VM", "CLONE_VFORK")}, who=RUNC_PARENT,
                    label="runc run/create starting runc init (clone CLONE_VM|CLONE_VFORK)")
STAGE_FORK = Call("process", args={"flags": has("CLONE_PARENT")}, label="a process made with CLONE_PARENT")
HOOK_EXEC = Call("exec", args={"argv": argv0("libnetwork-setkey")}, who=RUNC_CREATE,
                 label="runc create's child exec'ing the libnetwork-setkey hook")
OLD_ROOT_RSLAVE = Call("syscall", "mount", args={"target": ".", "flags": has("MS_SLAVE", "MS_REC")}, who=STAGE2,
                       ok=True, label='mount("", ".", MS_SLAVE|MS_REC) by runc init')
OLD_ROOT_DETACH = Call("syscall", "umount2", args={"target": ".", "flags": has("MNT_DETACH")}, ok=True,
                       label='umount2(".", MNT_DETACH)')
PID_BORN = Call("namespace", args={"kind": "pid", "via": "clone"}, label="a process born in a new pid namespace")
UNSHARE_NEWPID = Call("syscall", "unshare", args={"flags": has("CLONE_NEWPID")}, ok=True,
                      label="unshare(CLONE_NEWPID)")


# runc, whoever runs it --------------------------------------------------------------------------------------------

RUNC_PREPARES_FIRST = Claim(
    id="runc-state-before-init",
    says="runc run/create makes its state directory's exec.fifo and becomes a child subreaper before it starts "
         "runc init",
    evidence=(
        Before(Call("syscall", "mknodat", args={"path": ends("/exec.fifo")}, who=RUNC_PARENT), INIT_STARTED),
        Before(Call("syscall", "prctl", args={"option": "PR_SET_CHILD_SUBREAPER"}, who=RUNC_PARENT), INIT_STARTED),
    ),
    scenarios=ALL_RUNC,
    chapters=("runc-run", "runc-create"),
    source="runc utils_linux.go (runner.run: newSignalHandler enables the subreaper), signals.go; "
           "libcontainer/container_linux.go (exec.fifo)",
)

RUNC_INIT_REEXEC = Claim(
    id="runc-init-reexec",
    says="runc starts runc init with clone(CLONE_VM|CLONE_VFORK); init bind-mounts its binary read-only, detaches "
         "the mount and re-executes from the fd it kept (execveat, path \"/\")",
    evidence=(
        Exists(INIT_STARTED),
        Before(Call("syscall", "mount", args={"source": "/proc/self/exe", "flags": has("MS_BIND")}, who=RUNC_INIT),
               Call("syscall", "umount2", args={"flags": has("MNT_DETACH")}, who=RUNC_INIT)),
        Before(Call("syscall", "umount2", args={"flags": has("MNT_DETACH")}, who=RUNC_INIT),
               Call("exec", args={"path": "/", "argv": argv0("runc", "init")})),
    ),
    scenarios=ALL_RUNC,
    chapters=("runc-init",),
    source="runc libcontainer/nsenter/cloned_binary.c (try_bindfd; memfd only as fallback)",
)

NO_RUNC_CLONE_MAKES_NAMESPACES = Claim(
    id="runc-clones-carry-no-clone-new",
    says="no clone of runc carries a CLONE_NEW* flag: the namespaces come from unshare(2) in stage 1",
    evidence=(
        Absent(Call("syscall", "clone", args={"flags": has_prefix("CLONE_NEW")}, who=ANY_RUNC)),
        Absent(Call("syscall", "clone3", args={"flags": has_prefix("CLONE_NEW")}, who=ANY_RUNC)),
        Exists(Call("syscall", "unshare", args={"flags": has("CLONE_NEWNS", "CLONE_NEWPID")}, who=STAGE1)),
    ),
    scenarios=ALL_RUNC,
    chapters=("unshare", "owned-namespaces"),
    source="runc libcontainer/nsenter/nsexec.c (STAGE_CHILD: unshare(config.cloneflags))",
)

STAGE_FORKS = Claim(
    id="stages-are-children-of-runc",
    says="runc init forks its two stages with CLONE_PARENT, so both are children of runc run/create, which reaps "
         "stage 0 and stage 1",
    evidence=(
        Count(STAGE_FORK, 2),
        Count(Call("process", args={"flags": has("CLONE_PARENT")}, parent=RUNC_PARENT), 2),
        Exists(Call("syscall", "wait4", who=RUNC_PARENT, ret_who=STAGE0)),
        Exists(Call("syscall", "wait4", who=RUNC_PARENT, ret_who=Who(named="runc:[1:CHILD]",
                                                                    label="stage 1"))),
    ),
    scenarios=ALL_RUNC,
    chapters=("clone-parent",),
    source="runc libcontainer/nsenter/nsexec.c (clone_parent; stage-0 cannot reap stage-1)",
)

UNSHARE_THEN_FORK = Claim(
    id="stage1-unshares-then-forks",
    says="stage 1 unshares the namespaces, then forks stage 2, which is born in the new pid namespace; stage 1 "
         "itself never enters it",
    evidence=(
        Before(Call("syscall", "unshare", args={"flags": has("CLONE_NEWPID")}, who=STAGE1),
               Call("process", args={"flags": has("CLONE_PARENT")}, who=STAGE1)),
        Absent(Call("namespace", args={"kind": "pid", "via": "unshare"})),
        Exists(Call("namespace", args={"kind": "pid", "via": "clone"}, who=Who(pid1=True))),
    ),
    scenarios=ALL_RUNC,
    chapters=("unshare", "owned-namespaces"),
    source="unshare(2), pid_namespaces(7); runc libcontainer/nsenter/nsexec.c",
)

STAGE2_IDS = Claim(
    id="stage2-setuid-from-nsexec",
    says="stage 2's first calls, setuid(0) and setgid(0), come from nsexec's C code, before the Go runtime starts "
         "its threads",
    evidence=(
        Before(Call("syscall", "setuid", args={"uid": 0}, who=STAGE2),
               Call("syscall", "clone3", args={"flags": has("CLONE_THREAD")}, who=STAGE2)),
        Before(Call("syscall", "setgid", args={"gid": 0}, who=STAGE2),
               Call("syscall", "clone3", args={"flags": has("CLONE_THREAD")}, who=STAGE2)),
    ),
    scenarios=ALL_RUNC,
    chapters=("stage2-ids",),
    source="runc libcontainer/nsenter/nsexec.c (STAGE_INIT: setsid, setuid(0), setgid(0))",
)

LOOPBACK_UP = Claim(
    id="runc-brings-lo-up",
    says="runc init brings the new network namespace's loopback up over netlink (two AF_NETLINK sockets) before "
         "its first mount",
    evidence=(
        Count(Call("syscall", "bind", args={"family": "AF_NETLINK"}, who=STAGE2, ok=True), 2),
        Before(Call("syscall", "bind", args={"family": "AF_NETLINK"}, who=STAGE2),
               Call("syscall", "mount", who=STAGE2)),
        Before(Call("syscall", "unshare", args={"flags": has("CLONE_NEWNET")}, who=STAGE1),
               Call("syscall", "bind", args={"family": "AF_NETLINK"}, who=STAGE2)),
    ),
    scenarios=ALL_RUNC,
    chapters=("loopback",),
    source="runc libcontainer/network_linux.go (loopback.initialize: netlink.LinkSetUp lo), "
           "libcontainer/specconv/spec_linux.go (a loopback network for a new netns)",
)

ROOT_RSLAVE_FIRST = Claim(
    id="init-makes-root-rslave-first",
    says="runc init makes / a recursive slave before it mounts anything into the rootfs",
    evidence=(
        Before(Call("syscall", "mount", args={"target": "/", "flags": has("MS_SLAVE", "MS_REC")}, who=STAGE2),
               Call("syscall", "mount", args={"fstype": "proc"}, who=STAGE2)),
    ),
    scenarios=ALL_RUNC,
    chapters=("pivot_root", "mounts"),
    source="runc libcontainer/rootfs_linux.go (prepareRoot: rootfsParentMountPrivate / MS_SLAVE|MS_REC)",
)

OLD_ROOT = Claim(
    id="old-root-rslave-then-detached",
    says="after pivot_root runc makes the old root a recursive slave, then detaches it, so the unmount cannot "
         "propagate to the host",
    evidence=(
        Before(PIVOT_BY_INIT, OLD_ROOT_RSLAVE),
        Before(OLD_ROOT_RSLAVE, Call("syscall", "umount2", args={"target": ".", "flags": has("MNT_DETACH")},
                                    who=STAGE2)),
    ),
    scenarios=ALL_RUNC,
    chapters=("pivot_root", "detach-old-root"),
    source="runc libcontainer/rootfs_linux.go (pivotRoot)",
)

CGROUP_PLACEMENT = Claim(
    id="runc-create-places-init",
    says="runc run/create, not runc init, writes init's first stage into every cgroup.procs, right after starting "
         "init and before stage 0 forks",
    evidence=(
        OnlyBy(CGROUP_PROCS_WRITE, RUNC_PARENT),
        Before(INIT_STARTED, CGROUP_PROCS_WRITE),
        Before(CGROUP_PROCS_WRITE, STAGE_FORK, last=True),
    ),
    scenarios=RUNC_SCENARIOS + ("podman",),
    chapters=("identity-and-limits",),
    source="runc libcontainer/process_linux.go (initProcess.start: manager.Apply before the bootstrap data)",
)

CGROUP_LIMITS = Claim(
    id="limits-at-hook-sync",
    says="runc run/create writes the cgroup limits (the device rules) after the placement, when init has made "
         "its mounts and device nodes, and before init's pivot_root",
    evidence=(
        OnlyBy(DEVICE_RULE_WRITE, RUNC_PARENT),
        Before(CGROUP_PROCS_WRITE, DEVICE_RULE_WRITE, last=True),
        Before(Call("syscall", "mknodat", who=STAGE2), DEVICE_RULE_WRITE, last=True),
        Before(DEVICE_RULE_WRITE, PIVOT_BY_INIT, last=True),
    ),
    scenarios=RUNC_SCENARIOS + ("podman",),
    chapters=("identity-and-limits", "cgroup-limits"),
    source="runc libcontainer/process_linux.go (procHooks: manager.Set, then the prestart hooks); "
           "libcontainer/rootfs_linux.go (prepareRootfs: syncParentHooks)",
)

CAPSET_THEN_AMBIENT = Claim(
    id="capset-before-ambient",
    says="runc init drops the bounding set, switches user, drops again, calls capset, and only then goes "
         "through the ambient set",
    evidence=(
        Before(Call("syscall", "prctl", args={"option": "PR_CAPBSET_DROP"}, who=STAGE2),
               Call("syscall", "prctl", args={"option": "PR_SET_KEEPCAPS", "value": 1}, who=STAGE2)),
        Before(Call("syscall", "prctl", args={"option": "PR_SET_KEEPCAPS", "value": 0}, who=STAGE2),
               Call("syscall", "capset", who=STAGE2)),
        Before(Call("syscall", "capset", who=STAGE2), Call("syscall", "prctl", args={"option": "PR_CAP_AMBIENT"},
                                                           who=STAGE2)),
    ),
    scenarios=ALL_RUNC,
    chapters=("identity-and-limits",),
    source="runc libcontainer/init_linux.go (finalizeNamespace); vendor/github.com/syndtr/gocapability "
           "(capability_linux.go Apply: bounding, capset, ambient)",
)

AMBIENT_EPERM = Claim(
    id="ambient-raise-eperm",
    says="the three PR_CAP_AMBIENT_RAISE calls fail with EPERM (no inheritable set is given) and runc goes on",
    evidence=(
        Count(Call("syscall", "prctl", args={"operation": "PR_CAP_AMBIENT_RAISE"}, error="EPERM", who=STAGE2), 3),
        Absent(Call("syscall", "prctl", args={"operation": "PR_CAP_AMBIENT_RAISE"}, ok=True)),
        Before(Call("syscall", "prctl", args={"operation": "PR_CAP_AMBIENT_RAISE"}, error="EPERM"),
               ENTRYPOINT_EXEC, last=True),
    ),
    scenarios=("runc",),
    chapters=("ambient",),
    source="capabilities(7) (ambient: must be permitted and inheritable); gocapability capability_linux.go",
)

RUNC_RUN_REAPS = Claim(
    id="runc-run-reaps-pid1",
    says="runc run, a child subreaper, reaps the container's pid 1",
    evidence=(Exists(Call("syscall", "wait4", who=RUNC_RUN, ret_who=STAGE2)),),
    scenarios=("runc",),
    chapters=("exited",),
    source="prctl(2) PR_SET_CHILD_SUBREAPER; runc signals.go (reaping children)",
)

NNP_WHEN_ASKED = Claim(
    id="nnp-when-config-asks",
    says="no_new_privs is set by runc init where the config asks for it",
    evidence=(Exists(Call("syscall", "prctl", args={"option": "PR_SET_NO_NEW_PRIVS"}, who=STAGE2, ok=True)),),
    scenarios=("runc", "containerd"),
    chapters=("identity-and-limits",),
    source="runc libcontainer/standard_init_linux.go (NoNewPrivileges)",
)

DOCKER_NO_NNP = Claim(
    id="docker-sets-no-nnp",
    says="Docker's defaults do not set no_new_privs",
    evidence=(Absent(Call("syscall", "prctl", args={"option": "PR_SET_NO_NEW_PRIVS"})),),
    scenarios=("docker",),
    chapters=("identity-and-limits",),
    source="moby daemon/oci_linux.go (NoNewPrivileges only with --security-opt no-new-privileges)",
)

SECCOMP_EARLY = Claim(
    id="seccomp-before-drops",
    says="Docker's and podman's default seccomp filter goes in from runc init before the capability drops and long before runc start",
    evidence=(
        Before(Call("syscall", "prctl", args={"option": "PR_SET_SECCOMP"}, who=STAGE2),
               Call("syscall", "prctl", args={"option": "PR_CAPBSET_DROP"}, who=STAGE2)),
        Before(Call("syscall", "prctl", args={"option": "PR_SET_SECCOMP"}, who=STAGE2), _runc("start")),
    ),
    scenarios=("docker", *PODMAN_SCENARIOS),
    chapters=("identity-and-limits",),
    source="runc libcontainer/standard_init_linux.go (InitSeccomp before finalizeNamespace without NoNewPrivileges)",
)

CGROUP_MOUNTS = Claim(
    id="cgroup-mounts-only-when-asked",
    says="runc init bind-mounts the container's cgroups only when the config has a cgroup mount: runc's and "
         "Docker's do, ctr's default does not",
    evidence=(Exists(Call("syscall", "mount", args={"source": contains("/sys/fs/cgroup/")}, who=STAGE2)),),
    scenarios=("runc", "docker"),
    chapters=("pivot_root", "mounts"),
    source="runc libcontainer/rootfs_linux.go (mountCgroupV1)",
)

CTR_NO_CGROUP_MOUNT = Claim(
    id="ctr-mounts-no-cgroups",
    says="with ctr's default spec runc init mounts no cgroup filesystem",
    evidence=(
        Absent(Call("syscall", "mount", args={"source": contains("/sys/fs/cgroup")}, who=STAGE2)),
        Absent(Call("syscall", "mount", args={"fstype": "cgroup"})),
        Exists(Call("syscall", "mount", args={"fstype": "proc"}, who=STAGE2)),
    ),
    scenarios=("containerd",),
    chapters=("pivot_root",),
    source="containerd oci/spec.go (populateDefaultUnixSpec: no cgroup mount)",
)

PIVOT_THEN_HOSTNAME = Claim(
    id="pivot-root-then-hostname-then-exec",
    says="runc init calls pivot_root, then sethostname, and execs the entrypoint last",
    evidence=(
        Before(PIVOT_BY_INIT, Call("syscall", "sethostname", who=STAGE2)),
        Before(Call("syscall", "sethostname", who=STAGE2), ENTRYPOINT_EXEC),
    ),
    scenarios=("runc", "docker", *PODMAN_SCENARIOS),
    chapters=("hostname", "pivot_root"),
    source="runc libcontainer/standard_init_linux.go (Init: prepareRootfs, finalizeRootfs, Sethostname)",
)

PIVOT_THEN_EXEC = Claim(
    id="pivot-root-before-entrypoint",
    says="runc init changes the root with pivot_root and later execs the entrypoint itself, becoming pid 1's program",
    evidence=(
        Before(PIVOT_BY_INIT, ENTRYPOINT_EXEC),
        Exists(Call("exec", who=Who(named="runc:[2:INIT]", pid1=True))),
    ),
    scenarios=ALL_RUNC,
    chapters=("pivot_root", "entrypoint"),
    source="pivot_root(2); runc libcontainer/standard_init_linux.go (system.Exec at the end of Init)",
)

# containerd and docker: create, start, delete ------------------------------------------------------------------

HOOK_BEFORE_PIVOT = Claim(
    id="hook-inside-create-before-pivot-root",
    says="the libnetwork-setkey hook runs inside runc create as a prestart hook: after the namespaces exist, "
         "before runc init's pivot_root",
    evidence=(
        Before(Call("syscall", "unshare", args={"flags": has("CLONE_NEWNET")}, who=STAGE1), HOOK_EXEC),
        Before(HOOK_EXEC, PIVOT_BY_INIT),
        Before(Call("exit", who=Who(program="libnetwork-setkey")), PIVOT_BY_INIT),
        Before(HOOK_EXEC, Call("exit", who=RUNC_CREATE)),
    ),
    scenarios=("docker",),
    chapters=("prestart-hook",),
    source="runc libcontainer/process_linux.go (procHooks: Prestart hooks); moby daemon/oci_linux.go "
           "(the libnetwork-setkey prestart hook)",
)

CREATE_EXITS_FIRST = Claim(
    id="create-exits-before-start-and-exec",
    says="runc create exits before runc start begins, and runc init execs the entrypoint only after runc start",
    evidence=(
        Before(Call("exit", who=RUNC_CREATE), _runc("start")),
        Before(_runc("start"), ENTRYPOINT_EXEC),
        Absent(Call("exec", who=Who(program="runc", argv_any=("start",)), args={"argv": argv0("sh")})),
    ),
    scenarios=CREATE_SCENARIOS + PODMAN_SCENARIOS,
    chapters=("runc-create", "runc-start", "entrypoint"),
    source="runc create.go, start.go; libcontainer/standard_init_linux.go (exec.fifo)",
)

SHIM_RUNS_RUNC = Claim(
    id="shim-runs-runc",
    says="containerd starts the shim; the shim, a child subreaper, runs runc create, start and delete and reaps "
         "pid 1",
    evidence=(
        Exists(Call("exec", args={"argv": argv0("containerd-shim-runc-v2")}, who=Who(program="containerd"))),
        Before(Call("syscall", "prctl", args={"option": "PR_SET_CHILD_SUBREAPER"}, who=SHIM), _runc("create")),
        OnlyBy(_runc("create"), SHIM),
        OnlyBy(_runc("start"), SHIM),
        OnlyBy(_runc("delete"), SHIM),
        Exists(Call("syscall", "wait4", who=SHIM, ret_who=STAGE2)),
    ),
    scenarios=CREATE_SCENARIOS,
    chapters=("shim", "runc-create"),
    source="containerd runtime/v2/shim (subreaper), cmd/containerd-shim-runc-v2",
)

DELETE_AFTER_EXIT = Claim(
    id="delete-after-pid1-exits",
    says="the shim runs runc delete after the container's pid 1 has exited, and containerd's "
         "`containerd-shim-runc-v2 ... delete` runs it once more",
    evidence=(
        Before(Call("exit", who=STAGE2), _runc("delete")),
        Count(_runc("delete"), 2),
        Before(_runc("delete"), Call("exec", args={"argv": argv0("containerd-shim-runc-v2", "delete")})),
    ),
    scenarios=CREATE_SCENARIOS,
    chapters=("runc-delete", "exited"),
    source="containerd cmd/containerd-shim-runc-v2 (Delete)",
)

CLI_ONLY_TALKS = Claim(
    id="docker-cli-only-talks",
    says="the docker CLI only connects to dockerd's socket: it starts no process",
    evidence=(
        Exists(Call("syscall", "connect", args={"path": ends("docker.sock")}, who=Who(program="docker"))),
        Absent(Call("process", who=Who(program="docker"))),
    ),
    scenarios=("docker",),
    chapters=("cli-connects",),
    source="docker CLI (an HTTP client of the Engine API)",
)

DOCKERD_CONTAINERD = Claim(
    id="dockerd-containerd-connection-predates",
    says="dockerd's connection to containerd was open before the trace began",
    evidence=(Exists(Call("ipc", args={"preexisting": True, "path": contains("containerd")})),),
    scenarios=("docker",),
    chapters=("dockerd-to-containerd",),
    source="moby libcontainerd (a long-lived gRPC client)",
)

CTR_ONLY_TALKS = Claim(
    id="ctr-only-talks",
    says="ctr only connects to containerd's socket: the shim is containerd's child, not ctr's",
    evidence=(
        Exists(Call("syscall", "connect", args={"path": contains("containerd.sock")}, who=Who(program="ctr"))),
        Absent(Call("process", who=Who(program="ctr"))),
    ),
    scenarios=("containerd",),
    chapters=("client-connects",),
    source="containerd cmd/ctr (a gRPC client)",
)

PID1_EXITS_FIRST = Claim(
    id="pid1-exits-before-the-launch",
    says="the container's pid 1 exits before the command that launched it does",
    evidence=(Before(Call("exit", who=CONTAINER_PID1), Call("exit", who=LAUNCHED)),),
    scenarios=("teach", "teach-rootless", "unshare", "runc", "containerd", "docker", "podman"),
    chapters=("exited",),
    source="pid_namespaces(7) (when pid 1 exits, the kernel kills the rest of the namespace)",
)

# teach and teach-rootless ----------------------------------------------------------------------------------------


def _teach_step(first: Call, then: Call) -> Before:
    return Before(first, then)


TEACH_CLONE = Call("syscall", "clone", args={"flags": has("CLONE_NEWPID", "CLONE_NEWNS")}, who=LAUNCHED,
                   label="the runtime's clone(CLONE_NEWPID|CLONE_NEWNS|...)")
TEACH_PRIVATE = Call("syscall", "mount", args={"flags": has("MS_REC", "MS_PRIVATE")}, who=TEACH_CHILD)
TEACH_BIND = Call("syscall", "mount", args={"flags": has("MS_BIND")}, who=TEACH_CHILD)
TEACH_PROC = Call("syscall", "mount", args={"fstype": "proc"}, who=TEACH_CHILD)
TEACH_PIVOT = Call("syscall", "pivot_root", who=TEACH_CHILD)
TEACH_DETACH = Call("syscall", "umount2", args={"target": ".", "flags": has("MNT_DETACH")}, who=TEACH_CHILD)

TEACH_CLONE_CLAIM = Claim(
    id="teach-clone-creates-namespaces",
    says="the runtime's clone with CLONE_NEW* flags creates the namespaces and the child is born in them as pid 1; "
         "the runtime itself stays where it was",
    evidence=(
        Exists(TEACH_CLONE),
        Exists(Call("namespace", args={"kind": "pid", "via": "clone"}, who=Who(pid1=True))),
        Absent(Call("namespace", who=LAUNCHED)),
    ),
    scenarios=TEACH_SCENARIOS,
    chapters=("clone", "user-namespace"),
    source="clone(2), namespaces(7)",
)

TEACH_ORDER = Claim(
    id="teach-kernel-order",
    says="the child names its UTS namespace, makes its mounts private, binds the rootfs, mounts proc, "
         "pivots, detaches the old root and execs, in that order",
    evidence=(
        _teach_step(TEACH_CLONE, Call("syscall", "sethostname", who=TEACH_CHILD)),
        _teach_step(Call("syscall", "sethostname", who=TEACH_CHILD), TEACH_PRIVATE),
        _teach_step(TEACH_PRIVATE, TEACH_BIND),
        _teach_step(TEACH_BIND, TEACH_PROC),
        _teach_step(TEACH_PROC, TEACH_PIVOT),
        _teach_step(TEACH_PIVOT, TEACH_DETACH),
        _teach_step(TEACH_DETACH, Call("exec", who=TEACH_CHILD)),
    ),
    scenarios=TEACH_SCENARIOS,
    chapters=("hostname", "private-mounts", "bind-rootfs", "proc", "pivot_root", "detach-old-root", "entrypoint"),
    source="scenarios/teach_runtime.py; mount_namespaces(7), pivot_root(2)",
)

ID_MAPS_BY_PARENT = Claim(
    id="parent-writes-id-maps",
    says="the parent writes deny to setgroups, then uid_map and gid_map, before the child goes on",
    evidence=(
        OnlyBy(Call("syscall", "write", args={"path": ends("/uid_map")}), LAUNCHED),
        Before(Call("syscall", "write", args={"path": ends("/setgroups"), "data": "deny"}),
               Call("syscall", "write", args={"path": ends("/gid_map")})),
        Before(Call("syscall", "write", args={"path": ends("/gid_map")}),
               Call("syscall", "sethostname", who=TEACH_CHILD)),
    ),
    scenarios=("teach-rootless",),
    chapters=("id-maps", "user-namespace"),
    source="user_namespaces(7) (uid_map, gid_map, setgroups)",
)

# unshare ---------------------------------------------------------------------------------------------------------

UNSHARE_CALLER = Claim(
    id="unshare-moves-the-caller-not-into-pid",
    says="unshare(2) moves the caller into new mount, UTS, IPC and network namespaces, never into the new pid "
         "namespace; its forked child is born there as pid 1",
    evidence=(
        Exists(Call("namespace", args={"kind": "mnt", "via": "unshare"}, who=LAUNCHED)),
        Absent(Call("namespace", args={"kind": "pid", "via": "unshare"})),
        Before(UNSHARE_NEWPID, PID_BORN),
        Exists(Call("process", who=LAUNCHED)),
    ),
    scenarios=("unshare",),
    chapters=("unshare", "fork-pid1"),
    source="unshare(2), unshare(1) --fork, pid_namespaces(7)",
)

UNSHARE_MOUNTS = Claim(
    id="unshare-private-then-proc-then-chroot",
    says="the forked child makes every mount private, then mounts proc on the host path /proc, then chroot "
         "runs, then the shell",
    evidence=(
        Before(Call("syscall", "mount", args={"flags": has("MS_REC", "MS_PRIVATE")}, who=UNSHARE_CHILD),
               Call("syscall", "mount", args={"fstype": "proc", "target": "/proc"}, who=UNSHARE_CHILD)),
        Before(Call("syscall", "mount", args={"fstype": "proc"}), Call("syscall", "chroot")),
        Before(Call("syscall", "chroot"), Call("exec", args={"argv": argv0("sh")})),
    ),
    scenarios=("unshare",),
    chapters=("private-mounts", "proc", "chroot", "entrypoint"),
    source="unshare(1) (--mount: --propagation private by default; --mount-proc), chroot(2)",
)

HOSTNAME_BY_CHILD = Claim(
    id="hostname-set-by-shell-child",
    says="the hostname is set by the shell's child `hostname box`, not by unshare or the shell",
    evidence=(OnlyBy(Call("syscall", "sethostname"), Who(comm="hostname")),),
    scenarios=("unshare",),
    chapters=("hostname",),
    source="uts_namespaces(7)",
)


TEACH_CHILD_BECOMES_SHELL = Claim(
    id="teach-child-becomes-shell",
    says="the runtime makes one child, which execs the shell and stays pid 1; the shell forks one child of its own",
    evidence=(
        Count(Call("process", who=LAUNCHED), 1),
        Exists(Call("exec", who=TEACH_CHILD, args={"argv": argv0("sh")})),
        Count(Call("process", who=Who(program="sh", pid1=True)), 1),
    ),
    scenarios=TEACH_SCENARIOS,
    chapters=("entrypoint",),
    source="clone(2), execve(2) (the process keeps its pid)",
)

DOCKERD_HELPER_JOINS = Claim(
    id="dockerd-helper-joins-netns",
    says="dockerd's helper (dockerd re-executed as set-ipv6) joins the network namespace runc made, with setns, "
         "while runc create runs the hook",
    evidence=(
        Before(Call("syscall", "unshare", args={"flags": has("CLONE_NEWNET")}, who=STAGE1),
               Call("syscall", "setns", args={"nstype": has("CLONE_NEWNET")}, who=Who(program="set-ipv6"))),
        Before(HOOK_EXEC, Call("syscall", "setns", args={"nstype": has("CLONE_NEWNET")})),
        Before(Call("syscall", "setns", args={"nstype": has("CLONE_NEWNET")}), PIVOT_BY_INIT),
    ),
    scenarios=("docker",),
    chapters=("prestart-hook",),
    source="moby libnetwork (sandbox SetKey, the set-ipv6 re-exec); setns(2)",
)

NO_FILTER_WITHOUT_CONFIG = Claim(
    id="no-seccomp-filter-without-config",
    says="runc loads no seccomp filter when the config has none; its seccomp calls there are failed probes",
    evidence=(
        Absent(Call("syscall", "prctl", args={"option": "PR_SET_SECCOMP"})),
        Absent(Call("syscall", "seccomp", args={"operation": "SECCOMP_SET_MODE_FILTER"}, ok=True)),
        Exists(Call("syscall", "seccomp", args={"operation": "SECCOMP_SET_MODE_FILTER"}, error="EFAULT")),
    ),
    scenarios=("runc", "containerd"),
    chapters=("identity-and-limits",),
    source="libseccomp (api feature probes); runc libcontainer/seccomp",
)


# podman: no daemon, conmon, and the rootless user namespace ---------------------------------------------------

PODMAN = Who(program="podman", label="podman")
CONMON = Who(program="conmon", label="conmon")

PODMAN_NO_DAEMON = Claim(
    id="podman-starts-conmon-itself",
    says="podman itself starts conmon (fork and exec); it connects to no container daemon",
    evidence=(
        Exists(Call("exec", args={"argv": argv0("conmon")}, who=PODMAN)),
        Absent(Call("syscall", "connect", args={"path": contains("containerd.sock")}, ok=True)),
        Absent(Call("syscall", "connect", args={"path": contains("docker.sock")}, ok=True)),
    ),
    scenarios=PODMAN_SCENARIOS,
    chapters=("podman-run", "conmon"),
    source="podman libpod/oci_conmon_linux.go (createOCIContainer starts conmon)",
)

CONMON_DETACHES = Claim(
    id="conmon-detaches-and-runs-runc",
    says="conmon forks a second conmon and exits; the second makes itself a child subreaper, runs runc create and "
         "reaps the container's pid 1",
    evidence=(
        Exists(Call("process", who=CONMON)),
        Before(Call("syscall", "prctl", args={"option": "PR_SET_CHILD_SUBREAPER"}, who=CONMON), _runc("create")),
        OnlyBy(_runc("create"), CONMON),
        Exists(Call("syscall", "wait4", who=CONMON, ret_who=STAGE2)),
    ),
    scenarios=("podman",),
    chapters=("conmon-detach", "runc-create", "exited"),
    source="conmon src/conmon.c (daemonizing fork, PR_SET_CHILD_SUBREAPER)",
)

CONMON_RUNS_CREATE_ROOTLESS = Claim(
    id="conmon-runs-runc-create",
    says="conmon forks a second conmon and exits; the second makes itself a child subreaper and runs runc create",
    evidence=(
        Exists(Call("process", who=CONMON)),
        Before(Call("syscall", "prctl", args={"option": "PR_SET_CHILD_SUBREAPER"}, who=CONMON), _runc("create")),
        OnlyBy(_runc("create"), CONMON),
    ),
    scenarios=("podman-rootless",),
    chapters=("conmon-detach", "runc-create"),
    source="conmon src/conmon.c",
)

PODMAN_RUNS_START = Claim(
    id="podman-runs-runc-start-after-attaching",
    says="podman connects to conmon's attach socket, then runs runc start itself",
    evidence=(
        OnlyBy(_runc("start"), PODMAN),
        Before(Call("syscall", "bind", args={"path": contains("/proc/self/fd/")}, who=CONMON, ok=True),
               Call("syscall", "connect", args={"path": contains("/proc/self/fd/")}, who=PODMAN, ok=True)),
        Before(Call("syscall", "connect", args={"path": contains("/proc/self/fd/")}, who=PODMAN, ok=True),
               _runc("start")),
    ),
    scenarios=("podman",),
    chapters=("runc-start", "attach-socket"),
    source="podman libpod/oci_conmon_attach_linux.go, libpod/container_internal.go (start)",
)

PODMAN_ROOTLESS_START = Claim(
    id="podman-runs-runc-start",
    says="podman, not conmon, runs runc start",
    evidence=(OnlyBy(_runc("start"), PODMAN),),
    scenarios=("podman-rootless",),
    chapters=("runc-start",),
    source="podman libpod/container_internal.go (start)",
)

PODMAN_CLEANUP = Claim(
    id="conmon-runs-podman-cleanup-then-delete",
    says="after pid 1 exits, conmon execs podman container cleanup, and that podman runs runc delete",
    evidence=(
        Before(Call("exit", who=STAGE2), Call("exec", args={"argv": argv0("podman", "cleanup")}, who=CONMON)),
        OnlyBy(_runc("delete"), PODMAN),
        Before(Call("exec", args={"argv": argv0("podman", "cleanup")}), _runc("delete")),
    ),
    scenarios=PODMAN_SCENARIOS,
    chapters=("podman-cleanup", "runc-delete"),
    source="conmon src/ctr_exit.c (the exit command); podman cmd/podman/containers/cleanup.go",
)

ROOTLESS_USERNS = Claim(
    id="rootless-podman-clones-into-a-user-namespace",
    says="podman clones a child with CLONE_NEWUSER|CLONE_NEWNS; its own uid_map write is refused, newuidmap and "
         "newgidmap write the maps, and only then does the child become uid 0 and exec podman again",
    evidence=(
        Exists(Call("process", args={"flags": has("CLONE_NEWUSER", "CLONE_NEWNS")}, who=PODMAN)),
        Before(Call("syscall", "write", args={"path": ends("/uid_map")}, who=PODMAN, error="EPERM"),
               Call("exec", args={"argv": argv0("newuidmap")})),
        OnlyBy(Call("syscall", "write", args={"path": ends("/uid_map")}, ok=True), Who(program="newuidmap")),
        OnlyBy(Call("syscall", "write", args={"path": ends("/gid_map")}, ok=True), Who(program="newgidmap")),
        Before(Call("syscall", "write", args={"path": ends("/gid_map")}, ok=True),
               Call("syscall", "setresuid", who=Who(born_with=("CLONE_NEWUSER",)))),
        Before(Call("syscall", "setresuid", who=Who(born_with=("CLONE_NEWUSER",))),
               Call("exec", args={"argv": argv0("podman", "run")}, who=Who(born_with=("CLONE_NEWUSER",)))),
    ),
    scenarios=("podman-rootless",),
    chapters=("user-namespace", "newuidmap", "podman-in-userns"),
    source="podman pkg/rootless/rootless_linux.c, rootless_linux.go; newuidmap(1), user_namespaces(7)",
)

PAUSE_PROCESS = Claim(
    id="rootless-pause-process",
    says="the user-namespace child forks twice, the middle process exits, and the grandchild execs podman with no "
         "arguments as the pause process",
    evidence=(
        Exists(Call("exec", args={"argv": lambda argv: isinstance(argv, list) and len(argv) == 1
                                  and str(argv[0]).endswith("podman")})),
        Exists(Call("exit", who=Who(born_with=(), via="clone", program="podman"))),
    ),
    scenarios=("podman-rootless",),
    chapters=("pause-process",),
    source="podman pkg/rootless/rootless_linux.c (the pause process)",
)

ROOTLESS_DENIED = Claim(
    id="rootless-cgroup-mkdir-denied",
    says="rootless podman's and runc's mkdir of cgroup directories fail with EACCES, and runc carries on without "
         "cgroups of its own",
    evidence=(
        Exists(Call("syscall", "mkdirat", args={"path": contains("/sys/fs/cgroup/")}, error="EACCES", who=PODMAN)),
        Exists(Call("syscall", "mkdirat", args={"path": contains("/sys/fs/cgroup/")}, error="EACCES",
                    who=RUNC_CREATE)),
        Absent(CGROUP_PROCS_WRITE),
    ),
    scenarios=("podman-rootless",),
    chapters=("denied-on-host",),
    source="cgroups(7) (delegation); runc libcontainer/cgroups/fs (rootless: errors ignored)",
)


# teach-net: a network, one netlink message at a time -------------------------------------------------------------


def _netlink(kind: str, **fields: Any) -> Call:
    return Call("syscall", "sendto", args={"messages": message(kind, **fields)}, who=LAUNCHED, ok=True,
                label=f"the runtime's {kind} {' '.join(f'{k}={v}' for k, v in fields.items())}".strip())


NET_CREATE = _netlink("RTM_NEWLINK", flags="NLM_F_CREATE")
NET_MOVE = _netlink("RTM_NEWLINK", attr="IFLA_NET_NS_PID")
NET_UP = _netlink("RTM_NEWLINK", up=True)
NET_ADDR = _netlink("RTM_NEWADDR")
NET_ROUTE = _netlink("RTM_NEWROUTE")
NET_ACK = Call("syscall", "recvfrom", args={"messages": message("NLMSG_ERROR", error=0)}, who=LAUNCHED,
               label="an acknowledgement with error 0")
NET_CHILD = Who(born_with=("CLONE_NEWNET",), label="the container process")

TEACH_NET_NAMESPACES = Claim(
    id="teach-net-two-network-namespaces",
    says="the runtime unshares a network namespace for itself, then clones the container into a second one, "
         "which waits until it is wired before it execs ping",
    evidence=(
        Exists(Call("namespace", args={"kind": "net", "via": "unshare"}, who=LAUNCHED)),
        Before(Call("syscall", "unshare", args={"flags": has("CLONE_NEWNET")}, who=LAUNCHED),
               Call("syscall", "clone", args={"flags": has("CLONE_NEWNET")}, who=LAUNCHED)),
        Exists(Call("namespace", args={"kind": "net", "via": "clone"}, who=NET_CHILD)),
        Before(NET_ROUTE, Call("exec", who=NET_CHILD), last=True),
    ),
    scenarios=("teach-net",),
    chapters=("host-side", "container"),
    source="network_namespaces(7), unshare(2), clone(2); scenarios/teach_net_runtime.py",
)

TEACH_NET_VETH = Claim(
    id="teach-net-veth-then-move-then-rename",
    says="one RTM_NEWLINK creates the veth pair (acknowledged with error 0), another moves one end into the "
         "container, and a socket opened inside the container (setns there and back) renames it",
    evidence=(
        Before(NET_CREATE, NET_ACK),
        Before(NET_CREATE, NET_MOVE),
        Before(NET_MOVE, Call("syscall", "setns", args={"nstype": has("CLONE_NEWNET")}, who=LAUNCHED)),
        Count(Call("syscall", "setns", args={"nstype": has("CLONE_NEWNET")}, who=LAUNCHED), 2),
        FollowedBy(Call("syscall", "setns", args={"nstype": has("CLONE_NEWNET")}, who=LAUNCHED),
                   Call("syscall", "socket", args={"domain": "AF_NETLINK"}, who=LAUNCHED)),
    ),
    scenarios=("teach-net",),
    chapters=("veth", "move"),
    source="rtnetlink(7), veth(4), setns(2); scenarios/teach_net_runtime.py",
)

TEACH_NET_EXIT = Claim(
    id="teach-net-container-exits-first",
    says="the container process exits first; the runtime reaps it, and the namespaces go with their last process",
    evidence=(
        Before(Call("exit", who=NET_CHILD), Call("exit", who=LAUNCHED)),
        Exists(Call("syscall", "wait4", who=LAUNCHED, ret_who=NET_CHILD)),
    ),
    scenarios=("teach-net",),
    chapters=("exited",),
    source="network_namespaces(7) (a namespace is freed with its last reference), wait4(2)",
)

TEACH_NET_ORDER = Claim(
    id="teach-net-addresses-up-routes-ping",
    says="addresses go on both ends, the links come up, and only then the routes; ping runs last and exits 0",
    evidence=(
        Count(NET_ADDR, 2),
        Before(NET_ADDR, NET_UP, last=True),
        Before(NET_UP, NET_ROUTE, last=True),
        Count(NET_ROUTE, 2),
        Before(NET_ROUTE, Call("exec", args={"argv": argv0("busybox", "ping")}), last=True),
        Exists(Call("exit", who=Who(program="busybox"), args={"code": 0})),
    ),
    scenarios=("teach-net",),
    chapters=("address", "link-up", "route", "first-packet"),
    source="rtnetlink(7) (ENETDOWN for a route on a down device); ping in busybox",
)
# The what-if experiments (runc with one step broken on purpose) -------------------------------------------------

#: (experiment, the injected call as the trace shows it, what proves the kernel never ran it)
_WHAT_IF_CALLS: dict[str, tuple[Call, Call]] = {
    "pivot_root": (Call("syscall", "pivot_root", who=STAGE2, error="EPERM", label="pivot_root failing with EPERM"),
                   PIVOT_BY_INIT),
    "sethostname": (Call("syscall", "sethostname", who=STAGE2, error="EPERM",
                         label="sethostname failing with EPERM"),
                    Call("syscall", "sethostname", ok=True, label="a successful sethostname")),
    "unshare": (Call("syscall", "unshare", who=STAGE1, error="ENOSPC", label="unshare failing with ENOSPC"),
                Call("namespace", args={"via": "unshare"}, label="a namespace made by unshare")),
    "cgroup": (Call("syscall", "write", args={"path": ends("/cgroup.procs")}, who=RUNC_RUN, error="EACCES",
                    label="runc run's write to cgroup.procs failing with EACCES"),
               CGROUP_PROCS_WRITE),
    "exec": (Call("syscall", "execve", who=STAGE2, error="ENOENT", label="the entrypoint's execve failing with ENOENT"),
             ENTRYPOINT_EXEC),
}
RUNC_RUN_STDERR = Call("syscall", "write", args={"fd": 2}, who=RUNC_RUN, label="runc run writing on stderr")
STATE_REMOVED = Call("syscall", "unlinkat", args={"flags": has("AT_REMOVEDIR")}, who=RUNC_RUN, ok=True,
                     label="runc run removing a directory (its state directory)")
RUNC_RUN_FAILS = Call("exit", args={"code": 1}, who=RUNC_RUN, label="runc run exiting with status 1")


def _what_if_claims(experiment: str) -> tuple[Claim, ...]:
    scenario = (f"runc-what-if-{experiment}",)
    failed, never = _WHAT_IF_CALLS[experiment]
    return (
        Claim(
            id=f"what-if-{experiment}-never-ran",
            says=f"the injected call fails ({failed}) and the kernel never runs it: the trace has no {never}",
            evidence=(Count(failed, 1), Absent(never)),
            scenarios=scenario,
            chapters=("what-if", "error"),
            source="ptrace(2) (a syscall number of -1 at the entry stop runs nothing); strace src/syscall.c",
        ),
        Claim(
            id=f"what-if-{experiment}-runc-reacts",
            says="runc run reads the bundle first; after the failure it prints the error on stderr, removes its "
                 "state directory, and exits with status 1",
            evidence=(Before(_runc("run"), failed), Before(failed, RUNC_RUN_STDERR), Before(failed, STATE_REMOVED),
                      Before(STATE_REMOVED, RUNC_RUN_FAILS), Exists(RUNC_RUN_FAILS)),
            scenarios=scenario,
            chapters=("runc-run", "printed", "cleanup", "failed"),
            source="runc libcontainer/process_linux.go (start: on error, p.manager.Destroy and the init killed), "
                   "libcontainer/container_linux.go (destroy removes the state directory), utils.go fatal",
        ),
    )


WHAT_IF_CLAIMS: tuple[Claim, ...] = tuple(
    claim for experiment in _WHAT_IF_CALLS for claim in _what_if_claims(experiment))


CLAIMS: tuple[Claim, ...] = (
    TEACH_NET_NAMESPACES, TEACH_NET_VETH, TEACH_NET_ORDER, TEACH_NET_EXIT,
    PODMAN_NO_DAEMON, CONMON_DETACHES, CONMON_RUNS_CREATE_ROOTLESS, PODMAN_RUNS_START, PODMAN_ROOTLESS_START,
    PODMAN_CLEANUP, ROOTLESS_USERNS, PAUSE_PROCESS, ROOTLESS_DENIED,
    TEACH_CHILD_BECOMES_SHELL, DOCKERD_HELPER_JOINS, NO_FILTER_WITHOUT_CONFIG,
    RUNC_PREPARES_FIRST, RUNC_INIT_REEXEC, NO_RUNC_CLONE_MAKES_NAMESPACES, STAGE_FORKS, UNSHARE_THEN_FORK,
    STAGE2_IDS, LOOPBACK_UP, ROOT_RSLAVE_FIRST, OLD_ROOT, CGROUP_PLACEMENT, CGROUP_LIMITS, CAPSET_THEN_AMBIENT,
    AMBIENT_EPERM, RUNC_RUN_REAPS, NNP_WHEN_ASKED, DOCKER_NO_NNP, SECCOMP_EARLY, CGROUP_MOUNTS,
    CTR_NO_CGROUP_MOUNT, PIVOT_THEN_HOSTNAME, PIVOT_THEN_EXEC, HOOK_BEFORE_PIVOT, CREATE_EXITS_FIRST,
    SHIM_RUNS_RUNC, DELETE_AFTER_EXIT, CLI_ONLY_TALKS, DOCKERD_CONTAINERD, CTR_ONLY_TALKS, PID1_EXITS_FIRST,
    TEACH_CLONE_CLAIM, TEACH_ORDER, ID_MAPS_BY_PARENT, UNSHARE_CALLER, UNSHARE_MOUNTS, HOSTNAME_BY_CHILD,
    *WHAT_IF_CLAIMS,
)

BY_ID: dict[str, Claim] = {claim.id: claim for claim in CLAIMS}


# The generic walkthrough (a trace of no known scenario): its chapters' statements, checked the same way -------------

_ANY = ()  # a generic claim holds wherever its chapter appears, whatever the scenario

GENERIC_FIRST_EXEC = Claim(
    id="generic-first-exec", says="the launched command starts by exec'ing its program",
    evidence=(Exists(Call("exec", who=LAUNCHED)),), scenarios=_ANY, source="execve(2)",
)
GENERIC_UNSHARE = Claim(
    id="generic-unshare-keeps-pid", says="unshare moves its caller into the new namespaces except pid: the caller "
    "never enters a new pid namespace, a child born after the call does",
    evidence=(Exists(Call("namespace", args={"via": "unshare"})),
              Absent(Call("namespace", args={"kind": "pid", "via": "unshare"}))),
    scenarios=_ANY, source="unshare(2), pid_namespaces(7)",
)
GENERIC_CLONE = Claim(
    id="generic-clone-born-in", says="a clone with CLONE_NEW* flags creates a child that is born in the new "
    "namespaces", evidence=(Exists(Call("namespace", args={"via": "clone"})),), scenarios=_ANY, source="clone(2)",
)
GENERIC_SETNS = Claim(
    id="generic-setns-joins", says="setns joins a namespace that exists: the process moves, nothing is created",
    evidence=(Exists(Call("namespace", args={"via": "setns"})),), scenarios=_ANY, source="setns(2)",
)
GENERIC_PIVOT = Claim(
    id="generic-pivot-then-detach", says="pivot_root comes first, the old root is unmounted next",
    evidence=(FollowedBy(Call("syscall", "pivot_root", ok=True),
                         Call("syscall", "umount2", args={"flags": has("MNT_DETACH")}, ok=True)),),
    scenarios=_ANY, source="pivot_root(2), umount2(2)",
)
GENERIC_CHROOT = Claim(
    id="generic-chroot-keeps-mounts", says="chroot changes where lookups start and unmounts nothing",
    evidence=(Exists(Call("syscall", "chroot", ok=True)), Absent(Call("syscall", "umount2", ok=True))),
    scenarios=_ANY, source="chroot(2)",
)
GENERIC_ENTRYPOINT = Claim(
    id="generic-entrypoint-in-new-namespaces", says="the container's program is exec'd by an ordinary process that "
    "lives in namespaces other than the host's", evidence=(Exists(Call("exec", who=Who(isolated=True))),),
    scenarios=_ANY, source="execve(2), pid_namespaces(7)",
)
GENERIC_EXITS = Claim(
    id="generic-launched-command-exits", says="the processes exit, the command boxtrace launched among them",
    evidence=(Exists(Call("exit", who=LAUNCHED)),), scenarios=_ANY,
    source="exit(2), wait4(2)",
)

#: Generic chapters by the start of their title: the claims their narration states.
GENERIC_CHAPTER_CLAIMS: dict[str, tuple[Claim, ...]] = {
    "The command starts": (GENERIC_FIRST_EXEC,),
    "unshare:": (GENERIC_UNSHARE,),
    "clone:": (GENERIC_CLONE,),
    "clone3:": (GENERIC_CLONE,),
    "setns:": (GENERIC_SETNS,),
    "A new root: pivot_root": (GENERIC_PIVOT,),
    "A new root: chroot": (GENERIC_CHROOT,),
    "The container's program starts": (GENERIC_ENTRYPOINT,),
    "Everything exits": (GENERIC_EXITS,),
}


def generic_claims_for(title: str) -> tuple[Claim, ...]:
    """The claims a generic walkthrough chapter states, found by its title."""
    for start, claims in GENERIC_CHAPTER_CLAIMS.items():
        if title.startswith(start):
            return claims
    return ()


def claims_for(scenario: str, chapter: str) -> list[Claim]:
    """The claims a scenario's walkthrough chapter (milestone id) states."""
    return [c for c in CLAIMS if scenario in c.scenarios and chapter in c.chapters]


def claim_finder(claim: Claim, *keys: Call, first_only: bool = False) -> Callable[[Any], list[int]]:
    """A milestone finder for a chapter that states `claim`: nothing unless the claim holds in the trace, else the
    events `keys` match (only the first of each with `first_only`; the chapter starts at the earliest), or all of
    the claim's evidence without keys."""

    def find(view: Any) -> list[int]:
        trace = Trace(view.events)
        if check(claim, trace):
            return []
        if not keys:
            return evidence_seqs(claim, trace)
        return sorted({e.seq for key in keys for e in trace.found(key)[: 1 if first_only else None]})

    return find
