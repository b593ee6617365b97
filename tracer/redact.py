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
where redacting too little is not.

A container CLI is often run through a wrapper: `sudo docker run -e ...`, `env TOKEN=abc docker run ...`,
`timeout 60 nice -n 5 docker ...`. The wrappers are a table (WRAPPERS) saying how each one is called: which of its
options take a value, whether NAME=value words set the command's environment (env, sudo), and how many words it
reads before the command (timeout's DURATION). The wrapper's own options are skipped, its NAME=value assignments
are redacted like -e values (they are the same thing: an environment given on the command line), and what follows
is looked at again, so wrappers of wrappers work. Pure functions: no I/O.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Wrapper:
    """How a program that runs another one is called: WRAPPER [OPTION...] [NAME=value...] [WORD...] COMMAND [ARG...].
    An option not listed in `value_options` is a flag; a cluster of short flags may end in a value option (`-Eu`)."""

    #: Options whose value is the next word or, inline, the rest of the word (`-u root`, `-uroot`, `--user=root`).
    value_options: frozenset[str] = frozenset()
    #: NAME=value words between the options and the command set the command's environment.
    assignments: bool = False
    #: Words the wrapper reads after its options and before the command.
    positionals: int = 0


def _options(*names: str) -> frozenset[str]:
    return frozenset(names)


#: Programs that run a command given in their own argv. Options taken from their manual pages (sudo 1.9, OpenBSD
#: doas, GNU coreutils env/nice/nohup/timeout/stdbuf, util-linux setsid/ionice, GNU time): only the options that take
#: a value need listing, so that a value is never taken for the command.
WRAPPERS: dict[str, Wrapper] = {
    # sudo [-ABbEHnPS] [-C num] [-D dir] [-g group] [-h host] [-p prompt] [-R dir] [-r role] [-t type]
    #      [-T timeout] [-u user] [VAR=value] [-i | -s] [command]
    "sudo": Wrapper(_options("-C", "--close-from", "-D", "--chdir", "-g", "--group", "-h", "--host", "-p",
                             "--prompt", "-R", "--chroot", "-r", "--role", "-t", "--type", "-T",
                             "--command-timeout", "-u", "--user", "-U", "--other-user"), assignments=True),
    # doas [-nSs] [-a style] [-C config] [-u user] command
    "doas": Wrapper(_options("-a", "-C", "-u")),
    # env [-0iv] [-u name] [-C dir] [-S string] [NAME=value...] [command]
    "env": Wrapper(_options("-u", "--unset", "-C", "--chdir", "-S", "--split-string", "--block-signal",
                            "--default-signal", "--ignore-signal"), assignments=True),
    # nice [-n adjustment] [-adjustment] command
    "nice": Wrapper(_options("-n", "--adjustment")),
    # ionice [-c class] [-n level] [-t] command
    "ionice": Wrapper(_options("-c", "--class", "-n", "--classdata")),
    # nohup command ; setsid [-cfw] command
    "nohup": Wrapper(),
    "setsid": Wrapper(),
    # timeout [-s signal] [-k duration] [--foreground] [--preserve-status] [-v] DURATION command
    "timeout": Wrapper(_options("-s", "--signal", "-k", "--kill-after"), positionals=1),
    # stdbuf [-i mode] [-o mode] [-e mode] command (its -e is stderr buffering, not an environment)
    "stdbuf": Wrapper(_options("-i", "--input", "-o", "--output", "-e", "--error")),
    # time [-f format] [-o file] command (GNU time as a program, not the shell keyword)
    "time": Wrapper(_options("-f", "--format", "-o", "--output")),
}


def redact_assignment(value: str) -> str:
    """NAME=value -> NAME=<redacted>; a bare NAME (taken from the caller's environment) is not a secret."""
    name, equals, _ = value.partition("=")
    return f"{name}={REDACTED}" if equals else value


def _redact_password(value: str) -> str:
    return REDACTED


def redact_argv(argv: list[str]) -> list[str]:
    """A copy of `argv` with the values of -e/--env (and a login password) of a container CLI redacted, also when
    the CLI runs through wrappers (sudo, env, timeout ...), whose own NAME=value assignments are redacted too."""
    rest = [str(arg) for arg in argv]
    out: list[str] = []
    while rest:
        wrapper = WRAPPERS.get(os.path.basename(rest[0]))
        if wrapper is None:
            break
        start, assignments = _command_start(rest, wrapper)
        out += [redact_assignment(word) if index in assignments else word for index, word in enumerate(rest[:start])]
        rest = rest[start:]
    if rest and os.path.basename(rest[0]) in CONTAINER_CLIS:
        rest = _redact_container_cli(rest)
    return out + rest


def _command_start(argv: list[str], wrapper: Wrapper) -> tuple[int, set[int]]:
    """(where the wrapped command starts in `argv`, the indexes of the wrapper's NAME=value assignments)."""
    index = 1
    while index < len(argv) and argv[index].startswith("-"):  # options, up to "--" ("-" alone is env's -i)
        word = argv[index]
        index += 1
        if word == "--":
            break
        index += _value_follows(word, wrapper.value_options)
    assignments = set()
    while wrapper.assignments and index < len(argv) and "=" in argv[index]:
        assignments.add(index)
        index += 1
    return index + wrapper.positionals, assignments


def _value_follows(word: str, value_options: frozenset[str]) -> int:
    """1 when option `word` takes the next word as its value, else 0 (a flag, or the value is inline)."""
    if word.startswith("--"):
        return int("=" not in word and word in value_options)
    for position, letter in enumerate(word[1:], start=1):
        if "-" + letter in value_options:
            return int(position == len(word) - 1)  # `-u root` takes the next word, `-uroot` holds it
    return 0


def _redact_container_cli(argv: list[str]) -> list[str]:
    """`argv` of a container CLI (argv[0]) with its -e/--env values (and a login password) redacted."""
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


def _redact_option(arg: str, long_options: tuple[str, ...], short: str,
                   redact: Callable[[str], str]) -> tuple[str | None, bool]:
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
