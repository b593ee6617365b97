"""The help screen (`?`): the keys, what each pane shows, how the walkthrough works."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: (keys, what they do), in the order a newcomer needs them.
KEYS: tuple[tuple[str, str], ...] = (
    ("n / p", "next / previous walkthrough chapter"),
    ("↑ ↓ PgUp PgDn", "move in the focused pane (process tree or event list)"),
    ("Tab / Shift+Tab", "move focus between the panes"),
    ("a", "all events / container-relevant events only"),
    ("f", "show one category at a time (namespaces, filesystem-view, process, …)"),
    ("/", "search the event text; Enter jumps to the next match"),
    ("] / [", "next / previous match of the last search"),
    ("e", "export the architecture diagram (SVG and PNG) to the current directory (or --export-dir)"),
    ("s", "save the screen as an SVG screenshot, to the same place"),
    ("b", "spec view: the OCI bundle's promises (config.json) beside what the trace shows was applied, each "
          "✓ kept, ✗ differs or ? not visible; Enter goes to a row's proving event (also in presenter mode)"),
    ("t / d", "show or hide the process tree / the details (on a narrow screen, one side pane at a time)"),
    ("Enter", "unfold a folded row of routine events (… 37 Go runtime events); a shows every event"),
    ("o", "show the traced program's output (live traces)"),
    ("z", "zoom the walkthrough (or the focused pane) to the whole screen; z or Esc again to restore"),
    ("?", "this help"),
    ("q", "quit (a live trace is stopped first: launched processes killed, attached ones left running)"),
)

PANES = (
    ("Processes", "one line per process (threads folded): its name, host pid·pid inside its pid namespace, and "
                  "a ◆ badge listing the namespaces it does not share with the host. Each distinct set of "
                  "namespaces has its own colour, so the moment a process enters new namespaces its colour "
                  "changes. pid* is a new pid namespace for its children only. The top line shows every "
                  "process at once."),
    ("Events", "what the selected process asked the kernel, decoded like strace and coloured by category."),
    ("Details", "the selected event's arguments, decoded and as recorded, what the call does and what it "
                "means for the container being built."),
    ("Walkthrough", "n opens the chapters: for a known scenario, its milestones as found in this trace; for "
                    "any other trace, the first exec, each namespace call, pivot_root/chroot, the "
                    "entrypoint and the exits. A chapter marks its processes (▶) and events, and where the "
                    "popular explanation is loose it shows what this trace shows instead."),
    ("Spec (b)", "the OCI bundle's config.json, promise by promise, beside what the trace shows was applied: "
                 "✓ kept, ✗ differs or ? not visible, with why and the event that proves it (Enter goes there)."),
)


def render_help() -> Group:
    keys = Table(show_header=False, box=None, padding=(0, 2))
    keys.add_column(style="bold cyan", no_wrap=True)
    keys.add_column()
    for key, what in KEYS:
        keys.add_row(key, what)
    panes = Table(show_header=False, box=None, padding=(0, 2))
    panes.add_column(style="bold", no_wrap=True)
    panes.add_column()
    for pane, what in PANES:
        panes.add_row(pane, what)
    return Group(
        Text("Keys", style="bold underline"), keys, Text(""),
        Text("Panes", style="bold underline"), panes, Text(""),
        Text("Esc, q or ? closes this help.", style="dim"),
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="close-help"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 1 2;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "boxtrace help"
            yield Static(render_help(), id="help-body")
