"""Write the classroom notebooks (notebooks/*.ipynb) from the cells below, without outputs.

    .venv/bin/python notebooks/build_notebooks.py

The notebooks are generated so that a change to the lessons is a reviewable diff of this file, and the .ipynb files
stay free of outputs and random cell ids. Each code cell checks what the prose next to it says (`assert`), so a
re-made recording that no longer shows the story fails `tests/test_notebooks.py` instead of teaching something
false.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"display_name": "Python 3 (boxtrace)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def md(text: str) -> tuple[str, str]:
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", textwrap.dedent(text).strip("\n"))


#: The first code cell of every notebook: the API and two helpers that only display things.
SETUP = code(
    r'''
    # Setup: boxtrace's public API, and two helpers that only display things.
    from IPython.display import Markdown, display

    from boxtrace import api


    def show_table(headers, rows):
        """Show rows (lists of values) as a Markdown table."""
        def cell(value):
            return str(value).replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
        lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
        display(Markdown("\n".join(lines)))


    def line(event, table):
        """One event as `boxtrace show` prints it, without the tree indentation."""
        rendered = api.render_event(event, table)
        return rendered.plain.strip() if rendered is not None else ""


    def asks_for_namespaces(event):
        """A clone, clone3 or unshare call that carries at least one CLONE_NEW* flag."""
        if not isinstance(event, api.Syscall) or event.name not in ("clone", "clone3", "unshare"):
            return False
        return any(str(flag).startswith("CLONE_NEW") for flag in event.args.get("flags") or [])
    '''
)


# 01 -------------------------------------------------------------------------------------------------------------

NB01 = [
    md(
        """
        # 1 · What a container is: a process plus namespaces

        The Linux kernel has no object called "container". It has **processes**, and for every process a set of
        **namespaces**: which process ids, which mount table, which hostname, which network stack and which IPC
        objects that process sees. A container runtime starts a process in *new* namespaces and gives it another
        root directory. That is most of what a container is, and this notebook shows it in two real traces:

        * **teach** — boxtrace's lesson runtime (`scenarios/teach_runtime.py`, one commented step per system call)
          starting a busybox shell;
        * **unshare** — the same container built by hand with util-linux `unshare` and coreutils `chroot`.

        Both were recorded by boxtrace itself on a Linux machine and ship with it, so this notebook needs no root
        and no container tools: it only reads the recordings. (Notebook 4 records a fresh one.)
        """
    ),
    SETUP,
    md(
        """
        ## 1. A recording

        A recording is a JSON Lines file: a header saying what was traced, where and how, then one event per line
        (a process started, a system call, an exec, a namespace change, an exit...). `api.load("teach")` loads
        the recording shipped for the `teach` scenario; `api.load("some/file.jsonl")` loads any other.
        """
    ),
    code(
        """
        teach = api.load("teach")
        header = teach.header
        print("scenario:", header.scenario)
        print("command: ", " ".join(header.command))
        print("kernel:  ", header.kernel, "on", header.arch)
        print("events:  ", len(teach.events), "after the header")
        """
    ),
    md(
        """
        The command is Python running `scenarios/teach_runtime.py`. Keep that file open next to this notebook:
        each numbered comment in it is one of the system calls you are about to see.

        ## 2. The processes

        `api.processes(recording)` folds the events into a **process table**: who created whom and how, what each
        process ran, and its **NSpid** chain — the pid it has in every pid namespace it belongs to, outermost
        (the host's) first. A process in no new pid namespace has a chain of one.
        """
    ),
    code(
        """
        def show_processes(table):
            rows = []
            for proc in table.history:
                if proc.via in ("launch", "attach"):
                    made = f"{proc.via}ed by boxtrace"
                else:
                    made = f"{proc.via}({'|'.join(proc.flags)}) by {proc.creator}"
                programs = " then ".join(e.path for e in proc.execs) or f"(no exec: still {proc.comm})"
                end = "still running" if proc.exit is None else f"exit {proc.exit.code}"
                rows.append([proc.pid, proc.nspid, made, programs, end])
            show_table(["pid on the host", "NSpid chain", "created by", "programs it ran", "end"], rows)


        table = api.processes(teach)
        show_processes(table)
        """
    ),
    code(
        """
        runtime = next(p for p in table.history if p.via == "launch")
        init = next(p for p in table.history if len(p.nspid) > 1 and p.nspid[-1] == 1)
        print(f"the runtime:                  pid {runtime.pid}, NSpid {runtime.nspid}")
        print(f"the container's first process: pid {init.pid} on the host, "
              f"pid {init.pid_in_namespace} inside (NSpid {init.nspid})")
        assert init.ppid == runtime.pid          # an ordinary child of the runtime
        assert len(runtime.nspid) == 1           # the runtime itself stays in the host's pid namespace
        """
    ),
    md(
        """
        Three processes: the runtime (Python), its child — which becomes the container's shell — and a child of
        that shell (busybox `sh` forks a subshell to run `$(hostname)`). Nothing else runs "inside the container":
        no kernel, no init system, no daemon.

        ## 3. One system call makes the namespaces
        """
    ),
    code(
        """
        namespace_calls = [event for event in teach.events if asks_for_namespaces(event)]
        for event in namespace_calls:
            print(f"seq {event.seq}: {line(event, table)}")

        assert [event.name for event in namespace_calls] == ["clone"]
        assert namespace_calls[0].pid == runtime.pid
        assert namespace_calls[0].ret == init.pid   # clone returns the child's pid, numbered in the caller's namespace
        """
    ),
    md(
        """
        Read the flags one by one: each `CLONE_NEW*` asks for one new namespace (mount, UTS, IPC, pid, network).
        `SIGCHLD` is not a flag but the low byte of the same argument: the signal the parent receives when the
        child exits. The kernel creates the five namespaces and starts the child inside them; the caller stays
        where it was. The parent's copy of `clone` returns the child's pid as the *parent* numbers it — the host
        pid, because the runtime lives in the host's pid namespace.

        ## 4. Namespace inodes, before and after

        Every namespace is a kernel object with an inode number; `/proc/PID/ns/mnt` is a symbolic link whose
        target names it, such as `mnt:[4026531832]`. Two processes share a namespace of a kind exactly when these
        numbers are equal. The header holds the tracer's own namespaces (`host_ns`): the host side of every
        comparison.
        """
    ),
    code(
        """
        host = header.host_ns
        rows = []
        for kind in api.NAMESPACE_KINDS:
            before, after = host.get(kind), init.ns.get(kind)
            verdict = "same as the host" if before == after else "NEW"
            rows.append([kind, before, runtime.ns.get(kind), after, verdict])
        show_table(["kind", "host (header)", "runtime", "container process", ""], rows)
        """
    ),
    code(
        """
        changes = [event for event in teach.events if isinstance(event, api.NamespaceChange)]
        for event in changes:
            print(f"seq {event.seq}: pid {event.pid} {event.kind:17} {event.old} -> {event.new}  via {event.via}")

        assert {event.kind for event in changes} == {"ipc", "mnt", "net", "pid", "pid_for_children", "uts"}
        assert {event.pid for event in changes} == {init.pid} and {event.via for event in changes} == {"clone"}
        assert all(init.ns[kind] == host[kind] for kind in ("cgroup", "time", "user"))
        """
    ),
    md(
        """
        What each new namespace gives the container:

        | kind | what the process sees of its own |
        | --- | --- |
        | `mnt` | the mount table: which filesystems are mounted where |
        | `uts` | the hostname (and NIS domain name) |
        | `ipc` | System V IPC objects and POSIX message queues |
        | `net` | network interfaces (only a loopback at first), routes, ports, firewall rules |
        | `pid` | process ids: it sees only its own namespace's processes, and the first one is pid 1 |

        `pid_for_children` is the pid namespace this process's *future children* will be born in. The kinds the
        runtime did not ask for — `cgroup`, `time`, `user` — stay the host's: a container may share any kind with
        the host (`docker run --network host` shares `net`, for instance). `teach-rootless` adds `user`.

        Inode numbers are recycled once a namespace is gone, so compare them within one trace only. The
        `unshare` trace below, recorded within the same minute, shows some of the very same numbers.

        ## 5. pid 1 inside, an ordinary pid outside
        """
    ),
    code(
        """
        shell_fork = next(e for e in table.syscalls_of(init.pid) if e.name == "clone")
        grandchild = next(p for p in table.history if p.ppid == init.pid)
        print(line(shell_fork, table))
        print(f"inside, the shell's clone returned {shell_fork.ret}; on the host that child is pid {grandchild.pid} "
              f"(NSpid {grandchild.nspid})")
        last_exec = init.execs[-1]
        print(f"pid {init.pid} exec'd {last_exec.path} and kept its pids: NSpid {last_exec.nspid}")

        assert shell_fork.ret == grandchild.pid_in_namespace != grandchild.pid
        assert last_exec.nspid == init.nspid
        """
    ),
    md(
        """
        The same process has two pids: one in the host's pid namespace, one in its own. A system call always
        speaks the caller's language: inside the container `clone` returns the child's inner pid, while the
        tracer, which sits on the host, reports the outer one. `execve` replaces the program and keeps the
        process, so the Python child of the runtime *becomes* the shell and stays pid 1. When that pid 1 exits,
        the kernel kills whatever else is left in its pid namespace.

        ## 6. The same container by hand: `unshare` and `chroot`

        util-linux's `unshare --fork --pid --mount-proc --uts --ipc --net --mount chroot ROOTFS sh -c ...`
        builds the same isolation from the command line, with a different system call.
        """
    ),
    code(
        """
        by_hand = api.load("unshare")
        by_hand_table = api.processes(by_hand)
        print(" ".join(by_hand.header.command))
        show_processes(by_hand_table)
        """
    ),
    code(
        """
        tool = next(p for p in by_hand_table.history if p.via == "launch")
        first_child = next(p for p in by_hand_table.history if p.ppid == tool.pid)
        for event in by_hand.events:
            if asks_for_namespaces(event) or isinstance(event, api.NamespaceChange):
                print(f"seq {event.seq:2}: {line(event, by_hand_table)}")

        unshare_call = next(e for e in by_hand.events if isinstance(e, api.Syscall) and e.name == "unshare")
        moved = {e.kind for e in by_hand.events if isinstance(e, api.NamespaceChange) and e.pid == tool.pid}
        print()
        print("unshare moved its caller into new:", ", ".join(sorted(moved)))
        print("the caller's NSpid:", tool.nspid, " its first child's:", first_child.nspid,
              " made by", f"{first_child.via}({'|'.join(first_child.flags)})")

        assert unshare_call.pid == tool.pid and "CLONE_NEWPID" in unshare_call.args["flags"]
        assert moved == {"ipc", "mnt", "net", "uts"}               # no pid, no pid_for_children
        assert len(tool.nspid) == 1 and first_child.nspid[-1] == 1
        assert not any(flag.startswith("CLONE_NEW") for flag in first_child.flags)   # a plain fork
        """
    ),
    md(
        """
        `unshare(2)` creates no process: it moves the **caller** into new namespaces — here mount, UTS, IPC and
        network at once. The pid namespace is the exception. A process's pid cannot change, so
        `unshare(CLONE_NEWPID)` only decides where the caller's *future children* go. That is why the trace shows
        no `pid` change for the `unshare` process, and not even a `pid_for_children` one: the kernel does not
        show a new pid namespace in `/proc/PID/ns/pid_for_children` until its first process exists. That first
        process is the child `unshare --fork` makes with an ordinary `fork` (no `CLONE_NEW*` flag at all): it
        is born as pid 1 of the new namespace. Without `--fork`, the program run by `unshare` would keep its host
        pid, its first child would become pid 1, and once that child exited, new processes could no longer be
        created in the namespace (`fork` fails with ENOMEM).

        ### `chroot` is not `pivot_root`

        `teach` changes its root with `pivot_root(".", ".")` and then detaches the old root;
        `unshare` runs `chroot`. boxtrace snapshots the mount table (`/proc/PID/mountinfo`) around these calls:
        """
    ),
    code(
        """
        for recording, tbl in ((teach, table), (by_hand, by_hand_table)):
            for event in recording.events:
                if isinstance(event, api.MountSnapshot):
                    print(f"{recording.header.scenario:8} {event.moment:26} {len(event.mountinfo):3} mounts visible")
                elif isinstance(event, api.Syscall) and event.name in ("pivot_root", "umount2", "chroot", "mount"):
                    print(f"{recording.header.scenario:8}   {line(event, tbl)}")
            print()
        """
    ),
    md(
        """
        * After `pivot_root(".", ".")` the new root is the root of the whole mount namespace and the old root
          sits stacked on top of it; `umount2(".", MNT_DETACH)` removes that old root, and only the new root and
          its `proc` are left (2 mounts). The host's files are out of reach.
        * `chroot` only changes where *this process* starts path lookups. The mount namespace keeps every mount it
          had; `mountinfo` merely lists those reachable from the process's new root, and none is (0 visible).
          Note also that `--mount-proc` mounted the new `proc` on `/proc` *before* the `chroot`: inside the new
          root, `/proc` is the rootfs's own directory, where nothing is mounted, so a `ps` there would list
          nothing. Runtimes use `pivot_root`; `chroot` is the fallback when it cannot be used.

        ### Who set the hostname?
        """
    ),
    code(
        """
        for recording, tbl in ((teach, table), (by_hand, by_hand_table)):
            for event in recording.events:
                if isinstance(event, api.Syscall) and event.name == "sethostname":
                    who = tbl.processes[event.pid]
                    print(f"{recording.header.scenario:8} {line(event, tbl)}   by pid {who.pid_in_namespace} inside")
        """
    ),
    md(
        """
        In `teach` the runtime's child names the UTS namespace before it execs the shell. In `unshare` the shell
        runs `hostname box` as a child process (pid 2 inside): the hostname belongs to the namespace, not to a
        process, and any process in it with the capability may change it. The host's hostname never changes.

        ## 7. What a container is, so far

        * a process (and later its children) — started by an ordinary `clone`, with an ordinary pid on the host;
        * new namespaces: made by `clone` with `CLONE_NEW*` flags (`teach`), or by `unshare(2)` plus a fork for
          the pid namespace (`unshare`, and — notebook 2 — runc);
        * another root filesystem: `pivot_root` (or, weaker, `chroot`);
        * one kernel: every system call above was served by the host's kernel, the one named in the header.

        Real runtimes add limits on top — cgroups, capabilities, seccomp — which notebook 2 finds in a
        `docker run`.

        **Try it:** a process in a container started *inside* this container: how many numbers would its NSpid
        chain have? Then load `api.load("teach-rootless")`, the same runtime run as an ordinary user: find the
        extra `CLONE_NEWUSER` flag, and the writes to `/proc/CHILD/uid_map` with which the parent says which
        host user "root" inside stands for.
        """
    ),
]


# 02 -------------------------------------------------------------------------------------------------------------

NB02 = [
    md(
        """
        # 2 · `docker run`, end to end

        ```
        docker run --rm --network none boxtrace/busybox /bin/sh -c 'hostname; echo hello from a container'
        ```

        boxtrace recorded this command by attaching to the running `dockerd` and `containerd` (without stopping
        them) and launching the `docker` CLI. It follows every process the daemons start, at every system call.
        The daemons themselves are followed only for the processes they create, so their own system calls (for
        example dockerd mounting the image's overlay filesystem, or containerd connecting to the shim's socket)
        are not in this trace. No root is needed to read it.
        """
    ),
    SETUP,
    code(
        """
        docker = api.load("docker")
        table = api.processes(docker)
        book = api.role_book(table)
        header = docker.header
        print("command:", " ".join(header.command))
        print("mode:   ", header.mode, "- attached to", header.attached)
        print("kernel: ", header.kernel)
        """
    ),
    md(
        """
        ## 1. The component chain

        Each process gets a **role** from what it runs and what ran before it: the Docker CLI, dockerd,
        containerd, the shim, `runc create`, the three stages of `runc init`, the container's entrypoint... A
        process that execs has one role per program: a child forked by the shim runs shim code until it execs
        `runc`.
        """
    ),
    code(
        """
        def roles(proc):
            \"\"\"The roles of a process's programs in order (an exec may keep the role: the CLI re-exec'd).\"\"\"
            names = []
            for phase in book.phases(proc):
                if not names or names[-1] != str(phase.role):
                    names.append(str(phase.role))
            return " → ".join(names)


        rows = []
        for proc in table.history:
            creator = "" if proc.via in ("launch", "attach") else f"{proc.creator} ({proc.via})"
            parent = proc.ppid if proc.creator not in (None, proc.ppid) else ""
            end = "left running" if proc.exit and proc.exit.detached else (
                f"exit {proc.exit.code}" if proc.exit else "running")
            rows.append([proc.pid, roles(proc), creator or proc.via, parent, proc.nspid, end])
        show_table(["pid", "role(s)", "created by", "parent, when not the creator", "NSpid", "end"], rows)
        """
    ),
    code(
        """
        import networkx as nx

        graph = api.model(docker).architecture
        chain = ["Docker CLI", "Docker Engine (dockerd)", "containerd", "containerd-shim", "runc create",
                 "runc init", "container entrypoint"]
        path = api.role_path(graph, chain)
        assert path is not None, "the trace no longer shows the whole chain"
        for start, end in zip(path, path[1:]):
            hops = nx.shortest_path(graph, start, end)   # runc init has two boxes: before and after the unshare
            for src, dst in zip(hops, hops[1:]):
                labels = sorted({attrs["label"].replace("\\n", " then ") for _, target, attrs
                                 in graph.out_edges(src, data=True) if target == dst})
                print(f"{graph.nodes[src]['role']:24} → {graph.nodes[dst]['role']:22} {' / '.join(labels)}")

        cli = next(p for p in table.history if p.via == "launch")
        cli_connections = [c for c in table.ipc if c.pid == cli.pid]
        print(f"\\nthe CLI opened {len(cli_connections)} connections to {cli_connections[0].path}; "
              f"its descendants: {table.descendants(cli.pid) or 'none'}")
        assert not table.descendants(cli.pid)
        """
    ),
    md(
        """
        * The **Docker CLI** is only an HTTP client: it connects to `/var/run/docker.sock`, several times, and
          over those connections Docker's HTTP API creates the container, attaches to its output, starts it and
          waits for it (the trace shows the connections, not what is said on them). No process descends from
          the CLI.
        * **dockerd** talks to **containerd** over a gRPC connection that was open before the trace began
          (boxtrace found it in the kernel's socket table).
        * **containerd** runs `containerd-shim-runc-v2 ... start`; that process starts the long-lived **shim**
          and exits. The shim, not containerd, runs `runc create`, `runc start` and `runc delete`.
        * **runc create** starts **runc init**, which makes the namespaces and becomes, by `execve`, the
          **container's entrypoint**.

        ## 2. The architecture diagram

        The same graph drawn with Graphviz (what `boxtrace export docker.jsonl --view architecture -o arch.svg`
        writes): one box per component, the container's namespaces as a cluster, each arrow labelled with the
        call that made the step happen. A box sits in the cluster of the namespaces its process *started* in: the
        first `runc init` box holds stages 0 and 1, and stage 1 leaves the host's mount, UTS, IPC and network
        namespaces at its `unshare` (section 4).
        """
    ),
    code(
        """
        from IPython.display import SVG

        try:
            display(SVG(api.architecture_svg(docker)))
        except api.ExportError as error:   # Graphviz missing: the rest of the notebook does not need it
            print(error)
        """
    ),
    md(
        """
        ## 3. The sequence, as Mermaid text

        `boxtrace export docker.jsonl --view sequence -o run.mmd` writes the launch as a Mermaid
        `sequenceDiagram`, one participant per component. JupyterLab 4.1 and later draw the block below; GitHub
        and many Markdown editors draw the text too.
        """
    ),
    code(
        """
        mermaid = api.sequence_mermaid(docker)
        display(Markdown("```mermaid\\n" + mermaid + "```"))
        print(mermaid)
        """
    ),
    md(
        """
        ## 4. Where each namespace appears
        """
    ),
    code(
        """
        host = header.host_ns
        rows = []
        for event in docker.events:
            if isinstance(event, api.NamespaceChange):
                proc = table.processes[event.pid]
                role = book.phase_at(proc, event.seq).role
                rows.append([event.seq, f"{event.t * 1000:.1f} ms", event.pid, str(role), event.kind,
                             f"{event.old} → {event.new}", event.via])
        show_table(["seq", "time", "pid", "role", "kind", "inode", "via"], rows)

        stage = {phase.role.detail: proc for proc in table.history for phase in book.phases(proc)
                 if phase.role.name == "runc init"}
        parent_stage, child_stage, init_stage = stage["runc:[0:PARENT]"], stage["runc:[1:CHILD]"], stage["runc:[2:INIT]"]
        joined = [e for e in docker.events if isinstance(e, api.NamespaceChange) and e.via == "setns"]
        assert {e.kind for e in docker.events if isinstance(e, api.NamespaceChange) and e.pid == child_stage.pid} == {
            "ipc", "mnt", "net", "uts"}
        assert [(e.pid, e.kind, e.via) for e in docker.events
                if isinstance(e, api.NamespaceChange) and e.pid == init_stage.pid] == [(init_stage.pid, "pid", "clone")]
        assert [e.new for e in joined] == [child_stage.ns["net"]]   # dockerd's helper joins the container's net ns
        """
    ),
    md(
        """
        * `runc:[1:CHILD]`, the middle stage of `runc init`, calls `unshare` and lands in new mount, UTS, IPC and
          network namespaces at once.
        * `runc:[2:INIT]`, the child it forks next, is born in the new pid namespace (pid 1 there): as in the
          `unshare` trace of notebook 1, `unshare(CLONE_NEWPID)` moves no one; the next child goes in.
        * `--network none` still means a new network namespace — one with only a loopback interface. dockerd
          then runs a helper (`set-ipv6`, dockerd re-executing itself) that **joins** that namespace with
          `setns(CLONE_NEWNET)` to configure it: a process can enter an existing namespace, as `docker exec` does.
        * `cgroup`, `user` and `time` stay the host's: Docker's defaults on this cgroup v1 host create no cgroup or
          user namespace.

        ## 5. What `runc init` does, step by step

        `runc create` starts `runc init`, which runs in three processes. They name themselves with
        `prctl(PR_SET_NAME)`: `runc:[0:PARENT]`, `runc:[1:CHILD]`, `runc:[2:INIT]`. Here is every system call
        boxtrace recorded for each, in order (runs of the same call folded). Stage 2 is a Go program: its
        `clone3(...CLONE_THREAD...)` lines start threads, and `tgkill(..., SIGURG)` is Go's scheduler nudging its
        own threads. Neither has anything to do with the container.
        """
    ),
    code(
        """
        #: Calls shown one by one even when they repeat; other repeated calls are folded into one line.
        ALWAYS_SHOWN = {"mount", "umount2", "pivot_root", "unshare", "clone", "setns", "sethostname", "capset",
                        "chdir", "fchdir", "execve", "execveat"}


        def steps(proc):
            \"\"\"The process's events in order as lines; a call repeated back to back is shown once, with a count.\"\"\"
            out, last_key, repeats = [], None, 0
            for seq in proc.event_seqs:
                event = table.events_by_seq[seq]
                key = (event.name, event.args.get("option")) if isinstance(event, api.Syscall) else None
                if key is not None and key == last_key and event.name not in ALWAYS_SHOWN:
                    repeats += 1
                    continue
                if repeats:
                    out[-1] += f"   … and {repeats} more like it"
                last_key, repeats = key, 0
                out.append(line(event, table))
            if repeats:
                out[-1] += f"   … and {repeats} more like it"
            return out


        # Long paths made short: the image's root filesystem and the container id.
        rootfs = next(e.args["path"] for e in table.syscalls_of(parent_stage.pid) if e.name == "chdir")
        container_id = next(p.execs[-1].argv[-1] for p in table.history if book.role(p).name == "runc create")
        print(f"$ROOTFS = {rootfs}\\n$ID = {container_id}\\n")


        def short(text):
            return text.replace(rootfs, "$ROOTFS").replace(container_id, "$ID")


        for proc in (parent_stage, child_stage):
            print(f"--- pid {proc.pid}: {roles(proc)}")
            print(short("\\n".join(steps(proc))), end="\\n\\n")
        """
    ),
    code(
        """
        print(f"--- pid {init_stage.pid}: {roles(init_stage)}")
        print(short("\\n".join(steps(init_stage))))
        """
    ),
    code(
        """
        runc_create = table.processes[init_stage.ppid]
        entrypoint = next(e for e in init_stage.execs if book.phase_at(init_stage, e.seq).role.kind == "entrypoint")
        # Each stage's calls while it was runc (stage 2 becomes the shell at the entrypoint's exec).
        calls = {proc.pid: [e for e in table.syscalls_of(proc.pid) if e.seq < entrypoint.seq]
                 for proc in (parent_stage, child_stage, init_stage)}
        clones = [e for pid in calls for e in calls[pid]
                  if e.name in ("clone", "clone3") and "CLONE_THREAD" not in e.args["flags"]]
        names = [e.name for e in calls[child_stage.pid]]

        # Two forks with CLONE_PARENT, and no CLONE_NEW* flag on any of them
        assert [(e.pid, e.args["flags"]) for e in clones] == [(parent_stage.pid, ["CLONE_PARENT"]),
                                                            (child_stage.pid, ["CLONE_PARENT"])]
        # ...with the unshare in between, in the middle stage
        assert names.index("unshare") < names.index("clone")
        # CLONE_PARENT: both later stages are children of runc create, not of the stage that made them
        assert child_stage.creator == parent_stage.pid and init_stage.creator == child_stage.pid
        assert child_stage.ppid == init_stage.ppid == parent_stage.ppid == runc_create.pid
        assert init_stage.nspid[-1] == 1
        # runc create put stage 0 into the container's cgroups; the later stages inherit them by forking
        cgroup_procs = [e for e in table.syscalls_of(runc_create.pid) if str(e.args.get("path", "")).endswith("cgroup.procs")]
        assert cgroup_procs and {e.args["data"] for e in cgroup_procs} == {str(parent_stage.pid)}
        # The root change: pivot_root(".", "."), then the old root detached
        init_names = [e.name for e in calls[init_stage.pid]]
        pivot = init_names.index("pivot_root")
        detach = next(e for e in calls[init_stage.pid][pivot:] if e.name == "umount2")
        assert calls[init_stage.pid][pivot].args == {"new_root": ".", "put_old": "."}
        assert detach.args == {"target": ".", "flags": ["MNT_DETACH"]}
        print(f"runc create (pid {runc_create.pid}) wrote pid {parent_stage.pid} to {len(cgroup_procs)} cgroup.procs files")
        threads = [e.ret for e in calls[init_stage.pid] if e.name == "clone3" and "CLONE_THREAD" in e.args["flags"]]
        shell_child = next(p for p in table.history if p.ppid == init_stage.pid)
        print(f"inside the new pid namespace, runc's Go threads took pids {threads}; "
              f"the shell's first child got pid {shell_child.pid_in_namespace}")
        """
    ),
    md(
        """
        Reading the lists above from the top:

        1. **Stage 0** (`runc:[0:PARENT]`) began as `runc init` exec'd from `/proc/self/exe`. It bind-mounts
           that binary read-only on a temporary file, detaches the mount again and re-execs itself from a file
           descriptor it kept on it (`execveat`). A container process that later got hold of this runc binary
           could not write to the host's copy: runc's defence against CVE-2019-5736 (other runc versions copy
           themselves into a sealed memfd instead). It then forks the next stage with `clone(CLONE_PARENT)`.
        2. **Stage 1** (`runc:[1:CHILD]`) calls `unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|
           CLONE_NEWNET)` — the namespaces are made here, by `unshare`, not by `clone` — and forks stage 2 with
           `clone(CLONE_PARENT)` again, then exits.
        3. **Stage 2** (`runc:[2:INIT]`) is pid 1 of the new pid namespace. It is still runc (a Go program, whose
           threads also take pids in the new namespace), and it builds the container's view in kernel order:
           `mount("", "/", MS_REC|MS_SLAVE)` so nothing it mounts leaks back to the host; a bind mount of the
           rootfs onto itself; `proc`, `/dev`, `devpts`, `shm`, `mqueue`, `sysfs` and the cgroup mounts, each
           target given as `/proc/self/fd/N` (boxtrace shows the real path after `# target=`), so that a symlink
           planted in the image cannot redirect a mount; the device nodes; `pivot_root(".", ".")`, then
           `umount2(".", MNT_DETACH)` of the old root; `sethostname` with the short container id; read-only and
           masked `/proc` paths; the seccomp filter (`prctl(PR_SET_SECCOMP)`); capability bounding-set drops and
           `capset`. Then it blocks on the `exec.fifo` that `runc create` made, until `runc start` opens it, and
           execs the entrypoint.

        `CLONE_PARENT` makes each new stage a child of the caller's *parent*: both stage 1 and stage 2 are
        children of `runc create`, which can wait for them. When `runc create` exits, the orphaned pid 1 is
        re-parented to the shim, which made itself a **child subreaper** (`prctl(PR_SET_CHILD_SUBREAPER)`).

        ## 6. create, start, run, exit, delete
        """
    ),
    code(
        """
        def first_exec(role_name):
            for proc in table.history:
                for phase in book.phases(proc)[1:]:
                    if phase.role.name == role_name:
                        return table.events_by_seq[phase.start_seq]
            return None


        moments = [
            ("runc create starts", first_exec("runc create")),
            ("runc create exits", runc_create.exit),
            ("runc start starts", first_exec("runc start")),
            ("entrypoint exec'd (pid 1)", entrypoint),
            ("pid 1 exits", init_stage.exit),
            ("runc delete starts", first_exec("runc delete")),
        ]
        show_table(["moment", "time", "event"], [[what, f"{e.t * 1000:.1f} ms", line(e, table)] for what, e in moments])
        times = [e.t for _, e in moments]
        assert times == sorted(times)

        reaper = next(e for e in docker.events if isinstance(e, api.Syscall) and e.name == "wait4" and e.ret == init_stage.pid)
        print(f"pid 1 ({init_stage.pid}) was reaped by pid {reaper.pid}: {roles(table.processes[reaper.pid])}")
        assert book.role(table.processes[reaper.pid]).name == "containerd-shim"
        """
    ),
    md(
        """
        * `runc create` returns while the container's init is still waiting: create and start are separate so
          that the caller can wire up I/O and networking in between (the `libnetwork-setkey` hook ran then).
        * `runc start` lets the waiting init go: it `execve`s `/bin/sh` and stays the same process — pid 1.
        * The container lives exactly as long as its pid 1. The shell ran its two commands and exited 0; the
          shim, its subreaper, collected the exit status with `wait4` (the status it passes on to containerd and,
          through dockerd, to the waiting CLI) and ran `runc delete` to remove runc's state and the container's
          cgroups. containerd then ran `containerd-shim-runc-v2 ... delete` for its own clean-up, which calls
          `runc delete` once more.

        ## 7. Limits on top of the views: cgroups, capabilities, seccomp

        Namespaces decide what the container *sees*. Three more mechanisms decide what it may *use* and *do*;
        `api.insights(recording)` reads them out of the same events:

        * **cgroups** — how much CPU, memory, how many processes, which devices (runc writes the pid of its
          first init stage into each hierarchy's `cgroup.procs`; the later stages are forked inside);
        * **capabilities** — which of root's privileges root inside the container still has;
        * **seccomp** — which system calls the kernel lets the container make at all.
        """
    ),
    code(
        """
        insights = api.insights(docker)
        sections = {
            "cgroups": insights.cgroups.facts(),
            "capabilities": insights.capabilities.facts(),
            "seccomp": [fact for found in insights.seccomp for fact in found.facts()],
            "the mount table": insights.mounts.facts(),
        }
        for title, facts in sections.items():
            print(f"--- {title}")
            print("\\n".join(facts) or "(nothing recorded)", end="\\n\\n")
        assert insights.seccomp and insights.cgroups.placements()
        """
    ),
    md(
        """
        So a container is a process tree *plus* new namespaces, a root filesystem of its own, a cgroup, a reduced
        set of capabilities and (with Docker's defaults) a seccomp filter — all set up by `runc init` on itself,
        just before it becomes the entrypoint.

        **Try it:** how many `prctl(PR_CAPBSET_DROP, ...)` calls does stage 2 make, and why twice as many as the
        capabilities it drops? (Look at where `setuid` falls in the list of section 5.)
        """
    ),
]


# 03 -------------------------------------------------------------------------------------------------------------

NB03 = [
    md(
        """
        # 3 · Five ways to start a container, compared

        The same busybox shell, started five ways, each recorded by boxtrace on the same machine:

        | scenario | what runs |
        | --- | --- |
        | `teach` | boxtrace's lesson runtime, one system call per step |
        | `unshare` | util-linux `unshare` + `chroot` |
        | `runc` | `runc run` of an OCI bundle |
        | `containerd` | `ctr run`: containerd, its shim, runc |
        | `docker` | `docker run`: the CLI, dockerd, containerd, the shim, runc |

        Tables are Markdown, plots are matplotlib; nothing needs root.
        """
    ),
    SETUP,
    code(
        """
        from collections import Counter
        from io import BytesIO

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from IPython.display import Image

        NAMES = ["teach", "unshare", "runc", "containerd", "docker"]
        recordings = {name: api.load(name) for name in NAMES}
        tables = {name: api.processes(rec) for name, rec in recordings.items()}
        books = {name: api.role_book(table) for name, table in tables.items()}


        def show_figure(figure):
            buffer = BytesIO()
            figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            plt.close(figure)
            display(Image(data=buffer.getvalue()))


        show_table(["scenario", "command", "mode", "kernel"],
                   [[n, " ".join(r.header.command)[:90], r.header.mode, r.header.kernel] for n, r in recordings.items()])
        """
    ),
    md(
        """
        ## 1. Which system call creates the namespaces?
        """
    ),
    code(
        """
        rows, callers = [], {}
        for name, recording in recordings.items():
            table, book = tables[name], books[name]
            for event in recording.events:
                if asks_for_namespaces(event) or (isinstance(event, api.Syscall) and event.name == "setns"):
                    role = book.phase_at(table.processes[event.pid], event.seq).role
                    rows.append([name, str(role), line(event, table)])
                    callers.setdefault(event.name, set()).add(name)
        show_table(["scenario", "called by", "call"], rows)

        assert callers.get("clone") == {"teach"} and "clone3" not in callers
        assert callers.get("unshare") == {"unshare", "runc", "containerd", "docker"}
        """
    ),
    code(
        """
        rows = []
        for name, recording in recordings.items():
            vias = {}
            for event in recording.events:
                if isinstance(event, api.NamespaceChange) and event.kind != "pid_for_children":
                    vias.setdefault(event.via, set()).add(event.kind)
            rows.append([name] + [", ".join(sorted(vias.get(via, ()))) for via in ("clone", "unshare", "setns")])
        show_table(["scenario", "entered by being born (clone)", "entered by unshare", "joined with setns"], rows)
        """
    ),
    md(
        """
        Two roads to the same place:

        * **clone with `CLONE_NEW*` flags** (`teach`; also crun and bubblewrap): the child is born in the new
          namespaces, pid namespace included.
        * **unshare(2), then fork** (`unshare`, and runc under `runc`, `containerd` and `docker`): the caller moves
          into new mount, UTS, IPC and network namespaces; the pid namespace only takes effect for the child it
          forks next, which is why the `pid` change shows up as "born (clone)" even there. runc's forks carry
          `CLONE_PARENT` and no `CLONE_NEW*` flag at all.

        So "runc calls `clone()` to create the namespaces" is loose: in these traces runc creates them with
        `unshare`. containerd and Docker create none themselves — they ask runc. Only dockerd's helper *joins*
        one (`setns`) to configure the network namespace runc made.

        ## 2. System calls by category

        boxtrace's default filter records six categories. Counts include everything traced: for `containerd` and
        `docker` that means the client, the shim and the runc processes (the attached daemons only for the
        processes they create).
        """
    ),
    code(
        """
        CATEGORIES = [c for c in api.CATEGORIES if c != "other"]
        counts = {name: Counter(e.category for e in rec.events if isinstance(e, api.Syscall))
                  for name, rec in recordings.items()}
        show_table(["scenario", *CATEGORIES, "total"],
                   [[name, *(counts[name][c] for c in CATEGORIES), sum(counts[name].values())] for name in NAMES])

        figure, axes = plt.subplots(figsize=(10, 4))
        width = 0.16
        for i, name in enumerate(NAMES):
            xs = [j + (i - 2) * width for j in range(len(CATEGORIES))]
            axes.bar(xs, [counts[name][c] for c in CATEGORIES], width, label=name)
        axes.set_xticks(range(len(CATEGORIES)), CATEGORIES)
        axes.set_yscale("log")
        axes.set_ylabel("system calls (log scale)")
        axes.set_title("Recorded system calls by category")
        axes.legend()
        show_figure(figure)
        """
    ),
    code(
        """
        def kind_of_clone(event):
            flags = event.args.get("flags") or []
            if "CLONE_THREAD" in flags:
                return "new thread"
            return "new namespaces" if any(f.startswith("CLONE_NEW") for f in flags) else "new process"


        rows = []
        for name, recording in recordings.items():
            kinds = Counter()
            for event in recording.events:
                if isinstance(event, api.Syscall) and event.category == "namespaces":
                    kinds[kind_of_clone(event) if event.name in ("clone", "clone3") else event.name] += 1
            rows.append([name, *(kinds[k] for k in ("new thread", "new process", "new namespaces", "unshare",
                                                     "setns", "sethostname"))])
        show_table(["scenario", "clone: thread", "clone: process", "clone: CLONE_NEW*", "unshare", "setns",
                    "sethostname"], rows)
        """
    ),
    md(
        """
        Two things to notice:

        * The `namespaces` category holds every `clone`, and most of them start **threads** of Go programs
          (runc, the shim, the CLI) — not namespaces. Only one call per trace actually creates namespaces.
        * `privileges` is the largest category under `runc` and `containerd`, and large under `docker` too: runc
          removes capabilities from the bounding set one `prctl(PR_CAPBSET_DROP, CAP_...)` at a time (the kernel
          has no call that sets the whole set), lowers the ambient set the same way, then `capset`s what the
          container keeps. The `teach` runtime
          does none of this: its container runs with all of root's capabilities, which is one reason it is a
          lesson and not a runtime.

        ## 3. The processes involved
        """
    ),
    code(
        """
        rows = []
        for name in NAMES:
            table, book = tables[name], books[name]
            started = [p for p in table.history if p.via != "attach"]
            attached = [p for p in table.history if p.via == "attach"]
            seen = []
            for proc in started:
                phases = book.phases(proc)
                creator = table.processes.get(proc.creator) if proc.creator is not None else None
                inherited = creator is not None and str(phases[0].role) == str(book.phase_at(creator, proc.start_seq).role)
                for phase in phases[1:] if inherited else phases:   # a fork runs its creator's program until it execs
                    role = str(phase.role)
                    if role not in seen:
                        seen.append(role)
            rows.append([name, len(started), ", ".join(str(book.role(p)) for p in attached) or "-", " → ".join(seen)])
        show_table(["scenario", "processes started", "attached to", "roles, in order of appearance"], rows)
        """
    ),
    md(
        """
        ## 4. Time from start to the entrypoint's `execve`

        From the moment the launched command starts to the moment the container's program is exec'd as pid 1
        (the scenario's `entrypoint` milestone). These are times **under the tracer**: every recorded system call
        stops the program twice, so absolute numbers are inflated, the more so the more calls a launch makes.
        Compare orders of magnitude, not milliseconds. (`teach` is slower than `unshare` mostly because it first
        starts a Python interpreter.)
        """
    ),
    code(
        """
        rows, millis = [], {}
        for name, recording in recordings.items():
            table = tables[name]
            found = {result.milestone.id: result for result in api.milestones(recording)}
            entry = table.events_by_seq[found["entrypoint"].seqs[0]]
            start = next(p for p in table.history if p.via == "launch").start_t
            millis[name] = (entry.t - start) * 1000
            rows.append([name, f"{millis[name]:.1f} ms", line(entry, table)])
        show_table(["scenario", "start → entrypoint", "the exec"], rows)

        figure, axes = plt.subplots(figsize=(8, 3))
        axes.barh(NAMES[::-1], [millis[n] for n in NAMES[::-1]], color="#4c72b0")
        for y, name in enumerate(NAMES[::-1]):
            axes.text(millis[name], y, f" {millis[name]:.0f} ms", va="center")
        axes.set_xlabel("milliseconds under the tracer")
        axes.set_title("Start to the entrypoint's execve")
        show_figure(figure)
        """
    ),
    code(
        """
        # Where the time goes in the longer launches: each milestone's first event, in trace time.
        for name in ("runc", "containerd", "docker"):
            recording, table = recordings[name], tables[name]
            rows = [[r.milestone.id, r.milestone.title, f"{table.events_by_seq[r.seqs[0]].t * 1000:.1f} ms"]
                    for r in api.milestones(recording) if r.found]
            rows.sort(key=lambda row: float(row[2].split()[0]))
            display(Markdown(f"**{name}**"))
            show_table(["milestone", "title", "first seen"], rows)
        """
    ),
    md(
        """
        In the `docker` column far more time passes between `unshare` and `pivot_root` than under `runc` or
        `containerd`. The longest silence of `runc:[2:INIT]` before its `pivot_root` shows where it goes:
        """
    ),
    code(
        """
        table, book = tables["docker"], books["docker"]
        hook = next(p for p in table.history if book.role(p).name == "libnetwork-setkey hook")
        init_stage = next(p for p in table.history if len(p.nspid) > 1 and p.nspid[-1] == 1)
        pivot = next(e for e in table.syscalls_of(init_stage.pid) if e.name == "pivot_root")
        calls = [e for e in table.syscalls_of(init_stage.pid) if e.seq <= pivot.seq]
        quiet_from, quiet_to = max(zip(calls, calls[1:]), key=lambda pair: pair[1].t - pair[0].t)
        print(f"runc init was silent from {quiet_from.t * 1000:.0f} ms ({quiet_from.name}) "
              f"to {quiet_to.t * 1000:.0f} ms ({quiet_to.name})")
        print(f"meanwhile runc create ran the libnetwork-setkey hook, pid {hook.pid}, "
              f"from {hook.start_t * 1000:.0f} to {hook.exit.t * 1000:.0f} ms")
        assert quiet_from.t < hook.start_t and hook.exit.t < quiet_to.t
        """
    ),
    md(
        """
        runc's init tells `runc create` it is ready for the prestart hooks and waits; `runc create` runs Docker's
        `libnetwork-setkey` hook (which asks dockerd to set up the container's network namespace, see notebook 2)
        and only then lets the init continue to `pivot_root`. Under the tracer, the hook's own Go start-up and
        dockerd's helper make that the longest step of the whole launch.
        """
    ),
    md(
        """
        ## 5. What every one of them does, and what only some do
        """
    ),
    code(
        """
        def has(recording, name, **args):
            return any(isinstance(e, api.Syscall) and e.name == name and e.error is None
                       and all(e.args.get(k) == v for k, v in args.items()) for e in recording.events)


        rows = []
        for name, recording in recordings.items():
            table = tables[name]
            new_kinds = set()
            for proc in table.history:
                new_kinds |= set(table.new_namespaces(proc.pid)) - {"pid_for_children"}
            root = "pivot_root" if has(recording, "pivot_root") else "chroot" if has(recording, "chroot") else "-"
            cgroups = sum(1 for e in recording.events if isinstance(e, api.Syscall) and e.category == "cgroups")
            drops = sum(1 for e in recording.events if isinstance(e, api.Syscall) and e.args.get("option") == "PR_CAPBSET_DROP")
            seccomp = has(recording, "prctl", option="PR_SET_SECCOMP") or any(
                isinstance(e, api.Syscall) and e.name == "seccomp" and e.error is None and e.args.get("fprog")
                for e in recording.events)
            nnp = has(recording, "prctl", option="PR_SET_NO_NEW_PRIVS")
            rows.append([name, ", ".join(sorted(new_kinds)), root, cgroups, drops, "yes" if seccomp else "no",
                         "yes" if nnp else "no"])
            assert {"mnt", "uts", "ipc", "net", "pid"} <= new_kinds and root != "-"
        show_table(["scenario", "new namespaces", "root change", "cgroup calls", "bounding-set drops",
                    "seccomp filter", "no_new_privs"], rows)
        """
    ),
    md(
        """
        Every launch makes the same five namespaces and changes the root: that is the container. The rest is
        policy, and it varies:

        * **cgroups** (resource limits and accounting) are set up by runc — `mkdir` of the container's cgroup and
          its pid written to `cgroup.procs` — not by `teach` or `unshare`.
        * **capabilities** are cut down by runc in every runc-based launch.
        * **seccomp**: only `docker` loaded a filter (Docker's default profile); `ctr run` does not ask for one
          by default, and boxtrace's runc bundle has none. The `seccomp(...) = -1 EFAULT` lines in runc's own
          process are not filters: they are runc's seccomp library probing which kernel features exist, with
          deliberately bad arguments.
        * **no_new_privs** was set where the OCI config asks for it (boxtrace's bundle, and ctr's default spec);
          Docker does not set it unless you pass `--security-opt no-new-privileges`.

        ## 6. The same comparison, from the library

        `boxtrace compare teach.jsonl unshare.jsonl ... --markdown` prints this table; `api.compare_markdown`
        returns it. It names the process that made each namespace and says which child entered the new pid
        namespace.
        """
    ),
    code(
        """
        display(Markdown(api.compare_markdown(list(recordings.values()))))
        """
    ),
    md(
        """
        **Try it:** add `"teach-rootless"` to `NAMES` and run the notebook again. Which rows change?
        """
    ),
]


# 04 -------------------------------------------------------------------------------------------------------------

NB04 = [
    md(
        """
        # 4 · Trace it yourself

        This notebook traces a real container launch when it can, and otherwise reads the recording shipped with
        boxtrace — and it **says which** it did. Tracing needs root (ptrace, namespaces) and the scenario's
        prerequisites; run Jupyter as root on a Linux machine for the live trace, e.g.
        `sudo .venv/bin/jupyter lab --allow-root` after installing JupyterLab into the venv.

        Pick the scenario: `unshare` needs only util-linux; `runc` needs runc. Set the environment variable
        `BOXTRACE_NOTEBOOK_MODE=recording` to skip the live trace even as root.
        """
    ),
    SETUP,
    code(
        """
        SCENARIO = "unshare"   # or "runc"
        """
    ),
    md(
        """
        ## 1. Can this machine run it?

        `check()` answers without changing anything; when the answer is no it says why and what would fix it.
        """
    ),
    code(
        """
        scenario = api.get_scenario(SCENARIO)
        readiness = scenario.check()
        print(f"{scenario.name}: {scenario.summary}")
        print("ready:", readiness.ready)
        if not readiness.ready:
            print("why:  ", readiness.reason)
            print("fix:  ", readiness.fix)
        """
    ),
    md(
        """
        ## 2. Trace, or fall back to the recording
        """
    ),
    code(
        """
        import os
        import tempfile
        from pathlib import Path

        mode, reason = "recording", ""
        if os.environ.get("BOXTRACE_NOTEBOOK_MODE") == "recording":
            reason = "BOXTRACE_NOTEBOOK_MODE=recording asks for the shipped recording"
        elif not readiness.ready:
            reason = f"{readiness.reason} ({readiness.fix})"
        else:
            output = Path(tempfile.mkdtemp(prefix="boxtrace-notebook-")) / f"{SCENARIO}.jsonl"
            try:
                run = api.trace(SCENARIO, output=output)
            except Exception as error:   # a failed live trace is a lesson too: say why, then use the recording
                reason = f"the live trace failed: {error}"
            else:
                if run.result.status == "completed":
                    mode = "live"
                else:
                    reason = f"the live trace ended {run.result.status}"

        if mode == "live":
            recording = api.load(output)
            print(f"boxtrace notebook mode: live - traced {SCENARIO} on this machine just now, saved to {output}")
        else:
            recording = api.load(SCENARIO)
            print(f"boxtrace notebook mode: recording - read the shipped {api.recording_path(SCENARIO).name}, "
                  f"because {reason}")
        """
    ),
    md(
        """
        ## 3. What happened

        The same lines `boxtrace show FILE` prints: one per event, indented by the process tree, `[ns pid N]`
        where a process sees itself under another pid.
        """
    ),
    code(
        """
        from rich.console import Console

        console = Console(width=160, color_system=None, force_jupyter=False, force_terminal=False)
        api.print_recording(console, api.events(recording))
        """
    ),
    md(
        """
        ## 4. The milestones

        Each scenario says what its trace must show. `api.milestones(recording)` finds each one (the events that
        show it), and where a popular explanation is wrong or loose, the milestone carries the claim and what the
        trace shows instead.
        """
    ),
    code(
        """
        table = api.processes(recording)
        results = api.milestones(recording)
        for result in results:
            milestone = result.milestone
            mark = "found" if result.found else ("missing" if milestone.required else "not in this run")
            print(f"[{mark}] {milestone.title}")
            if result.found:
                print("    ", line(table.events_by_seq[result.seqs[0]], table))
            if milestone.claim:
                print("     claim:  ", milestone.claim)
                print("     reality:", milestone.reality)
        missing = [r.milestone.id for r in results if r.milestone.required and not r.found]
        assert not missing, f"milestones missing from this trace: {missing}"
        """
    ),
    md(
        """
        ## 5. Live against shipped

        Pids and times change from run to run, and so does the order in which the kernel lets *different*
        processes run. The decisive calls of each process should not change. Here are the namespace and
        root-changing calls of this notebook's trace next to those of the shipped recording (the same file when
        the notebook fell back to it), process by process: process 1 is the first one started, and so on.
        """
    ),
    code(
        """
        DECISIVE = ("clone", "clone3", "unshare", "setns", "mount", "pivot_root", "chroot", "umount2", "sethostname")


        def decisive_calls(rec):
            \"\"\"(process number, call name, strace-like line) of the successful decisive calls, threads left out.\"\"\"
            tbl = api.processes(rec)
            number = {proc.pid: i + 1 for i, proc in enumerate(tbl.history)}
            calls = [e for e in rec.events if isinstance(e, api.Syscall) and e.name in DECISIVE and e.error is None
                     and "CLONE_THREAD" not in (e.args.get("flags") or [])]
            calls.sort(key=lambda e: (number.get(e.pid, 0), e.seq))
            return [(number.get(e.pid, 0), e.name, api.format_call(e.name, e.args, e.ret, e.error)) for e in calls]


        shipped = api.load(SCENARIO)
        mine, theirs = decisive_calls(recording), decisive_calls(shipped)
        rows = []
        for i in range(max(len(mine), len(theirs))):
            left, right = (mine[i] if i < len(mine) else None), (theirs[i] if i < len(theirs) else None)
            rows.append([(left or right)[0], left[2] if left else "", right[2] if right else ""])
        show_table(["process", f"this notebook ({mode})", "shipped recording"], rows)
        same = [(n, name) for n, name, _ in mine] == [(n, name) for n, name, _ in theirs]
        print("same calls, process by process (paths and pids aside):", same)
        """
    ),
    md(
        """
        ## 6. Next

        * From a shell: `sudo boxtrace demo unshare` (or `runc`, `docker`) traces a scenario and opens the
          terminal UI; `boxtrace demo --replay docker` replays a shipped recording without root.
        * Any command: `sudo boxtrace run -o mine.jsonl -- unshare --fork --pid --mount-proc sh -c 'ps'`, then
          `boxtrace show mine.jsonl`, or load it here with `api.load("mine.jsonl")`.
        * Draw it: `boxtrace export mine.jsonl --view architecture -o mine.svg`.
        """
    ),
]


NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01-what-a-container-is.ipynb": NB01,
    "02-docker-run-end-to-end.ipynb": NB02,
    "03-runtimes-compared.ipynb": NB03,
    "04-trace-it-yourself.ipynb": NB04,
}


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    stem = name.split("-", 1)[0]
    for index, (kind, source) in enumerate(cells):
        cell = new_markdown_cell(source) if kind == "markdown" else new_code_cell(source)
        cell.id = f"nb{stem}-{index:02d}"  # stable ids: regenerating gives the same file
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        path = HERE / name
        nbformat.write(build(name, cells), path)
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
