# Two commands on a fresh machine: `make run` and `make test` (see README).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PORT    ?= 8000
SANDBOX_PORT ?= 8199

.PHONY: run test lint typecheck pytest miniprogram-test venv clean bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

## make run: install, migrate, seed, then serve the API (gunicorn, SQLite) with
## the worker and a local WeChat sandbox; no credentials needed.
run: $(STAMP)
	$(BIN)/python scripts/run_dev.py --port $(PORT) --sandbox-port $(SANDBOX_PORT)

## make test: lint, type-check, the Python suite, the mini-program's tests.
test: $(STAMP)
	@if [ -z "$$SKIP_LINT" ]; then $(MAKE) --no-print-directory lint typecheck; fi
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup
	@if [ -z "$$SKIP_MINIPROGRAM" ]; then $(MAKE) --no-print-directory miniprogram-test; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy routing handlers tests/fakes.py tests/unit/handlers

miniprogram-test:
	@if [ -f miniprogram/package.json ]; then \
		cd miniprogram && npm ci --no-audit --no-fund --loglevel=error && npm test --silent; \
	else echo "miniprogram: no package.json yet, nothing to test"; fi

bench: $(STAMP)
	$(BIN)/python bench/api.py
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/escalation.py
	$(BIN)/python bench/notify.py

clean:
	rm -rf $(VENV) instance miniprogram/node_modules
