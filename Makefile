# govflow: two set-up commands for a new user: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# The demo keeps its state inside the checkout, so it never touches ~/.govflow.
DEMO_HOME := $(CURDIR)/.govflow

.PHONY: venv demo test test-fast clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m pip check
	touch $@

venv: $(VENV)/.installed

demo: venv
	GOVFLOW_HOME=$(DEMO_HOME) PATH=$(CURDIR)/$(VENV)/bin:$$PATH bash scripts/demo_registry.sh

test: venv
	$(PY) -m pytest

# Everything except the end-to-end runs against a live Airflow.
test-fast: venv
	$(PY) -m pytest -m "not e2e"

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache
