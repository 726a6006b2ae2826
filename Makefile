# The README's two commands: `make dev` (the local stack) and `make test` (everything CI runs).
VENV ?= .venv
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup web dev test lint bench schema bundle synth clean

$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

setup: $(STAMP)

# The dashboard bundle (web/ -> web/dist) with the pinned esbuild; the stack also rebuilds it when stale.
web: setup
	node web/build.mjs

dev: setup web
	$(VENV)/bin/basketgraph dev

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy trading store resolvers schema brokers local subscriptions infra composition tests/fakes.py tests/unit/usecases bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/basketgraph schema export --check

test: lint web
	$(VENV)/bin/pytest

bench: setup
	$(PY) -m bench.cold_import
	$(PY) -m bench.latency
	$(PY) -m bench.pnl_engine
	$(PY) -m bench.live_latency
	$(PY) -m bench.execution
	$(PY) -m bench.instruments_load
	$(PY) -m bench.concurrency

schema: setup
	$(VENV)/bin/basketgraph schema export

# The Lambda asset without Docker: our packages + arm64/Python 3.12 wheels pinned by infra/lambda.lock,
# into build/bundle (also the feed image's build context). Prints the size.
bundle: setup
	$(PY) -m infra.bundle

# Synthesize a stage offline with the pinned CLI: make synth STAGE=prod
STAGE ?= dev
synth: bundle
	npx cdk synth -c stage=$(STAGE) --no-notices -q

clean:
	rm -rf $(VENV) node_modules .state cdk.out web/dist artifacts
