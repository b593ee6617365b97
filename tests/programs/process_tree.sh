#!/bin/sh
# A tree of short-lived processes: 100 subshells, each starting 4 /bin/true at once (500 processes, plus this
# shell). Only shell builtins are used outside them, so the count is exact.
i=0
while [ "$i" -lt 100 ]; do
    ( /bin/true & /bin/true & /bin/true & /bin/true & wait ) &
    i=$((i + 1))
done
wait
