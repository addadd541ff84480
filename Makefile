# Every target bootstraps .venv when it is missing, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm ci writes this file last: present and newer than the lock file means installed.
NODE_DEPS := tests/node/node_modules/.package-lock.json

.PHONY: demo test lint bench browser-deps speech-deps nginx-deps node-deps clean

$(STAMP): pyproject.toml client_sdk/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,lint,voice]' -e ./client_sdk
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/woz demo

browser-deps:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }

# The load-balancer test runs Debian's nginx in front of two woz processes.
nginx-deps:
	@test -x /usr/sbin/nginx || { echo "installing Debian's nginx for the load-balancer test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >/dev/null; }

# The espeak speech engine's tests run Debian's espeak-ng.
speech-deps:
	@command -v espeak-ng >/dev/null || { echo "installing Debian's espeak-ng for the speech tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng) >/dev/null; }

# The Node client tests run the official `openai` package under the machine's Node.js.
node-deps: $(NODE_DEPS)

$(NODE_DEPS): tests/node/package.json tests/node/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "installing Debian's nodejs and npm for the Node client tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm) >/dev/null; }
	npm ci --prefix tests/node --no-audit --no-fund

lint: $(STAMP)
	$(BIN)/ruff check woz operator_console client_sdk tests examples bench
	$(BIN)/ruff format --check woz operator_console client_sdk tests examples bench
	$(BIN)/mypy

test: $(STAMP) browser-deps speech-deps nginx-deps node-deps lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/tts.py
	$(BIN)/python bench/realtime.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/node/node_modules
