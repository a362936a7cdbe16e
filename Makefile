# Two commands on a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   := data/synthetic
PARAMS ?= params/default.yaml

.PHONY: venv data run test bench docs caveats browser-deps chromium clean-venv

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

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

# What tests/test_browser.py needs: Chromium from Debian (installed with apt-get when we are root,
# e.g. on CI) and axe-core pinned in tests/browser/package-lock.json (npm ci). Quick when already
# there. Without them the browser tests skip locally; with CI=true a missing piece is an error.
BROWSER_DIR := tests/browser
AXE_JS      := $(BROWSER_DIR)/node_modules/axe-core/axe.min.js
ON_CI        = case "$$CI" in true|1|yes) true;; *) false;; esac
CAN_APT      = [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1

browser-deps: chromium $(AXE_JS)

chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif $(CAN_APT); then \
	  echo "installing the Debian package chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
	  || { echo "chromium could not be installed"; $(ON_CI) && exit 1; true; }; \
	else \
	  echo "chromium is missing and cannot be installed here (needs root and apt-get): the browser tests will skip (an error with CI=true)"; \
	  ! $(ON_CI); \
	fi

$(AXE_JS): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1 && $(CAN_APT); then \
	  echo "installing the Debian package npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm || true; \
	fi; \
	if command -v npm >/dev/null 2>&1; then \
	  (cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error) && touch $@ \
	  || { echo "npm ci failed: the axe-core checks will skip"; ! $(ON_CI); }; \
	else \
	  echo "npm is missing: the axe-core checks will skip (an error with CI=true)"; ! $(ON_CI); \
	fi

# The method notes shipped in the package (read when docs/ is not there, e.g. from a wheel).
caveats:
	cp docs/caveats/*.md ixl_eval/caveats/

bench: data
	$(BIN)/python benchmarks/suite.py
	$(BIN)/python benchmarks/scale.py

docs: $(STAMP)
	$(BIN)/ixl-eval contract docs --out docs/data-contract.md
	$(BIN)/ixl-eval params docs --out docs/parameters.md

clean-venv:
	rm -rf $(VENV)
