# The README's two commands: `make demo` and `make test`. Each sets up what it needs: a
# virtualenv in .venv with gradwalk installed in editable mode, and Graphviz's `dot` through
# apt-get where it is missing and this user may install it. Under CI (CI=true) `make test` also
# installs Chromium, so the browser test of the backprop player runs instead of skipping.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SYSTEM := bash .ci/ensure-system-packages
BROWSER_PACKAGES := $(if $(CI),chromium=chromium)

.PHONY: demo test test-fast bench playground clean

demo: $(VENV)/.installed-demos
	@$(SYSTEM) dot=graphviz
	$(PY) demos/moons.py

test: $(VENV)/.installed-test
	@$(SYSTEM) dot=graphviz $(BROWSER_PACKAGES)
	$(PY) -m pytest --hypothesis-show-statistics -q

# The quick lane while editing: everything but the tests marked slow (long chains, demo and
# README runs, full training runs, the browser tests); about a minute on two cores. `make test` runs them all.
test-fast: $(VENV)/.installed-test
	@$(SYSTEM) dot=graphviz
	$(PY) -m pytest -q -m "not slow"

bench: $(VENV)/.installed-bench
	$(PY) demos/benchmark.py

# The live playground on 127.0.0.1: prints its URL and opens the browser (Ctrl-C stops it).
playground: $(VENV)/.installed-playground
	@$(SYSTEM) dot=graphviz
	$(VENV)/bin/gradwalk playground

# A venv needs Debian's python3-venv; install it once if `python3 -m venv` cannot make one.
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "gradwalk needs Python 3.10 or newer; $(PYTHON) is $$($(PYTHON) --version)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); \
		$(SYSTEM) python3-venv; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip

# Stamps: reinstall when pyproject.toml changes.
$(VENV)/.installed-demos: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[demos]' && touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev,demos,fast,playground,data,torch,notebook]' && touch $@

$(VENV)/.installed-playground: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[playground]' && touch $@

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[demos,fast,bench]' && touch $@

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis build *.egg-info
