#!/usr/bin/env bash
# Start or stop the containerd and dockerd that boxtrace's docker and containerd scenarios attach to.
#   scripts/daemons.sh start   # start containerd, then dockerd, unless they already answer
#   scripts/daemons.sh stop    # stop only the daemons that `start` started (by the pids in /run/boxtrace/)
#   scripts/daemons.sh status
# A thin wrapper: the work is done by scenarios/daemons.py.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" -m scenarios.daemons "${1:-status}"
