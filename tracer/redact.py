"""Secrets in command lines: what a container CLI is given with -e/--env (and `docker login`'s password).

`docker run -e PASSWORD=hunter2 ...` puts the secret in the CLI's own argv, where a trace would record it three
times (the header's command, the launch event, the exec). Environment blocks are already redacted by the exec
decoder; this does the same for values passed as options:

    redact_argv(["docker", "run", "-e", "PASSWORD=hunter2", "busybox"])
    -> ["docker", "run", "-e", "PASSWORD=<redacted>", "busybox"]

The forms handled are those of Go's pflag (docker, nerdctl, podman) and urfave/cli (runc, ctr): `-e K=V`,
`-eK=V`, a cluster of boolean shorthands ending in e (`-ite K=V`, `-ieK=V`), `--env K=V` and `--env=K=V`.
`-e NAME` without "=" copies the variable from the caller's environment: no value is in argv, so it stays.

Only the argv of a known container CLI is touched: for other programs -e means something else (`sh -e`,
`grep -e PATTERN`). Options after the image name belong to the container's command; they are redacted the same
way, because telling them apart would need every option table of every CLI, and redacting too much is harmless
where redacting too little is not. Pure functions: no I/O.
"""

from __future__ import annotations

import os

from tracer.events import REDACTED

#: Programs whose -e/--env options carry NAME=value pairs for a container.
CONTAINER_CLIS = frozenset({"docker", "podman", "nerdctl", "ctr", "runc", "crun", "runsc", "youki"})

#: Long options whose value is a NAME=value pair.
ENV_LONG_OPTIONS = ("--env",)
#: The short option of the same meaning.
ENV_SHORT_OPTION = "e"
#: Shorthands that take a value in docker run/exec/create (-a STDIN, -p 80:80, -v A:B, -u, -w, -h, -l, -m, -c):
#: in a cluster such as `-itv`, whatever follows one of them is its value, not more options.
VALUE_SHORTHANDS = frozenset("achlmpuvw")

#: `docker login -p SECRET` / `--password SECRET`: the whole value is the secret.
LOGIN_SUBCOMMAND = "login"
PASSWORD_LONG_OPTIONS = ("--password",)
PASSWORD_SHORT_OPTION = "p"


def redact_assignment(value: str) -> str:
    """NAME=value -> NAME=<redacted>; a bare NAME (taken from the caller's environment) is not a secret."""
    name, equals, _ = value.partition("=")
    return f"{name}={REDACTED}" if equals else value


def _redact_password(value: str) -> str:
    return REDACTED


def redact_argv(argv: list[str]) -> list[str]:
    """A copy of `argv` with the values of -e/--env (and a login password) of a container CLI redacted."""
    argv = [str(arg) for arg in argv]
    if not argv or os.path.basename(argv[0]) not in CONTAINER_CLIS:
        return argv
    login = LOGIN_SUBCOMMAND in argv[1:]
    rules = [(ENV_LONG_OPTIONS, ENV_SHORT_OPTION, redact_assignment)]
    if login:
        rules.append((PASSWORD_LONG_OPTIONS, PASSWORD_SHORT_OPTION, _redact_password))
    out = [argv[0]]
    index = 1
    while index < len(argv):
        arg = argv[index]
        index += 1
        redact_next = None
        for long_options, short, redact in rules:
            replaced, takes_next = _redact_option(arg, long_options, short, redact)
            if replaced is not None:
                arg = replaced
                if takes_next:
                    redact_next = redact
                break
        out.append(arg)
        if redact_next is not None and index < len(argv):
            out.append(redact_next(argv[index]))
            index += 1
    return out


def _redact_option(arg: str, long_options: tuple[str, ...], short: str, redact) -> tuple[str | None, bool]:
    """(the argument with its inline value redacted, whether the next argument is the value); (None, False) when
    `arg` is not this option."""
    for option in long_options:
        if arg == option:
            return arg, True
        if arg.startswith(option + "="):
            return f"{option}={redact(arg[len(option) + 1:])}", False
    if len(arg) < 2 or arg[0] != "-" or arg[1] == "-":
        return None, False
    letters = arg[1:]
    for position, letter in enumerate(letters):
        if letter == short:
            rest = letters[position + 1 :]
            if rest:
                return "-" + letters[: position + 1] + redact(rest), False
            return arg, True
        if letter in VALUE_SHORTHANDS or letter == PASSWORD_SHORT_OPTION or not letter.isalpha():
            return None, False  # the rest of the cluster is another option's value
    return None, False
