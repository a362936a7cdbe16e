# Two commands on a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   := data/synthetic
PARAMS ?= params/default.yaml

.PHONY: venv data run test bench bench-scale docs clean-venv

# Installs the package with its test extras; re-runs only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# The bundled synthetic dataset, regenerated when the generator changes.
$(DATA)/extract.yaml: $(STAMP) ixl_eval/synth.py ixl_eval/contract.py ixl_eval/reference/published-figures.yaml
	$(BIN)/ixl-eval synth --out $(DATA) --force
	$(BIN)/ixl-eval validate $(DATA)

data: $(DATA)/extract.yaml

run: data
	$(BIN)/ixl-eval run $(PARAMS)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: data
	$(BIN)/python benchmarks/suite.py
	$(BIN)/python benchmarks/scale.py

# The real `ixl-eval run` at ~100k and ~1M participants (minutes; data cached in /tmp).
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/suite_scale.py

docs: $(STAMP)
	$(BIN)/ixl-eval contract docs --out docs/data-contract.md
	$(BIN)/ixl-eval params docs --out docs/parameters.md

clean-venv:
	rm -rf $(VENV)
