"""The `boxtrace` command: a thin layer over tracer/, viz/ and scenarios/.

`build_parser()` declares every subcommand, and each one names its handler in `boxtrace.commands` with
`set_defaults(func=...)`; `main()` calls it and turns errors into one sentence on stderr and an exit code (2 for
misuse, 1 for failures, 127 for a missing command); `--debug` shows the traceback. Heavy modules (textual,
networkx, graphviz, ptrace) are imported only by the handlers that use them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from boxtrace import commands
from boxtrace.errors import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_USAGE, UsageError, UserError

__all__ = ["EXIT_FAILURE", "EXIT_NOT_FOUND", "EXIT_USAGE", "UserError", "build_parser", "main", "subcommands"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked (keeps start-up quick)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS,
                         help="print boxtrace's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> NoReturn:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("boxtrace")
        except PackageNotFoundError:
            text = "(not installed: run `make setup`)"
        print(f"boxtrace {text}")
        parser.exit(0)


def _syscall_list(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _example(*lines: str) -> str:
    return "example:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    from scenarios import SCENARIO_MODULES

    parser = _Parser(
        prog="boxtrace",
        description="Watch a container start: processes, namespaces and syscalls of a real launch.",
        epilog=_example("sudo boxtrace demo teach      # trace the lesson runtime and open the TUI",
                        "boxtrace COMMAND --help       # what a command does, its options and an example"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of one sentence (default: off)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, summary: str, example: str, func: object) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                           epilog=_example(example), formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func, command_parser=p)
        return p

    def tui_view_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--present", action="store_true",
                       help="open the TUI in presenter mode on chapter 1: one chapter at a time, large, for a "
                            "projector; P toggles it (default: the three panes)")
        p.add_argument("--export-dir", type=Path, metavar="DIR",
                       help="where the TUI's e (diagram) and s (screenshot) write (default: the current directory)")

    def trace_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("-o", "--output", metavar="FILE",
                       help="write the recording (JSON Lines) to FILE as the trace goes (default: none)")
        p.add_argument("--filter", choices=("container", "all"), default="container",
                       help="container: namespace, mount, process, privilege, cgroup and IPC syscalls, the others "
                            "never stop the program; all: every syscall (default: container)")
        p.add_argument("-e", "--syscalls", type=_syscall_list, default=(), metavar="NAME,...",
                       help="also record these syscalls, e.g. openat,read (default: none)")
        p.add_argument("--show-env", action="store_true",
                       help="record environment values (default: NAME=<redacted>)")
        p.add_argument("--tui", action="store_true", help="watch live in the terminal UI (default: console)")
        tui_view_options(p)
        p.add_argument("--json", action="store_true", help="print events as JSON Lines (default: text)")
        p.add_argument("--inject", action="append", metavar="SYSCALL=ERRNO[@N][:PROCESS]",
                       help="what-if: make the N-th matching call (default: the first) of PROCESS (a comm such as "
                            "runc:[2:INIT] or a program name) fail with ERRNO without running it; repeatable; "
                            "SYSCALL(PATH) matches only calls on a path containing PATH (default: none)")

    run = command("run", "launch a command under the tracer and follow every process it creates",
                  "sudo boxtrace run -o t.jsonl -- unshare --pid --fork --mount-proc sh -c 'echo $$'",
                  commands.run_command)
    trace_options(run)
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARG...]",
                     help="the command to launch and its arguments, after --")

    attach = command("attach", "attach to running processes; Ctrl-C detaches and leaves them running",
                     "sudo boxtrace attach $(pidof containerd)", commands.attach_command)
    trace_options(attach)
    attach.add_argument("pids", nargs="+", type=int, metavar="PID",
                        help="a process to follow with its threads and descendants")

    docker = command("docker", "trace `docker run ARGS` through dockerd, containerd, the shim and runc",
                     "sudo boxtrace docker -o d.jsonl -- --rm --network none boxtrace/busybox hostname",
                     commands.docker_command)
    trace_options(docker)
    docker.add_argument("docker_args", nargs=argparse.REMAINDER, metavar="-- DOCKER_RUN_ARGS",
                        help="the arguments of `docker run`, after --")

    show = command("show", "print a recording as the live run printed it",
                   "boxtrace show scenarios/recordings/teach.jsonl", commands.show_command)
    show.add_argument("trace", metavar="TRACE", help="a recording (.jsonl) made by boxtrace")
    show.add_argument("--json", action="store_true", help="re-emit the events as JSON Lines (default: text)")
    show.add_argument("--no-summary", action="store_true",
                      help="leave out the summary and insights after the events (default: print them)")
    show.add_argument("--full", action="store_true",
                      help="print every event and the whole summary (default: on a terminal, the brief form: "
                           "milestones, processes, execs, exits, namespace, root and identity changes)")

    tui = command("tui", "open a recording in the terminal UI", "boxtrace tui scenarios/recordings/docker.jsonl",
                  commands.tui_command)
    tui.add_argument("trace", metavar="TRACE", help="a recording (.jsonl) made by boxtrace")
    tui_view_options(tui)

    export = command("export", "draw a recording: architecture, tree, sequence or timeline",
                     "boxtrace export scenarios/recordings/docker.jsonl --view tree -o docker-tree.svg",
                     commands.export_command)
    export.add_argument("trace", metavar="TRACE", help="a recording (.jsonl) made by boxtrace")
    export.add_argument("--view", choices=("architecture", "tree", "network", "sequence", "timeline", "page"),
                        default="architecture",
                        help="architecture, tree and network (namespaces, interfaces, veth cables): svg, png, pdf "
                             "or dot; sequence: mmd (Mermaid); timeline: json "
                             "(Perfetto); page: html (the whole walkthrough in one self-contained file to open "
                             "offline) (default: architecture)")
    export.add_argument("--format", choices=("svg", "png", "pdf", "dot", "mmd", "json", "html"), default=None,
                        help="the file format (default: from OUT's suffix)")
    export.add_argument("--slide", action="store_true",
                        help="the architecture as a 16:9 slide: short title, no pids, namespaces named by kind "
                             "(default: the full architecture view)")
    export.add_argument("--focus", metavar="PHASE",
                        help="a slide of one walkthrough chapter or phase: handoff, namespaces, root, identity, "
                             "hostname, entrypoint, exit, or a chapter id (default: the whole launch)")
    export.add_argument("--detail", action="store_true", help="show namespace inode numbers on a slide (default: kinds only)")
    export.add_argument("--pids", action="store_true", help="show host pids on a slide (default: hidden)")
    export.add_argument("--theme", choices=("light", "dark"), default="light", help="colours (default: light)")
    export.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write (required)")

    spec = command("spec", "the OCI bundle's promises (its config.json) beside what the trace shows was applied",
                   "boxtrace spec scenarios/recordings/containerd.jsonl --differences", commands.spec_command)
    spec.add_argument("trace", metavar="TRACE", help="a recording (.jsonl) made by boxtrace")
    spec.add_argument("--json", action="store_true", help="print the report as JSON (default: text)")
    spec.add_argument("--differences", action="store_true",
                      help="show only the rows that are not kept (default: every row)")

    command("scenarios", "list the scenarios and whether this machine can run them", "boxtrace scenarios",
            commands.scenarios_command)

    demo = command("demo", "prepare and trace a scenario, then show it (the TUI on a terminal)",
                   "sudo boxtrace demo runc --no-tui", commands.demo_command)
    names = tuple(SCENARIO_MODULES)
    demo.add_argument("scenario", nargs="?", default=None, choices=names, metavar="SCENARIO",
                      help=f"one of {', '.join(names)} (default: docker when a Docker engine answers, else runc; "
                           "with --replay: docker)")
    demo.add_argument("-o", "--output", metavar="FILE",
                      help="write the recording to FILE (default: ./boxtrace-SCENARIO.jsonl)")
    demo.add_argument("--no-tui", action="store_true",
                      help="print to the console instead of the TUI (default: the TUI when stdin and stdout are a "
                           "terminal)")
    demo.add_argument("--what-if", dest="what_if", metavar="EXPERIMENT",
                      help="runc only: break one step on purpose and follow runc's reaction: pivot_root, "
                           "sethostname, unshare, cgroup or exec (default: none)")
    demo.add_argument("--inject", action="append", metavar="SYSCALL=ERRNO[@N][:PROCESS]",
                      help="inject your own fault into the scenario (see run --inject) (default: none)")
    tui_view_options(demo)
    demo.add_argument("--replay", action="store_true",
                      help="show the shipped recording instead of tracing (no root needed) (default: trace live)")

    doctor = command("doctor", "check what this machine can trace and say how to fix what it cannot",
                     "sudo boxtrace doctor --fix", commands.doctor_command)
    doctor.add_argument("--fix", action="store_true",
                        help="first install missing packages, build the rootfs, start containerd and dockerd, "
                             "import the images, and print each fix (default: only check)")

    compare = command("compare", "compare the milestones of several recordings side by side",
                      "boxtrace compare scenarios/recordings/teach.jsonl scenarios/recordings/runc.jsonl",
                      commands.compare_command)
    compare.add_argument("traces", nargs="+", metavar="TRACE", help="recordings (.jsonl) made by boxtrace")
    compare.add_argument("--markdown", action="store_true", help="print a Markdown table (default: a rich table)")

    imp = command("import-strace", "turn an `strace -f -tt` log into a boxtrace recording",
                  "boxtrace import-strace strace.log -o trace.jsonl", commands.import_strace_command)
    imp.add_argument("log", metavar="LOG", help="the strace log (-f with -tt, -ttt or -t; -yy and -v understood)")
    imp.add_argument("-o", "--output", required=True, metavar="TRACE", help="the recording to write (required)")
    imp.add_argument("--show-env", action="store_true",
                     help="keep environment values (strace -v logs carry them) (default: redacted)")
    return parser


def subcommands(parser: argparse.ArgumentParser | None = None) -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser by name, read from the parser itself (for tests and documentation)."""
    parser = parser or build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as error:
        command_parser: argparse.ArgumentParser = args.command_parser
        command_parser.error(str(error))
    except UserError as error:
        print(f"boxtrace: {error}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("boxtrace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed: not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as error:  # noqa: BLE001 - the one place that turns surprises into a sentence
        if args.debug:
            raise
        from tracer.engine import CommandNotFound, TraceError
        from tracer.recording import RecordingError

        if isinstance(error, CommandNotFound):
            print(f"boxtrace: {error}", file=sys.stderr)
            return EXIT_NOT_FOUND
        if isinstance(error, (TraceError, RecordingError, *_explained_scenario_errors())):
            print(f"boxtrace: {error}", file=sys.stderr)
            return EXIT_FAILURE
        if isinstance(error, OSError) and error.filename is not None:
            # The machine refused a file operation (a cache path that is not a directory, a full disk ...).
            print(f"boxtrace: cannot use {error.filename}: {error.strerror or error}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"boxtrace: unexpected error: {error!r} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


def _explained_scenario_errors() -> tuple[type[Exception], ...]:
    """What preparing a launch can fail with, each carrying one sentence for the user (a daemon that does not
    answer, an image or root filesystem that cannot be made, a file nobody cannot be given, a machine not ready)."""
    from scenarios.daemons import DaemonError
    from scenarios.images import ImageError
    from scenarios.rootfs import RootfsError
    from scenarios.runner import ScenarioNotReady
    from scenarios.staging import StagingError

    return (DaemonError, ImageError, RootfsError, ScenarioNotReady, StagingError)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
