import sys

try:
    from boxtrace.cli import main
except KeyboardInterrupt:  # Ctrl-C while the interpreter is still importing: no traceback
    sys.exit(130)

sys.exit(main())
