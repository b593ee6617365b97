"""The `boxtrace` command: a thin layer over tracer/, viz/ and scenarios/.

Each command parses its arguments and calls one library function. Errors a user can cause become one sentence on
stderr and an exit code (2 for misuse, 1 for failures, 127 for a missing command); `--debug` shows the traceback.
Heavy modules (textual, networkx, graphviz) are imported only by the commands that use them.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 127


class UserError(Exception):
    """A failure explained to the user in one sentence."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _syscall_list(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="boxtrace", description="Watch a container start: processes, namespaces and syscalls.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def trace_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("-o", "--output", metavar="FILE", help="write the recording (JSON Lines) to FILE")
        p.add_argument("--filter", choices=("container", "all"), default="container",
                       help="container: namespace, mount, process, privilege, cgroup and IPC syscalls (default); "
                            "all: every syscall")
        p.add_argument("-e", "--syscalls", type=_syscall_list, default=(), metavar="NAME,...",
                       help="also record these syscalls")
        p.add_argument("--show-env", action="store_true", help="record environment values (redacted by default)")
        p.add_argument("--tui", action="store_true", help="watch in the terminal UI")
        p.add_argument("--json", action="store_true", help="print events as JSON Lines instead of text")

    run = sub.add_parser("run", help="launch a command under the tracer")
    trace_options(run)
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARG...]")

    attach = sub.add_parser("attach", help="attach to running processes (Ctrl-C detaches, they keep running)")
    trace_options(attach)
    attach.add_argument("pids", nargs="+", type=int, metavar="PID")

    docker = sub.add_parser("docker", help="trace `docker run ARGS` through dockerd, containerd, shim and runc")
    trace_options(docker)
    docker.add_argument("docker_args", nargs=argparse.REMAINDER, metavar="-- DOCKER_RUN_ARGS")

    show = sub.add_parser("show", help="print a recording like a live run")
    show.add_argument("trace", metavar="TRACE")
    show.add_argument("--json", action="store_true", help="re-emit the events as JSON Lines")
    show.add_argument("--no-summary", action="store_true")

    tui = sub.add_parser("tui", help="open a recording in the terminal UI")
    tui.add_argument("trace", metavar="TRACE")

    export = sub.add_parser("export", help="draw a recording: architecture, tree, sequence or timeline")
    export.add_argument("trace", metavar="TRACE")
    export.add_argument("--view", choices=("architecture", "tree", "sequence", "timeline"), default="architecture")
    export.add_argument("--format", choices=("svg", "png", "pdf", "dot", "mmd", "json"), default=None)
    export.add_argument("--theme", choices=("light", "dark"), default="light")
    export.add_argument("-o", "--output", required=True, metavar="OUT")

    sub.add_parser("scenarios", help="list the scenarios and whether this machine can run them")

    demo = sub.add_parser("demo", help="prepare and trace a scenario (docker when an engine answers, else runc)")
    demo.add_argument("scenario", nargs="?", default=None)
    demo.add_argument("-o", "--output", metavar="FILE")
    demo.add_argument("--no-tui", action="store_true", help="print to the console instead of the TUI")
    demo.add_argument("--replay", action="store_true", help="use the shipped recording (no root needed)")

    doctor = sub.add_parser("doctor", help="check what this machine can trace; --fix installs and starts it")
    doctor.add_argument("--fix", action="store_true")

    compare = sub.add_parser("compare", help="compare the milestones of several recordings side by side")
    compare.add_argument("traces", nargs="+", metavar="TRACE")
    compare.add_argument("--markdown", action="store_true", help="print a Markdown table")

    imp = sub.add_parser("import-strace", help="turn an `strace -f -tt` log into a boxtrace recording")
    imp.add_argument("log", metavar="LOG")
    imp.add_argument("-o", "--output", required=True, metavar="TRACE")
    imp.add_argument("--show-env", action="store_true",
                     help="keep environment values (strace -v logs carry them; redacted by default)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return dispatch(parser, args)
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
        if isinstance(error, (TraceError, RecordingError)):
            print(f"boxtrace: {error}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"boxtrace: unexpected error: {error!r} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


def dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from boxtrace import commands

    if args.command == "run":
        cmd = list(args.cmd)
        if cmd and cmd[0] == "--":
            cmd = cmd[1:]
        if not cmd:
            _usage(parser, "run needs a command after --, e.g. boxtrace run -- unshare --pid --fork sh -c 'echo $$'")
        return commands.trace_command(args, command=cmd)
    if args.command == "attach":
        return commands.trace_command(args, attach=args.pids)
    if args.command == "docker":
        docker_args = list(args.docker_args)
        if docker_args and docker_args[0] == "--":
            docker_args = docker_args[1:]
        if not docker_args:
            _usage(parser, "docker needs `docker run` arguments after --, e.g. -- --rm boxtrace/busybox echo hi")
        return commands.docker_command(args, docker_args)
    handler = getattr(commands, f"{args.command.replace('-', '_')}_command")
    return handler(args)


def _usage(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    parser.error(message)


def install_stop_handlers(stop: Callable[[str, int], None]) -> list[int]:
    """Ctrl-C and SIGTERM end the trace cleanly (detach or kill as the mode requires) instead of killing us.
    The signal is handed to `stop` too: in launch mode the first one is passed on to the launched command,
    which gets a few seconds to clean up (see Tracer.request_stop).

    Returns the list the handler appends each received signal number to, so the caller can exit as a shell
    would for that signal (130 after Ctrl-C) rather than with the status of the tracee it had to kill."""
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        stop("interrupted by " + signal.Signals(signum).name, signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, handler)
    return received

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
