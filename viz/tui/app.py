"""The boxtrace TUI: open a recording, or trace live, and walk through what the kernel was asked to do.

Entry points for the CLI: `run_recording_tui(recording, lesson)` and `run_live_tui(source, lesson)`: the CLI hands
over the lesson (the scenario's milestones, or None) and, for a live trace, the event source
(tracer.source.EventSource); viz builds neither. Tests build `BoxtraceApp(recording=..., lesson=...)` (or
`live=LiveTrace(source)`) and drive it with Pilot.

The main screen posts messages up (`MainScreen.Ready`) and the app sets state down (`MainScreen.status`).
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from tracer.recording import Recording
from tracer.source import EventSource
from viz.tui.errors import describe_os_error
from viz.tui.live import LiveTrace
from viz.tui.messages import EventsArrived, TraceFinished, TracerFailed
from viz.tui.model import TuiModel
from viz.tui.screens.help import HelpScreen
from viz.tui.screens.main import MainScreen, ScreenSetup
from viz.tui.screens.presenter import PresenterScreen
from viz.tui.screens.spec import SpecScreen
from viz.tui.walkthrough import Lesson

CSS_FILE = Path(__file__).resolve().parent.parent / "app.tcss"
EXIT_FAILURE = 1


#: Signals that end a live trace cleanly (Ctrl-C is a key inside the TUI: the terminal is in raw mode).
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class BoxtraceApp(App[int]):
    """One trace on screen: a recording (`recording=`) or a live trace (`live=`)."""

    CSS_PATH = CSS_FILE
    TITLE = "boxtrace"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (stops a live trace first)"),
        Binding("question_mark", "help", "Help", id="help", tooltip="Keys and panes"),
        Binding("s", "save_screenshot", "Screenshot", id="screenshot", show=False,
                tooltip="Save an SVG screenshot to the export directory"),
    ]

    def __init__(self, recording: Recording | None = None, lesson: Lesson | None = None,
                 live: LiveTrace | None = None, export_dir: Path | None = None, present: bool = False) -> None:
        super().__init__()
        if (recording is None) == (live is None):
            raise ValueError("give either a recording or a live trace")
        self.recording = recording
        self.live = live
        self.export_dir = export_dir
        #: Open in presenter mode, on chapter 1 (`--present`).
        self.present = present
        self.model = TuiModel()
        if recording is not None:
            self.model.extend([recording.header, *recording.events])
        self.lesson = lesson
        self._main_screen: MainScreen | None = None
        self.state = "recording" if recording is not None else "starting"
        self.tracer_worker: Worker | None = None
        self._quitting = False
        self._signal_loop: asyncio.AbstractEventLoop | None = None
        #: The signal (SIGTERM, SIGHUP) that ended a live trace, for the exit status; see _stop_on_signals.
        self.stop_signal: int | None = None
        self._saved_sigcont: Callable[[int, FrameType | None], Any] | int | None = None

    # Screens ---------------------------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        setup = ScreenSetup(lesson=self.lesson, source_name=self.source_name, output_note=self.output_note,
                            program_output=self.program_output, export_to=self.export_target(),
                            recording=self.recording, live=self.live is not None, present=self.present)
        self._main_screen = MainScreen(self.model, setup, status=self.state)
        return self._main_screen

    @property
    def state(self) -> str:
        """What the trace is doing, for the summary line ("tracing…", "finished (exit 0)"); set down on the
        main screen whenever it changes."""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value
        if self._main_screen is not None:
            self._main_screen.status = value

    @property
    def main_screen(self) -> MainScreen:
        if self._main_screen is None:
            raise LookupError("the main screen is not installed yet")
        return self._main_screen

    def on_mount(self) -> None:
        if self.recording is not None:
            for warning in self.recording.warnings:
                self.notify(warning, severity="warning", timeout=6)

    def on_main_screen_ready(self, message: MainScreen.Ready) -> None:
        """The main screen's widgets exist: a live trace can start feeding them."""
        self.start_live()

    def start_live(self) -> None:
        """Start the tracer worker (once the main screen's widgets exist)."""
        if self.live is None or self.tracer_worker is not None:
            return
        self.state = "tracing…"
        self._default_sigcont()
        self._stop_on_signals()
        self.tracer_worker = self.run_worker(self._trace, name="tracer", group="tracer", thread=True,
                                             exclusive=True, exit_on_error=False)

    def on_unmount(self) -> None:
        # However the app ends, the trace must not outlive it (the worker thread would keep the process alive).
        if self.live is not None:
            self.live.request_stop()
        self._restore_sigcont()
        if self._signal_loop is not None:
            for number in _STOP_SIGNALS:
                self._signal_loop.remove_signal_handler(number)
            self._signal_loop = None

    def _stop_on_signals(self) -> None:
        """SIGTERM or SIGHUP (a closed terminal) end a live trace the way `q` does: launched tracees killed,
        attached daemons detached, the recording closed with its end line. Without this Python would die at
        once and leave the recording without an end."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if threading.current_thread() is not threading.main_thread():
            return
        for number in _STOP_SIGNALS:
            loop.add_signal_handler(number, self._on_stop_signal, number)
        self._signal_loop = loop

    def _on_stop_signal(self, number: int) -> None:
        if self.stop_signal is None:
            self.stop_signal = number
        self.call_later(self.action_quit)

    def _default_sigcont(self) -> None:
        """Textual's Linux driver catches SIGCONT in Python. The tracer forks the command and the child stops
        itself until it is seized; when it is resumed, an inherited Python handler would run in the child (and
        fail there, without an event loop) before its exec. Keep SIGCONT at its default while a launch may be
        between fork and exec; `_restore_sigcont` puts the driver's handler back."""
        if self.live is None or not self.live.launches or threading.current_thread() is not threading.main_thread():
            return
        self._saved_sigcont = signal.getsignal(signal.SIGCONT)
        signal.signal(signal.SIGCONT, signal.SIG_DFL)

    def _restore_sigcont(self) -> None:
        if self._saved_sigcont is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGCONT, self._saved_sigcont)
            self._saved_sigcont = None

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_spec(self) -> None:
        """`b` (on the panes or in presenter mode): the spec view over the current screen."""
        if not isinstance(self.screen, SpecScreen):
            present = isinstance(self.screen, PresenterScreen)
            self.push_screen(SpecScreen(self.model, present=present, tracing=self.tracing), callback=self._spec_closed)

    def _spec_closed(self, seqs: tuple[int, ...] | None) -> None:
        """Back from the spec view: Enter on a row shows its proving event in the panes (leaving presenter
        mode, as Enter does there); Esc returns where the view was opened."""
        if not seqs:
            return
        if isinstance(self.screen, PresenterScreen):
            self.pop_screen()
        self.main_screen.show_proof(seqs)

    # The live trace --------------------------------------------------------------------------------------

    def _trace(self) -> None:
        """The tracer worker: the whole trace runs on this one thread (ptrace belongs to it)."""
        assert self.live is not None
        worker = get_current_worker()
        self.live.run(self.post_message, lambda: self.message_queue_size, worker.cancelled_event)

    def on_events_arrived(self, message: EventsArrived) -> None:
        """A batch from the tracer: fold it into the model, then grow the widgets."""
        changes = self.model.extend(message.events)
        self.main_screen.apply_changes(changes)

    def on_trace_finished(self, message: TraceFinished) -> None:
        """The live trace ended."""
        self._restore_sigcont()
        result = message.result
        if result.status == "completed":
            code = "-" if result.exit_code is None else str(result.exit_code)
            self.state = f"finished (exit {code})"
        else:
            self.state = result.status
        self.main_screen.refresh_summary()
        if self.main_screen.showing_output:
            self.main_screen.show_output()
        if isinstance(self.screen, PresenterScreen):
            self.screen.refresh_chapters()
        self.notify(f"trace {self.state}: {result.events} events, {result.processes} processes")

    def on_tracer_failed(self, message: TracerFailed) -> None:
        """The live trace could not start or broke: say why in one line."""
        self._restore_sigcont()
        self.state = "failed"
        self.main_screen.refresh_summary()
        self.notify(f"the trace failed: {message.error}", severity="error", timeout=15)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised past its own error handling: show it rather than crash."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(f"{event.worker.name} failed: {event.worker.error}", severity="error", timeout=10)

    @property
    def source_name(self) -> str:
        if self.recording is not None:
            return Path(self.recording.path).name if self.recording.path else "recording"
        return "live trace"

    @property
    def tracing(self) -> bool:
        return self.live is not None and not self.live.done.is_set()

    @property
    def program_output(self) -> str | None:
        return self.live.program_output if self.live is not None else None

    @property
    def output_note(self) -> str | None:
        if self.live is None:
            return None
        note = f"the traced program's output goes to {self.live.program_output} (o shows it)"
        if self.live.output:
            note += f" · recording to {self.live.output}"
        return note

    async def action_quit(self) -> None:
        """Stop a live trace (launch mode kills its tracees, attach mode detaches), wait for it, then exit."""
        if self._quitting:
            return
        self._quitting = True
        if self.tracing and self.live is not None:
            self.state = "stopping…"
            self.main_screen.refresh_summary()
            self.live.request_stop()
            if self.tracer_worker is not None:
                try:
                    await self.tracer_worker.wait()
                except Exception:  # noqa: BLE001 - the worker reported its own failure already
                    pass
        self.exit(self.exit_code_for_trace())

    def exit_code_for_trace(self) -> int:
        if self.live is None:
            return 0
        if self.stop_signal is not None:
            return 128 + self.stop_signal
        if self.live.error is not None:
            return EXIT_FAILURE
        result = self.live.result
        if result is None:
            return EXIT_FAILURE
        if result.exit_code is None:
            return 0 if result.status in ("completed", "interrupted") else EXIT_FAILURE
        return result.exit_code

    # Export ----------------------------------------------------------------------------------------------

    def export_target(self) -> tuple[Path, str]:
        """Where `e` and `s` write: `--export-dir`, else the current directory; never beside the recording (a
        shipped one lives in the source tree, which may not be the user's to write in). The stem names the
        recording the files come from."""
        source = self.recording.path if self.recording is not None else (
            str(self.live.output) if self.live is not None and self.live.output else None)
        directory = self.export_dir or Path.cwd()
        stem = Path(source).stem if source else "boxtrace"
        return directory, stem

    def action_save_screenshot(self) -> None:
        """`s` (and the palette's Screenshot): the screen as an SVG in the export directory."""
        directory, stem = self.export_target()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{stem}-screen-{stamp}.svg"
        number = 1
        while (directory / name).exists():
            number += 1
            name = f"{stem}-screen-{stamp}-{number}.svg"
        try:
            written = self.save_screenshot(filename=name, path=str(directory))
        except OSError as error:
            self.notify(f"could not save the screenshot: {describe_os_error(error, directory)}", severity="error",
                        timeout=8)
            return
        self.notify(f"saved the screen to {written}", timeout=6)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette's commands, with its Screenshot saving where `s` does (Textual's own goes to
        ~/Downloads, which may not exist)."""
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                directory, _ = self.export_target()
                yield SystemCommand("Screenshot", f"Save an SVG screenshot of the screen to {directory}",
                                    self.action_save_screenshot)
            else:
                yield command

    def recording_for_export(self) -> Recording:
        if self.recording is not None:
            return self.recording
        assert self.model.header is not None
        return Recording(header=self.model.header, events=list(self.model.events))


def run_recording_tui(recording: Recording, lesson: Lesson | None = None, *, present: bool = False,
                      export_dir: Path | None = None) -> int:
    """`boxtrace tui TRACE`: browse a recording (with the lesson of its scenario, when the CLI found one;
    `present`: in presenter mode)."""
    app = BoxtraceApp(recording=recording, lesson=lesson, present=present, export_dir=export_dir)
    code = app.run()
    return 0 if code is None else code


def run_live_tui(source: EventSource, lesson: Lesson | None = None, *, present: bool = False,
                 export_dir: Path | None = None) -> int:
    """`boxtrace run --tui` / `boxtrace docker --tui`: trace in a worker thread while the screen follows."""
    live = LiveTrace(source)
    app = BoxtraceApp(live=live, lesson=lesson, present=present, export_dir=export_dir)
    try:
        code = app.run()
    finally:
        # Whatever ended the app (q, an exception, a signal), the trace must not outlive it.
        live.request_stop()
        live.wait(timeout=30)
    if code is None:
        code = app.exit_code_for_trace()
    return code
