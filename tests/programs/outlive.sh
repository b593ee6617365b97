#!/bin/sh
# The launched command exits at once; a grandchild it left behind sleeps ($2 seconds, 1.5 by default: longer than
# the engine's grace period), then runs a program (an exec, which the default mode's seccomp filter traces) and
# writes its exit status to $1.
(sleep "${2:-1.5}"; unshare --help > /dev/null; echo $? > "$1") &
exit 0
