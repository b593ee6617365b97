# boxtrace: `sudo make demo` and `sudo make test` work on a fresh Debian 12; both start with an idempotent setup.
SHELL := /bin/bash
PYTHON_SYS ?= /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
DEB_PACKAGES := python3-venv runc crun busybox-static strace graphviz docker.io bubblewrap uidmap util-linux iproute2 procps linux-libc-dev \
	podman conmon chromium chromium-driver
STAMP := $(VENV)/.installed

.PHONY: rootfs setup packages demo test test-fast lint bench recordings docs-images daemons stop-daemons clean

setup: packages $(STAMP)

# Debian packages first: on a bare Debian 12 even the venv needs python3-venv.
packages:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml | packages
	[ -x $(PY) ] || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	@# What doctor --fix repaired (packages, rootfs, daemons, images) is shown; its table is not.
	$(PY) -m boxtrace doctor --fix | grep '^fix:' || true
	$(PY) -m boxtrace demo

test: setup
	bash scripts/daemons.sh start
	$(PY) -m pytest -q -ra

test-fast: setup
	$(PY) -m pytest -q -ra -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	bash scripts/daemons.sh start
	$(PY) -m bench.run

recordings: setup
	bash scripts/daemons.sh start
	$(PY) -m scenarios.record --all

rootfs: setup
	$(PY) -m scenarios.rootfs --rebuild

docs-images: setup
	$(PY) scripts/docs_images.py

daemons: setup
	bash scripts/daemons.sh start

stop-daemons:
	bash scripts/daemons.sh stop

clean:
	rm -rf $(VENV) build *.egg-info
