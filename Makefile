# govflow: two set-up commands for a new user: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# The demo keeps its state inside the checkout, so it never touches ~/.govflow.
DEMO_HOME := $(CURDIR)/.govflow

.PHONY: venv demo test test-fast lint clean up prod-up prod-demo prod-down compose-env wheel

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e '.[mlflow]'
	$(PY) -m pip check
	touch $@

venv: $(VENV)/.installed

# The main job on the embedded default (SQLite for Airflow and govflow, LocalExecutor): train the sample
# model, submit it, run governance_gate to the end (two reviewers approve over Airflow's REST API),
# then nightly_compliance once.
demo: venv
	GOVFLOW_HOME=$(DEMO_HOME) AIRFLOW_HOME=$(AIRFLOW_DIR) PATH=$(CURDIR)/$(VENV)/bin:$$PATH \
	$(PY) -m govflow.demo --project-dir $(CURDIR)

# Two passes, both always run: the self-contained suites spread over the cores (pytest-xdist, a file
# per worker at a time), then the suites that start a live Airflow or the Celery stack, one after
# the other (each stack wants the machine to itself).
TEST_WORKERS ?= 2
test: venv
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25 tests/unit tests/dags tests/security tests/integration; \
	first=$$?; $(PY) -m pytest --durations=25 tests/e2e tests/prod; second=$$?; test $$first -eq 0 && test $$second -eq 0

# Everything except the end-to-end runs against a live Airflow and the production-stack suite.
test-fast: venv
	$(PY) -m pytest -m "not e2e and not prod"

# Static checks, as CI runs them: ruff (lint + format), mypy on the library, import-linter's layer contracts.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(DEMO_HOME) $(AIRFLOW_DIR) .pytest_cache dist

# The distribution another team's Airflow installs (README "Add govflow to your Airflow"): dist/govflow-*.whl,
# built by the PEP 517 backend in pyproject.toml (`python -m build` when installed, else pip's frontend)
# from a copy of the package, so the checkout gets no build/ or egg-info.
wheel: venv
	rm -rf dist && tmp=$$(mktemp -d) && cp pyproject.toml README.md $$tmp/ && mkdir $$tmp/include \
	&& cp -r include/govflow $$tmp/include/ && find $$tmp -name __pycache__ -prune -exec rm -rf {} + \
	&& if $(PY) -c "import build" 2>/dev/null; then $(PY) -m build --wheel --outdir dist $$tmp; \
	   else $(PY) -m pip wheel --quiet --no-deps -w dist $$tmp; fi && rm -rf $$tmp && ls dist/*.whl

# `make up`: the Airflow UI (http://localhost:$(AIRFLOW_PORT)) with govflow's DAGs and plugin, on the
# embedded default: `airflow standalone`, LocalExecutor, SQLite in .airflow/, govflow state in .govflow/
# (the same folders `make demo` uses, so its runs show up). Log in as admin; the generated passwords
# are in .airflow/simple_auth_manager_passwords.json.generated. The settings are govflow.localairflow's,
# the same ones the demo and the e2e tests use.
AIRFLOW_DIR   := $(CURDIR)/.airflow
AIRFLOW_PORT  ?= 8080
# Airflow users (name:role,...); empty: govflow.localairflow's demo users.
AIRFLOW_USERS ?=

up: venv
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH AIRFLOW_USERS=$(AIRFLOW_USERS) $(PY) -m govflow.localairflow \
		--home $(AIRFLOW_DIR) --port $(AIRFLOW_PORT) --govflow-home $(DEMO_HOME) --parallelism 4 \
		-- airflow standalone

# The production-shaped stack on this machine, without Docker (see README "Production"): Airflow with the
# CeleryExecutor (api-server, scheduler, dag-processor, triggerer, two Celery workers, one also on the
# `heavy` queue), PostgreSQL, Redis and SeaweedFS (S3), state, logs and pid files under .prod/.
# Ports: GOVFLOW_PROD_API_PORT (8180), GOVFLOW_PROD_REDIS_PORT (6379), GOVFLOW_PROD_WEED_PORT (18333).
MODELS ?= 10
# PARTITIONED=1: models 01 and 02 read a day-partitioned PostgreSQL table and a ds= partitioned s3 prefix.
PARTITIONED ?= 0

prod-up: venv
	$(PY) -m govflow.prodstack up

prod-demo: venv
	$(PY) -m govflow.prodstack.demo --models $(MODELS) $(if $(filter 1,$(PARTITIONED)),--partitioned)

prod-down:
	$(PY) -m govflow.prodstack down

# docker-compose.yaml has no default secrets: this writes fresh ones (DB passwords, JWT secret, Fernet key,
# the audit signing key) into an untracked .env (0600). Never overwrites an existing .env.
compose-env: venv
	$(PY) scripts/compose_env.py --out .env
