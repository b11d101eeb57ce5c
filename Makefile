# enrich: `make run` on a fresh machine builds .venv, installs, and runs the pipeline on seeds/.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB ?= warehouse/warehouse.duckdb

.PHONY: install run demo test test-fast lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@# uv resolves and installs in ~5 s instead of ~60 s with pip; pip is the fallback.
	@# --compile-bytecode: uv skips .pyc by default, and without them every `enrich` process
	@# compiles ~1,000 modules (1.5 s) when PYTHONDONTWRITEBYTECODE is set.
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv \
	  && $(BIN)/python -m uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[test]' \
	  || $(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/enrich run seeds/ --db $(DB)

# offline, under a minute: the bundled fake APIs, the real `enrich run`, status and a query
demo: install
	$(BIN)/enrich demo

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not prefect and not e2e and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .prefect-home
