"""strace-like text for one decoded syscall, built from its JSON arguments alone.

A recording holds only the decoded dict, so the console, the TUI and the exports format from that. Each decoded
syscall has a *layout*: a tuple of small renderers, one per printed argument, that each read one or two keys of the
dict and return their text, or None to leave the argument out (an optional key that is absent). The layouts live
beside their decoders (`LAYOUTS` in each family module); this module holds the renderers and the line assembly.

Conventions shared with the decoders:
- None is NULL; a string starting with "<unreadable" is printed bare, not quoted;
- flag lists join with "|", and an empty list prints as 0;
- keys named in the dict's "ignored" list (arguments the kernel does not look at, e.g. mount's fstype under
  MS_BIND) get a `/* ignored */` comment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracer.events import REDACTED

#: Renders one argument from the decoded dict, or returns None to leave it out.
Renderer = Callable[[dict[str, Any]], str | None]
Layout = tuple[Renderer, ...]

_ESCAPES = {'"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}

#: Syscalls whose return value is an address, printed in hex.
_HEX_RESULTS = frozenset({"mmap", "mremap", "brk", "shmat"})


def quote(text: str) -> str:
    """A C-style double-quoted string. Non-UTF-8 bytes already arrive as \\xNN escapes and stay so."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def is_unreadable(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<unreadable")


def scalar(value: Any) -> str:
    """Plain text of a value: NULL, a number, a name; lists in brackets."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={scalar(item)}" for key, item in value.items()) + "}"
    return str(value)


def _finish(args: dict[str, Any], key: str, text: str, label: str | None) -> str:
    if key in args.get("ignored", ()):
        text += " /* ignored */"
    return f"{label}={text}" if label else text


def string(key: str, label: str | None = None) -> Renderer:
    """A quoted string argument (a path, a name)."""

    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        value = args[key]
        text = quote(value) if isinstance(value, str) and not is_unreadable(value) else scalar(value)
        return _finish(args, key, text, label)

    return render


def flags(key: str, *more: str, label: str | None = None) -> Renderer:
    """A flag list joined with "|"; `more` keys are appended (clone's exit signal after its flags)."""

    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        parts: list[str] = []
        for name in (key, *more):
            value = args.get(name)
            if isinstance(value, list):
                parts.extend(str(item) for item in value)
            elif value is not None:
                parts.append(str(value))
        return _finish(args, key, "|".join(parts) or "0", label)

    return render


def value(key: str, label: str | None = None) -> Renderer:
    """A number or a symbolic name, printed as it is."""

    def render(args: dict[str, Any]) -> str | None:
        return _finish(args, key, scalar(args[key]), label) if key in args else None

    return render


def octal(key: str, label: str | None = None) -> Renderer:
    """A mode, printed in octal with a leading 0 and at least three digits (0755, 022, 000), as strace does."""

    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        mode = args[key]
        return _finish(args, key, f"0{mode:02o}" if isinstance(mode, int) else scalar(mode), label)

    return render


def address(key: str, label: str | None = None) -> Renderer:
    """An address in hex (NULL for 0)."""

    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        addr = args[key]
        text = ("NULL" if addr == 0 else hex(addr)) if isinstance(addr, int) else scalar(addr)
        return _finish(args, key, text, label)

    return render


def fd(key: str, path_key: str | None = None, label: str | None = None) -> Renderer:
    """A file descriptor, followed like strace -y by what it refers to: 3</etc/passwd>."""

    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        text = scalar(args[key])
        target = args.get(path_key) if path_key else None
        if isinstance(target, str):
            text += f"<{target}>"
        return _finish(args, key, text, label)

    return render


def strings(key: str, label: str | None = None) -> Renderer:
    """An array of strings (argv): ["sh", "-c", "true"]."""

    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        items = args[key]
        if not isinstance(items, list):
            return _finish(args, key, scalar(items), label)
        return _finish(args, key, "[" + ", ".join(quote(str(item)) for item in items) + "]", label)

    return render


def environment(key: str) -> Renderer:
    """An environment: in full when values were kept (--show-env), else only how many variables it had."""

    def render(args: dict[str, Any]) -> str | None:
        if key not in args:
            return None
        items = args[key]
        if not isinstance(items, list):
            return scalar(items)
        if all(str(item).endswith(REDACTED) for item in items):
            return f"[/* {len(items)} vars */]"
        return "[" + ", ".join(quote(str(item)) for item in items) + "]"

    return render


def struct(*fields: Renderer) -> Renderer:
    """Fields printed inside braces, like a C struct: {flags=CLONE_NEWNS, exit_signal=SIGCHLD}."""

    def render(args: dict[str, Any]) -> str | None:
        parts = [part for part in (field(args) for field in fields) if part is not None]
        return "{" + ", ".join(parts) + "}" if parts else None

    return render


def unless_present(key: str, renderer: Renderer) -> Renderer:
    """`renderer`, but printed bare when `key` holds something else (an unreadable struct, for instance)."""

    def render(args: dict[str, Any]) -> str | None:
        return scalar(args[key]) if key in args else renderer(args)

    return render


def when_set(key: str, renderer: Renderer) -> Renderer:
    """`renderer`, left out entirely when `key` is absent or None (clone3's exit_signal of a thread)."""

    def render(args: dict[str, Any]) -> str | None:
        return renderer(args) if args.get(key) is not None else None

    return render


def format_result(name: str, ret: int | None, error: str | None) -> str:
    """What follows " = ": -1 ENOENT for an error, ? when the call never returned (exit, a killed tracee)."""
    if error:
        return f"-1 {error}"
    if ret is None:
        return "?"
    if name in _HEX_RESULTS and ret >= 0:
        return hex(ret)
    return str(ret)


def format_generic(args: dict[str, Any]) -> str:
    """Arguments of a syscall without a layout: the raw registers, or key=value pairs."""
    raw = args.get("args")
    if isinstance(raw, list):
        return ", ".join(scalar(item) for item in raw)
    return ", ".join(f"{key}={scalar(item)}" for key, item in args.items())


def format_with_layout(
    name: str, args: dict[str, Any], ret: int | None, error: str | None, layout: Layout | None
) -> str:
    """One strace-like line: `name(arg, arg) = result`."""
    if layout is None or "decode_error" in args:
        inner = format_generic(args)
    else:
        inner = ", ".join(part for part in (item(args) for item in layout) if part is not None)
    return f"{name}({inner}) = {format_result(name, ret, error)}"
