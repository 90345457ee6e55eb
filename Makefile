# smsgw developer entry points. `make test` and `make demo` are the two commands the README gives.
#
# Two virtualenvs: `make demo` installs only what running smsgw needs (RUN_VENV, ~165 MB, the
# same set a Raspberry Pi gets), while the checks, browser tests and benchmarks use VENV with
# the `test` extra (~510 MB: mypy, playwright, python-gammu, schemathesis ...).
PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed-test
RUN_VENV ?= .venv-run
RUN_STAMP := $(RUN_VENV)/.installed-run

.PHONY: test test-fast lint typecheck imports pytest bench faults demo screenshots venv hass-venv clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

$(RUN_VENV)/bin/python:
	$(PYTHON) -m venv $(RUN_VENV)
	$(RUN_VENV)/bin/python -m pip install -q --upgrade pip

$(RUN_STAMP): $(RUN_VENV)/bin/python pyproject.toml
	$(RUN_VENV)/bin/python -m pip install -q -e .
	touch $(RUN_STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

imports: $(STAMP)
	$(VENV)/bin/lint-imports

pytest: $(STAMP) hass-venv
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The pinned Home Assistant for tests/home_assistant, in its own Python 3.13 virtualenv under
# ~/.cache/smsgw-hass/<version> (SMSGW_HASS_CACHE moves it): built once (~2-3 min), then a
# no-op. Never a dependency of smsgw itself.
hass-venv:
	$(PYTHON) -m tests.home_assistant.install

test: lint typecheck imports pytest

# The pure and in-process tiers only (tests/tiers.py names the slow ones): the loop to run while
# you work. Three workers on two cores: most of these tests wait rather than compute, and each
# worker pays its own collection (about 4 s of CPU), which made a fourth one slower overall.
test-fast: $(STAMP)
	$(PY) -m pytest -q -n 3 -m "not slow and not faults" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench

# The long fault-injection runs (tests/faults and every other `faults`-marked test); -s so each
# run's "FAULTS <case>: {injected, delivered, lost, duplicated...}" line is printed as it ends.
faults: $(STAMP)
	$(PY) -m pytest -q -s -m faults tests $(PYTEST_ARGS)

# Refresh docs/screenshots/*.png (the browser tests write them only when asked).
screenshots: $(STAMP) hass-venv
	SMSGW_SCREENSHOTS=1 $(PY) -m pytest -q tests/ui/test_browser.py -k every_page $(PYTEST_ARGS)
	SMSGW_SCREENSHOTS=1 $(PY) -m pytest -q tests/home_assistant/test_gateway.py $(PYTEST_ARGS)

demo: $(RUN_STAMP)
	$(RUN_VENV)/bin/smsgw demo

clean:
	rm -rf $(VENV) $(RUN_VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
