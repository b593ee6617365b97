"""boxtrace's benchmark harness: `make bench` (python -m bench.run); see docs/performance.md."""
