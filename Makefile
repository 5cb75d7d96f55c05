# liandong — the two set-up commands are `make demo` and `make test` (README).
# Both work from a clean clone as root on a fresh Debian machine: they install
# what they need (Debian packages, a virtualenv) and build the Asterisk testbed
# once (cached in .cache/pbx).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DEB_PACKAGES := debootstrap sip-tester python3 python3-venv python3-dev
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)

.PHONY: test demo deps lint unit clean-testbed

deps: $(STAMP)

$(STAMP): pyproject.toml
	@missing=""; \
	for cmd in debootstrap:debootstrap sipp:sip-tester python3:python3; do \
	  command -v $${cmd%%:*} >/dev/null || missing="$$missing $${cmd##*:}"; \
	done; \
	python3 -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root (or: apt-get install$$missing)"; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Everything, Asterisk integration tests included (the test session starts the
# testbed Asterisk if it isn't running and stops it again afterwards).
test: lint
	$(VENV)/bin/pytest -q -ra

unit: deps
	$(VENV)/bin/pytest -q tests/unit

demo: deps
	$(PY) -m pbx.demo

clean-testbed:
	-$(VENV)/bin/liandong pbx down
	rm -rf .cache/pbx
