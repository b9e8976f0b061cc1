# The README's two commands: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Some machines set PYTHONDONTWRITEBYTECODE: every process would then recompile dagster & co from
# source (~10 s each). Installs precompile the venv; the project's own modules may cache too.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo dev test lint bench drills lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/racing-platform demo

# Simulator (clock running), dagster-webserver and dagster-daemon on 127.0.0.1 until Ctrl-C (docs/dev.md).
dev: $(STAMP)
	$(BIN)/racing-platform dev $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check racing_platform racing_platform_tests
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m racing_platform.benchmarks $(ARGS)

# Fault drills (docs/reliability.md): transient faults, an outage, concurrent writers.
drills: $(STAMP)
	$(BIN)/python -m racing_platform.benchmarks --only drills $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check racing_platform racing_platform_tests
	$(BIN)/ruff format --check racing_platform racing_platform_tests

# Re-resolve pinned versions after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache
