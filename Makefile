# pacsguard -- everything a fresh Debian machine needs, from nothing.
#   make demo    set up, then de-identify built-in sample data
#   make test    set up (pip + Debian peers), lint, type-check and run every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PEERS  := .peers/.installed

.PHONY: all venv peers demo test test-fast lint typecheck bench tables clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,codecs,ocr]'
	touch $(STAMP)

venv: $(STAMP)

# Debian peers the tests run against for real: dciodvfy, DCMTK, Orthanc, nmap, chromium.
$(PEERS): scripts/peers.sh
	bash scripts/peers.sh
	mkdir -p .peers && touch $(PEERS)

peers: $(PEERS)

demo: $(STAMP) $(PEERS)
	bash scripts/demo.sh

lint: $(STAMP)
	$(PY) -m ruff check src tests bench scripts

typecheck: $(STAMP)
	$(PY) -m mypy

test: $(STAMP) $(PEERS) lint typecheck
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

tables: $(STAMP)
	$(PY) scripts/gen_tables.py

bench: $(STAMP) $(PEERS)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .peers demo-in demo-out demo-out.pacsguard .pytest_cache .mypy_cache .ruff_cache
