"""How the CLI's commands report failure: one exception for the user and the exit codes it maps to.

Every command module raises these; only `boxtrace.cli.main` catches them, so no command needs the parser module.
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 127


class UserError(Exception):
    """A failure explained to the user in one sentence."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


class UsageError(UserError):
    """The command line asks for something impossible: reported with the command's usage line, exit 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=EXIT_USAGE)
