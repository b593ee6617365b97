"""One function per CLI command (`boxtrace.cli` names them with `set_defaults(func=...)`); each calls the
library and returns an exit code, or raises UserError/UsageError (boxtrace.errors) for `cli.main` to report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from boxtrace.errors import EXIT_FAILURE, UsageError, UserError
from boxtrace.outputs import check_output
from boxtrace.stopping import install_stop_handlers


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _console_view():
    from viz.console import ConsoleView

    return ConsoleView(_console())


def _options(args: argparse.Namespace, **extra):
    from tracer.engine import TraceOptions

    return TraceOptions(
        filter=getattr(args, "filter", "container"),
        show_env=getattr(args, "show_env", False),
        extra_syscalls=tuple(getattr(args, "syscalls", ()) or ()),
        inject=inject_rules(getattr(args, "inject", None) or (), attach_only=getattr(args, "command", "") == "attach"),
        **extra,
    )


def _check_syscall_names(names: tuple[str, ...]) -> None:
    """-e takes the kernel's names: an unknown one is a mistake on the command line, found before anything runs."""
    if not names:
        return
    from tracer.decoders import SYSCALL_NRS_BY_NAME

    unknown = [name for name in names if name not in SYSCALL_NRS_BY_NAME]
    if unknown:
        raise UsageError(f"-e: unknown syscall name {unknown[0]!r}: give names as the kernel spells them, "
                         "e.g. -e openat,read")


def inject_rules(texts, *, attach_only: bool = False) -> tuple:
    """--inject rules parsed (tracer/inject.py); a rule that cannot be used is misuse (exit 2)."""
    from tracer.inject import InjectError, Injector, parse_rule

    try:
        rules = tuple(parse_rule(text) for text in texts)
        Injector(rules, attach_only=attach_only)  # refuses, in attach mode, a rule that names no process
    except InjectError as error:
        raise UsageError(str(error)) from None
    return rules


def _check_can_trace() -> None:
    if os.geteuid() != 0:
        # Launching our own children works unprivileged, but everything boxtrace is for (namespaces, runc,
        # daemons) needs root; say so early rather than after a half-traced run.
        from tracer.capabilities import has_cap_sys_ptrace

        if not has_cap_sys_ptrace():
            raise UserError("boxtrace needs root to trace container launches: run it with sudo")


def trace_command(args: argparse.Namespace, command: list[str] | None = None, attach: list[int] | None = None,
                  scenario: str | None = None, extra_options: dict | None = None) -> int:
    from tracer.session import TraceSession

    _check_syscall_names(getattr(args, "syscalls", ()))
    if attach:
        _check_can_trace()
        for pid in attach:
            if not os.path.exists(f"/proc/{pid}"):
                raise UserError(f"no process with pid {pid}")
    check_output(args.output)
    options = _options(args, scenario=scenario, **(extra_options or {}))
    if getattr(args, "tui", False) or getattr(args, "present", False):
        from scenarios import lesson_for
        from tracer.session import SessionSource
        from viz.tui.app import run_live_tui

        source = SessionSource(command, attach, options, args.output)
        return run_live_tui(source, lesson_for(options.scenario), present=args.present, export_dir=args.export_dir)
    sinks = []
    view = None
    if getattr(args, "json", False):
        from tracer.recording import encode_event

        def print_json(event) -> None:
            sys.stdout.write(encode_event(event) + "\n")

        sinks.append(print_json)
    else:
        # rich, the view and the summary's modules load on a helper thread once the tracee runs (console_sink.py).
        from boxtrace.console_sink import DeferredConsoleView

        view = DeferredConsoleView(_console_view, keep_order=sys.stdout.isatty())
        sinks.append(view)
    # The CLI is single-threaded here: the tracer can run in a child of its own (tracer/pipeline.py).
    session = TraceSession(command, attach, options, output=args.output, sinks=sinks, separate_process=True)
    stop_signals = install_stop_handlers(session.request_stop)
    try:
        result = session.run()
    except BaseException:
        # Nothing was traced (a command not found, ptrace refused): the error says so, an empty summary would not.
        if view is not None:
            view.close(summary=False)
        raise
    if view is not None:
        view.close()
    if result.status == "interrupted" and stop_signals:
        # boxtrace ended the trace (and killed what it launched) because of this signal: say so as a shell would.
        return 128 + stop_signals[0]
    if result.exit_code is None:
        return 0 if result.status == "completed" else EXIT_FAILURE
    return result.exit_code


def _after_dashes(words: list[str]) -> list[str]:
    return words[1:] if words and words[0] == "--" else words


def run_command(args: argparse.Namespace) -> int:
    cmd = _after_dashes(list(args.cmd))
    if not cmd:
        raise UsageError("run needs a command after --, e.g. boxtrace run -- unshare --pid --fork sh -c 'echo $$'")
    return trace_command(args, command=cmd)


def attach_command(args: argparse.Namespace) -> int:
    return trace_command(args, attach=args.pids)


def docker_command(args: argparse.Namespace) -> int:
    from scenarios.docker import docker_launch

    docker_args = _after_dashes(list(args.docker_args))
    if not docker_args:
        raise UsageError("docker needs `docker run` arguments after --, e.g. -- --rm boxtrace/busybox echo hi")
    _check_can_trace()
    if not getattr(args, "inject", None):
        launch = docker_launch(docker_args)
        return trace_command(args, command=launch.command, attach=launch.attach_pids, scenario="docker")
    # A fault must hit this docker run's container only, never one that someone else starts meanwhile through the
    # same daemons: docker writes the new container's id to a --cidfile, and the injector checks it (container_scope).
    import tempfile

    from tracer.inject import container_scope

    with tempfile.TemporaryDirectory(prefix="boxtrace-cid-") as directory:
        cidfile = next((docker_args[i + 1] for i, arg in enumerate(docker_args[:-1]) if arg == "--cidfile"), None)
        if cidfile is None:
            cidfile = os.path.join(directory, "cid")
            docker_args = ["--cidfile", cidfile, *docker_args]
        launch = docker_launch(docker_args)
        return trace_command(args, command=launch.command, attach=launch.attach_pids, scenario="docker",
                             extra_options={"inject_scope": container_scope(cidfile)})


def show_command(args: argparse.Namespace) -> int:
    from tracer.recording import encode_event, load_recording

    recording = load_recording(args.trace)
    for warning in recording.warnings:
        print(f"boxtrace: warning: {warning}", file=sys.stderr)
    if args.json:
        out = sys.stdout
        out.write(encode_event(recording.header) + "\n")
        for event in recording.events:
            out.write(encode_event(event) + "\n")
        return 0
    from viz.console import print_recording

    events = [recording.header, *recording.events]
    brief = sys.stdout.isatty() and not args.full
    print_recording(_console(), events, summary=not args.no_summary, brief=brief,
                    milestones=milestone_seqs(events) if brief else frozenset())
    return 0


def milestone_seqs(events: list) -> frozenset[int]:
    """The key event (the first) of each milestone of the recording's scenario, for the brief form of `show`
    (viz never imports scenarios: the CLI hands them over). Empty for a recording of no known scenario."""
    from scenarios import UnknownScenario, get_scenario

    name = events[0].scenario if events else None
    if not name:
        return frozenset()
    try:
        scenario = get_scenario(name)
    except UnknownScenario:
        return frozenset()
    return frozenset(result.seqs[0] for result in scenario.evaluate(events) if result.seqs)


def spec_command(args: argparse.Namespace) -> int:
    import json

    from tracer.insights.spec import spec_report
    from tracer.recording import load_recording
    from viz.spec_view import render_spec, spec_json

    recording = load_recording(args.trace)
    report = spec_report([recording.header, *recording.events])
    if report.bundle is None:
        raise UserError(f"{args.trace}: {report.problem}")
    if args.json:
        print(json.dumps(spec_json(report), indent=1))
    else:
        _console().print(render_spec(report, only_differences=args.differences))
    return 0


def tui_command(args: argparse.Namespace) -> int:
    from scenarios import lesson_for
    from tracer.recording import load_recording
    from viz.tui.app import run_recording_tui

    recording = load_recording(args.trace)
    return run_recording_tui(recording, lesson_for(recording.header.scenario), present=args.present,
                             export_dir=args.export_dir)


def export_format(view: str, fmt: str | None, output: Path) -> str:
    """The format `export` will write, or UsageError when the command line asks for an impossible file:
    an unknown suffix without --format, a format the view cannot be drawn in, or --format contradicting OUT's
    suffix (PNG bytes in a file named .svg)."""
    from viz.export import SUFFIX_FORMATS, ExportError, resolve_format

    try:
        chosen = resolve_format(view, fmt, output)
    except ExportError as error:
        raise UsageError(str(error)) from None
    implied = SUFFIX_FORMATS.get(output.suffix.lower())
    if implied is not None and implied != chosen:
        raise UsageError(f"--format {chosen} contradicts the output name {output.name!r}, which says {implied}: "
                         f"name it *.{chosen} or leave out --format")
    return chosen


def _chapters(recording) -> list:  # noqa: ANN001 - a Recording; chapters are viz.tui.walkthrough.Chapter
    """The walkthrough's chapters of a recording: viz never imports scenarios, the CLI hands them over."""
    from scenarios import lesson_for
    from viz.tui.walkthrough import build_walkthrough

    lesson = lesson_for(recording.header.scenario)
    return build_walkthrough([recording.header, *recording.events], lesson).chapters


def export_command(args: argparse.Namespace) -> int:
    from tracer.recording import load_recording
    from viz.export import ExportError, ExportUsageError, export

    output = Path(args.output)
    fmt = export_format(args.view, args.format, output)
    recording = load_recording(args.trace)
    try:
        written = export(recording, view=args.view, fmt=fmt, theme=args.theme, output=output,
                         slide=args.slide or bool(args.focus), focus=args.focus, chapters=_chapters(recording),
                         detail=args.detail, show_pids=args.pids)
    except ExportUsageError as error:
        raise UsageError(str(error)) from None
    except ExportError as error:
        raise UserError(str(error)) from None
    print(f"wrote {written}")
    return 0


def scenarios_command(args: argparse.Namespace) -> int:
    from rich.table import Table

    from scenarios import SCENARIOS

    table = Table(title="boxtrace scenarios")
    table.add_column("scenario", style="bold")
    table.add_column("ready")
    table.add_column("what it shows")
    table.add_column("why not / how to fix")
    for name, scenario in SCENARIOS.items():
        readiness = scenario.check()
        table.add_row(
            name,
            "[green]ready[/]" if readiness.ready else "[red]not ready[/]",
            scenario.summary,
            "" if readiness.ready else f"{readiness.reason} {readiness.fix}".strip(),
        )
    _console().print(table)
    return 0


def demo_command(args: argparse.Namespace) -> int:
    from boxtrace.demo import run_demo

    if args.replay and args.output:
        raise UsageError("--replay shows the shipped recording and writes nothing: leave out -o, or trace live")
    # The TUI needs a terminal both ways: with stdin from /dev/null (`make demo </dev/null`) nobody could press q.
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if args.present and args.no_tui:
        raise UsageError("--present is a mode of the TUI: leave out --no-tui")
    return run_demo(args.scenario, output=args.output, tui=not args.no_tui and terminal, replay=args.replay,
                    what_if=getattr(args, "what_if", None), inject=inject_rules(getattr(args, "inject", None) or ()),
                    present=args.present, export_dir=args.export_dir)


def doctor_command(args: argparse.Namespace) -> int:
    from scenarios.doctor import report

    return report(_console(), fix_first=args.fix)


def compare_command(args: argparse.Namespace) -> int:
    from tracer.recording import load_recording
    from viz.compare import compare_markdown, render_compare

    recordings = [load_recording(path) for path in args.traces]
    if args.markdown:
        print(compare_markdown(recordings))
    else:
        _console().print(render_compare(recordings))
    return 0


def import_strace_command(args: argparse.Namespace) -> int:
    from tracer.strace_import import import_strace

    report = import_strace(args.log, args.output, show_env=args.show_env)
    print(report.describe())
    return 0
