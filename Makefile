# enrich: `make run` on a fresh machine builds .venv, installs, and runs the pipeline on seeds/.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB ?= warehouse/warehouse.duckdb

.PHONY: install lock run demo test test-fast lint format bench clean

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@# uv installs exactly what uv.lock pins (reproducible; ~5 s instead of ~60 s with pip).
	@# --inexact keeps uv itself; --compile-bytecode: uv skips .pyc by default, and without them
	@# every `enrich` process compiles ~1,000 modules (1.5 s) when PYTHONDONTWRITEBYTECODE is set.
	@# --locked: a lock that no longer matches pyproject.toml fails here (never installs stale pins);
	@# pip is then the fallback (as without uv): it resolves
	@# the ranges of pyproject.toml instead of the locked versions.
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv \
	  && UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/python -m uv sync -q --locked --inexact \
	       --extra test --compile-bytecode --python $(BIN)/python \
	  || $(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# after changing dependencies in pyproject.toml: re-resolve the lock, then install it
lock:
	$(BIN)/python -m uv lock

install: $(STAMP)

run: install
	$(BIN)/enrich run seeds/ --db $(DB)

# offline, under a minute: the bundled fake APIs, the real `enrich run`, status and a query
demo: install
	$(BIN)/enrich demo

# one pytest worker per core (pytest-xdist); --dist loadfile keeps each test file on one worker, so
# a file's module-scoped fake APIs, Prefect homes and warehouses are built once and never shared
# between processes (each worker has its own PREFECT_HOME and Prefect test server: tests/conftest.py)
test: install
	$(BIN)/python -m pytest -q -n auto --dist loadfile

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
